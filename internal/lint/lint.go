// Package lint is the rule framework: a registry of documented rules, a pass
// that gives rules cached access to one package's files, and a runner.
// The rules themselves live in lint/rules.
package lint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/fsx"
	"cpk/internal/manifest"
	"cpk/internal/parse/dockerfile"
)

// Rule is one check with a stable code (family prefix + number, never reused).
type Rule struct {
	Code     string
	Title    string
	Severity cpk.Severity
	// Doc explains why the rule exists, with a bad and a good example
	// (Markdown; sections "Bad:" and "Good:" are required).
	Doc string
	Run func(*Pass)
	// Counts says which evidence of the package, beyond being lint-clean,
	// an error of this rule counts against.
	Counts Counts
}

// Counts is what a rule's errors count against.
type Counts int

const (
	CountsLint     Counts = iota // lint-clean only
	CountsManifest               // the manifest is valid (quality level 1)
	CountsNotes                  // the package has build notes (build-notes coverage)
)

// Tally is what a package's findings say: how many of each severity, and
// whether the manifest is valid and the build notes exist, by the rules'
// Counts.
type Tally struct {
	Errors, Warnings, Infos int
	ManifestErrors          int
	NotesMissing            bool
}

// ManifestValid reports whether no error counts against the manifest.
func (t Tally) ManifestValid() bool { return t.ManifestErrors == 0 }

// Tally counts a package's findings by the registry's rules.
func (r *Registry) Tally(findings []cpk.Finding) Tally {
	var t Tally
	for _, f := range findings {
		counts := CountsLint
		if rule := r.Rule(f.Rule); rule != nil {
			counts = rule.Counts
		}
		switch f.Severity {
		case cpk.Error:
			t.Errors++
			if counts == CountsManifest {
				t.ManifestErrors++
			}
		case cpk.Warning:
			t.Warnings++
		default:
			t.Infos++
		}
		if counts == CountsNotes {
			t.NotesMissing = true
		}
	}
	return t
}

// Package is the domain's package (cpk.Package): its id and folder.
type Package = cpk.Package

// ManifestFile is the manifest's name at the package root.
const ManifestFile = "CloudronManifest.json"

// DockerfileNames are the places a package's Dockerfile may be, in order of preference.
var DockerfileNames = []string{"Dockerfile", "Dockerfile.cloudron", "cloudron/Dockerfile"}

// NotesFile is the package's hand-written build notes.
const NotesFile = "NOTES.md"

// Registry holds the rules, validated once.
type Registry struct {
	rules     []*Rule
	byCode    map[string]*Rule
	disabled  map[string]bool         // by the configuration
	overrides map[string]cpk.Severity // by the configuration
}

var codePattern = regexp.MustCompile(`^[A-Z]{2,3}[0-9]{3}$`)

// NewRegistry checks the rules (well-formed unique codes, a title, a doc with
// a bad and a good example, a Run function) and returns them, with the
// framework's own rules, in code order.
func NewRegistry(rules ...*Rule) (*Registry, error) {
	r := &Registry{byCode: map[string]*Rule{}, disabled: map[string]bool{}, overrides: map[string]cpk.Severity{}}
	var errs []error
	for _, rule := range append(FrameworkRules(), rules...) {
		switch {
		case !codePattern.MatchString(rule.Code):
			errs = append(errs, fmt.Errorf("rule %q: code must be a family prefix and three digits", rule.Code))
		case r.byCode[rule.Code] != nil:
			errs = append(errs, fmt.Errorf("rule %s: duplicate code", rule.Code))
		case rule.Title == "" || rule.Run == nil:
			errs = append(errs, fmt.Errorf("rule %s: needs a title and a Run function", rule.Code))
		case !strings.Contains(rule.Doc, "Bad:") || !strings.Contains(rule.Doc, "Good:"):
			errs = append(errs, fmt.Errorf("rule %s: doc needs a Bad: and a Good: example", rule.Code))
		default:
			r.byCode[rule.Code] = rule
			r.rules = append(r.rules, rule)
		}
	}
	sort.Slice(r.rules, func(i, j int) bool { return r.rules[i].Code < r.rules[j].Code })
	return r, errors.Join(errs...)
}

// Rules returns every rule in code order.
func (r *Registry) Rules() []*Rule { return r.rules }

// Rule returns the rule with this code (case-insensitive), or nil.
func (r *Registry) Rule(code string) *Rule { return r.byCode[strings.ToUpper(code)] }

// Run applies every enabled rule to one package, drops what suppressions
// silence, and returns the findings sorted by file, line, column and rule.
func (r *Registry) Run(pkg Package) []cpk.Finding { return r.run(pkg).findings }

// Lint lints one package and returns the finished pass: its Findings, and
// the files it read and parsed for a caller that reads them too (cpk docs'
// README currency).
func (r *Registry) Lint(pkg Package) *Pass { return r.run(pkg) }

// Findings are the pass's findings, sorted by file and position.
func (p *Pass) Findings() []cpk.Finding { return p.findings }

// run lints one package and returns the finished pass, findings sorted.
func (r *Registry) run(pkg Package) *Pass {
	p := &Pass{Package: pkg, files: map[string]fileResult{}}
	for _, rule := range r.rules {
		if r.disabled[rule.Code] {
			continue
		}
		p.rule, p.severity = rule, r.Severity(rule)
		rule.Run(p)
	}
	p.findings = r.applySuppressions(p)
	sort.SliceStable(p.findings, func(i, j int) bool {
		a, b := p.findings[i], p.findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Rule < b.Rule
	})
	return p
}

// Pass is one run of the rules over one package. It caches what rules read,
// so the manifest and Dockerfile are parsed once per package.
type Pass struct {
	Package
	rule     *Rule
	severity cpk.Severity // the running rule's, after the configuration
	findings []cpk.Finding
	files    map[string]fileResult

	manifestOnce sync.Once
	manifest     *manifest.Report

	dockerOnce sync.Once
	docker     *Dockerfile

	memo map[string]any
}

// Memo returns the value computed for key in this pass, computing it on
// first use: rules share parsed files (the start script, nginx and
// supervisor configurations…) through it, so each is parsed once per package.
func (p *Pass) Memo(key string, compute func() any) any {
	if v, ok := p.memo[key]; ok {
		return v
	}
	if p.memo == nil {
		p.memo = map[string]any{}
	}
	v := compute()
	p.memo[key] = v
	return v
}

type fileResult struct {
	data []byte
	err  error
}

// Reportf records a finding of the running rule at a file (relative to the
// package) and position (0 when unknown).
func (p *Pass) Reportf(file string, line, col int, format string, args ...any) {
	p.findings = append(p.findings, cpk.Finding{
		Rule: p.rule.Code, Severity: p.severity, App: p.ID,
		File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...),
	})
}

// ReadFile reads a package file by its slash-separated relative path.
// Paths that leave the package folder are refused.
func (p *Pass) ReadFile(rel string) ([]byte, error) {
	if r, ok := p.files[rel]; ok {
		return r.data, r.err
	}
	path, err := p.Path(rel)
	var data []byte
	kept := false
	if err == nil && p.Contents != nil {
		data, kept = p.Contents.Read(filepath.ToSlash(filepath.Clean(filepath.FromSlash(rel))))
	}
	if err == nil && !kept {
		// Only regular files (or links to one inside the package) of a sane
		// size: a FIFO or /dev/zero is never opened (PK010 reports them).
		data, err = fsx.ReadPackageFile(p.Dir, path, 0)
	}
	p.files[rel] = fileResult{data, err}
	return data, err
}

// Path turns a relative package path into a file path, refusing ones that
// leave the package folder.
func (p *Pass) Path(rel string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(rel))
	if !filepath.IsLocal(clean) {
		return "", fmt.Errorf("%s is outside the package folder", rel)
	}
	return filepath.Join(p.Dir, clean), nil
}

// maxFiles bounds the files listed per package.
const maxFiles = 5000

// Files lists the package's regular files as sorted slash-separated paths
// relative to its folder, without version-control folders and installed
// dependencies (.git, .hg, .svn, node_modules, vendor, __pycache__). It is
// computed once per pass.
func (p *Pass) Files() []string {
	return p.Memo("lint:files", func() any {
		var out []string
		p.Walk(func(rel string, d fs.DirEntry) bool {
			if d.Type().IsRegular() {
				out = append(out, rel)
			}
			return len(out) < maxFiles
		})
		sort.Strings(out)
		return out
	}).([]string)
}

// Walk calls fn with every entry of the package folder that is not a
// folder (slash-separated path, the entry), leaving out version-control
// folders and installed dependencies (.git, .hg, .svn, node_modules, vendor,
// __pycache__); it stops when fn returns false. The folder is read once per
// pass, up to maxEntries entries.
func (p *Pass) Walk(fn func(rel string, d fs.DirEntry) bool) {
	for _, e := range p.entries() {
		if !fn(e.rel, e.d) {
			return
		}
	}
}

// maxEntries bounds the entries Walk reads per package.
const maxEntries = 4 * maxFiles

type entry struct {
	rel string
	d   fs.DirEntry
}

func (p *Pass) entries() []entry {
	return p.Memo("lint:entries", func() any {
		var out []entry
		_ = filepath.WalkDir(p.Dir, func(file string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				switch d.Name() {
				case ".git", ".hg", ".svn", "node_modules", "vendor", "__pycache__":
					if file != p.Dir {
						return filepath.SkipDir
					}
				}
				return nil
			}
			rel, err := filepath.Rel(p.Dir, file)
			if err != nil {
				return nil
			}
			out = append(out, entry{filepath.ToSlash(rel), d})
			if len(out) == maxEntries {
				return filepath.SkipAll
			}
			return nil
		})
		return out
	}).([]entry)
}

// Known reports whether a package file (a slash-separated path) is known
// to be a regular file of a size cpk reads without asking the disk: the
// content hash read it (Contents).
func (p *Pass) Known(rel string) bool {
	if p.Contents == nil {
		return false
	}
	_, ok := p.Contents.Read(rel)
	return ok
}

// Exists reports whether a regular file is at rel.
func (p *Pass) Exists(rel string) bool {
	path, err := p.Path(rel)
	if err != nil {
		return false
	}
	_, _, err = fsx.Resolve(p.Dir, path)
	return err == nil
}

// Manifest returns the checked manifest, or nil when the package has none.
func (p *Pass) Manifest() *manifest.Report {
	p.manifestOnce.Do(func() {
		data, err := p.ReadFile(ManifestFile)
		if err == nil {
			p.manifest = manifest.Check(data, manifest.Options{})
		}
	})
	return p.manifest
}

// Dockerfile is the package's parsed Dockerfile.
type Dockerfile struct {
	Name string           // relative path of the file
	File *dockerfile.File // nil when it does not parse
	Err  error            // the parse error
}

// Dockerfile returns the package's Dockerfile, or nil when there is none.
func (p *Pass) Dockerfile() *Dockerfile {
	p.dockerOnce.Do(func() {
		for _, name := range DockerfileNames {
			data, err := p.ReadFile(name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			p.docker = &Dockerfile{Name: name}
			if err != nil {
				p.docker.Err = err
				return
			}
			p.docker.File, p.docker.Err = dockerfile.Parse(data)
			return
		}
	})
	return p.docker
}

// RunAll lints many packages concurrently (bounded by workers, at least 1)
// and returns their findings in the order of pkgs.
func (r *Registry) RunAll(pkgs []Package, workers int) [][]cpk.Finding {
	timed := r.RunTimed(pkgs, workers)
	out := make([][]cpk.Finding, len(pkgs))
	for i, t := range timed {
		out[i] = t.Findings
	}
	return out
}

// Result is one package's findings and when its lint ran.
type Result struct {
	Findings          []cpk.Finding
	Started, Finished time.Time
}

// RunTimed is RunAll with each package's own start and finish.
func (r *Registry) RunTimed(pkgs []Package, workers int) []Result {
	out, _ := r.RunContext(context.Background(), pkgs, workers)
	return out
}

// RunContext is RunTimed that stops starting packages once ctx is done
// (Ctrl-C): it returns the context's error, and the results of the
// packages linted by then.
func (r *Registry) RunContext(ctx context.Context, pkgs []Package, workers int) ([]Result, error) {
	out := make([]Result, len(pkgs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i].Started = time.Now()
				out[i].Findings, out[i].Finished = r.run(pkgs[i]).findings, time.Now()
			}
		}()
	}
	err := ctx.Err()
	for i := 0; i < len(pkgs) && err == nil; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	close(jobs)
	wg.Wait()
	return out, err
}
