package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"cpk/internal/fsx"
)

// Action is what Write did (or, with DryRun, would do) to one file.
type Action string

const (
	Created   Action = "created"
	Replaced  Action = "replaced"
	Unchanged Action = "unchanged"
)

// Written is one file's outcome.
type Written struct {
	Path   string `json:"path"`
	Action Action `json:"action"`
	// Backup is where the replaced file's content was kept (Replaced only).
	Backup string `json:"backup,omitempty"`
}

// WriteOptions control Write.
type WriteOptions struct {
	// Force replaces files that exist; without it Write refuses to touch a
	// folder where any of the files exists.
	Force bool
	// DryRun writes nothing and reports what would happen.
	DryRun bool
	// Diff, when set, receives a unified diff of every file that exists
	// and would change, before anything is written.
	Diff io.Writer
	// NoBackup replaces files without keeping their content; by default a
	// replaced file's content is kept beside it as FILE.orig (FILE.orig.2…
	// when that exists).
	NoBackup bool
}

// ExistsError lists the files that are in the way of a write without Force.
type ExistsError struct {
	Dir   string
	Files []string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already has %s: cpk new never overwrites files (--force regenerates them, showing a diff first)",
		e.Dir, strings.Join(e.Files, ", "))
}

// Write puts files into dir. Without Force, any existing file stops it
// before anything is written. With Force, the diffs of the files that
// change go to opts.Diff first; each file is then written atomically.
// Files of dir that are not among files are left alone.
func Write(dir string, files []File, opts WriteOptions) ([]Written, error) {
	var out []Written
	var existing []string
	olds := make([][]byte, len(files))
	for i, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		old, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, Written{Path: f.Path, Action: Created})
			continue
		case err != nil:
			return nil, err
		}
		olds[i] = old
		existing = append(existing, f.Path)
		act := Replaced
		if st, err := os.Stat(p); err == nil && bytes.Equal(old, f.Data) && st.Mode().Perm() == f.Mode.Perm() {
			act = Unchanged
		}
		out = append(out, Written{Path: f.Path, Action: act})
	}
	if len(existing) > 0 && !opts.Force {
		return nil, &ExistsError{Dir: dir, Files: existing}
	}
	if opts.Diff != nil {
		for i, f := range files {
			if olds[i] != nil && out[i].Action == Replaced {
				io.WriteString(opts.Diff, UnifiedDiff(f.Path, olds[i], f.Data))
			}
		}
	}
	if opts.DryRun {
		return out, nil
	}
	for i, f := range files {
		if out[i].Action == Unchanged {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if out[i].Action == Replaced && !opts.NoBackup {
			backup, err := keep(p, olds[i])
			if err != nil {
				return nil, fmt.Errorf("keep %s before replacing it: %w", f.Path, err)
			}
			rel, _ := filepath.Rel(dir, backup)
			out[i].Backup = filepath.ToSlash(rel)
		}
		if err := fsx.WriteFile(p, f.Data, f.Mode.Perm()); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return out, nil
}

// keep writes a file's old content beside it as path.orig, or path.orig.N
// with the first N free, keeping its mode.
func keep(path string, old []byte) (string, error) {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	backup := path + ".orig"
	for n := 2; ; n++ {
		if _, err := os.Lstat(backup); errors.Is(err, fs.ErrNotExist) {
			break
		}
		backup = fmt.Sprintf("%s.orig.%d", path, n)
	}
	return backup, fsx.WriteFile(backup, old, mode)
}
