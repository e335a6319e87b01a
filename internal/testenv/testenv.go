// Package testenv lets tests that need outside tools (node, npm, a container
// engine) skip with a one-line reason, or fail when CPK_REQUIRE_ENGINE=1 (CI).
package testenv

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Required reports whether CI asked for every outside tool to be present.
func Required() bool { return os.Getenv("CPK_REQUIRE_ENGINE") == "1" }

// Unavailable skips the test with reason, or fails it when tools are required.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("CPK_REQUIRE_ENGINE=1 but %s", reason)
	}
	t.Skip(reason)
}

// SkipShort skips a test that needs an outside service (an engine, a
// browser, node) in the quick tier, go test -short; CI runs the full suite.
func SkipShort(t testing.TB, reason string) {
	t.Helper()
	if testing.Short() {
		t.Skip(reason + " (skipped by -short)")
	}
}

// slow are the programs whose tests the quick tier leaves out.
var slow = map[string]bool{"podman": true, "docker": true, "buildah": true, "chromium": true, "node": true, "npm": true, "debootstrap": true}

// LookPath returns the path of a program, or skips (fails under CI) when it is missing.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	if slow[name] {
		SkipShort(t, "needs "+name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, name+" is not installed")
	}
	return p
}

// CopyTree copies the folder from into to, keeping file modes: tests use it
// to make a writable catalog or package out of fixtures.
func CopyTree(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// CatalogSize counts the application folders of a catalog (an apps/
// folder), so tests over the bundled catalog follow it as it grows.
func CatalogSize(t testing.TB, appsDir string) int {
	t.Helper()
	entries, err := os.ReadDir(appsDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() && e.Name()[0] != '.' {
			n++
		}
	}
	return n
}
