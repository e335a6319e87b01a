// Package catalog loads the applications of the plan (apps/<id>/cpk.yaml),
// derives each one's state and knows the plan's targets.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"cpk/internal/cpk"
	"cpk/internal/evidence"
	"cpk/internal/fsx"
)

// SpecFile is the name of an application's catalog entry inside its folder.
const SpecFile = "cpk.yaml"

// Catalog is every application under one apps/ folder, sorted by id.
type Catalog struct {
	Dir  string // the apps/ folder
	Apps []*App
}

// App returns the application with this id, or nil.
func (c *Catalog) App(id string) *App {
	i := sort.Search(len(c.Apps), func(i int) bool { return c.Apps[i].ID >= id })
	if i < len(c.Apps) && c.Apps[i].ID == id {
		return c.Apps[i]
	}
	return nil
}

// Problem is one error in a cpk.yaml, with its position.
type Problem struct {
	File         string
	Line, Column int
	Message      string
}

func (p Problem) Error() string {
	switch {
	case p.Line > 0 && p.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Message)
}

// LoadError lists every problem found while loading a catalog.
type LoadError struct{ Problems []Problem }

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the catalog has %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.Error())
	}
	return b.String()
}

// Entries are the folders of the catalog in appsDir whose cpk.yaml has
// problems, as packages named after their folder, each with its problems
// (nil for a nil error).
func (e *LoadError) Entries(appsDir string) []cpk.Package {
	if e == nil {
		return nil
	}
	var out []cpk.Package
	at := map[string]int{}
	for _, p := range e.Problems {
		dir := filepath.Dir(p.File)
		if filepath.Dir(dir) != appsDir {
			continue
		}
		i, ok := at[dir]
		if !ok {
			i = len(out)
			at[dir] = i
			out = append(out, cpk.Package{ID: filepath.Base(dir), Dir: dir})
		}
		out[i].EntryProblems = append(out[i].EntryProblems, cpk.EntryProblem{File: filepath.Base(p.File), Line: p.Line, Column: p.Column, Message: p.Message})
	}
	return out
}

// Load reads every apps/<id>/cpk.yaml below dir (the apps/ folder). It reports
// all problems at once as a *LoadError: unknown keys, bad values, ids that do
// not match their folder, duplicate ids. Folders without cpk.yaml are problems
// too. With a *LoadError the returned catalog still holds the valid entries.
func Load(dir string) (*Catalog, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	cat := &Catalog{Dir: dir}
	var problems []Problem
	type entry struct {
		app    *App
		folder string
	}
	var loaded []entry
	owners := map[string][]string{} // id → files that declare it
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := filepath.Join(dir, e.Name(), SpecFile)
		data, err := fsx.ReadPackageFile(filepath.Join(dir, e.Name()), file, 1<<20)
		if errors.Is(err, fs.ErrNotExist) {
			problems = append(problems, Problem{File: file, Message: "missing: every folder under apps/ needs a cpk.yaml (cpk new creates one)"})
			continue
		} else if err != nil {
			problems = append(problems, Problem{File: file, Message: err.Error()})
			continue
		}
		app, errs := decodeSpec(data)
		for _, fe := range errs {
			problems = append(problems, Problem{File: file, Line: fe.line, Column: fe.col, Message: fe.msg})
		}
		if app == nil || len(errs) > 0 {
			continue
		}
		app.Dir, app.File = filepath.Join(dir, e.Name()), file
		loaded = append(loaded, entry{app, e.Name()})
		owners[app.ID] = append(owners[app.ID], file)
	}
	for _, l := range loaded {
		line := l.app.idLine
		switch {
		case l.app.ID != l.folder && len(owners[l.app.ID]) > 1:
			// A duplicate: reported on the copy, the application whose
			// folder is its id stays in the catalog.
			problems = append(problems, Problem{File: l.app.File, Line: line, Message: fmt.Sprintf("duplicate id %q: apps/%s is that application; give this folder's cpk.yaml its own id (%q)", l.app.ID, l.app.ID, l.folder)})
		case l.app.ID != l.folder:
			problems = append(problems, Problem{File: l.app.File, Line: line, Message: fmt.Sprintf("id %q does not match its folder %q: rename one of them", l.app.ID, l.folder)})
		default:
			cat.Apps = append(cat.Apps, l.app)
		}
	}
	sort.Slice(cat.Apps, func(i, j int) bool { return cat.Apps[i].ID < cat.Apps[j].ID })
	if len(problems) > 0 {
		// The valid entries stay usable: status and lint still report on them.
		return cat, &LoadError{Problems: problems}
	}
	return cat, nil
}

// PackageFiles lists the package's own files (everything in its folder but
// cpk.yaml, its test evidence and hidden files), relative to the folder,
// sorted.
func (a *App) PackageFiles() ([]string, error) { return evidence.PackageFiles(a.Dir) }

// PackageFilesOf lists the package files of any folder (PackageFiles).
func PackageFilesOf(dir string) ([]string, error) { return evidence.PackageFiles(dir) }

// ContentHash identifies the package's current content (evidence.ContentHash):
// planning fields in cpk.yaml and the evidence of a test do not change what
// is built. A result recorded under one hash no longer counts once any file
// changes.
func (a *App) ContentHash() (string, error) { return evidence.ContentHash(a.Dir) }

// FindRoot returns the nearest folder at or above start that holds an apps/
// folder: the root of a cpk repository.
func FindRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "apps")); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no apps/ folder in %s or any folder above it: run cpk inside a cpk repository, or pass --root", start)
		}
		dir = parent
	}
}
