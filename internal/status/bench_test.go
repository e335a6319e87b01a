package status

import (
	"fmt"
	"testing"

	"cpk/internal/catalog"
	"cpk/internal/lint/rules"
)

// BenchmarkLintBundledCatalog lints the repository's catalog as it is, the
// way cpk lint and cpk status do.
func BenchmarkLintBundledCatalog(b *testing.B) { benchLint(b, "../../apps") }

// BenchmarkLint100Packages lints a catalog of 100 complete packages (copies
// of the lint fixture "reference": manifest, Dockerfile, start script, nginx,
// supervisor, notes, icon): the plan's size once every app is packaged.
func BenchmarkLint100Packages(b *testing.B) {
	apps := map[string][2]string{}
	for i := range 100 {
		apps[fmt.Sprintf("app%03d", i)] = [2]string{"reference", ""}
	}
	benchLint(b, makeCatalog(b, apps))
}

func benchLint(b *testing.B, dir string) {
	reg, err := rules.Registry()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var apps int
	cpu := cpuTime()
	for b.Loop() {
		cat, err := catalog.Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Build(cat, Options{Rules: reg}); err != nil {
			b.Fatal(err)
		}
		apps = len(cat.Apps)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/catalog")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N)/1000, "cpu-ms/catalog")
	b.ReportMetric(float64(apps), "apps")
}
