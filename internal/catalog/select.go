package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"cpk/internal/cpk"
)

// Package is the application as the services see it.
func (a *App) Package() cpk.Package { return cpk.Package{ID: a.ID, Dir: a.Dir, Upstream: a.Upstream} }

// Filter says which packages a selection keeps.
type Filter struct {
	// Files keeps applications with package files (without arguments:
	// the catalog's packages, not its planned entries).
	Files bool
	// Dockerfile keeps packages with a Dockerfile; a named one without is
	// an error.
	Dockerfile bool
	// Upstream keeps packages that declare an upstream; a named one
	// without is an error.
	Upstream bool
	// Broken also selects, without arguments, the folders whose cpk.yaml
	// has problems, with them as EntryProblems (lint reports them).
	Broken bool
}

// Selection is what a command works on: the packages, and the catalog they
// were resolved in.
type Selection struct {
	Catalog  *Catalog
	Packages []cpk.Package
	// Problems are the catalog's load problems: the entries with problems
	// are left out, the valid ones are used (nil when there are none).
	Problems *LoadError
}

// SelectError is an argument that names no package: a usage error, with a
// suggestion when one is close.
type SelectError struct {
	Arg, Reason string
}

func (e *SelectError) Error() string { return e.Reason }

// Select resolves command-line arguments against the catalog in appsDir:
// each is a catalog id, or a package folder (a path with a slash, or ".").
// Without arguments it selects every application of the catalog that
// passes the filter. It is the one way commands pick packages: one
// "did you mean", one load-error policy (Problems), one package type.
func Select(appsDir string, args []string, f Filter) (*Selection, error) {
	cat, err := Load(appsDir)
	var le *LoadError
	if err != nil && !errors.As(err, &le) {
		return nil, err
	}
	sel := &Selection{Catalog: cat, Problems: le}
	if len(args) == 0 {
		for _, a := range cat.Apps {
			if ok, _ := f.keep(a.Dir, a.Upstream); ok {
				sel.Packages = append(sel.Packages, a.Package())
			}
		}
		if f.Broken {
			sel.Packages = append(sel.Packages, sel.broken()...)
		}
		return sel, nil
	}
	seen := map[string]bool{}
	for _, arg := range args {
		p, err := sel.resolve(arg)
		if err != nil {
			return nil, err
		}
		if ok, why := f.keep(p.Dir, p.Upstream); !ok {
			if len(p.EntryProblems) > 0 && f.Upstream && p.Upstream == nil {
				// Its upstream may only be unreadable: say what is wrong.
				e := p.EntryProblems[0]
				why = fmt.Sprintf("has a %s that cpk cannot read (CY001, line %d: %s): fix it first", e.File, e.Line, e.Message)
			}
			return nil, &SelectError{arg, fmt.Sprintf("%s %s", arg, why)}
		}
		if !seen[p.Dir] {
			seen[p.Dir] = true
			sel.Packages = append(sel.Packages, p)
		}
	}
	return sel, nil
}

func (s *Selection) resolve(arg string) (cpk.Package, error) {
	if st, err := os.Stat(arg); err == nil && st.IsDir() && (strings.ContainsRune(arg, os.PathSeparator) || arg == ".") {
		abs, err := filepath.Abs(arg)
		if err != nil {
			return cpk.Package{}, err
		}
		// A folder of the catalog is that application.
		for _, a := range s.Catalog.Apps {
			if same, _ := filepath.Abs(a.Dir); same == abs {
				return a.Package(), nil
			}
		}
		for _, p := range s.broken() {
			if same, _ := filepath.Abs(p.Dir); same == abs {
				return p, nil
			}
		}
		return cpk.Package{ID: filepath.Base(abs), Dir: abs}, nil
	}
	if a := s.Catalog.App(arg); a != nil {
		return a.Package(), nil
	}
	ids := make([]string, 0, len(s.Catalog.Apps))
	for _, a := range s.Catalog.Apps {
		ids = append(ids, a.ID)
	}
	hint := ""
	if sug := cpk.Suggest(arg, ids); sug != "" {
		hint = fmt.Sprintf("did you mean %s? ", sug)
	}
	if s.Problems != nil {
		// An application whose cpk.yaml is broken stays addressable by its
		// folder's name (its problems are reported as such).
		for _, p := range s.broken() {
			if p.ID == arg {
				return p, nil
			}
		}
	}
	return cpk.Package{}, &SelectError{arg, fmt.Sprintf("%q is neither an application of the catalog nor a folder: %s(a folder needs a /, like ./%s)", arg, hint, arg)}
}

// broken are the folders whose cpk.yaml has problems, as packages named
// after their folder, each with its problems.
func (s *Selection) broken() []cpk.Package { return s.Problems.Entries(s.Catalog.Dir) }

// keep applies the filter to one package; why says what it lacks.
func (f Filter) keep(dir string, up *cpk.Upstream) (bool, string) {
	if f.Files {
		files, err := PackageFilesOf(dir)
		if err != nil || len(files) == 0 {
			return false, "has no package files yet (only cpk.yaml)"
		}
	}
	if f.Dockerfile {
		if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
			return false, "has no Dockerfile"
		}
	}
	if f.Upstream && up == nil {
		return false, "declares no upstream: add an upstream: block to its cpk.yaml"
	}
	return true, ""
}
