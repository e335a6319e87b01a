package scenario

import (
	"path/filepath"
	"testing"
)

// TestCatalogChecks: every package's test/checks.yaml in the catalog is valid.
func TestCatalogChecks(t *testing.T) {
	files, _ := filepath.Glob("../../apps/*/test/checks.yaml")
	for _, f := range files {
		if _, err := LoadChecks(filepath.Dir(filepath.Dir(f))); err != nil {
			t.Error(err)
		}
	}
}
