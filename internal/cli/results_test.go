package cli

import (
	"cpk/internal/testenv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain keeps the package's tests away from the repository's own
// results store: every run records into a temporary one unless a test
// sets CPK_DB itself.
func TestMain(m *testing.M) {
	ServeHelperIfAsked() // the box's sign-on server and docker proxy run this binary
	dir, err := os.MkdirTemp("", "cpk-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("CPK_DB", filepath.Join(dir, "results.db"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testRepo makes a repository root whose apps/ holds the given
// applications: id → lint fixture to copy ("" for a planned one).
func testRepo(t *testing.T, apps map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for id, fixture := range apps {
		d := filepath.Join(root, "apps", id)
		if fixture != "" {
			testenv.CopyTree(t, filepath.Join(repo, "internal", "lint", "rules", "testdata", fixture), d)
			os.Remove(filepath.Join(d, "want.txt"))
		}
		os.MkdirAll(d, 0o755)
		spec := "id: " + id + "\nname: " + strings.ToUpper(id[:1]) + id[1:] + "\ntier: 1\nphase: 2\ncategory: database\nupstream:\n  source: github\n  repo: example/" + id + "\n"
		if err := os.WriteFile(filepath.Join(d, "cpk.yaml"), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestGeneratedDocsAreCurrent is CI's cpk docs --check on the repository:
// package READMEs, the catalog index, rule pages and the CLI reference.
func TestGeneratedDocsAreCurrent(t *testing.T) {
	_, errOut, code := run(t, repo, "", "docs", "--check")
	if code != 0 {
		t.Fatalf("cpk docs --check: exit %d: %s(run go run ./cmd/cpk docs and commit the result)", code, errOut)
	}
}

func TestDocsCheckFailsAfterAManifestChange(t *testing.T) {
	root := testRepo(t, map[string]string{"notes": "reference", "later": ""})
	if _, errOut, code := run(t, root, "", "docs", "--check"); code != 1 || !strings.Contains(errOut, "apps/notes/README.md") || !strings.Contains(errOut, "apps/README.md") {
		t.Fatalf("before generating: exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, root, "", "docs"); code != 0 {
		t.Fatalf("docs: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "apps", "later", "README.md")); err == nil {
		t.Error("a planned application got a README")
	}
	if _, errOut, code := run(t, root, "", "docs", "--check"); code != 0 {
		t.Fatalf("after generating: exit %d: %s", code, errOut)
	}
	mf := filepath.Join(root, "apps", "notes", "CloudronManifest.json")
	data, _ := os.ReadFile(mf)
	os.WriteFile(mf, []byte(strings.Replace(string(data), `"memoryLimit": 536870912`, `"memoryLimit": 1073741824`, 1)), 0o644)
	_, errOut, code := run(t, root, "", "docs", "--check")
	if code != 1 || !strings.Contains(errOut, "apps/notes/README.md") || !strings.Contains(errOut, "run cpk docs") {
		t.Errorf("after a manifest change: exit %d: %s", code, errOut)
	}
	// One application at a time.
	if _, errOut, code := run(t, root, "", "docs", "notes"); code != 0 || !strings.Contains(errOut, "apps/notes/README.md") {
		t.Errorf("docs notes: exit %d: %s", code, errOut)
	}
	if _, _, code := run(t, root, "", "docs", "--check"); code != 0 {
		t.Error("still stale")
	}
	if _, errOut, code := run(t, root, "", "docs", "nots"); code != 2 || !strings.Contains(errOut, "did you mean notes") {
		t.Errorf("unknown app: exit %d: %s", code, errOut)
	}
}

func TestLintRecordsRunsForStatusAndHistory(t *testing.T) {
	root := testRepo(t, map[string]string{"notes": "reference", "broken": "broken-files", "later": ""})
	t.Setenv("CPK_DB", "") // the default: .cpk/results.db in the repository
	run(t, root, "", "docs")
	if _, errOut, _ := run(t, root, "", "history"); !strings.Contains(errOut, "no runs are recorded yet") {
		t.Errorf("empty history: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(root, ".cpk", "results.db")); err == nil {
		t.Error("reading the history created the store")
	}
	run(t, root, "", "lint")
	run(t, root, "", "lint", "notes")
	// A folder outside the catalog is linted but not recorded.
	run(t, root, "", "lint", filepath.Join(repo, "internal", "lint", "rules", "testdata", "good"))
	out, errOut, code := run(t, root, "", "history", "--format", "json")
	if code != 0 {
		t.Fatalf("history: exit %d: %s", code, errOut)
	}
	var h struct {
		Runs []struct {
			ID      int64  `json:"id"`
			App     string `json:"app"`
			Kind    string `json:"kind"`
			Outcome string `json:"outcome"`
			Hash    string `json:"contentHash"`
			Steps   []struct {
				Name, Outcome string
			} `json:"steps"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range h.Runs {
		got = append(got, r.App+":"+r.Outcome)
		if r.Kind != "lint" || len(r.Hash) != 64 || len(r.Steps) != 3 {
			t.Errorf("run %+v", r)
		}
	}
	if strings.Join(got, " ") != "notes:passed notes:passed broken:failed" && strings.Join(got, " ") != "notes:passed broken:failed notes:passed" {
		t.Errorf("runs newest first: %v", got)
	}
	out, _, _ = run(t, root, "", "history", "broken")
	if !strings.Contains(out, "broken\tlint\tfailed") || !strings.Contains(out, "rules failed") || strings.Contains(out, "\tnotes\tlint") {
		t.Errorf("history broken:\n%s", out)
	}
	if _, _, code := run(t, root, "", "history", "--kind", "deploy"); code != 2 {
		t.Errorf("--kind deploy: exit %d", code)
	}
	// Status: the levels, the docs-based build-notes coverage.
	out, _, _ = run(t, root, "", "status", "--format", "json")
	var rep struct {
		Apps []struct {
			ID          string `json:"id"`
			Level       int    `json:"level"`
			LevelName   string `json:"levelName"`
			DocsCurrent bool   `json:"docsCurrent"`
			Regressed   bool   `json:"regressed"`
			Previous    *int   `json:"previousLevel"`
		} `json:"apps"`
		Metrics struct {
			BuildNotes struct{ Count, Of int } `json:"buildNotes"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	levels := map[string]int{}
	for _, a := range rep.Apps {
		levels[a.ID] = a.Level
		if a.ID == "notes" && (!a.DocsCurrent || a.LevelName != "lint-clean" || a.Regressed || a.Previous == nil || *a.Previous != 2) {
			t.Errorf("notes: %+v", a)
		}
	}
	if levels["notes"] != 2 || levels["broken"] != 1 || levels["later"] != 0 {
		t.Errorf("levels %v", levels)
	}
	if rep.Metrics.BuildNotes.Count != 1 || rep.Metrics.BuildNotes.Of != 2 {
		t.Errorf("build notes %+v", rep.Metrics.BuildNotes)
	}
	out, _, _ = run(t, root, "", "status")
	if !strings.Contains(out, "notes\t1\t2\tpackaged\t2 lint-clean\t0 errors, 0 warnings\tyes") {
		t.Errorf("status text:\n%s", out)
	}
	// An unreachable shared store is a warning for lint, an environment error for history.
	t.Setenv("CPK_DB", "postgres://cpk@127.0.0.1:1/none?connect_timeout=2")
	if _, errOut, code := run(t, root, "", "lint", "notes"); code != 0 || !strings.Contains(errOut, "warning: results not recorded") {
		t.Errorf("lint with a dead store: exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, root, "", "history"); code != 3 || !strings.Contains(errOut, "CPK_DB") {
		t.Errorf("history with a dead store: exit %d: %s", code, errOut)
	}
}

func TestUpstreamCheckRecordsRuns(t *testing.T) {
	root, _ := upstreamRepo(t)
	t.Setenv("CPK_DB", filepath.Join(t.TempDir(), "results.db"))
	if _, errOut, code := run(t, root, "", "upstream", "check", "app"); code != 0 {
		t.Fatalf("check: exit %d: %s", code, errOut)
	}
	out, _, _ := run(t, root, "", "history", "--kind", "upstream", "--format", "json")
	var h struct {
		Runs []struct {
			App     string             `json:"app"`
			Outcome string             `json:"outcome"`
			Hash    string             `json:"contentHash"`
			Figures map[string]float64 `json:"figures"`
			Steps   []struct{ Message string }
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	// 1.1.0 came out three days ago: outdated, but within a month.
	if len(h.Runs) != 1 || h.Runs[0].App != "app" || h.Runs[0].Outcome != "passed" || h.Runs[0].Figures["outdated"] != 1 ||
		len(h.Runs[0].Hash) != 64 || len(h.Runs[0].Steps) != 1 || h.Runs[0].Steps[0].Message != "pinned 1.0.0, newest 1.1.0" {
		t.Errorf("upstream runs: %+v", h.Runs)
	}
}
