package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"cpk/internal/base"
	"cpk/internal/build"
	"cpk/internal/catalog"
	"cpk/internal/ci"
	"cpk/internal/cpk"
)

type buildOptions struct {
	Format    string
	All       bool
	Changed   bool
	Since     string
	Jobs      int
	Offline   bool
	Force     bool
	BuildArgs []string
}

// newBuildCmdLong is the help text of the command.
const newBuildCmdLong = `Build the images of packages (catalog ids or package folders), of the whole
catalog (--all: every package with a Dockerfile) or of the packages whose
files changed since a git revision (--changed, --since).

Each image is tagged `

func newBuildCmd(g *Globals) *cobra.Command {
	var opts buildOptions
	c := &cobra.Command{
		Use:   "build [APP|DIR...]",
		Short: "Build package images; unchanged packages are not rebuilt",
		Long: newBuildCmdLong + build.Repo + `/<app>:<hash>, the hash covering the
package's files, its base images and the build args: a package whose tag
exists is up to date and is skipped without asking the engine to build.
Images carry the labels io.cpk.app, io.cpk.content and io.cpk.base-digest.

Packages keep their real FROM cloudron/base:<tag>@sha256:<digest>; with
--offline (or offline: true in cpk-build.yaml) the build uses a copy of
the Dockerfile whose Cloudron base images are the local base (cpk base
build). cpk-build.yaml can also map other images, set jobs and build args.

A package that cannot be built as it is fails on its own, before the
engine is asked anything, with its problem named: a link that leaves the
package or points to no regular file, a FIFO or device, a file larger than
8 MiB (what lint reports as PK010), or a cpk.yaml that cannot be read
(CY001; with --all and --changed such folders are selected too). The other
packages are built.

Each build's full log is kept under .cpk/build/<app>/; a failed build
prints its path and last lines. Ctrl-C stops the builds and leaves no
half-tagged image and no build container behind.`,
		Example: `  cpk build grist
  cpk build --all --offline -j 2
  cpk build --changed --since origin/main
  cpk build --all --format json`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			n := 0
			for _, b := range []bool{len(args) > 0, opts.All, opts.Changed} {
				if b {
					n++
				}
			}
			if n != 1 {
				return usageError("name the packages to build, or use --all or --changed (one of them)")
			}
			if c.Flags().Changed("since") && !opts.Changed {
				return usageError("--since goes with --changed")
			}
			if c.Flags().Changed("jobs") && opts.Jobs < 1 {
				return usageError("-j %d: at least one build at a time", opts.Jobs)
			}
			return runBuild(c.Context(), g, opts, args, c.Flags().Changed("jobs"))
		},
	}
	formatFlag(c, &opts.Format)
	f := c.Flags()
	f.BoolVar(&opts.All, "all", false, "every package of the catalog that has a Dockerfile")
	f.BoolVar(&opts.Changed, "changed", false, "the packages whose files changed since --since (git)")
	f.StringVar(&opts.Since, "since", "HEAD", "the git revision --changed compares with (uncommitted and untracked files count)")
	f.IntVarP(&opts.Jobs, "jobs", "j", max(1, runtime.NumCPU()/2), "builds at a time")
	f.BoolVar(&opts.Offline, "offline", false, "build FROM the local base instead of cloudron/base, node-base and php-base")
	f.BoolVar(&opts.Force, "force", false, "build even the packages that are up to date")
	f.StringArrayVar(&opts.BuildArgs, "build-arg", nil, "KEY=VALUE for every package; repeatable (part of the content hash)")
	return c
}

func runBuild(ctx context.Context, g *Globals, opts buildOptions, args []string, jobsSet bool) error {
	root, err := g.rootDir()
	if err != nil {
		return err
	}
	cfg, err := build.LoadConfig(root)
	if err != nil {
		return usageError("%v", err)
	}
	buildArgs, err := mergeBuildArgs(cfg.BuildArgs, opts.BuildArgs)
	if err != nil {
		return err
	}
	jobs := opts.Jobs
	if !jobsSet && cfg.Jobs > 0 {
		jobs = cfg.Jobs
	}
	pkgs, err := buildTargets(ctx, g, root, opts, args)
	if err != nil {
		return err
	}
	if len(pkgs) == 0 {
		fmt.Fprintln(g.IO.Err, "nothing to build: no package with a Dockerfile among those selected")
		return nil
	}
	state := filepath.Join(root, ".cpk")
	mapping, err := baseMapping(state, opts.Offline, cfg)
	if err != nil {
		return err
	}
	e, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	disp := newBuildDisplay(g.IO, pkgs)
	started := time.Now()
	results, err := build.Build(ctx, pkgs, build.Options{
		Engine: e, StateDir: state, Jobs: jobs, Mapping: mapping, BuildArgs: buildArgs, Force: opts.Force,
		Events: disp.event,
	})
	disp.stop()
	g.Record(context.WithoutCancel(ctx), buildRuns(root, pkgs, results, started, time.Now())...)
	if err != nil && results == nil {
		return engineError(err)
	}
	failed := printBuildResults(g.IO, results, opts.Format)
	switch {
	case err != nil:
		return engineError(err)
	case failed > 0:
		for _, r := range results {
			if r.Status == build.Failed && errors.Is(r.Err, base.ErrMissing) {
				return envError(fmt.Errorf("%d of %d builds failed: %w", failed, len(results), r.Err))
			}
		}
		return silentFailure
	}
	return nil
}

// mergeBuildArgs lays the --build-arg KEY=VALUE flags over the
// configuration's build arguments.
func mergeBuildArgs(configured map[string]string, flags []string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range configured {
		out[k] = v
	}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageError("--build-arg %q: use KEY=VALUE", kv)
		}
		out[k] = v
	}
	return out, nil
}

// buildTargets resolves ids, folders, --all and --changed to packages.
func buildTargets(ctx context.Context, g *Globals, root string, opts buildOptions, args []string) ([]build.Package, error) {
	// Folders whose cpk.yaml cannot be read are selected too: each is
	// reported as a failed build that names its problem (CY001).
	dockerfile := catalog.Filter{Dockerfile: true, Broken: true}
	switch {
	case opts.All:
		sel, err := g.selectPackages(nil, dockerfile)
		if err != nil {
			return nil, err
		}
		return sel.Packages, nil
	case opts.Changed:
		repo, err := g.openRepo(ctx)
		if err != nil {
			return nil, err
		}
		ids, err := ci.ChangedApps(ctx, repo, filepath.Join(root, "apps"), opts.Since)
		if err != nil {
			if strings.Contains(err.Error(), "unknown revision") || strings.Contains(err.Error(), "bad revision") || strings.Contains(err.Error(), "ambiguous argument") {
				return nil, usageError("--since %s: not a git revision here", opts.Since)
			}
			return nil, engineError(err)
		}
		sel, err := g.selectPackages(nil, dockerfile)
		if err != nil {
			return nil, err
		}
		var pkgs []build.Package
		for _, p := range sel.Packages {
			if slices.Contains(ids, p.ID) {
				pkgs = append(pkgs, p)
			}
		}
		if len(ids) > 0 && len(pkgs) == 0 {
			fmt.Fprintf(g.IO.Err, "changed since %s: %s (none has a Dockerfile)\n", opts.Since, strings.Join(ids, ", "))
		}
		return pkgs, nil
	}
	sel, err := g.selectPackages(args, dockerfile)
	if err != nil {
		return nil, err
	}
	return sel.Packages, nil
}

// printBuildResults writes the results (stdout) and, for failures, the log
// path and last lines (stderr). It returns the number of failures.
func printBuildResults(io *IO, results []*build.Result, format string) int {
	failed := 0
	for _, r := range results {
		if r != nil && r.Status == build.Failed {
			failed++
		}
	}
	if format == "json" {
		if results == nil {
			results = []*build.Result{}
		}
		_ = io.writeJSON(results)
	} else {
		t := &table{io: io}
		if io.OutTTY {
			t.row(io.paint(bold, "app"), io.paint(bold, "result"), io.paint(bold, "image"), io.paint(bold, "time"))
		}
		for _, r := range results {
			t.row(r.App, io.paint(resultStyle[r.Status], string(r.Status)), r.Image, fmt.Sprintf("%.1fs", r.Seconds))
		}
		t.flush()
	}
	for _, r := range results {
		if r.Status != build.Failed {
			continue
		}
		fmt.Fprintf(io.Err, "\n%s %s: %v\n", io.paint(red, "✗"), r.App, r.Err)
		if r.Log != "" {
			fmt.Fprintf(io.Err, "  log: %s\n", r.Log)
		}
		if len(r.Tail) > 0 {
			fmt.Fprintf(io.Err, "  last lines:\n")
			for _, l := range r.Tail {
				fmt.Fprintf(io.Err, "    %s\n", l)
			}
		}
	}
	return failed
}

var resultStyle = map[build.Status]string{build.Built: green, build.Cached: dim, build.Failed: red, build.Cancelled: yellow, build.Building: cyan, build.Queued: dim}

// buildDisplay shows the builds as they go, on stderr: on a terminal a
// live block with one line per package (refreshed in place), otherwise
// one plain line per change.
type buildDisplay struct {
	io    *IO
	mu    sync.Mutex
	order []string
	lines map[string]*pkgLine
	drawn int // lines of the live block on screen
	done  chan struct{}
	wg    sync.WaitGroup
}

type pkgLine struct {
	status      build.Status
	step, total int
	started     time.Time
	res         *build.Result
}

func newBuildDisplay(io *IO, pkgs []build.Package) *buildDisplay {
	d := &buildDisplay{io: io, lines: map[string]*pkgLine{}, done: make(chan struct{})}
	for _, p := range pkgs {
		d.order = append(d.order, p.ID)
		d.lines[p.ID] = &pkgLine{status: build.Queued}
	}
	if io.ErrTTY {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-d.done:
					return
				case <-t.C:
					d.mu.Lock()
					d.redraw()
					d.mu.Unlock()
				}
			}
		}()
	}
	return d
}

func (d *buildDisplay) event(ev build.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.lines[ev.App]
	if l == nil {
		return
	}
	changed := l.status != ev.Status
	if ev.Status == build.Building && l.status != build.Building {
		l.started = time.Now()
	}
	l.status, l.res = ev.Status, ev.Result
	if ev.Total > 0 {
		l.step, l.total = ev.Step, ev.Total
	}
	if d.io.ErrTTY {
		d.redraw()
		return
	}
	if changed && ev.Status != build.Queued {
		fmt.Fprintf(d.io.Err, "%s: %s\n", ev.App, d.describe(l))
	}
}

func (d *buildDisplay) describe(l *pkgLine) string {
	switch l.status {
	case build.Queued:
		return "queued"
	case build.Building:
		s := "building"
		if l.total > 0 {
			s += fmt.Sprintf(" step %d/%d", l.step, l.total)
		}
		if d.io.ErrTTY {
			s += fmt.Sprintf(" (%s)", time.Since(l.started).Round(time.Second))
		}
		return s
	case build.Cached:
		return "up to date"
	case build.Built:
		return fmt.Sprintf("built %s in %.1fs", l.res.Image, l.res.Seconds)
	case build.Failed:
		if l.res != nil && l.res.Log != "" {
			return fmt.Sprintf("failed after %.1fs (log: %s)", l.res.Seconds, l.res.Log)
		}
		if l.res != nil {
			return "failed: " + l.res.Error
		}
		return "failed"
	case build.Cancelled:
		return "interrupted"
	}
	return string(l.status)
}

// redraw repaints the live block: packages that are up to date are
// counted in one line; the rest get a line each, in the order given, as
// many as fit.
func (d *buildDisplay) redraw() {
	var b strings.Builder
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.drawn)
	}
	height := 24
	if _, h, err := term.GetSize(int(os.Stderr.Fd())); err == nil && h > 4 {
		height = h
	}
	var shown []string
	cached := 0
	for _, id := range d.order {
		if d.lines[id].status == build.Cached {
			cached++
			continue
		}
		shown = append(shown, id)
	}
	more := 0
	if limit := height - 3; len(shown) > limit {
		// Too many for the terminal: what is going on first.
		rank := map[build.Status]int{build.Building: 0, build.Failed: 1, build.Cancelled: 1, build.Built: 2, build.Queued: 3}
		sort.SliceStable(shown, func(i, j int) bool { return rank[d.lines[shown[i]].status] < rank[d.lines[shown[j]].status] })
		more = len(shown) - limit
		shown = shown[:limit]
	}
	width := 0
	for _, id := range shown {
		width = max(width, len(id))
	}
	n := 0
	line := func(s string) {
		b.WriteString("\x1b[2K" + s + "\n")
		n++
	}
	for _, id := range shown {
		l := d.lines[id]
		line(fmt.Sprintf("%-*s  %s", width, id, d.io.paint(resultStyle[l.status], d.describe(l))))
	}
	if more > 0 {
		line(fmt.Sprintf("… and %d more", more))
	}
	if cached > 0 {
		line(d.io.paint(dim, fmt.Sprintf("%d up to date", cached)))
	}
	for i := n; i < d.drawn; i++ { // clear what the previous block had below
		b.WriteString("\x1b[2K\n")
	}
	if d.drawn > n {
		fmt.Fprintf(&b, "\x1b[%dA", d.drawn-n)
	}
	d.drawn = n
	fmt.Fprint(d.io.Err, b.String())
}

func (d *buildDisplay) stop() {
	close(d.done)
	d.wg.Wait()
	if d.io.ErrTTY {
		d.mu.Lock()
		d.redraw()
		d.mu.Unlock()
	}
}

// baseMapping is how a build's FROM images are found: the local base image
// stands in for cloudron/base when offline (--offline or cpk-build.yaml) and
// for the repositories cpk-build.yaml maps.
func baseMapping(state string, offline bool, cfg *build.Config) (base.Mapping, error) {
	m := base.Mapping{Offline: offline || cfg.Offline, Map: cfg.Map}
	if m.Offline || len(m.Map) > 0 {
		ref, err := base.LocalRef(state)
		if err != nil {
			return m, envError(err)
		}
		m.LocalRef = ref
	}
	return m, nil
}

// buildRuns turns build results into the runs the results store keeps: one
// per package, under the content hash of its files (the same hash status and
// the quality level use). A cached image counts as a passed build.
func buildRuns(root string, pkgs []build.Package, results []*build.Result, started, finished time.Time) []cpk.Run {
	dirs := map[string]string{}
	for _, p := range pkgs {
		dirs[p.ID] = p.Dir
	}
	var runs []cpk.Run
	for _, r := range results {
		if r == nil {
			continue
		}
		hash, err := (&catalog.App{Dir: dirs[r.App]}).ContentHash()
		if err != nil {
			continue
		}
		outcome := map[build.Status]cpk.Outcome{build.Built: cpk.OutcomePassed, build.Cached: cpk.OutcomePassed,
			build.Failed: cpk.OutcomeFailed, build.Cancelled: cpk.OutcomeCancelled}[r.Status]
		if outcome == "" {
			continue
		}
		cached := 0.0
		if r.Status == build.Cached {
			cached = 1
		}
		logPath := r.Log
		if rel, err := filepath.Rel(root, r.Log); err == nil && r.Log != "" {
			logPath = filepath.ToSlash(rel)
		}
		runs = append(runs, cpk.Run{
			App: r.App, Kind: cpk.KindBuild, Hash: hash, Started: started, Finished: finished, Outcome: outcome,
			Steps:   []cpk.Step{{Name: "build", Outcome: outcome, Duration: time.Duration(r.Seconds * float64(time.Second)), Message: r.Error}},
			Figures: map[string]float64{"seconds": r.Seconds, "cached": cached},
			Log:     logPath,
		})
	}
	return runs
}
