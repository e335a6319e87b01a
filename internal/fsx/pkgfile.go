package fsx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxPackageFile is the largest package file cpk reads (8 MiB): a bigger one
// is reported, not read.
const MaxPackageFile = 8 << 20

// Problems a package file can have, matched with errors.Is.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrOutside    = errors.New("a symbolic link that leaves the package or points to nothing")
	ErrTooLarge   = errors.New("larger than cpk reads")
)

// Resolve returns the regular file that the package path stands for: the
// file itself, or the target of a symbolic link that stays inside the
// package folder. A link that leaves the folder or dangles (the file's own
// or a folder's on the way to it), and anything but a regular file (a FIFO,
// a device, a socket, a folder), is an error: such a path is never opened,
// so it cannot hang or leak a read.
func Resolve(dir, path string) (string, os.FileInfo, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return "", nil, err
	}
	if st.Mode()&fs.ModeSymlink != 0 || linkedFolder(dir, path) {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrOutside, err)
		}
		root, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return "", nil, err
		}
		if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", nil, fmt.Errorf("%w (to %s)", ErrOutside, target)
		}
		if st, err = os.Stat(target); err != nil {
			return "", nil, err
		}
		path = target
	}
	if !st.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%w (%s)", ErrNotRegular, st.Mode().Type())
	}
	return path, st, nil
}

// linkedFolder reports whether a folder between dir and path is a symbolic
// link (Lstat follows those): one extra Lstat per folder level, none for a
// file at the package's top.
func linkedFolder(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return false
	}
	for p := filepath.Dir(rel); p != "." && p != ".." && !strings.HasPrefix(p, ".."+string(filepath.Separator)); p = filepath.Dir(p) {
		if st, err := os.Lstat(filepath.Join(dir, p)); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return true
		}
	}
	return false
}

// ReadPackageFile reads a package file through Resolve, refusing files
// larger than limit (MaxPackageFile when 0) without reading them.
func ReadPackageFile(dir, path string, limit int64) ([]byte, error) {
	data, _, err := ReadPackageFileInfo(dir, path, limit)
	return data, err
}

// ReadPackageFileInfo is ReadPackageFile that also returns the information
// of the file read (a link's target), which is nil only when the path did
// not resolve to a regular file (Resolve's error).
func ReadPackageFileInfo(dir, path string, limit int64) ([]byte, os.FileInfo, error) {
	if limit <= 0 {
		limit = MaxPackageFile
	}
	real, st, err := Resolve(dir, path)
	if err != nil {
		return nil, nil, err
	}
	if st.Size() > limit {
		return nil, st, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, st.Size(), limit)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, st, err
	}
	defer f.Close()
	// One allocation of the size the file had, and one byte more to see
	// its end (or that it grew) in the same read.
	data := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, st, fmt.Errorf("%w: grew past %d bytes while read", ErrTooLarge, limit)
		}
		if err == io.EOF {
			return data, st, nil
		}
		if err != nil {
			return nil, st, err
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}
