// Package testenv lets tests that need outside tools (node, npm, a container
// engine) skip with a one-line reason, or fail when CPK_REQUIRE_ENGINE=1 (CI).
package testenv

import (
	"os"
	"os/exec"
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

// LookPath returns the path of a program, or skips (fails under CI) when it is missing.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, name+" is not installed")
	}
	return p
}
