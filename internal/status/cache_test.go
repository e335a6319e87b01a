package status

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/lint/rules"
)

// countingRegistry is the real rules plus one that counts its runs.
func countingRegistry(t testing.TB, runs *atomic.Int64) *lint.Registry {
	all := rules.All()
	all = append(all, &lint.Rule{Code: "ZZ999", Title: "counts its runs", Severity: cpk.Info,
		Doc: "Counts.\n\nBad:\n\n    x\n\nGood:\n\n    y", Run: func(*lint.Pass) { runs.Add(1) }})
	reg, err := lint.NewRegistry(all...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestCachedStatusDoesNoLintWork: on an unchanged catalog the report takes
// every package's findings from the cache (no rule runs), with the same
// report; a changed file, cpk.yaml or evidence lints that package again.
func TestCachedStatusDoesNoLintWork(t *testing.T) {
	dir := makeCatalog(t, map[string][2]string{"alpha": {"reference", ""}, "beta": {"reference", ""}, "gamma": {"", ""}})
	writeReadmes(t, dir)
	var runs atomic.Int64
	reg := countingRegistry(t, &runs)
	cache := &Cache{Dir: t.TempDir(), Tool: "test"}
	build := func() *Report {
		cat, err := catalog.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Build(cat, Options{Rules: reg, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := build()
	if runs.Load() != 2 {
		t.Fatalf("a cold cache: %d packages linted, want 2", runs.Load())
	}
	runs.Store(0)
	second := build()
	if runs.Load() != 0 {
		t.Errorf("an unchanged catalog: %d packages linted, want none", runs.Load())
	}
	if fmt.Sprint(first.Apps) != fmt.Sprint(second.Apps) || fmt.Sprint(first.Total) != fmt.Sprint(second.Total) {
		t.Errorf("the cached report differs:\n%v\n%v", first.Apps, second.Apps)
	}
	// Each input of a package invalidates its entry alone.
	for _, change := range []string{"start.sh", catalog.SpecFile, "test/evidence.json", ".cpk-ignore", ".dockerignore", ".github/workflows/ci.yml"} {
		runs.Store(0)
		p := filepath.Join(dir, "alpha", change)
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, _ := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		f.WriteString("\n# changed\n")
		f.Close()
		build()
		if runs.Load() != 1 {
			t.Errorf("after changing %s: %d packages linted, want 1", change, runs.Load())
		}
	}
}

// BenchmarkStatusCached100 is cpk status over 100 complete packages whose
// findings are all in the cache (the catalog unchanged since the last run).
func BenchmarkStatusCached100(b *testing.B) {
	apps := map[string][2]string{}
	for i := range 100 {
		apps[fmt.Sprintf("app%03d", i)] = [2]string{"reference", ""}
	}
	dir := makeCatalog(b, apps)
	reg, err := rules.Registry()
	if err != nil {
		b.Fatal(err)
	}
	cache := &Cache{Dir: b.TempDir(), Tool: "bench"}
	cat, _ := catalog.Load(dir)
	if _, err := Build(cat, Options{Rules: reg, Cache: cache}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		cat, err := catalog.Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Build(cat, Options{Rules: reg, Cache: cache}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/catalog")
}
