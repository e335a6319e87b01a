package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestUpstreamSyncWorkflow runs the scheduled workflow's own scripts (every
// step after the one that builds cpk) on a real repository whose package
// takes its releases from a local git upstream: the outdated package gets
// its feature/package-<app> branch with the edited files, pushed to origin,
// and the up-to-date one gets none.
func TestUpstreamSyncWorkflow(t *testing.T) {
	needGit(t)
	if testing.Short() {
		t.Skip("builds cpk (-short)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not installed")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.Command(goBin, "build", "-o", filepath.Join(bin, "cpk"), "cpk/cmd/cpk")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The upstream: a git repository with releases v1.0.0 and v1.1.0.
	up := filepath.Join(tmp, "upstream")
	os.MkdirAll(up, 0o755)
	sh(t, up, "git", "init", "-q", "-b", "main")
	for _, tag := range []string{"v1.0.0", "v1.1.0"} {
		sh(t, up, "git", "commit", "-q", "--allow-empty", "-m", tag)
		sh(t, up, "git", "tag", tag)
	}
	// origin (bare) and the runner's clone of it, with two packages: lib
	// pinned at 1.0.0 (outdated) and current pinned at 1.1.0.
	origin := filepath.Join(tmp, "origin.git")
	sh(t, tmp, "git", "init", "-q", "--bare", "-b", "main", origin)
	work := filepath.Join(tmp, "work")
	sh(t, tmp, "git", "clone", "-q", origin, work)
	for id, pin := range map[string]string{"lib": "1.0.0", "current": "1.1.0"} {
		dir := filepath.Join(work, "apps", id)
		os.MkdirAll(dir, 0o755)
		files := map[string]string{
			"cpk.yaml":              "id: " + id + "\nname: " + id + "\nphase: 2\ncategory: dev-tools\nupstream:\n  source: git\n  url: " + up + "\n",
			"Dockerfile":            "FROM cloudron/base:5.0.0\nARG UPSTREAM_VERSION=" + pin + "\nCMD [\"/app/code/start.sh\"]\n",
			"CloudronManifest.json": "{\n  \"manifestVersion\": 2,\n  \"version\": \"1.0.0\",\n  \"upstreamVersion\": \"" + pin + "\",\n  \"httpPort\": 8000\n}\n",
			"CHANGELOG":             "[1.0.0]\n* First package\n",
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	sh(t, work, "git", "add", "-A")
	sh(t, work, "git", "commit", "-q", "-m", "two packages")
	sh(t, work, "git", "push", "-q", "origin", "main")

	files, err := Workflows(WorkflowOptions{Provider: "github"})
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct{ Name, Run string }
		}
	}
	if err := yaml.Unmarshal(files[".github/workflows/cpk-upstream.yml"], &wf); err != nil {
		t.Fatal(err)
	}
	built := false
	ran := 0
	for _, step := range wf.Jobs["sync"].Steps {
		if step.Name == "Build cpk" {
			built = true
			continue
		}
		if !built || step.Run == "" {
			continue
		}
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", step.Run)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+tmp, "GIT_CONFIG_NOSYSTEM=1",
			"CPK_GITHUB_API=http://127.0.0.1:9", "CPK_ROOT=")
		out, err := cmd.CombinedOutput()
		t.Logf("step %q:\n%s", step.Name, out)
		if err != nil {
			t.Fatalf("step %q: %v", step.Name, err)
		}
		ran++
	}
	if ran != 3 {
		t.Fatalf("%d steps ran after the build, want check, bump and push", ran)
	}
	branches := sh(t, origin, "git", "branch", "--list", "feature/package-*")
	if strings.TrimSpace(strings.TrimPrefix(branches, "*")) != "feature/package-lib" {
		t.Fatalf("branches on origin: %q", branches)
	}
	df := sh(t, origin, "git", "show", "feature/package-lib:apps/lib/Dockerfile")
	m := sh(t, origin, "git", "show", "feature/package-lib:apps/lib/CloudronManifest.json")
	log := sh(t, origin, "git", "show", "feature/package-lib:apps/lib/CHANGELOG")
	if !strings.Contains(df, "ARG UPSTREAM_VERSION=1.1.0") || !strings.Contains(m, `"upstreamVersion": "1.1.0"`) || !strings.Contains(m, `"version": "1.1.0"`) || !strings.Contains(log, "1.1.0") {
		t.Errorf("the bump branch's files:\n%s\n%s\n%s", df, m, log)
	}
	if changed := sh(t, origin, "git", "diff", "--name-only", "main", "feature/package-lib"); changed != "apps/lib/CHANGELOG\napps/lib/CloudronManifest.json\napps/lib/Dockerfile" {
		t.Errorf("the bump branch changes: %q", changed)
	}
	if b := sh(t, work, "git", "branch", "--show-current"); b != "main" {
		t.Errorf("the runner's clone is left on %s", b)
	}
}
