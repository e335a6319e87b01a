package bump

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/manifest"
	"cpk/internal/parse/dockerfile"
	"cpk/internal/testenv"
	"cpk/internal/upstream"
)

// standIn is a GitHub stand-in for one repository, owner/app: its releases
// (REST shape) and their downloadable assets.
type standIn struct {
	*httptest.Server
	releases []rel
}

type rel struct {
	tag    string
	body   []byte // the tarball app-<version>.tar.gz
	digest string // "" = none published; "good" = the right one; anything else verbatim
	sums   bool   // publish a SHA256SUMS asset instead
}

func newStandIn(t *testing.T, rels ...rel) *standIn {
	s := &standIn{releases: rels}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/repos/owner/app/releases" {
			var out []map[string]any
			for _, x := range s.releases {
				v := strings.TrimPrefix(x.tag, "v")
				var digest any
				switch x.digest {
				case "":
				case "good":
					digest = "sha256:" + sha(x.body)
				default:
					digest = x.digest
				}
				assets := []map[string]any{{"name": "app-" + v + ".tar.gz", "digest": digest,
					"browser_download_url": s.URL + "/download/owner/app/" + x.tag + "/app-" + v + ".tar.gz"}}
				if x.sums {
					assets = append(assets, map[string]any{"name": "SHA256SUMS", "digest": nil, "browser_download_url": s.URL + "/download/owner/app/" + x.tag + "/SHA256SUMS"})
				}
				out = append(out, map[string]any{"tag_name": x.tag, "draft": false, "prerelease": false,
					"published_at": "2025-01-10T00:00:00Z", "html_url": "https://github.com/owner/app/releases/tag/" + x.tag, "assets": assets})
			}
			json.NewEncoder(w).Encode(out)
			return
		}
		for _, x := range s.releases {
			v := strings.TrimPrefix(x.tag, "v")
			switch r.URL.Path {
			case "/download/owner/app/" + x.tag + "/app-" + v + ".tar.gz":
				w.Write(x.body)
				return
			case "/download/owner/app/" + x.tag + "/SHA256SUMS":
				fmt.Fprintf(w, "%s  app-%s.tar.gz\n", sha(x.body), v)
				return
			}
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// fixture copies testdata/app into a fresh folder, pointing its download
// URL at the stand-in.
func fixture(t *testing.T, server string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	err := filepath.WalkDir("testdata/app", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/app", p)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(target, []byte(strings.ReplaceAll(string(data), "{{server}}", server)), info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// snapshot reads every file of dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			info, _ := d.Info()
			rel, _ := filepath.Rel(dir, p)
			out[rel] = fmt.Sprintf("%o:%s", info.Mode().Perm(), data)
		}
		return nil
	})
	return out
}

func assertUnchanged(t *testing.T, before map[string]string, dir string) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("files added or removed: %d → %d", len(before), len(after))
	}
	for name, content := range before {
		if after[name] != content {
			t.Errorf("%s changed", name)
		}
	}
}

func pkg(dir string) Package {
	return Package{ID: "app", Dir: dir, Upstream: &cpk.Upstream{Source: "github", Repo: "owner/app"}}
}

func client(s *standIn) *upstream.Client {
	return upstream.NewClient(upstream.Endpoints{GitHubAPI: s.URL}, upstream.Tokens{}, nil)
}

func TestBumpEndToEnd(t *testing.T) {
	tarball := []byte("app 1.3.0 source")
	s := newStandIn(t,
		rel{tag: "v2.0.0-rc1", body: []byte("rc"), digest: "good"},
		rel{tag: "v1.3.0", body: tarball, digest: "good"},
		rel{tag: "v1.2.3", body: []byte("old"), digest: "good"})
	dir := fixture(t, s.URL)
	before := snapshot(t, dir)
	e, err := Plan(context.Background(), client(s), pkg(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertUnchanged(t, before, dir) // planning writes nothing
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	r := e.Result
	if r.From != "1.2.3" || r.To != "1.3.0" || r.PackageFrom != "1.0.0" || r.PackageTo != "1.1.0" || r.Rule != "minor" {
		t.Errorf("result %+v", r)
	}
	if r.Checksum == nil || r.Checksum.SHA256 != sha(tarball) || !strings.Contains(r.Provenance, "published by upstream (digest of release asset app-1.3.0.tar.gz) and verified by download") {
		t.Errorf("checksum %+v %q", r.Checksum, r.Provenance)
	}
	if strings.Join(r.Files, " ") != "Dockerfile CloudronManifest.json CHANGELOG" {
		t.Errorf("files %v", r.Files)
	}

	df, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	wantDf := strings.ReplaceAll(before["Dockerfile"][4:], "ARG UPSTREAM_VERSION=1.2.3", "ARG UPSTREAM_VERSION=1.3.0")
	wantDf = strings.ReplaceAll(wantDf, strings.Repeat("0", 64), sha(tarball))
	wantDf = strings.ReplaceAll(wantDf, "asset app-1.2.3.tar.gz) and verified by download (1.2.3)", "asset app-1.3.0.tar.gz) and verified by download (1.3.0)")
	if string(df) != wantDf {
		t.Errorf("Dockerfile:\n%s\nwant:\n%s", df, wantDf)
	}
	if _, err := dockerfile.Parse(df); err != nil {
		t.Errorf("the edited Dockerfile does not parse: %v", err)
	}

	m, _ := os.ReadFile(filepath.Join(dir, "CloudronManifest.json"))
	wantM := strings.Replace(strings.Replace(before["CloudronManifest.json"][4:], `"version": "1.0.0"`, `"version": "1.1.0"`, 1), `"upstreamVersion": "1.2.3"`, `"upstreamVersion": "1.3.0"`, 1)
	if string(m) != wantM {
		t.Errorf("manifest:\n%s\nwant (every other byte kept):\n%s", m, wantM)
	}
	if rep := manifest.Check(m, manifest.Options{}); !rep.Valid {
		t.Errorf("manifest invalid: %v", rep.Errors)
	}

	cl, _ := os.ReadFile(filepath.Join(dir, "CHANGELOG"))
	wantCl := "[0.9.0]\n* First release\n\n[1.0.0]\n* Update Example App to 1.2.3\n\n[1.1.0]\n* Update Example App to 1.3.0\n* [Full changelog](https://github.com/owner/app/releases/tag/v1.3.0)\n"
	if string(cl) != wantCl {
		t.Errorf("CHANGELOG:\n%s", cl)
	}
	if st, _ := os.Stat(filepath.Join(dir, "start.sh")); st.Mode().Perm() != 0o755 {
		t.Error("start.sh lost its mode")
	}
	if p, _ := ReadPin(dir); p.Version != "1.3.0" || p.Mismatch != "" {
		t.Errorf("pin after bump %+v", p)
	}

	// Bumping again finds nothing to do.
	if _, err := Plan(context.Background(), client(s), pkg(dir), Options{}); !errors.Is(err, ErrUpToDate) {
		t.Errorf("second bump: %v", err)
	}
}

func TestBumpToChosenVersions(t *testing.T) {
	s := newStandIn(t,
		rel{tag: "v2.0.0", body: []byte("two"), digest: "good"},
		rel{tag: "v1.2.4", body: []byte("patch"), sums: true},
		rel{tag: "v1.2.3", body: []byte("old")})
	for _, c := range []struct{ to, pkg, rule, provenance string }{
		{"1.2.4", "1.0.1", "patch", "published by upstream (checksum file SHA256SUMS)"},
		{"v2.0.0", "2.0.0", "major", "digest of release asset"},
	} {
		dir := fixture(t, s.URL)
		e, err := Plan(context.Background(), client(s), pkg(dir), Options{To: c.to})
		if err != nil {
			t.Fatalf("--to %s: %v", c.to, err)
		}
		if e.Result.PackageTo != c.pkg || e.Result.Rule != c.rule || !strings.Contains(e.Result.Provenance, c.provenance) {
			t.Errorf("--to %s: %+v", c.to, e.Result)
		}
	}
	dir := fixture(t, s.URL)
	if _, err := Plan(context.Background(), client(s), pkg(dir), Options{To: "9.9.9"}); err == nil || !strings.Contains(err.Error(), "upstream has no release 9.9.9") {
		t.Errorf("unknown version: %v", err)
	}
}

func TestBumpWithoutPublishedChecksum(t *testing.T) {
	body := []byte("no digest here")
	s := newStandIn(t, rel{tag: "v1.3.0", body: body}, rel{tag: "v1.2.3", body: []byte("old")})
	dir := fixture(t, s.URL)
	e, err := Plan(context.Background(), client(s), pkg(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	df, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if !strings.Contains(string(df), "# cpk: checksum computed by download: upstream publishes no checksum for this file (1.3.0)\nARG UPSTREAM_SHA256="+sha(body)+"\n") {
		t.Errorf("Dockerfile:\n%s", df)
	}
}

// TestBumpFailuresLeaveFilesUnchanged: a checksum mismatch, a missing
// download and a failure halfway through writing all leave every file as
// it was.
func TestBumpFailuresLeaveFilesUnchanged(t *testing.T) {
	s := newStandIn(t,
		rel{tag: "v1.4.0", body: []byte("tampered"), digest: "sha256:" + strings.Repeat("ab", 32)},
		rel{tag: "v1.3.0", body: []byte("fine"), digest: "good"},
		rel{tag: "v1.2.3", body: []byte("old")})
	ctx := context.Background()

	dir := fixture(t, s.URL)
	before := snapshot(t, dir)
	_, err := Plan(ctx, client(s), pkg(dir), Options{})
	var me *upstream.MismatchError
	if !errors.As(err, &me) {
		t.Errorf("mismatch: %v", err)
	}
	assertUnchanged(t, before, dir)

	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(strings.Replace(before["Dockerfile"][4:], "/app-${UPSTREAM_VERSION}.tar.gz", "/missing.tar.gz", 1)), 0o644)
	before = snapshot(t, dir)
	if _, err := Plan(ctx, client(s), pkg(dir), Options{To: "1.3.0"}); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("missing download: %v", err)
	}
	assertUnchanged(t, before, dir)

	dir = fixture(t, s.URL)
	before = snapshot(t, dir)
	e, err := Plan(ctx, client(s), pkg(dir), Options{To: "1.3.0"})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	e.rename = func(from, to string) error {
		calls++
		if calls == 3 {
			return errors.New("disk full")
		}
		return os.Rename(from, to)
	}
	if err := e.Apply(); err == nil || !strings.Contains(err.Error(), "every file was put back") {
		t.Errorf("apply: %v", err)
	}
	assertUnchanged(t, before, dir)
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*cpk-bump*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestBumpManifestOnlyPackage(t *testing.T) {
	s := newStandIn(t, rel{tag: "v1.3.0", body: []byte("x")}, rel{tag: "v1.2.3", body: []byte("old")})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"manifestVersion": 2, "version": "0.4.1", "httpPort": 8000}`), 0o644)
	p, _ := ReadPin(dir)
	if p.Version != "" {
		t.Errorf("pin %+v", p)
	}
	e, err := Plan(context.Background(), client(s), Package{ID: "app", Dir: dir, Upstream: &cpk.Upstream{Source: "github", Repo: "owner/app"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	m, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	if string(m) != `{"manifestVersion": 2, "version": "0.4.2", "upstreamVersion": "1.3.0", "httpPort": 8000}` {
		t.Errorf("manifest %s", m)
	}
	cl, _ := os.ReadFile(filepath.Join(dir, "CHANGELOG"))
	if !strings.HasPrefix(string(cl), "[0.4.2]\n* Update app to 1.3.0\n") {
		t.Errorf("CHANGELOG %q", cl)
	}
	if p, _ := ReadPin(dir); p.Version != "1.3.0" || p.From != "CloudronManifest.json upstreamVersion" {
		t.Errorf("pin %+v", p)
	}
}

func TestReadPinMismatch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, DockerfileName), []byte("FROM x\nARG UPSTREAM_VERSION=2.0.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"upstreamVersion": "1.9.0"}`), 0o644)
	p, err := ReadPin(dir)
	if err != nil || p.Version != "2.0.0" || p.From != "Dockerfile:2 ARG UPSTREAM_VERSION" || p.Mismatch != "1.9.0" {
		t.Errorf("%+v %v", p, err)
	}
	if p, err := ReadPin(t.TempDir()); err != nil || p.Version != "" {
		t.Errorf("empty package: %+v %v", p, err)
	}
}

func TestNextPackageVersion(t *testing.T) {
	for _, c := range []struct {
		pkg, old, new, scheme, want, rule string
	}{
		{"1.4.2", "1.2.3", "2.0.0", "", "2.0.0", "major"},
		{"1.4.2", "1.2.3", "1.3.0", "", "1.5.0", "minor"},
		{"1.4.2", "1.2.3", "1.2.4", "", "1.4.3", "patch"},
		{"1.4.2", "1.2.3", "1.2.3.1", "", "1.4.3", "patch"},
		{"1.4.2", "1.2.3", "1.2.3-1", "", "1.4.3", "patch"},
		{"1.4.2", "", "1.0.0", "", "1.4.3", "patch"},
		{"1.4.2", "2.0.0", "1.9.0", "", "1.4.3", "patch"},
		{"1.4.2-beta.1", "1.0", "1.1", "", "1.5.0", "minor"},
		{"v1.4.2", "1.0", "2.0", "", "v2.0.0", "major"},
		{"1.4.2", "2024.12.01", "2025.01.05", "", "1.5.0", "minor"},
		{"1.4.2", "2024.12.01", "2024.12.02", "", "1.4.3", "patch"},
		{"1.4.2", "24.04", "24.10", "calendar", "1.5.0", "minor"},
		{"1.4.2", "24.04", "25.04", "calendar", "1.5.0", "minor"},
	} {
		got, rule, err := NextPackageVersion(c.pkg, c.old, c.new, c.scheme)
		if err != nil || got != c.want || rule != c.rule {
			t.Errorf("%s with %s → %s: %s %s %v, want %s %s", c.pkg, c.old, c.new, got, rule, err, c.want, c.rule)
		}
	}
	if _, _, err := NextPackageVersion("1.0", "1", "2", ""); err == nil || !strings.Contains(err.Error(), "not semver") {
		t.Errorf("bad package version: %v", err)
	}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestApplyOnBranch: --branch commits the bump on feature/package-app and
// returns to the original branch; a failure leaves the repository as it was.
func TestApplyOnBranch(t *testing.T) {
	testenv.LookPath(t, "git")
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": "/dev/null"} {
		t.Setenv(k, v)
	}
	s := newStandIn(t, rel{tag: "v1.3.0", body: []byte("new"), digest: "good"}, rel{tag: "v1.2.3", body: []byte("old")})
	root := t.TempDir()
	appDir := filepath.Join(root, "apps", "app")
	os.MkdirAll(filepath.Dir(appDir), 0o755)
	src := fixture(t, s.URL)
	if err := os.Rename(src, appDir); err != nil {
		t.Fatal(err)
	}
	git(t, root, "init", "-q", "-b", "main")
	git(t, root, "add", ".")
	git(t, root, "commit", "-q", "-m", "initial")
	before := snapshot(t, appDir)
	ctx := context.Background()

	e, err := Plan(ctx, client(s), pkg(appDir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyOnBranch(ctx, root, e); err != nil {
		t.Fatal(err)
	}
	if e.Result.Branch != "feature/package-app" || len(e.Result.Commit) != 40 {
		t.Errorf("%+v", e.Result)
	}
	if b := git(t, root, "symbolic-ref", "--short", "HEAD"); b != "main" {
		t.Errorf("left on %s", b)
	}
	assertUnchanged(t, before, appDir)
	files := git(t, root, "show", "--name-only", "--format=%s", "feature/package-app")
	if !strings.Contains(files, "app: update upstream 1.2.3 → 1.3.0 (package 1.1.0)") || !strings.Contains(files, "apps/app/Dockerfile") || !strings.Contains(files, "apps/app/CHANGELOG") {
		t.Errorf("commit:\n%s", files)
	}
	if m := git(t, root, "show", "feature/package-app:apps/app/CloudronManifest.json"); !strings.Contains(m, `"upstreamVersion": "1.3.0"`) {
		t.Errorf("manifest on the branch:\n%s", m)
	}

	// The branch exists now: a second --branch bump refuses and changes nothing.
	e, err = Plan(ctx, client(s), pkg(appDir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyOnBranch(ctx, root, e); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("existing branch: %v", err)
	}
	assertUnchanged(t, before, appDir)

	// Uncommitted changes in the package: refused.
	git(t, root, "branch", "-D", "feature/package-app")
	os.WriteFile(filepath.Join(appDir, "NOTES.md"), []byte("wip"), 0o644)
	if err := ApplyOnBranch(ctx, root, e); err == nil || !strings.Contains(err.Error(), "uncommitted changes") {
		t.Errorf("dirty package: %v", err)
	}
	os.Remove(filepath.Join(appDir, "NOTES.md"))

	// A failing commit (a hook refuses it) puts everything back.
	hook := filepath.Join(root, ".git", "hooks", "pre-commit")
	os.WriteFile(hook, []byte("#!/bin/sh\necho refused >&2\nexit 1\n"), 0o755)
	if err := ApplyOnBranch(ctx, root, e); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("refused commit: %v", err)
	}
	assertUnchanged(t, before, appDir)
	if b := git(t, root, "symbolic-ref", "--short", "HEAD"); b != "main" {
		t.Errorf("left on %s", b)
	}
	if out := git(t, root, "branch", "--list", "feature/*"); out != "" {
		t.Errorf("branch left behind: %s", out)
	}
	if st := git(t, root, "status", "--porcelain"); st != "" {
		t.Errorf("working tree not clean:\n%s", st)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"UPSTREAM_VERSION": "1.2.3", "BASE": "https://x/v${UPSTREAM_VERSION}", "NAME": "app"}
	for in, want := range map[string]string{
		"${BASE}/$NAME-${UPSTREAM_VERSION}.tgz": "https://x/v1.2.3/app-1.2.3.tgz",
		"https://x/${UPSTREAM_VERSION}":         "https://x/1.2.3",
	} {
		if got, err := expand(in, vars); err != nil || got != want {
			t.Errorf("expand(%s) = %s, %v", in, got, err)
		}
	}
	for _, in := range []string{"https://x/${MISSING}", "https://x/${UPSTREAM_VERSION:-1}"} {
		if _, err := expand(in, vars); err == nil {
			t.Errorf("expand(%s): no error", in)
		}
	}
}

// TestBumpFillsAnEmptyChecksum: a package written where upstream was not
// reachable carries an empty UPSTREAM_SHA256 under a DF009 suppression.
// A bump to the pinned version fills in the checksum alone (version,
// manifest and changelog stay); the suppression gives way to the
// provenance comment. A bump to a newer version does the same on the way.
func TestBumpFillsAnEmptyChecksum(t *testing.T) {
	body := []byte("app 1.2.3 source")
	newer := []byte("app 1.3.0 source")
	s := newStandIn(t, rel{tag: "v1.3.0", body: newer, digest: "good"}, rel{tag: "v1.2.3", body: body, digest: "good"})
	empty := func(t *testing.T) (string, map[string]string) {
		dir := fixture(t, s.URL)
		p := filepath.Join(dir, "Dockerfile")
		df, _ := os.ReadFile(p)
		out := strings.Replace(string(df),
			"# cpk: checksum published by upstream (digest of release asset app-1.2.3.tar.gz) and verified by download (1.2.3)\nARG UPSTREAM_SHA256="+strings.Repeat("0", 64)+"\n",
			"# cpk:ignore DF009 -- checksum filled by cpk upstream bump (upstream not reachable here)\nARG UPSTREAM_SHA256=\n", 1)
		if out == string(df) {
			t.Fatal("the fixture changed: no checksum ARG to empty")
		}
		os.WriteFile(p, []byte(out), 0o644)
		return dir, snapshot(t, dir)
	}

	dir, before := empty(t)
	e, err := Plan(context.Background(), client(s), pkg(dir), Options{To: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	r := e.Result
	if r.From != "1.2.3" || r.To != "1.2.3" || r.PackageTo != r.PackageFrom || r.Rule != "checksum only" || strings.Join(r.Files, " ") != "Dockerfile" {
		t.Errorf("result %+v", r)
	}
	df, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	want := strings.Replace(before["Dockerfile"][4:],
		"# cpk:ignore DF009 -- checksum filled by cpk upstream bump (upstream not reachable here)\nARG UPSTREAM_SHA256=\n",
		"# cpk: checksum published by upstream (digest of release asset app-1.2.3.tar.gz) and verified by download (1.2.3)\nARG UPSTREAM_SHA256="+sha(body)+"\n", 1)
	if string(df) != want {
		t.Errorf("Dockerfile:\n%s\nwant:\n%s", df, want)
	}
	for _, f := range []string{"CloudronManifest.json", "CHANGELOG"} {
		if after := snapshot(t, dir)[f]; after != before[f] {
			t.Errorf("%s changed", f)
		}
	}
	// Filled: the pinned version is up to date again.
	if _, err := Plan(context.Background(), client(s), pkg(dir), Options{To: "1.2.3"}); !errors.Is(err, ErrUpToDate) {
		t.Errorf("second bump: %v", err)
	}

	dir, _ = empty(t)
	e, err = Plan(context.Background(), client(s), pkg(dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(); err != nil {
		t.Fatal(err)
	}
	df, _ = os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if strings.Contains(string(df), "cpk:ignore") || !strings.Contains(string(df), "(1.3.0)\nARG UPSTREAM_SHA256="+sha(newer)+"\n") {
		t.Errorf("bump to 1.3.0:\n%s", df)
	}
}
