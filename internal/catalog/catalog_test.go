package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/cpk"
)

// writeApp creates apps/<folder>/cpk.yaml (and other files) under dir.
func writeApp(t *testing.T, dir, folder, spec string, files ...string) {
	t.Helper()
	d := filepath.Join(dir, folder)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if spec != "" {
		if err := os.WriteFile(filepath.Join(d, SpecFile), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		p := filepath.Join(d, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const good = "id: grist\nname: Grist\ntier: 1\nphase: 2\ncategory: database\ncomplexity: medium\nestimate: \"4-6\"\nupstream:\n  source: github\n  repo: gristlabs/grist-core\ntracker: 191\n"

func TestLoadGood(t *testing.T) {
	dir := t.TempDir()
	writeApp(t, dir, "grist", good)
	writeApp(t, dir, "blocked-one", "id: blocked-one\nname: B\nphase: 3\ncategory: security\nstate: blocked\nreason: upstream needs MongoDB\n")
	cat, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Apps) != 2 || cat.Apps[0].ID != "blocked-one" {
		t.Fatalf("apps not sorted or missing: %+v", cat.Apps)
	}
	g := cat.App("grist")
	if g == nil || g.Tier != 1 || g.Upstream.Link() != "https://github.com/gristlabs/grist-core" || g.Tracker != 191 {
		t.Fatalf("grist = %+v", g)
	}
	if lo, hi := EstimateRange(g.Estimate); lo != 4 || hi != 6 {
		t.Errorf("estimate = %d-%d", lo, hi)
	}
	if cat.App("nope") != nil {
		t.Error("App(nope) should be nil")
	}
}

func TestLoadReportsEveryProblemWithPosition(t *testing.T) {
	dir := t.TempDir()
	writeApp(t, dir, "a", "id: a\nname: A\nphase: 5\ncategory: database\ntire: 1\n")
	writeApp(t, dir, "b", "id: b\nname: B\nphase: 2\ncategory: nonsense\ncomplexity: huge\nestimate: lots\n")
	writeApp(t, dir, "c", "id: other\nname: C\nphase: 2\ncategory: database\n")
	writeApp(t, dir, "d", "")
	writeApp(t, dir, "e", "id: e\nname: E\nphase: 2\ncategory: database\nstate: packaged\n")
	writeApp(t, dir, "f", "id: f\nname: F\nphase: 2\ncategory: database\nstate: blocked\n")
	writeApp(t, dir, "g", "id: g\nname: [unclosed\n")
	writeApp(t, dir, "h", "id: h\nname: H\nphase: 2\nphase: 3\ncategory: database\nupstream:\n  source: github\n  rep: x/y\n")
	writeApp(t, dir, "i", "- just\n- a list\n")
	writeApp(t, dir, "j", "id: j\nname: J\nphase: two\ncategory: database\n")
	_, err := Load(dir)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want *LoadError, got %v", err)
	}
	want := []struct {
		folder string
		line   int
		text   string
	}{
		{"a", 3, "phase must be 2, 3 or 4"},
		{"a", 5, "unknown key tire (did you mean tier?)"},
		{"b", 4, `category "nonsense"`},
		{"b", 5, `complexity "huge"`},
		{"b", 6, `estimate "lots"`},
		{"c", 1, `does not match its folder "c"`},
		{"d", 0, "missing"},
		{"e", 5, "cannot be set by hand"},
		{"f", 5, "needs a reason"},
		{"g", 1, "did not find expected"},
		{"h", 4, "duplicate key phase (first at line 3)"},
		{"h", 8, "unknown key upstream.rep (did you mean upstream.repo?)"},
		{"i", 1, "must be a mapping"},
		{"j", 3, "cannot unmarshal"},
	}
	got := map[string][]Problem{}
	for _, p := range le.Problems {
		folder := filepath.Base(filepath.Dir(p.File))
		got[folder] = append(got[folder], p)
	}
	for _, w := range want {
		found := false
		for _, p := range got[w.folder] {
			if p.Line == w.line && strings.Contains(p.Message, w.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no problem at line %d containing %q; got %v", w.folder, w.line, w.text, got[w.folder])
		}
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, "a", SpecFile)+":3:8: phase") {
		t.Errorf("error text lacks file:line: %v", err)
	}
}

func TestDuplicateIDs(t *testing.T) {
	dir := t.TempDir()
	writeApp(t, dir, "x", "id: x\nname: X\nphase: 2\ncategory: database\n")
	writeApp(t, dir, "y", "name: Y\nid: x\nphase: 2\ncategory: database\n")
	cat, err := Load(dir)
	var le *LoadError
	if !errors.As(err, &le) || len(le.Problems) != 1 {
		t.Fatalf("want one problem, on the duplicate: %v", err)
	}
	p := le.Problems[0]
	if !strings.HasSuffix(p.File, filepath.Join("y", SpecFile)) || p.Line != 2 || !strings.Contains(p.Message, `duplicate id "x": apps/x is that application`) {
		t.Errorf("the duplicate's problem: %v", p)
	}
	// The original stays in the catalog.
	if len(cat.Apps) != 1 || cat.Apps[0].ID != "x" || filepath.Base(cat.Apps[0].Dir) != "x" {
		t.Errorf("apps: %+v", cat.Apps)
	}
}

func TestStateDerivation(t *testing.T) {
	dir := t.TempDir()
	writeApp(t, dir, "p", "id: p\nname: P\nphase: 2\ncategory: database\n")
	writeApp(t, dir, "q", "id: q\nname: Q\nphase: 2\ncategory: database\n", "Dockerfile", ".hidden")
	writeApp(t, dir, "r", "id: r\nname: R\nphase: 2\ncategory: database\nstate: retired\n", "Dockerfile")
	cat, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := func(id string) []string {
		f, err := cat.App(id).PackageFiles()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := files("p"); len(f) != 0 {
		t.Errorf("p has package files %v", f)
	}
	if f := files("q"); len(f) != 1 || f[0] != "Dockerfile" {
		t.Errorf("q files = %v (hidden files and cpk.yaml are not package files)", f)
	}
	cases := []struct {
		app  string
		ev   Evidence
		want cpk.State
	}{
		{"p", Evidence{}, cpk.Planned},
		{"q", Evidence{HasFiles: true, LintErrors: 2}, cpk.Draft},
		{"q", Evidence{HasFiles: true}, cpk.Packaged},
		{"q", Evidence{HasFiles: true, Verified: true}, cpk.Verified},
		{"q", Evidence{HasFiles: true, LintErrors: 1, Verified: true}, cpk.Draft},
		{"r", Evidence{HasFiles: true}, cpk.Retired},
	}
	for _, c := range cases {
		if got := DeriveState(cat.App(c.app), c.ev); got != c.want {
			t.Errorf("%s %+v: %s, want %s", c.app, c.ev, got, c.want)
		}
	}
}

func TestContentHashFollowsContent(t *testing.T) {
	dir := t.TempDir()
	writeApp(t, dir, "q", "id: q\nname: Q\nphase: 2\ncategory: database\n", "Dockerfile", "start.sh")
	cat, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := cat.App("q")
	h1, _ := a.ContentHash()
	os.WriteFile(filepath.Join(dir, "q", SpecFile), []byte("id: q\nname: Q2\nphase: 3\ncategory: database\n"), 0o644)
	if h2, _ := a.ContentHash(); h2 != h1 {
		t.Error("editing cpk.yaml changed the content hash")
	}
	os.Chmod(filepath.Join(dir, "q", "start.sh"), 0o755)
	h3, _ := a.ContentHash()
	if h3 == h1 {
		t.Error("making start.sh executable did not change the hash")
	}
	os.WriteFile(filepath.Join(dir, "q", "start.sh"), []byte("changed"), 0o755)
	if h4, _ := a.ContentHash(); h4 == h3 {
		t.Error("editing start.sh did not change the hash")
	}
}

func TestFindRoot(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "apps", "x", "deep"), 0o755)
	got, err := FindRoot(filepath.Join(dir, "apps", "x", "deep"))
	if err != nil || got != dir {
		t.Fatalf("FindRoot = %q, %v", got, err)
	}
	if _, err := FindRoot(t.TempDir()); err == nil || !strings.Contains(err.Error(), "--root") {
		t.Errorf("want an error that says what to do, got %v", err)
	}
}

// TestBundledCatalog loads the repository's own catalog: every application
// of the plan's inventory, valid.
func TestBundledCatalog(t *testing.T) {
	cat, err := Load(filepath.Join("..", "..", "apps"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Apps) < 100 {
		t.Fatalf("the catalog has %d applications; the plan has 101", len(cat.Apps))
	}
	phases := map[int]int{}
	for _, a := range cat.Apps {
		phases[a.Phase]++
	}
	if phases[2] < 26 || phases[3] < 37 || phases[4] < 38 {
		t.Errorf("per phase %v, want at least the inventory's 26/37/38", phases)
	}
}

// TestUpstreamValidation: each source's required keys, keys a source does
// not use, patterns, scheme and track are errors at the key's position.
func TestUpstreamValidation(t *testing.T) {
	head := "id: %s\nname: X\nphase: 2\ncategory: database\nupstream:\n"
	cases := []struct {
		folder, block string
		line          int
		text          string
	}{
		{"gh-no-repo", "  source: github\n", 6, "upstream github needs repo"},
		{"gh-subgroup", "  source: github\n  repo: a/b/c\n", 7, "only gitlab has subgroups"},
		{"gitea-no-url", "  source: gitea\n  repo: a/b\n", 6, "upstream gitea needs url"},
		{"npm-no-package", "  source: npm\n  repo: a/b\n", 6, "upstream npm needs package"},
		{"npm-repo", "  source: npm\n  package: x\n  repo: a/b\n", 8, "upstream npm does not use repo"},
		{"registry-no-image", "  source: registry\n", 6, "needs image"},
		{"git-no-url", "  source: git\n", 6, "upstream git needs url"},
		{"bad-source", "  source: sourceforge\n", 6, `upstream source "sourceforge"`},
		{"no-source", "  repo: a/b\n", 6, "upstream needs source"},
		{"bad-use", "  source: github\n  repo: a/b\n  use: commits\n", 8, `use "commits" must be releases or tags`},
		{"bad-include", "  source: github\n  repo: a/b\n  include: \"(\"\n", 8, "include is not a valid regular expression"},
		{"bad-scheme", "  source: github\n  repo: a/b\n  scheme: romantic\n", 8, `scheme "romantic"`},
		{"bad-track", "  source: github\n  repo: a/b\n  track: two\n", 8, `track "two"`},
		{"bad-prerelease", "  source: github\n  repo: a/b\n  prerelease: sometimes\n", 8, "cannot unmarshal"},
		{"typo", "  source: github\n  repo: a/b\n  prefx: app-\n", 8, "did you mean upstream.prefix?"},
		{"gitlab-url", "  source: gitlab\n  repo: a/b\n  url: gitlab.example.com\n", 8, "must be the instance address"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		writeApp(t, dir, c.folder, fmt.Sprintf(head, c.folder)+c.block)
	}
	writeApp(t, dir, "fine", fmt.Sprintf(head, "fine")+"  source: gitlab\n  repo: group/sub/name\n  url: https://gitlab.example.com\n  use: tags\n  prefix: server-\n  include: '^server-v'\n  exclude: '-nightly$'\n  prerelease: true\n  scheme: semver\n  track: 2.x\n")
	writeApp(t, dir, "pkg", fmt.Sprintf(head, "pkg")+"  source: pypi\n  package: django\n")
	cat, err := Load(dir)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want *LoadError, got %v", err)
	}
	for _, c := range cases {
		found := false
		for _, p := range le.Problems {
			if filepath.Base(filepath.Dir(p.File)) == c.folder && p.Line == c.line && strings.Contains(p.Message, c.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no problem at line %d containing %q in %v", c.folder, c.line, c.text, le)
		}
	}
	for _, p := range le.Problems {
		if f := filepath.Base(filepath.Dir(p.File)); f == "fine" || f == "pkg" {
			t.Errorf("valid declaration reported: %v", p)
		}
	}
	u := cat.App("fine").Upstream
	if u.Prefix != "server-" || !u.Prerelease || u.Track != "2.x" || u.Link() != "https://gitlab.example.com/group/sub/name" {
		t.Errorf("fine = %+v, link %s", u, u.Link())
	}
}
