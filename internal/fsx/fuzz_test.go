//go:build unix

package fsx

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// FuzzReadPackageFile: whatever a symbolic link in the package points to and
// whatever path inside the package is asked for, the reader never returns
// the content of a file outside the package, never opens a FIFO (which
// would hang) and never panics.
func FuzzReadPackageFile(f *testing.F) {
	for _, seed := range [][2]string{
		{"../secret", "link"}, {"..", "link/secret"}, {"/", "link/etc/hostname"}, {"sub", "link/inner"}, {"inner", "sub/link2"},
		{"fifo", "link"}, {".", "link/sub/inner"}, {"../pkg/sub", "link/inner"}, {"sub/../../secret", "link"},
	} {
		f.Add(seed[0], seed[1])
	}
	root := f.TempDir()
	secret := []byte("outside the package\n")
	if err := os.WriteFile(filepath.Join(root, "secret"), secret, 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, target, rel string) {
		if !filepath.IsLocal(rel) {
			return // callers turn only package-relative paths into paths
		}
		dir, err := os.MkdirTemp(root, "pkg")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		os.Mkdir(filepath.Join(dir, "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "sub", "inner"), []byte("inside\n"), 0o644)
		syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
		os.Symlink(target, filepath.Join(dir, "link"))
		os.Symlink("../link", filepath.Join(dir, "sub", "link2"))
		data, err := ReadPackageFile(dir, filepath.Join(dir, rel), 0)
		if err == nil && bytes.Equal(data, secret) {
			t.Fatalf("link %q, path %q: read the file outside the package", target, rel)
		}
	})
}
