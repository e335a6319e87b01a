package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/base/basetest"
	"cpk/internal/testenv"
)

// gitRepo makes a repository with an empty catalog committed on main.
func gitRepo(t *testing.T) (root string, git func(args ...string) string) {
	t.Helper()
	testenv.LookPath(t, "git")
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"} {
		t.Setenv(k, v)
	}
	root = emptyRepo(t)
	git = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(root, ".gitignore"), []byte(".cpk/\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "apps", "other"), 0o755)
	os.WriteFile(filepath.Join(root, "apps", "other", "cpk.yaml"), []byte("id: other\nname: Other\nphase: 2\ncategory: dev-tools\n"), 0o644)
	git("add", "-A")
	git("commit", "-q", "-m", "an empty catalog")
	return root, git
}

type gateJSON struct {
	Passed bool
	Apps   []string
	Items  []struct {
		App, Check, Detail, Fix string
		OK                      bool
	}
}

func gate(t *testing.T, root, target string) (gateJSON, string, int) {
	t.Helper()
	out, errOut, code := run(t, root, "", "gate", target, "--format", "json")
	var r gateJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("cpk gate %s: exit %d %v\n%s%s", target, code, err, out, errOut)
	}
	text, _, _ := run(t, root, "", "gate", target)
	return r, text, code
}

// TestBranchFlowGates walks the plan's branch flow on a real repository:
// cpk branch, a new package that fails the integration gate until it is
// tested and its evidence committed, then the main gate on integration and
// the release tags on main.
func TestBranchFlowGates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a lifecycle test (-short)")
	}
	root, git := gitRepo(t)
	if _, errOut, code := run(t, root, "", "branch", "demo"); code != 0 {
		t.Fatalf("cpk branch: exit %d %s", code, errOut)
	}
	if b := git("branch", "--show-current"); b != "feature/package-demo" {
		t.Fatalf("on %s after cpk branch", b)
	}
	if git("rev-parse", "integration") != git("rev-parse", "main") {
		t.Fatal("integration was not made from main")
	}
	if _, errOut, code := run(t, root, "", "branch", "demo"); code != ExitEnvironment || !strings.Contains(errOut, "exists already") {
		t.Errorf("cpk branch again: exit %d %s", code, errOut)
	}
	if _, errOut, code := run(t, root, "", "new", "demo", "--archetype", "static"); code != 0 {
		t.Fatalf("cpk new: exit %d %s", code, errOut)
	}
	if _, errOut, code := run(t, root, "", "docs", "demo"); code != 0 {
		t.Fatalf("cpk docs: exit %d %s", code, errOut)
	}
	git("add", "apps")
	git("commit", "-q", "-m", "demo 1.0.0")

	// Changed and untested: the gate fails, naming the package and the fix.
	r, text, code := gate(t, root, "integration")
	if code != 1 || r.Passed || len(r.Apps) != 1 || r.Apps[0] != "demo" {
		t.Fatalf("untested package: exit %d %+v", code, r)
	}
	failed := map[string]string{}
	for _, it := range r.Items {
		if !it.OK {
			failed[it.Check] = it.Fix
		}
	}
	if fix := failed["current evidence"]; !strings.Contains(fix, "cpk test demo") {
		t.Errorf("the evidence check's fix: %q (failed: %v)", fix, failed)
	}
	if len(failed) != 2 || failed["builds"] == "" {
		t.Errorf("only builds and evidence fail for a new, documented package: %v", failed)
	}
	if !strings.Contains(text, "✗ demo: current evidence") || !strings.Contains(text, "fix: cpk test demo") {
		t.Errorf("the checklist:\n%s", text)
	}
	// The main gate refuses to run anywhere but on integration.
	if r, _, code := gate(t, root, "main"); code != 1 || r.Items[0].OK {
		t.Errorf("cpk gate main on a feature branch: exit %d %+v", code, r.Items)
	}

	// cpk test, then a commit of the evidence: the gate passes.
	e := basetest.Engine(t)
	basetest.Image(t, e)
	if _, errOut, code := run(t, root, "", "test", "demo", "--offline"); code != 0 {
		t.Fatalf("cpk test: exit %d\n%s", code, errOut)
	}
	git("add", "apps/demo/test/evidence.json")
	git("commit", "-q", "-m", "demo: evidence")
	if r, text, code := gate(t, root, "integration"); code != 0 || !r.Passed {
		t.Fatalf("after cpk test: exit %d\n%s", code, text)
	}

	// Into integration, and the main gate on it.
	git("switch", "-q", "integration")
	git("merge", "-q", "--no-ff", "-m", "merge demo", "feature/package-demo")
	if r, text, code := gate(t, root, "main"); code != 0 || !r.Passed {
		t.Fatalf("cpk gate main: exit %d\n%s", code, text)
	}
	// An edit without a new test: not verified, so not ready for main.
	f, _ := os.OpenFile(filepath.Join(root, "apps", "demo", "NOTES.md"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\nOne more line.\n")
	f.Close()
	git("commit", "-q", "-am", "demo: notes edited")
	if r, text, code := gate(t, root, "main"); code != 1 || r.Passed || !strings.Contains(text, "✗ demo: verified") {
		t.Errorf("an untested edit: exit %d\n%s", code, text)
	}
	git("reset", "-q", "--hard", "HEAD~1")

	// On main: the release tag and its notes.
	git("switch", "-q", "main")
	git("merge", "-q", "--ff-only", "integration")
	out, errOut, code := run(t, root, "", "release")
	if code != 0 || !strings.Contains(out, "tagged demo/v0.1.0") {
		t.Fatalf("cpk release: exit %d\n%s%s", code, out, errOut)
	}
	if tags := git("tag", "--list"); tags != "demo/v0.1.0" {
		t.Errorf("tags: %q", tags)
	}
	if out, _, _ := run(t, root, "", "release"); !strings.Contains(out, "nothing to release") {
		t.Errorf("a second release: %s", out)
	}
}

// TestGateUsage: the command line's own errors.
func TestGateUsage(t *testing.T) {
	root, _ := gitRepo(t)
	for _, args := range [][]string{{"gate"}, {"gate", "staging"}, {"gate", "main", "--format", "yaml"}, {"branch", "Bad_Id"}, {"gate", "integration"}, {"release", "--format", "x"}} {
		if _, errOut, code := run(t, root, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
}
