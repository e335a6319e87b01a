package docs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"cpk/internal/fsx"
)

// Sync makes the folder dir hold exactly pages (generated files only:
// stale pages are removed). With check, it changes nothing and returns the
// names that differ. Writes are atomic.
func Sync(dir string, pages map[string][]byte, check bool) (stale []string, err error) {
	existing := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() && filepath.Ext(e.Name()) == ".md" {
			existing[e.Name()] = true
		}
	}
	for name, data := range pages {
		old, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil && bytes.Equal(old, data) {
			continue
		}
		stale = append(stale, name)
		if !check {
			if err := fsx.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				return nil, err
			}
		}
	}
	for name := range existing {
		if _, ok := pages[name]; ok {
			continue
		}
		stale = append(stale, name)
		if !check {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(stale)
	return stale, nil
}

// SyncFiles makes each file (by path) hold its content. With check it
// changes nothing and returns the paths that differ. Writes are atomic.
func SyncFiles(files map[string][]byte, check bool) (stale []string, err error) {
	for path, data := range files {
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, data) {
			continue
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		stale = append(stale, path)
		if !check {
			if err := fsx.WriteFile(path, data, 0o644); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(stale)
	return stale, nil
}
