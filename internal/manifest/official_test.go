package manifest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"cpk/internal/testenv"
)

// officialDir holds package.json and package-lock.json pinning the official
// validator (cloudron-manifestformat 5.27.0) for the differential tests.
const officialDir = "testdata/official"

var (
	officialOnce sync.Once
	officialErr  error
)

// officialValidator returns the node binary and the folder whose node_modules
// holds the official validator, installing it with `npm ci` on first use.
// It skips (fails under CPK_REQUIRE_ENGINE=1) when node or npm is missing.
func officialValidator(t testing.TB) (node, dir string) {
	t.Helper()
	node = testenv.LookPath(t, "node")
	dir, err := filepath.Abs(officialDir)
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "node_modules", "cloudron-manifestformat", "manifestformat.js")
	if _, err := os.Stat(marker); err != nil {
		npm := testenv.LookPath(t, "npm")
		officialOnce.Do(func() {
			cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				officialErr = err
				t.Logf("npm ci: %s", out)
			}
		})
		if officialErr != nil {
			testenv.Unavailable(t, "cannot install the official validator with npm ci in "+officialDir+": "+officialErr.Error())
		}
	}
	return node, dir
}
