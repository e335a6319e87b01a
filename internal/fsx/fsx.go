// Package fsx holds file-system helpers shared by cpk's services.
package fsx

import (
	"os"
	"path/filepath"
	"sync"
)

// WriteFile writes data to path atomically: into a temporary file in the
// same folder, synced, then renamed over path, so a reader (or a crash)
// never sees a half-written file. The folder is created when missing.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	pending.Store(f.Name(), true)
	defer func() {
		pending.Delete(f.Name())
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// pending holds the temporary files of writes under way.
var pending sync.Map

// RemovePending removes the temporary files of the atomic writes under way,
// for a process that exits without waiting for them (Ctrl-C): the files
// they were to replace keep their old content.
func RemovePending() {
	pending.Range(func(name, _ any) bool {
		os.Remove(name.(string))
		return true
	})
}
