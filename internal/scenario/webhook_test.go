package scenario_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/cpk"
	"cpk/internal/runtime"
	"cpk/internal/scenario"
	"cpk/internal/testenv"
)

// TestWebhookLifecycle runs the whole scenario on the catalog's webhook
// package, the update step included: a git repository holds an earlier
// version of the package (its previous commit), the working tree the
// current one.
func TestWebhookLifecycle(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	git := testenv.LookPath(t, "git")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	repo := t.TempDir()
	pkg := filepath.Join(repo, "apps", "webhook")
	copyDir(t, "../../apps/webhook", pkg)
	// The previous version: 0.9.0, committed.
	manifest := filepath.Join(pkg, "CloudronManifest.json")
	cur, _ := os.ReadFile(manifest)
	if err := os.WriteFile(manifest, regexp.MustCompile(`"version": "[^"]+"`).ReplaceAll(cur, []byte(`"version": "0.9.0"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		cmd := exec.Command(git, append([]string{"-c", "user.name=cpk", "-c", "user.email=cpk@cloudron.test"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q")
	run("add", ".")
	run("commit", "-q", "-m", "webhook 0.9.0")
	// The current version in the working tree.
	if err := os.WriteFile(manifest, cur, 0o644); err != nil {
		t.Fatal(err)
	}
	s := suite(t, e, baseRef, t.TempDir())
	s.Root = repo
	s.HealthTimeout = time.Minute
	res, err := s.Test(ctx, scenario.Package{ID: "webhook", Dir: pkg})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range res.Steps {
		t.Logf("%-9s %-7s %5.1fs %s", st.Name, st.Outcome, st.Seconds, st.Message)
		for _, c := range st.Checks {
			if c.Status != scenario.Passed {
				t.Logf("    %s %s: %s", c.Status, c.Name, c.Message)
			}
		}
	}
	if res.Outcome != cpk.OutcomePassed {
		t.Fatalf("webhook: %s %s\n%s", res.Outcome, res.Error, strings.Join(res.Failures(), "\n"))
	}
	if len(res.Steps) != len(scenario.StepNames) {
		t.Fatalf("steps %d", len(res.Steps))
	}
	for _, st := range res.Steps {
		if st.Outcome != cpk.OutcomePassed {
			t.Errorf("%s: %s %s", st.Name, st.Outcome, st.Message)
		}
	}
	if res.Previous == "" || res.Previous == res.Image {
		t.Errorf("updated from %q to %q", res.Previous, res.Image)
	}
	t.Logf("the scenario took %.1fs, %.1fs of it waiting for the app", res.Seconds, res.AppSeconds)
	left, err := e.ListResources(context.Background(), map[string]string{runtime.LabelRun: res.RunID})
	if err != nil || len(left) > 0 {
		t.Errorf("left behind: %v %v", left, err)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
