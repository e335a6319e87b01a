package push

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/engine/enginetest"
	"cpk/internal/registry"
)

func TestTag(t *testing.T) {
	content := "14c034d721f54956aa00000000000000"
	for _, c := range []struct{ version, want, err string }{
		{"1.0.1", "1.0.1-14c034d721f54956", ""},
		{"2.0.0-rc.1", "2.0.0-rc.1-14c034d721f54956", ""},
		{"1.0.0+build.5", "1.0.0_build.5-14c034d721f54956", ""},
		{"", "", "has no version"},
		{".1", "", "does not make a registry tag"},
		{strings.Repeat("9", 112), "", "does not make a registry tag"},
	} {
		got, err := Tag(c.version, content)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Tag(%q): %q %v, want error %q", c.version, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Tag(%q) = %q %v, want %q", c.version, got, err, c.want)
		}
	}
	if got, err := Tag(strings.Repeat("9", 111), content); err != nil || len(got) != 128 {
		t.Errorf("the longest tag: %d %v", len(got), err)
	}
}

// TestNotBuilt: a package whose current content has no image is not
// pushed (nor is the registry asked), and the error says what to run.
func TestNotBuilt(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "build", "testdata", "hello"))
	e := enginetest.New()
	target := registry.Target{Host: "127.0.0.1:1", Namespace: "cpk"} // nothing listens: never asked
	_, err := Push(context.Background(), cpk.Package{ID: "hello", Dir: dir}, Options{Engine: e, StateDir: t.TempDir(), Target: target})
	var nb *NotBuiltError
	if !errors.As(err, &nb) || !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "run cpk build hello, or add --build") || !strings.HasPrefix(nb.Image, "localhost/cpk/hello:") {
		t.Fatalf("not built: %v", err)
	}
}

// TestRemoveStale: the work folders of pushes whose process is gone are
// removed; those of live processes are kept.
func TestRemoveStale(t *testing.T) {
	work := t.TempDir()
	dead := filepath.Join(work, "web-hook-999999999-123")
	mine := filepath.Join(work, fmt.Sprintf("webhook-%d-456", os.Getpid()))
	parent := filepath.Join(work, fmt.Sprintf("webhook-%d-789", os.Getppid()))
	for _, d := range []string{dead, mine, parent} {
		if err := os.MkdirAll(filepath.Join(d, "layers-1"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removeStale(work)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("a dead process's folder is kept: %v", err)
	}
	for _, d := range []string{mine, parent} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("a live process's folder is gone: %v", err)
		}
	}
}
