package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/testenv"
)

// upstreamRepo builds a repository root with two packaged applications
// whose upstreams are a GitHub stand-in (app, pinned at 1.0.0 while 1.1.0
// is out) and a local git repository (lib, pinned at its newest tag), plus
// a planned application without files.
func upstreamRepo(t *testing.T) (root string, server *httptest.Server) {
	t.Helper()
	tarball := []byte("app 1.1.0")
	sum := sha256.Sum256(tarball)
	digest := hex.EncodeToString(sum[:])
	server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/repos/owner/app/releases":
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprintf(w, `[{"tag_name":"v1.1.0","draft":false,"prerelease":false,"published_at":%q,"html_url":"https://github.com/owner/app/releases/tag/v1.1.0",
			  "assets":[{"name":"app-1.1.0.tar.gz","digest":"sha256:%s","browser_download_url":"%s/dl/app-1.1.0.tar.gz"}]},
			 {"tag_name":"v1.0.0","draft":false,"prerelease":false,"published_at":"2024-01-01T00:00:00Z","html_url":"h","assets":[]}]`,
				time.Now().Add(-72*time.Hour).UTC().Format(time.RFC3339), digest, "http://"+r.Host)
		case "/dl/app-1.1.0.tar.gz":
			w.Write(tarball)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(server.Close)
	t.Setenv("CPK_GITHUB_API", server.URL)
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GH_TOKEN", "")
	for _, v := range []string{"CPK_GITHUB_GRAPHQL", "CPK_GITLAB_URL", "CPK_NPM_REGISTRY", "CPK_PYPI_URL", "CPK_DEBIAN_SOURCES", "CPK_REGISTRY_URL", "CPK_ROOT"} {
		t.Setenv(v, "http://127.0.0.1:9") // nothing leaves the machine
	}
	os.Unsetenv("CPK_ROOT")

	root = t.TempDir()
	lib := gitRepoWithTags(t, "v0.9.0", "v1.0.0")
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := "id: %s\nname: %s\nphase: 2\ncategory: database\nupstream:\n%s"
	write("apps/app/cpk.yaml", fmt.Sprintf(spec, "app", "App", "  source: github\n  repo: owner/app\n"))
	write("apps/app/Dockerfile", "FROM cloudron/base:5.0.0\nARG UPSTREAM_VERSION=1.0.0\nARG UPSTREAM_URL="+server.URL+"/dl/app-${UPSTREAM_VERSION}.tar.gz\nARG UPSTREAM_SHA256=00\nCMD [\"/app/code/start.sh\"]\n")
	write("apps/app/CloudronManifest.json", "{\n  \"manifestVersion\": 2,\n  \"version\": \"1.0.0\",\n  \"upstreamVersion\": \"1.0.0\",\n  \"httpPort\": 8000\n}\n")
	write("apps/lib/cpk.yaml", fmt.Sprintf(spec, "lib", "Lib", "  source: git\n  url: "+lib+"\n"))
	write("apps/lib/Dockerfile", "FROM cloudron/base:5.0.0\nARG UPSTREAM_VERSION=1.0.0\n")
	write("apps/planned/cpk.yaml", fmt.Sprintf(spec, "planned", "Planned", "  source: npm\n  package: planned\n"))
	write("apps/none/cpk.yaml", "id: none\nname: None\nphase: 3\ncategory: security\n")
	return root, server
}

func gitRepoWithTags(t *testing.T, tags ...string) string {
	t.Helper()
	testenv.LookPath(t, "git")
	dir := t.TempDir()
	for _, args := range append([][]string{{"init", "-q", "-b", "main"}}, tagCommands(tags)...) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func tagCommands(tags []string) [][]string {
	var out [][]string
	for _, tag := range tags {
		out = append(out, []string{"commit", "-q", "--allow-empty", "-m", tag}, []string{"tag", tag})
	}
	return out
}

func TestUpstreamCheck(t *testing.T) {
	root, _ := upstreamRepo(t)
	out, errOut, code := run(t, root, "", "upstream", "check", "app", "lib", "--format", "json", "--stats")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Checks []struct {
			App        string `json:"app"`
			Pinned     string `json:"pinned"`
			PinnedFrom string `json:"pinnedFrom"`
			Latest     string `json:"latest"`
			Outdated   bool   `json:"outdated"`
			Notes      string `json:"releaseNotes"`
			PinAgeDays *int   `json:"pinAgeDays"`
			Error      string `json:"error"`
		} `json:"checks"`
		Stats struct {
			Requests    int `json:"requests"`
			NotModified int `json:"notModified"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rep.Checks) != 2 {
		t.Fatalf("%s", out)
	}
	a, l := rep.Checks[0], rep.Checks[1]
	if a.App != "app" || a.Pinned != "1.0.0" || a.PinnedFrom != "Dockerfile:2 ARG UPSTREAM_VERSION" || a.Latest != "1.1.0" || !a.Outdated ||
		a.Notes != "https://github.com/owner/app/releases/tag/v1.1.0" || a.PinAgeDays == nil || *a.PinAgeDays < 300 {
		t.Errorf("app: %+v", a)
	}
	if l.App != "lib" || l.Latest != "1.0.0" || l.Outdated || l.Error != "" {
		t.Errorf("lib: %+v", l)
	}
	if rep.Stats.Requests != 2 || rep.Stats.NotModified != 0 {
		t.Errorf("stats %+v", rep.Stats)
	}
	if !strings.Contains(errOut, "checking 2 upstreams") || !strings.Contains(errOut, "stats: 2 requests") {
		t.Errorf("stderr: %s", errOut)
	}

	// The second run asks GitHub "changed?" and gets 304.
	out, errOut, code = run(t, root, "", "upstream", "check", "--stats", "--fail-outdated")
	if code != 1 {
		t.Errorf("--fail-outdated with an outdated package: exit %d", code)
	}
	if !strings.Contains(errOut, "(1 answered 304 Not Modified") {
		t.Errorf("stderr: %s", errOut)
	}
	for _, want := range []string{"app\t1.0.0\t1.1.0\toutdated\t", "lib\t1.0.0\t1.0.0\tcurrent\t", "planned\t-\t-\tunreachable\t", "3 packages: 1 outdated, 1 current, 1 unreachable"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "could not be reached (nothing recorded for them): planned\n  the first: ") {
		t.Errorf("the failing source is not explained: %s", errOut)
	}

	// cpk status reads the recorded results.
	out, _, code = run(t, root, "", "status")
	if code != 0 || !strings.Contains(out, "upstream freshness\t100%\t2 of 2 checked packages within a month") {
		t.Errorf("status (app trails a 3-day-old release, lib is current): exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(root, ".cpk", "upstream.json")); err != nil {
		t.Error(err)
	}

	_, errOut, code = run(t, root, "", "upstream", "check", "nope")
	if code != ExitUsage || !strings.Contains(errOut, `"nope" is neither an application of the catalog nor a folder`) {
		t.Errorf("unknown app: exit %d %s", code, errOut)
	}
	_, errOut, code = run(t, root, "", "upstream", "check", "none")
	if code != ExitUsage || !strings.Contains(errOut, "declares no upstream") {
		t.Errorf("app without upstream: exit %d %s", code, errOut)
	}
}

func TestUpstreamBumpCommand(t *testing.T) {
	root, _ := upstreamRepo(t)
	dockerfile := filepath.Join(root, "apps", "app", "Dockerfile")
	before, _ := os.ReadFile(dockerfile)
	out, errOut, code := run(t, root, "", "upstream", "bump", "app", "--dry-run")
	if code != 0 || !strings.Contains(out, "would bump app: upstream 1.0.0 → 1.1.0, package 1.0.0 → 1.1.0 (minor)") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if after, _ := os.ReadFile(dockerfile); string(after) != string(before) {
		t.Error("--dry-run wrote")
	}
	out, errOut, code = run(t, root, "", "upstream", "bump", "app", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		To, PackageTo, Provenance string
		Files                     []string
	}
	json.Unmarshal([]byte(out), &res)
	if res.To != "1.1.0" || res.PackageTo != "1.1.0" || !strings.Contains(res.Provenance, "verified by download") || len(res.Files) != 3 {
		t.Errorf("%s", out)
	}
	df, _ := os.ReadFile(dockerfile)
	if !strings.Contains(string(df), "ARG UPSTREAM_VERSION=1.1.0\n") {
		t.Errorf("Dockerfile:\n%s", df)
	}
	out, _, code = run(t, root, "", "upstream", "bump", "app")
	if code != 0 || !strings.Contains(out, "app is up to date at 1.1.0") {
		t.Errorf("second bump: exit %d %s", code, out)
	}
	_, errOut, code = run(t, root, "", "upstream", "bump", "app", "--to", "7.0.0")
	if code != 1 || !strings.Contains(errOut, "upstream has no release 7.0.0") {
		t.Errorf("unknown version: exit %d %s", code, errOut)
	}
	for _, args := range [][]string{{"upstream", "bump"}, {"upstream", "bump", "a", "b"}, {"upstream", "bump", "app", "--branch", "--dry-run"}, {"upstream", "bump", "ap"}} {
		if _, errOut, code := run(t, root, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
}

func TestUpstreamClone(t *testing.T) {
	root, _ := upstreamRepo(t)
	out, errOut, code := run(t, root, "", "upstream", "clone", "lib", "planned")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "lib\tv1.0.0\tcloned\t"+filepath.Join(root, ".cpk", "src", "lib")) || !strings.Contains(out, "planned\t-\tskipped\tupstream npm has no git repository") {
		t.Errorf("%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, ".cpk", "src", "lib", ".git")); err != nil {
		t.Error(err)
	}
	out, _, _ = run(t, root, "", "upstream", "clone", "lib", "--format", "json")
	if !strings.Contains(out, `"action": "unchanged"`) {
		t.Errorf("%s", out)
	}
}
