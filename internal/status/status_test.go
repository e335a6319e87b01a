package status

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/docs"
	"cpk/internal/evidence"
	"cpk/internal/lint"
	"cpk/internal/lint/rules"
	"cpk/internal/testenv"
)

const fixtures = "../lint/rules/testdata"

// makeCatalog builds an apps/ folder: each entry maps an id to a lint fixture
// whose files it copies ("" = planned), with extra cpk.yaml lines.
func makeCatalog(t testing.TB, apps map[string][2]string) string {
	t.Helper()
	dir := t.TempDir()
	for id, v := range apps {
		d := filepath.Join(dir, id)
		if v[0] != "" {
			testenv.CopyTree(t, filepath.Join(fixtures, v[0]), d)
			os.Remove(filepath.Join(d, "want.txt"))
		}
		os.MkdirAll(d, 0o755)
		spec := "id: " + id + "\nname: " + id + "\ntier: 1\nphase: 2\ncategory: database\n" + v[1]
		if err := os.WriteFile(filepath.Join(d, catalog.SpecFile), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeReadmes generates the README of every package of the catalog.
func writeReadmes(t testing.TB, dir string) {
	t.Helper()
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cat.Apps {
		var ie *docs.InputError
		if _, err := docs.SyncPackage(a, false); err != nil && !errors.As(err, &ie) {
			t.Fatal(err) // a package whose manifest does not parse gets no README
		}
	}
}

func build(t testing.TB, dir string, verified func(string, string) bool) *Report {
	t.Helper()
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := rules.Registry()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Build(cat, Options{Rules: reg, Verified: verified})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestStatesAndMetrics(t *testing.T) {
	dir := makeCatalog(t, map[string][2]string{
		"good":     {"good", ""},
		"good2":    {"good", ""},
		"broken":   {"broken-files", ""},
		"planned":  {"", ""},
		"stuck":    {"bad-json", "state: blocked\nreason: waits for upstream\n"},
		"verified": {"good", ""},
	})
	writeReadmes(t, dir)
	var verifiedHash string
	rep := build(t, dir, func(app, hash string) bool {
		if app == "verified" {
			verifiedHash = hash
			return true
		}
		return false
	})
	states := map[string]cpk.State{}
	for _, a := range rep.Apps {
		states[a.ID] = a.State
	}
	want := map[string]cpk.State{"good": cpk.Packaged, "good2": cpk.Packaged, "broken": cpk.Draft, "planned": cpk.Planned, "stuck": cpk.Blocked, "verified": cpk.Verified}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("%s: %s, want %s", id, states[id], s)
		}
	}
	if verifiedHash == "" || len(verifiedHash) != 64 {
		t.Errorf("Verified was not asked with a content hash: %q", verifiedHash)
	}
	if rep.Total.Total != 6 || rep.Phases[0].Total != 6 || rep.Tiers[0].Total != 6 || rep.Phases[0].Target != 25 {
		t.Errorf("groups: total %+v phase %+v tier %+v", rep.Total, rep.Phases[0], rep.Tiers[0])
	}
	m := rep.Metrics
	if m.Packages.Count != 3 || m.Packages.Target != 100 {
		t.Errorf("packages = %+v", m.Packages)
	}
	if m.SuccessRate.Count != 1 || m.SuccessRate.Of != 3 || m.SuccessRate.Value == nil || *m.SuccessRate.Value < 0.33 || *m.SuccessRate.Value > 0.34 {
		t.Errorf("success rate = %+v", m.SuccessRate)
	}
	// broken-files has empty notes, and stuck's manifest does not parse, so
	// no README can be right for it; the other three have notes and a
	// current README.
	if m.BuildNotes.Count != 3 || m.BuildNotes.Of != 5 {
		t.Errorf("build notes = %+v", m.BuildNotes)
	}
	// A manifest edited without cpk docs makes its README stale: no longer covered.
	mf := filepath.Join(dir, "good2", "CloudronManifest.json")
	data, _ := os.ReadFile(mf)
	os.WriteFile(mf, []byte(strings.Replace(string(data), `"version": "`, `"version": "9`, 1)), 0o644)
	rep = build(t, dir, nil)
	if m := rep.Metrics.BuildNotes; m.Count != 2 || m.Of != 5 {
		t.Errorf("build notes after a manifest change = %+v", m)
	}
	for _, a := range rep.Apps {
		if a.ID == "good2" && (a.Notes || !a.HasNotes || a.DocsCurrent) {
			t.Errorf("good2: %+v", a)
		}
	}
	if m.UpstreamFreshness.Known {
		t.Error("upstream freshness cannot be known yet")
	}
}

// TestBundledCatalog: on a fresh clone every application is planned and the
// metrics say "not measurable yet" rather than inventing a figure.
func TestBundledCatalog(t *testing.T) {
	rep := build(t, "../../apps", nil)
	want := testenv.CatalogSize(t, "../../apps")
	if len(rep.Apps) != want {
		t.Fatalf("%d apps, want %d", len(rep.Apps), want)
	}
	if rep.Total.States[cpk.Planned]+rep.Total.States[cpk.Draft]+rep.Total.States[cpk.Packaged]+rep.Total.States[cpk.Verified]+rep.Total.States[cpk.Blocked]+rep.Total.States[cpk.Retired] != want {
		t.Errorf("states do not add up: %v", rep.Total.States)
	}
	for _, a := range rep.Apps {
		if a.State == "" {
			t.Errorf("%s has no state", a.ID)
		}
	}
}

func TestUpstreamFreshness(t *testing.T) {
	dir := makeCatalog(t, map[string][2]string{"a": {"good", ""}, "b": {"good", ""}, "c": {"good", ""}, "d": {"", ""}})
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := rules.Registry()
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	old := now.Add(-90 * 24 * time.Hour)
	recent := now.Add(-3 * 24 * time.Hour)
	checks := []cpk.UpstreamCheck{
		{App: "a", Pinned: "1.0", Latest: "1.0", LatestDate: &old},                 // current
		{App: "b", Pinned: "1.0", Latest: "1.1", Outdated: true, LatestDate: &old}, // a release behind for three months
		{App: "c", Pinned: "1.0", Latest: "1.1", Outdated: true, LatestDate: &recent},
		{App: "d", Latest: "2.0"},                         // no pin: not counted
		{App: "gone", Pinned: "1", Latest: "1"},           // not in the catalog
		{App: "a2", Pinned: "1", Latest: "1", Error: "x"}, // not in the catalog either
	}
	rep, err := Build(cat, Options{Rules: reg, Upstream: checks, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Metrics.UpstreamFreshness
	if !f.Known || f.Count != 2 || f.Of != 3 || f.Value == nil || *f.Value < 0.66 || *f.Value > 0.67 {
		t.Errorf("freshness %+v", f)
	}
	rep, _ = Build(cat, Options{Rules: reg, Upstream: []cpk.UpstreamCheck{}, Now: now})
	if f := rep.Metrics.UpstreamFreshness; !f.Known || f.Value != nil {
		t.Errorf("checks without pins: %+v", f)
	}
}

// TestLintFromContents lints every lint fixture twice, from the disk and
// from the files the content hash read (what Build does): the findings
// must be the same.
func TestLintFromContents(t *testing.T) {
	reg, err := rules.Registry()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, e := range entries {
		dir := filepath.Join(fixtures, e.Name())
		c, err := evidence.ReadContents(dir)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		for _, f := range c.Files {
			if _, ok := c.Read(f); ok {
				kept++
			}
		}
		disk := reg.Run(lint.Package{ID: e.Name(), Dir: dir})
		read := reg.Run(lint.Package{ID: e.Name(), Dir: dir, Contents: c})
		if !reflect.DeepEqual(disk, read) {
			t.Errorf("%s: findings from the disk\n%v\nfrom the hash's reads\n%v", e.Name(), disk, read)
		}
	}
	if kept == 0 {
		t.Fatal("the hash kept no file for lint")
	}
}
