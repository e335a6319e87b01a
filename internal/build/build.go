// Package build builds package images, content-addressed and in parallel.
//
// An image's tag is a hash of what makes it: the package's files, the
// identity of each base image it starts FROM (after the base mapping) and
// the build args. A package whose tag exists is up to date: finding out
// costs one image listing for the whole run and a hash of each package's
// files, not a build. Builds tag only after they succeed, so an interrupted
// build leaves no tag behind.
package build

import (
	"bufio"
	"context"
	"cpk/internal/cpk"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"cpk/internal/base"
	"cpk/internal/engine"
	"cpk/internal/fsx"
	"cpk/internal/steps"
)

// Labels on package images.
const (
	LabelApp        = "io.cpk.app"
	LabelContent    = "io.cpk.content"
	LabelBaseDigest = "io.cpk.base-digest"
)

// Repo is where package images live: Repo/<app>:<first 16 hex of the content hash>.
const Repo = "localhost/cpk"

// keyVersion changes when the content hash's recipe changes.
const keyVersion = "cpk-build-1"

// Package is the domain's package (cpk.Package): its id and folder.
type Package = cpk.Package

// Options configure a run.
type Options struct {
	Engine    engine.Engine
	StateDir  string // the repository's .cpk folder: logs, Dockerfiles, records
	Jobs      int    // parallel builds (default 1)
	Mapping   base.Mapping
	BuildArgs map[string]string
	Force     bool // build even when the image exists
	// Events, when set, hears about every package as it moves on; it is
	// called from several goroutines.
	Events func(Event)
	// TailLines is how many lines of a failed build's log a result keeps
	// (default 20).
	TailLines int
}

// Status is where a package's build stands.
type Status string

const (
	Queued    Status = "queued"
	Building  Status = "building"
	Built     Status = "built"
	Cached    Status = "cached" // up to date: the image exists
	Failed    Status = "failed"
	Cancelled Status = "cancelled"
)

// Event tells that a package moved on (Step/Total while building).
type Event struct {
	App         string
	Status      Status
	Step, Total int
	Result      *Result // when finished
}

// Result is what happened to one package.
type Result struct {
	App    string `json:"app"`
	Image  string `json:"image"`            // the content-addressed tag
	Digest string `json:"digest,omitempty"` // the image id (sha256:…)
	Status Status `json:"result"`
	// Content is the full content hash; the tag carries its first 16 hex.
	Content    string    `json:"content,omitempty"`
	BaseDigest string    `json:"baseDigest,omitempty"` // the base image the final stage started from
	Bases      []BaseUse `json:"bases,omitempty"`
	Seconds    float64   `json:"seconds"`
	Log        string    `json:"log,omitempty"`
	Error      string    `json:"error,omitempty"`
	Tail       []string  `json:"-"` // the last lines of a failed build's log
	Err        error     `json:"-"`
}

// BaseUse is one stage's base image: as written, what it became, its id.
type BaseUse struct {
	From     string `json:"from"`
	Image    string `json:"image"`
	Identity string `json:"identity"`         // what the content hash covers
	Digest   string `json:"digest,omitempty"` // the image id used (recorded, not hashed)
}

// Planned is a package after the cheap check.
type Planned struct {
	Package
	Content  string
	Tag      string
	UpToDate bool
	ImageID  string // when up to date
	froms    []base.From
	bases    map[int]BaseUse // stage → base
	Err      error
}

// Tag is the image reference for an app and content hash.
func Tag(app, content string) string { return Repo + "/" + app + ":" + content[:16] }

// resolver remembers, for one run, what each FROM image resolves to.
type resolver struct {
	e       engine.Engine
	mapping base.Mapping
	mu      sync.Mutex
	ids     map[string]string // image ref → id ("" when not local)
}

// identity is what the content hash covers for a FROM image: a digest-
// pinned reference as written; the local base by its content-addressed
// tag (so a clean machine that rebuilds it gets the same hashes); any
// other image by its id when it exists locally.
func (r *resolver) identity(ctx context.Context, target string) (string, error) {
	switch {
	case base.Pinned(target):
		return target, nil
	case strings.HasPrefix(target, base.Repo+":"):
		return target, nil
	}
	id, err := r.id(ctx, target)
	if err != nil {
		return "", err
	}
	if id == "" {
		return target, nil
	}
	return id, nil
}

// id returns the local image id of ref, "" when it is not local.
func (r *resolver) id(ctx context.Context, ref string) (string, error) {
	r.mu.Lock()
	id, ok := r.ids[ref]
	r.mu.Unlock()
	if ok {
		return id, nil
	}
	img, err := r.e.InspectImage(ctx, ref)
	switch {
	case err == nil:
		id = img.ID
	case errors.Is(err, engine.ErrNotFound):
		id = ""
	default:
		return "", err
	}
	r.mu.Lock()
	r.ids[ref] = id
	r.mu.Unlock()
	return id, nil
}

// Check computes each package's content hash and looks its tag up in the
// engine's cpk images, listed once: the cheap "is anything to build?".
func Check(ctx context.Context, pkgs []Package, o Options) ([]*Planned, error) {
	// The listing (the engine's time) runs while the packages are hashed.
	type listing struct {
		imgs []engine.Image
		err  error
	}
	listed := make(chan listing, 1)
	go func() {
		imgs, err := o.Engine.ListImages(ctx, engine.ImageFilter{Reference: Repo + "/*", Labels: map[string]string{LabelApp: ""}})
		listed <- listing{imgs, err}
	}()
	r := &resolver{e: o.Engine, mapping: o.Mapping, ids: map[string]string{}}
	out := make([]*Planned, len(pkgs))
	for i, p := range pkgs {
		pl := &Planned{Package: p}
		out[i] = pl
		if len(p.EntryProblems) > 0 { // a folder whose cpk.yaml cannot be read
			e := p.EntryProblems[0]
			pl.Err = fmt.Errorf("its %s is not a valid catalog entry (CY001, line %d: %s): fix it first", e.File, e.Line, e.Message)
			continue
		}
		if err := plan(ctx, r, o, pl); err != nil {
			if ctx.Err() != nil {
				<-listed
				return nil, ctx.Err()
			}
			pl.Err = err
		}
	}
	l := <-listed
	if l.err != nil {
		return nil, fmt.Errorf("list the cpk images: %w", l.err)
	}
	have := map[string]string{}
	for _, img := range l.imgs {
		for _, t := range img.Tags {
			have[t] = img.ID
		}
	}
	for _, pl := range out {
		if id, ok := have[pl.Tag]; ok && pl.Err == nil && !o.Force {
			pl.UpToDate, pl.ImageID = true, id
		}
	}
	return out, nil
}

// plan reads a package's Dockerfile, maps its FROM images and computes
// its content hash.
func plan(ctx context.Context, r *resolver, o Options, pl *Planned) error {
	// The files first: a package that cannot be built as it is fails
	// before the engine is asked anything.
	files, err := filesDigest(pl.Dir)
	if err != nil {
		return err
	}
	df, err := fsx.ReadPackageFile(pl.Dir, filepath.Join(pl.Dir, "Dockerfile"), 0)
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("no Dockerfile in the package")
	}
	if err != nil {
		return fmt.Errorf("Dockerfile: %w", err)
	}
	froms, err := base.Froms(df, o.BuildArgs)
	if err != nil {
		return fmt.Errorf("Dockerfile: %w", err)
	}
	pl.froms = froms
	pl.bases = map[int]BaseUse{}
	var ids []string
	for _, f := range froms {
		if f.PrevStage || f.Scratch {
			continue
		}
		target := f.Ref
		if t, ok := r.mapping.Target(f.Ref); ok {
			target = t
		}
		id, err := r.identity(ctx, target)
		if err != nil {
			return err
		}
		pl.bases[f.Stage] = BaseUse{From: f.Ref, Image: target, Identity: id}
		ids = append(ids, fmt.Sprintf("%d=%s", f.Stage, id))
	}
	pl.Content = ContentHash(files, ids, o.BuildArgs)
	pl.Tag = Tag(pl.ID, pl.Content)
	return nil
}

// ContentHash combines what makes an image: the digest of the package's
// files, the identities of its base images (in stage order) and the build
// args. It depends on nothing else (no time, no engine state).
func ContentHash(filesDigest string, baseIdentities []string, buildArgs map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00files\x00%s\x00bases\x00", keyVersion, filesDigest)
	for _, b := range baseIdentities {
		fmt.Fprintf(h, "%s\x00", b)
	}
	h.Write([]byte("args\x00"))
	keys := make([]string, 0, len(buildArgs))
	for k := range buildArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, buildArgs[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// filesDigest hashes every file the build context holds: names, the
// executable bit, symlink targets and contents, in a fixed order. Hidden
// files count (.dockerignore changes what is built); cpk.yaml (planning
// data) and .git do not.
//
// A package is refused, with every such file named, when the context holds
// what lint reports as PK010: a symbolic link that leaves the package,
// dangles or points to anything but a regular file, a FIFO, socket or
// device, or a file larger than fsx.MaxPackageFile. Those are never opened
// (the shared package reader, fsx.Resolve, decides), so a hostile package
// cannot hang the build, make it read without end or send files from
// outside the package to the engine.
func filesDigest(dir string) (string, error) {
	type entry struct {
		rel  string
		path string
		d    fs.DirEntry
	}
	var entries []entry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "cpk.yaml" {
			return nil
		}
		entries = append(entries, entry{rel, path, d})
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].rel < entries[j].rel })
	var problems []string
	for _, e := range entries {
		_, st, err := fsx.Resolve(dir, e.path)
		switch {
		case errors.Is(err, fsx.ErrOutside) || errors.Is(err, fsx.ErrNotRegular):
			problems = append(problems, fmt.Sprintf("%s is %v", e.rel, err))
		case err != nil:
			return "", err
		case st.Size() > fsx.MaxPackageFile:
			problems = append(problems, fmt.Sprintf("%s has %d bytes, more than the %d cpk reads", e.rel, st.Size(), fsx.MaxPackageFile))
		}
	}
	if len(problems) > 0 {
		more := ""
		if len(problems) > 10 {
			more = fmt.Sprintf(" (and %d more)", len(problems)-10)
			problems = problems[:10]
		}
		return "", fmt.Errorf("the package cannot be built as it is: %s%s; make each a regular file of the package or remove it (cpk lint reports them, PK010)",
			strings.Join(problems, "; "), more)
	}
	h := sha256.New()
	for _, e := range entries {
		if e.d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(e.path)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s\x00link\x00%s\x00", e.rel, target)
			continue
		}
		info, err := e.d.Info()
		if err != nil {
			return "", err
		}
		f, err := os.Open(e.path)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", e.rel, info.Mode().Perm()&0o111, info.Size())
		_, err = io.Copy(h, io.LimitReader(f, fsx.MaxPackageFile+1))
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Build checks every package and builds those that are not up to date,
// Jobs at a time. Per-package failures are in the results; the error is
// for the run as a whole (the engine cannot list images, Ctrl-C).
func Build(ctx context.Context, pkgs []Package, o Options) ([]*Result, error) {
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.TailLines == 0 {
		o.TailLines = 20
	}
	emit := func(ev Event) {
		if o.Events != nil {
			o.Events(ev)
		}
	}
	for _, p := range pkgs {
		emit(Event{App: p.ID, Status: Queued})
	}
	start := time.Now()
	planned, err := Check(ctx, pkgs, o)
	if err != nil {
		return nil, err
	}
	checkTook := time.Since(start)
	results := make([]*Result, len(planned))
	var todo []int
	for i, pl := range planned {
		switch {
		case pl.Err != nil:
			results[i] = &Result{App: pl.ID, Status: Failed, Err: pl.Err, Error: pl.Err.Error()}
		case pl.UpToDate:
			results[i] = &Result{App: pl.ID, Image: pl.Tag, Digest: pl.ImageID, Status: Cached, Content: pl.Content, Seconds: checkTook.Seconds()}
		default:
			todo = append(todo, i)
			continue
		}
		emit(Event{App: pl.ID, Status: results[i].Status, Result: results[i]})
	}
	r := &resolver{e: o.Engine, mapping: o.Mapping, ids: map[string]string{}}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(o.Jobs, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = buildOne(ctx, r, o, planned[i], emit)
				emit(Event{App: planned[i].ID, Status: results[i].Status, Result: results[i]})
			}
		}()
	}
	for _, i := range todo {
		if ctx.Err() != nil {
			results[i] = &Result{App: planned[i].ID, Image: planned[i].Tag, Status: Cancelled, Err: ctx.Err(), Error: "interrupted before it started"}
			emit(Event{App: planned[i].ID, Status: Cancelled, Result: results[i]})
			continue
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			results[i] = &Result{App: planned[i].ID, Image: planned[i].Tag, Status: Cancelled, Err: ctx.Err(), Error: "interrupted before it started"}
			emit(Event{App: planned[i].ID, Status: Cancelled, Result: results[i]})
		}
	}
	close(jobs)
	wg.Wait()
	return results, ctx.Err()
}

// pkgState is what the steps of one package's build share.
type pkgState struct {
	o        Options
	r        *resolver
	pl       *Planned
	res      *Result
	log      io.Writer
	emit     func(Event)
	replace  map[int]string // stage → image reference to build FROM
	owned    []string       // per-build aliases
	pulls    []string       // FROM images that are not local
	cleanups []func(context.Context) error
	file     string // the rewritten Dockerfile
	id       string
}

func buildOne(ctx context.Context, r *resolver, o Options, pl *Planned, emit func(Event)) (res *Result) {
	start := time.Now()
	res = &Result{App: pl.ID, Image: pl.Tag, Content: pl.Content, Status: Building}
	emit(Event{App: pl.ID, Status: Building})
	dir := filepath.Join(o.StateDir, "build", pl.ID)
	res.Log = filepath.Join(dir, time.Now().UTC().Format("20060102-150405.000")+"-"+pl.Content[:8]+".log")
	s := &pkgState{o: o, r: r, pl: pl, res: res, emit: emit, replace: map[int]string{}}
	f, err := openLog(res.Log)
	if err != nil {
		return fail(res, start, err, o.TailLines)
	}
	s.log = f
	fmt.Fprintf(f, "cpk build %s (%s)\nimage %s\ncontent %s\n", pl.ID, pl.Dir, pl.Tag, pl.Content)
	err = steps.Run(ctx, buildSteps(), s, steps.LogObserver{W: f})
	// Whatever was created for this build alone goes, whatever happened.
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		if cerr := s.cleanups[i](context.WithoutCancel(ctx)); cerr != nil {
			fmt.Fprintf(f, "cleanup: %v\n", cerr)
			if err == nil {
				err = cerr
			}
		}
	}
	f.Close()
	if err != nil {
		if ctx.Err() != nil {
			res.Status, res.Err, res.Error = Cancelled, ctx.Err(), "interrupted"
			res.Seconds = time.Since(start).Seconds()
			return res
		}
		return fail(res, start, err, o.TailLines)
	}
	res.Status = Built
	res.Seconds = time.Since(start).Seconds()
	return res
}

func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}

func fail(res *Result, start time.Time, err error, tail int) *Result {
	res.Status, res.Err, res.Error = Failed, err, err.Error()
	res.Seconds = time.Since(start).Seconds()
	res.Tail = lastLines(res.Log, tail)
	return res
}

func buildSteps() []steps.Step[pkgState] {
	return []steps.Step[pkgState]{
		{Name: "resolve base images", Run: resolveBases},
		{Name: "write the Dockerfile", Run: writeDockerfile},
		{Name: "build", Run: runBuild},
		{Name: "tag", Run: tagImage},
		{Name: "record", Run: record},
	}
}

// resolveBases finds each local FROM image's id (recorded as the base
// digest) and gives the build an alias of it, removed afterwards.
func resolveBases(ctx context.Context, s *pkgState) error {
	for _, f := range s.pl.froms {
		use, ok := s.pl.bases[f.Stage]
		if !ok {
			continue
		}
		id, err := s.r.id(ctx, use.Image)
		if err != nil {
			return err
		}
		if id == "" {
			if strings.HasPrefix(use.Image, base.Repo+":") {
				return fmt.Errorf("%s: %w", use.Image, base.ErrMissing)
			}
			// Not local: the engine pulls it (when a registry is reachable).
			fmt.Fprintf(s.log, "FROM %s: not a local image; the engine will pull it\n", use.Image)
			s.pulls = append(s.pulls, use.Image)
			if use.Image != f.Ref {
				s.replace[f.Stage] = use.Image
			}
			s.pl.bases[f.Stage] = use
			continue
		}
		use.Digest = id
		s.pl.bases[f.Stage] = use
		alias, unalias, err := engine.Alias(ctx, s.o.Engine, id, s.pl.ID)
		s.cleanups = append(s.cleanups, unalias)
		if err != nil {
			return err
		}
		s.replace[f.Stage] = alias
		s.owned = append(s.owned, alias)
		fmt.Fprintf(s.log, "FROM %s → %s (%s), built from alias %s\n", f.Ref, use.Image, id, alias)
	}
	for _, f := range s.pl.froms {
		if use, ok := s.pl.bases[f.Stage]; ok {
			s.res.Bases = append(s.res.Bases, use)
		}
	}
	if n := len(s.pl.froms); n > 0 {
		if use, ok := s.pl.bases[s.pl.froms[n-1].Stage]; ok {
			s.res.BaseDigest = use.Digest
		}
	}
	return nil
}

// writeDockerfile writes the package's Dockerfile with the mapped FROM
// images into .cpk; the package's own file is never touched.
func writeDockerfile(_ context.Context, s *pkgState) error {
	df, err := os.ReadFile(filepath.Join(s.pl.Dir, "Dockerfile"))
	if err != nil {
		return err
	}
	out, err := base.Rewrite(df, s.pl.froms, s.replace)
	if err != nil {
		return err
	}
	s.file = filepath.Join(s.o.StateDir, "build", s.pl.ID, "Dockerfile")
	return fsx.WriteFile(s.file, out, 0o644)
}

func runBuild(ctx context.Context, s *pkgState) error {
	labels := map[string]string{LabelApp: s.pl.ID, LabelContent: s.pl.Content, LabelBaseDigest: s.res.BaseDigest}
	id, err := s.o.Engine.BuildImage(ctx, engine.BuildSpec{
		ContextDir: s.pl.Dir,
		Dockerfile: s.file,
		BuildArgs:  s.o.BuildArgs,
		Labels:     labels,
		Output:     s.log,
		Owned:      s.owned,
		Progress: func(step, total int) {
			s.emit(Event{App: s.pl.ID, Status: Building, Step: step, Total: total})
		},
	})
	if err != nil {
		for _, p := range s.pulls {
			if isCloudronImage(p) && ctx.Err() == nil {
				return fmt.Errorf("%w\n  hint: %s is not a local image and no registry may be reachable: run cpk base build, then cpk build --offline", err, p)
			}
		}
		return err
	}
	s.id = id
	return nil
}

func isCloudronImage(ref string) bool {
	repo := base.Repository(ref)
	for _, c := range base.CloudronImages {
		if repo == c {
			return true
		}
	}
	return false
}

// tagImage tags the finished image: only now does the package have one.
func tagImage(ctx context.Context, s *pkgState) error {
	if err := s.o.Engine.TagImage(ctx, s.id, s.pl.Tag); err != nil {
		return err
	}
	s.res.Digest = s.id
	fmt.Fprintf(s.log, "tagged %s as %s\n", s.id, s.pl.Tag)
	return nil
}

// Record is what .cpk/build/<app>/<tag>.json keeps of a build.
type Record struct {
	App        string            `json:"app"`
	Image      string            `json:"image"`
	Digest     string            `json:"digest"`
	Content    string            `json:"content"`
	BaseDigest string            `json:"baseDigest,omitempty"`
	Bases      []BaseUse         `json:"bases,omitempty"`
	BuildArgs  []string          `json:"buildArgs,omitempty"` // names only: values may be secret
	Built      time.Time         `json:"built"`
	Log        string            `json:"log"`
	Labels     map[string]string `json:"labels"`
}

func record(_ context.Context, s *pkgState) error {
	rec := Record{App: s.pl.ID, Image: s.pl.Tag, Digest: s.id, Content: s.pl.Content, BaseDigest: s.res.BaseDigest,
		Bases: s.res.Bases, Built: time.Now().UTC(), Log: s.res.Log,
		Labels: map[string]string{LabelApp: s.pl.ID, LabelContent: s.pl.Content, LabelBaseDigest: s.res.BaseDigest}}
	for k := range s.o.BuildArgs {
		rec.BuildArgs = append(rec.BuildArgs, k)
	}
	sort.Strings(rec.BuildArgs)
	data, _ := json.MarshalIndent(rec, "", "  ")
	return fsx.WriteFile(filepath.Join(s.o.StateDir, "build", s.pl.ID, s.pl.Content[:16]+".json"), append(data, '\n'), 0o644)
}

// lastLines returns up to n last lines of a file.
func lastLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines
}
