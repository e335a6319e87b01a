package cli

import (
	"bytes"
	"context"
	"cpk/internal/testenv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes cpk with args against the repository (or root) and returns
// stdout, stderr and the exit code.
func run(t *testing.T, root string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	io := Test(&out, &errb)
	io.In = strings.NewReader(stdin)
	if root != "" {
		args = append([]string{"--root", root}, args...)
	}
	code := Main(context.Background(), io, args)
	return out.String(), errb.String(), code
}

const repo = "../.."

func TestStatusJSONListsEveryApp(t *testing.T) {
	out, errOut, code := run(t, repo, "", "status", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Apps []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"apps"`
		Metrics map[string]json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Apps) != testenv.CatalogSize(t, filepath.Join(repo, "apps")) {
		t.Fatalf("%d apps", len(rep.Apps))
	}
	for _, a := range rep.Apps {
		if a.ID == "" || a.State == "" {
			t.Errorf("app without id or state: %+v", a)
		}
	}
	for _, k := range []string{"packages", "successRate", "buildNotes", "upstreamFreshness"} {
		if _, ok := rep.Metrics[k]; !ok {
			t.Errorf("metric %s missing", k)
		}
	}
}

func TestStatusText(t *testing.T) {
	out, _, code := run(t, repo, "", "status")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	fresh := "upstream freshness\tunknown"
	if _, err := os.Stat(filepath.Join(repo, ".cpk", "upstream.json")); err == nil {
		fresh = "upstream freshness\t" // a local cpk upstream check has recorded results
	}
	for _, want := range []string{fmt.Sprintf("%d applications", testenv.CatalogSize(t, filepath.Join(repo, "apps"))), "phase 2\t25\t", "tier 1\t-\t6", "deploy success\t", fresh} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes when not on a terminal")
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"status", "--format", "yaml"},
		{"status", "--bogus"},
		{"status", "extra-arg"},
		{"manifest", "check"},
		{"lint", "no-such-app"},
		{"lint", "--explain", "XX999"},
	} {
		_, errOut, code := run(t, repo, "", args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
		if !strings.HasPrefix(errOut, "cpk: ") {
			t.Errorf("%v: stderr %q does not explain", args, errOut)
		}
	}
}

func TestNoCatalogExit3(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := run(t, dir, "", "status")
	if code != ExitEnvironment || !strings.Contains(errOut, "apps") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestLintJSONShapeAndExitCode(t *testing.T) {
	fixture := filepath.Join(repo, "internal", "lint", "rules", "testdata")
	out, _, code := run(t, repo, "", "lint", "--format", "json", fixture+"/bad-manifest", fixture+"/good")
	if code != 1 {
		t.Errorf("exit %d, want 1 with error findings", code)
	}
	var rep struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range rep.Findings {
		for _, k := range []string{"rule", "severity", "app", "file", "line", "column", "message"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding lacks %s: %v", k, f)
			}
		}
		if f["app"] != "bad-manifest" {
			t.Errorf("finding for %v", f["app"])
		}
	}
	_, _, code = run(t, repo, "", "lint", fixture+"/good")
	if code != 0 {
		t.Errorf("good package: exit %d", code)
	}
	// The bundled catalog has no error-level finding (warnings may come and go).
	out, _, code = run(t, repo, "", "lint", "--format", "json")
	if code != 0 || strings.Contains(out, `"severity": "error"`) {
		t.Errorf("bundled catalog: exit %d, %s", code, out)
	}
}

func TestLintReportsCatalogProblems(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "apps", "x"), 0o755)
	os.WriteFile(filepath.Join(root, "apps", "x", "cpk.yaml"), []byte("id: x\nname: X\nphase: 9\ncategory: database\n"), 0o644)
	out, _, code := run(t, root, "", "lint")
	if code != 1 || !strings.Contains(out, "apps/x/cpk.yaml:3:8: CY001 error: phase must be 2, 3 or 4") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestLintExplainAndRules(t *testing.T) {
	out, _, code := run(t, repo, "", "lint", "--explain", "pk002")
	if code != 0 || !strings.Contains(out, "PK002") || !strings.Contains(out, "Bad:") {
		t.Errorf("exit %d: %s", code, out)
	}
	out, _, _ = run(t, repo, "", "lint", "--list-rules", "--format", "json")
	var rules []map[string]string
	if err := json.Unmarshal([]byte(out), &rules); err != nil || len(rules) < 8 {
		t.Errorf("rules: %v %s", err, out)
	}
}

func TestManifestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000}`), 0o644)
	os.WriteFile(bad, []byte("{\n  \"manifestVersion\": 2,\n  \"version\": \"1.0\",\n  \"httpPort\": \"8000\"\n}\n"), 0o644)

	out, _, code := run(t, "", "", "manifest", "check", good)
	if code != 0 || !strings.Contains(out, "valid") {
		t.Errorf("good: exit %d, %s", code, out)
	}
	out, _, code = run(t, "", "", "manifest", "check", "--format", "json", "--appstore", good, bad, filepath.Join(dir, "missing.json"))
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var res []struct {
		File   string `json:"file"`
		Valid  bool   `json:"valid"`
		Errors []struct {
			Pointer string `json:"pointer"`
			Line    int    `json:"line"`
			Column  int    `json:"column"`
			Message string `json:"message"`
		} `json:"errors"`
		Appstore *struct {
			Valid  bool              `json:"valid"`
			Errors []json.RawMessage `json:"errors"`
		} `json:"appstore"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res) != 3 || !res[0].Valid || res[1].Valid || res[2].Valid {
		t.Fatalf("verdicts: %s", out)
	}
	if res[0].Appstore == nil || res[0].Appstore.Valid {
		t.Errorf("a bare manifest cannot meet the store requirements: %s", out)
	}
	if len(res[1].Errors) != 2 {
		t.Errorf("want both errors of bad.json: %+v", res[1].Errors)
	}
	for _, e := range res[1].Errors {
		if e.Line < 3 || e.Column < 3 || e.Pointer == "" {
			t.Errorf("error without position: %+v", e)
		}
	}
	if !strings.Contains(res[2].Errors[0].Message, "no such file") {
		t.Errorf("missing file: %+v", res[2].Errors)
	}
	out, _, code = run(t, "", `{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000}`, "manifest", "check", "-")
	if code != 0 || !strings.HasPrefix(out, "-: valid") {
		t.Errorf("stdin: exit %d, %s", code, out)
	}
}

func TestCompletion(t *testing.T) {
	out, _, code := run(t, repo, "", "__complete", "lint", "gri")
	if code != 0 || !strings.Contains(out, "grist\tGrist") {
		t.Errorf("exit %d: %s", code, out)
	}
	out, _, code = run(t, repo, "", "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: exit %d", code)
	}
}

func TestStatusWithCatalogProblems(t *testing.T) {
	root := t.TempDir()
	for id, spec := range map[string]string{
		"good": "id: good\nname: Good\ntier: 2\nphase: 3\ncategory: security\n",
		"bad":  "id: bad\nname: Bad\nphase: 3\ncategory: sekurity\n",
	} {
		os.MkdirAll(filepath.Join(root, "apps", id), 0o755)
		os.WriteFile(filepath.Join(root, "apps", id, "cpk.yaml"), []byte(spec), 0o644)
	}
	out, errOut, code := run(t, root, "", "status")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "1 applications in the catalog") || !strings.Contains(errOut, "cpk.yaml:4:11: category \"sekurity\"") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestLintFormatsAndConfig(t *testing.T) {
	fixture := filepath.Join(repo, "internal", "lint", "rules", "testdata", "bad-manifest")
	out, _, code := run(t, repo, "", "lint", "--format", "sarif", fixture)
	if code != 1 {
		t.Errorf("sarif: exit %d", code)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("sarif: %v\n%s", err, out)
	}
	run0 := log.Runs[0]
	if len(run0.Results) == 0 {
		t.Fatal("sarif: no results")
	}
	for _, r := range run0.Results {
		if run0.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || r.Level == "" {
			t.Errorf("sarif result %+v does not point at its rule", r)
		}
		loc := r.Locations[0].PhysicalLocation
		if uri := loc.ArtifactLocation.URI; !strings.HasPrefix(uri, fixture+"/") {
			t.Errorf("sarif uri %q", loc.ArtifactLocation.URI)
		}
	}

	out, _, _ = run(t, repo, "", "lint", "--format", "github", fixture)
	if !strings.Contains(out, "bad-manifest/Dockerfile,line=4,title=PK002::CMD runs /app/code/start.sh") || !strings.Contains(out, "bad-manifest/CloudronManifest.json,line=3,col=14,title=MF003::") {
		t.Errorf("github annotations:\n%s", out)
	}

	// A repository configuration that softens a rule, then disables it, on a
	// copy of the clean reference package whose icon is gone.
	root := t.TempDir()
	pkg := filepath.Join(root, "apps", "notes")
	testenv.CopyTree(t, filepath.Join(repo, "internal", "lint", "rules", "testdata", "reference"), pkg)
	os.WriteFile(filepath.Join(pkg, "cpk.yaml"), []byte("id: notes\nname: Notes\nphase: 2\ncategory: productivity\n"), 0o644)
	os.Remove(filepath.Join(pkg, "icon.png"))
	out, _, code = run(t, root, "", "lint", "--format", "json")
	if code != 1 || !strings.Contains(out, `"rule": "PK003"`) {
		t.Fatalf("unconfigured: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(root, "cpk-lint.yaml"), []byte("severity:\n  PK003: warning\n"), 0o644)
	out, _, code = run(t, root, "", "lint", "--format", "json")
	if code != 0 || !strings.Contains(out, `"severity": "warning"`) {
		t.Errorf("softened: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(root, "cpk-lint.yaml"), []byte("disable: [PK003]\n"), 0o644)
	out, _, code = run(t, root, "", "lint", "--format", "json")
	if code != 0 || !strings.Contains(out, `"findings": []`) {
		t.Errorf("disabled: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(root, "cpk-lint.yaml"), []byte("disable: [PK0003]\n"), 0o644)
	_, errOut, code := run(t, root, "", "lint")
	if code != ExitUsage || !strings.Contains(errOut, "did you mean PK003") {
		t.Errorf("bad config: exit %d, %s", code, errOut)
	}
	_, _, code = run(t, repo, "", "lint", "--format", "xml")
	if code != ExitUsage {
		t.Errorf("--format xml: exit %d", code)
	}
}
