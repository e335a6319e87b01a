package web

import (
	"context"
	"cpk/internal/testenv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/lint/rules"
	"cpk/internal/status"
	"cpk/internal/store"
)

// testSource computes the report from a real catalog and store on every call.
type testSource struct {
	dir   string
	reg   *lint.Registry
	store *store.Store
	now   time.Time
}

func (s *testSource) Data(ctx context.Context) (*Data, error) {
	cat, err := catalog.Load(s.dir)
	if err != nil {
		return nil, err
	}
	runs, err := s.store.Runs(ctx, cpk.RunQuery{})
	if err != nil {
		return nil, err
	}
	rep, err := status.Build(cat, status.Options{Rules: s.reg, History: runs, Now: s.now})
	if err != nil {
		return nil, err
	}
	return &Data{Report: rep, Timeline: status.Timeline(cat, runs, status.SampleTimes(runs, s.now, 20)), HasStore: len(runs) > 0, Generated: s.now}, nil
}

func (s *testSource) Findings(ctx context.Context, id string) ([]cpk.Finding, error) {
	cat, _ := catalog.Load(s.dir)
	a := cat.App(id)
	return s.reg.Run(lint.Package{ID: a.ID, Dir: a.Dir}), nil
}

const evil = `<script>alert("x")</script>`

type fixture struct {
	srv   *httptest.Server
	root  string
	store *store.Store
}

// newFixture serves a catalog of three applications — one of them with a
// hostile name and hostile files — and a store with some history.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	app := func(id, fixture, extra string) {
		d := filepath.Join(apps, id)
		os.MkdirAll(d, 0o755)
		if fixture != "" {
			testenv.CopyTree(t, filepath.Join("..", "lint", "rules", "testdata", fixture), d)
			os.Remove(filepath.Join(d, "want.txt"))
		}
		os.WriteFile(filepath.Join(d, catalog.SpecFile), []byte("id: "+id+"\nphase: 2\ncategory: database\n"+extra), 0o644)
	}
	app("good", "good", "name: Good app\ntier: 1\n")
	app("broken", "broken-files", "name: '"+evil+"'\ntier: 2\n")
	app("later", "", "name: Later\n")
	// A finding message carrying markup: a file named like a tag.
	os.WriteFile(filepath.Join(apps, "broken", evil+".sh"), []byte("#!/bin/sh\n"), 0o755)
	st, err := store.Open(context.Background(), filepath.Join(root, ".cpk", "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cat, _ := catalog.Load(apps)
	hash, _ := cat.App("good").ContentHash()
	logDir := filepath.Join(root, ".cpk", "test", "good")
	os.MkdirAll(logDir, 0o755)
	os.WriteFile(filepath.Join(logDir, "1.log"), []byte("step 1\n"+evil+"\nok\n"), 0o644)
	os.WriteFile(filepath.Join(root, "secret.txt"), []byte("top secret\n"), 0o644)
	// A link inside .cpk that points outside it is refused too.
	os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(logDir, "link.log"))
	for _, r := range []cpk.Run{
		{App: "good", Kind: cpk.KindLint, Hash: hash, Started: now.Add(-72 * time.Hour), Finished: now.Add(-72 * time.Hour), Outcome: cpk.OutcomePassed},
		{App: "good", Kind: cpk.KindTest, Hash: hash, Started: now.Add(-48 * time.Hour), Finished: now.Add(-47 * time.Hour), Outcome: cpk.OutcomePassed,
			Steps: []cpk.Step{{Name: "install", Outcome: cpk.OutcomePassed, Duration: time.Minute, Message: evil},
				{Name: "restart", Outcome: cpk.OutcomePassed}, {Name: "backup", Outcome: cpk.OutcomePassed}, {Name: "restore", Outcome: cpk.OutcomePassed},
				{Name: "move", Outcome: cpk.OutcomePassed}, {Name: "uninstall", Outcome: cpk.OutcomePassed}}, Log: ".cpk/test/good/1.log", Figures: map[string]float64{"seconds": 3600}},
		{App: "broken", Kind: cpk.KindLint, Hash: "x", Started: now.Add(-24 * time.Hour), Finished: now.Add(-24 * time.Hour), Outcome: cpk.OutcomeFailed, Log: "secret.txt"},
		{App: "broken", Kind: cpk.KindBuild, Hash: "x", Started: now.Add(-23 * time.Hour), Finished: now.Add(-23 * time.Hour), Outcome: cpk.OutcomeFailed, Log: ".cpk/test/good/link.log"},
	} {
		if err := st.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := rules.Registry()
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Source: &testSource{apps, reg, st, now}, Results: st, Root: root, LogRoot: filepath.Join(root, ".cpk"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{srv, root, st}
}

func (f *fixture) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestPagesHeadersAndEscaping(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		path, ctype string
		code        int
		want        []string
	}{
		{"/", "text/html; charset=utf-8", 200, []string{`<table class="catalog" id="catalog">`, `href="/app/good"`, "3 of 3 shown", "verified", "passed"}},
		{"/app/good", "text/html; charset=utf-8", 200, []string{"Good app", "Checks", "installs and turns healthy", "History", `href="/run/2"`}},
		{"/app/broken", "text/html; charset=utf-8", 200, []string{"Lint findings", "error"}},
		{"/app/nope", "text/html; charset=utf-8", 404, []string{"no application"}},
		{"/run/2", "text/html; charset=utf-8", 200, []string{"test of good", "install", "seconds", "3600", `<pre class="log">`}},
		{"/run/2/log", "text/plain; charset=utf-8", 200, []string{evil}},
		{"/run/3", "text/html; charset=utf-8", 200, []string{"outside the repository"}},
		{"/run/3/log", "text/html; charset=utf-8", 404, []string{"outside the repository"}},
		{"/run/4", "text/html; charset=utf-8", 200, []string{"outside the repository"}},
		{"/run/4/log", "text/html; charset=utf-8", 404, []string{"outside the repository"}},
		{"/run/99", "text/html; charset=utf-8", 404, []string{"no run 99"}},
		{"/run/x", "text/html; charset=utf-8", 404, nil},
		{"/progress", "text/html; charset=utf-8", 200, []string{"<svg", "phase 2 target: 25", "Deploy success", "Build notes", "Upstream freshness", "Packages"}},
		{"/progress/chart.svg", "image/svg+xml", 200, []string{`<svg xmlns="http://www.w3.org/2000/svg"`, "</svg>"}},
		{"/nowhere", "text/html; charset=utf-8", 404, nil},
		{"/healthz", "text/plain; charset=utf-8", 200, []string{"ok"}},
	} {
		res, body := f.get(t, c.path)
		if res.StatusCode != c.code || res.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s: %d %q, want %d %q", c.path, res.StatusCode, res.Header.Get("Content-Type"), c.code, c.ctype)
		}
		for _, w := range c.want {
			if !strings.Contains(strings.ToLower(body), strings.ToLower(w)) {
				t.Errorf("%s lacks %q", c.path, w)
			}
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: security headers %v", c.path, res.Header)
		}
		if strings.HasPrefix(c.ctype, "text/html") {
			if cc := res.Header.Get("Cache-Control"); c.code == 200 && cc != "no-cache" {
				t.Errorf("%s: Cache-Control %q", c.path, cc)
			}
			// Hostile names, file names, step messages and logs are escaped.
			if strings.Contains(body, "<script") {
				t.Errorf("%s: unescaped markup in the page", c.path)
			}
			if strings.Contains(body, "top secret") {
				t.Errorf("%s: shows a file outside .cpk", c.path)
			}
		}
	}
	_, body := f.get(t, "/")
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("the hostile name is not shown escaped")
	}
}

func TestStaticAssetsAndMethods(t *testing.T) {
	f := newFixture(t)
	_, page := f.get(t, "/")
	m := regexp.MustCompile(`href="(/static/[0-9a-f]{12}/style\.css)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	res, css := f.get(t, m[1])
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/css; charset=utf-8" || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(css, "table") {
		t.Errorf("stylesheet: %d %v", res.StatusCode, res.Header)
	}
	res, _ = f.get(t, "/static/000000000000/style.css")
	if res.StatusCode != 404 || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("stale asset URL: %d %v", res.StatusCode, res.Header)
	}
	res, _ = f.get(t, m[1])
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+m[1], nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %v %v", res, err)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, f.srv.URL+"/", strings.NewReader("x"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d %v", method, res.StatusCode, res.Header)
		}
	}
	res, err := http.Head(f.srv.URL + "/progress")
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Length") == "0" {
		t.Errorf("HEAD: %v %v", res, err)
	}
}

func rows(body string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`data-app="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestFiltersAndSorting(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		query string
		want  string
	}{
		{"", "broken good later"},
		{"?sort=app&dir=desc", "later good broken"},
		{"?sort=level&dir=desc", "good broken later"},
		{"?sort=state", "later broken good"},
		{"?sort=test&dir=desc", "good broken later"},
		{"?state=verified", "good"},
		{"?state=planned", "later"},
		{"?tier=untiered", "later"},
		{"?tier=2", "broken"},
		{"?phase=3", ""},
		{"?q=GOOD", "good"},
		{"?level=3", ""},
		{"?level=2", "good"},
		{"?sort=nonsense&state=bogus&tier=9&level=42", "broken good later"}, // unknown values are ignored
		{"?q=%3Cscript%3E", "broken"},
	} {
		_, body := f.get(t, "/"+c.query)
		if got := strings.Join(rows(body), " "); got != c.want {
			t.Errorf("%s: %q, want %q", c.query, got, c.want)
		}
		if strings.Contains(body, "<script") {
			t.Errorf("%s: the query is reflected unescaped", c.query)
		}
	}
	_, body := f.get(t, "/?sort=level")
	if !strings.Contains(body, `href="/?dir=desc&amp;sort=level"`) {
		t.Error("the current sort column does not link to the other direction")
	}
}

func TestBurnUp(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tl := []status.Snapshot{
		{At: base, States: map[cpk.State]int{cpk.Planned: 100}},
		{At: base.Add(48 * time.Hour), States: map[cpk.State]int{cpk.Draft: 5, cpk.Packaged: 3, cpk.Verified: 2, cpk.Planned: 90}},
	}
	svg := BurnUp(tl, 100)
	for _, want := range []string{`class="area area-verified"`, `class="area area-packaged"`, `class="area area-draft"`, "phase 2 target: 25", "phase 3 target: 75", "phase 4 target: 100", "verified: 2", "packaged: 3", "draft: 5", "Jan 1"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if strings.Count(svg, "<polygon") != 3 || !strings.HasSuffix(svg, "</svg>") {
		t.Error("malformed chart")
	}
	if one := BurnUp(tl[1:], 100); !strings.Contains(one, "<polygon") {
		t.Error("a single snapshot draws nothing")
	}
	if none := BurnUp(nil, 0); !strings.Contains(none, "phase 4 target: 100") {
		t.Error("no snapshots: no targets")
	}
}
