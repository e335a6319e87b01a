package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/bump"
	"cpk/internal/catalog"
	"cpk/internal/ci"
	"cpk/internal/cpk"
	"cpk/internal/git"
	"cpk/internal/upstream"
)

func newUpstreamCmd(g *Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "upstream",
		Short: "Watch upstream releases, bump packages, clone upstream sources",
		Long: `Watch every package's upstream releases (declared under upstream: in
apps/<id>/cpk.yaml), move packages to new versions with verified checksums,
and keep a workspace of upstream sources at the pinned versions.

A package pins its upstream version with ARG UPSTREAM_VERSION in its
Dockerfile (or upstreamVersion in its manifest); see the README, section
Upstream.

Tokens: GITHUB_TOKEN (or GH_TOKEN) lets cpk check every GitHub project in
one or two GraphQL queries; without it each project costs one conditional
request, free when nothing changed. GITLAB_TOKEN is sent to GitLab.
Endpoints (for GitHub Enterprise, self-hosted GitLab, mirrors, tests):
CPK_GITHUB_API, CPK_GITHUB_GRAPHQL, CPK_GITHUB_URL, CPK_GITLAB_URL,
CPK_NPM_REGISTRY, CPK_PYPI_URL, CPK_DEBIAN_SOURCES, CPK_REGISTRY_URL.

State lives in .cpk/ at the repository root: .cpk/cache/upstream/ (the
ETags and answers of the last requests) and .cpk/upstream.json (the last
check, which cpk status reads for its upstream freshness metric).`,
	}
	c.AddCommand(newUpstreamCheckCmd(g), newUpstreamBumpCmd(g), newUpstreamCloneCmd(g))
	return c
}

// upstreamEnv is what the upstream commands share: the catalog, the
// repository root and a client with the persistent cache.
type upstreamEnv struct {
	g      *Globals
	cat    *catalog.Catalog
	root   string
	client *upstream.Client
}

func loadUpstreamEnv(g *Globals) (*upstreamEnv, error) {
	cat, le, err := g.catalog()
	if err != nil {
		return nil, err
	}
	if le != nil {
		fmt.Fprintf(g.IO.Err, "warning: %v\n(the entries with problems are skipped)\n", le)
	}
	root := filepath.Dir(cat.Dir)
	c := upstream.NewClient(upstream.EndpointsFromEnv(os.Getenv), upstream.TokensFromEnv(os.Getenv),
		upstream.NewCache(filepath.Join(root, ".cpk", "cache", "upstream")))
	c.Git = func(ctx context.Context, dir string, args ...string) ([]byte, error) {
		return (&git.Repo{Dir: dir, Runner: g.runner()}).Run(ctx, args...)
	}
	return &upstreamEnv{g: g, cat: cat, root: root, client: c}, nil
}

// pick returns the named applications (catalog.Select), or every one with
// an upstream.
func (env *upstreamEnv) pick(ids []string) ([]*catalog.App, error) {
	sel, err := env.g.selectPackages(ids, catalog.Filter{Upstream: true})
	if err != nil {
		return nil, err
	}
	var apps []*catalog.App
	for _, p := range sel.Packages {
		a := env.cat.App(p.ID)
		if a == nil {
			return nil, usageError("%s is not an application of the catalog: upstream commands work on the catalog's packages", p.Dir)
		}
		apps = append(apps, a)
	}
	return apps, nil
}

func resultsPath(root string) string { return filepath.Join(root, ".cpk", upstream.ResultsFile) }

type upstreamCheckOptions struct {
	Format       string
	FailOutdated bool
	Stats        bool
	Apps         []string
}

func newUpstreamCheckCmd(g *Globals) *cobra.Command {
	var opts upstreamCheckOptions
	c := &cobra.Command{
		Use:   "check [APP...]",
		Short: "Compare each package's pinned upstream version with the newest acceptable release",
		Long: `For each package (default: every application with an upstream), show the
pinned upstream version, the newest acceptable upstream version, how old the
pin is and the release notes of the newest. The results are recorded in
.cpk/upstream.json for cpk status.

Exits 0 even when packages are outdated or a source fails, unless
--fail-outdated is given: then 1 when any package is outdated.`,
		Example: `  cpk upstream check
  cpk upstream check grist redmine --format json
  GITHUB_TOKEN=… cpk upstream check --stats`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			opts.Apps = args
			return abandonable(c.Context(), func(ctx context.Context) error { return runUpstreamCheck(ctx, g, opts) })
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().BoolVar(&opts.FailOutdated, "fail-outdated", false, "exit 1 when a package is behind upstream")
	c.Flags().BoolVar(&opts.Stats, "stats", false, "report the requests made, the cache hits and the time taken")
	return c
}

// checkJSON is one package in check's JSON output.
type checkJSON struct {
	cpk.UpstreamCheck
	PinAgeDays *int `json:"pinAgeDays,omitempty"` // days since the pinned release was published
}

func runUpstreamCheck(ctx context.Context, g *Globals, opts upstreamCheckOptions) error {
	env, err := loadUpstreamEnv(g)
	if err != nil {
		return err
	}
	apps, err := env.pick(opts.Apps)
	if err != nil {
		return err
	}
	targets, pinProblems := pinTargets(g, apps)
	auth := "without a token: one conditional request per GitHub project"
	if env.client.Tokens.GitHub != "" {
		auth = "with a GitHub token: GraphQL batches"
	}
	fmt.Fprintf(g.IO.Err, "checking %d upstreams (%s)…\n", len(targets), auth)
	start := time.Now()
	checks, err := env.client.Check(ctx, targets)
	if err != nil {
		return err
	}
	stats := env.client.Stats()
	stats.Duration = time.Since(start)
	stats.Millis = stats.Duration.Milliseconds()
	if n := unreachable(checks); n > 0 && n == len(checks) {
		// No source answered: the network is down, not every package.
		// Nothing is recorded, so the freshness metric stays as it was.
		return envError(fmt.Errorf("no upstream source could be reached (%d packages; the first: %s): check the network or the proxy (HTTPS_PROXY), then run again", n, checks[0].Error))
	}
	checks = append(checks, pinProblems...)
	now := time.Now()
	recordChecks(ctx, g, env, checks, start, now)
	if opts.Format == "json" {
		out := struct {
			Checks []checkJSON     `json:"checks"`
			Stats  *upstream.Stats `json:"stats,omitempty"`
		}{Checks: []checkJSON{}}
		for _, c := range checks {
			out.Checks = append(out.Checks, checkJSON{c, pinAge(c, now)})
		}
		if opts.Stats {
			out.Stats = &stats
		}
		if err := g.IO.writeJSON(out); err != nil {
			return err
		}
	} else {
		printUpstreamChecks(g.IO, checks, now)
	}
	printCheckErrors(g.IO, checks)
	if opts.Stats {
		fmt.Fprintf(g.IO.Err, "stats: %d requests (%d answered 304 Not Modified from the cache, free of rate limits), %.1f KiB received, %s\n",
			stats.Requests, stats.NotModified, float64(stats.Bytes)/1024, stats.Duration.Round(time.Millisecond))
	}
	if opts.FailOutdated && slices.ContainsFunc(checks, func(c cpk.UpstreamCheck) bool { return c.Outdated }) {
		return silentFailure
	}
	return nil
}

// pinTargets reads each package's pin; a pin that cannot be read is a
// failed check of its own.
func pinTargets(g *Globals, apps []*catalog.App) ([]upstream.Target, []cpk.UpstreamCheck) {
	targets := make([]upstream.Target, 0, len(apps))
	var problems []cpk.UpstreamCheck
	for _, a := range apps {
		pin, err := bump.ReadPin(a.Dir)
		if err != nil {
			problems = append(problems, cpk.UpstreamCheck{App: a.ID, Source: a.Upstream.Source, Error: "read the pin: " + err.Error()})
			continue
		}
		if pin.Mismatch != "" {
			fmt.Fprintf(g.IO.Err, "warning: %s: the manifest's upstreamVersion %s differs from %s (%s)\n", a.ID, pin.Mismatch, pin.Version, pin.From)
		}
		targets = append(targets, upstream.Target{App: a.ID, Upstream: a.Upstream, Pinned: pin.Version, PinnedFrom: pin.From})
	}
	return targets, problems
}

// recordChecks keeps the checks for cpk status and the history. A source
// that could not be reached says nothing of its packages: their last
// results stay, and no run is recorded for them.
func recordChecks(ctx context.Context, g *Globals, env *upstreamEnv, checks []cpk.UpstreamCheck, start, now time.Time) {
	if err := upstream.SaveResults(resultsPath(env.root), keepReached(resultsPath(env.root), checks)); err != nil {
		fmt.Fprintf(g.IO.Err, "warning: cannot record the results for cpk status: %v\n", err)
	}
	runs := make([]cpk.Run, 0, len(checks))
	for _, c := range checks {
		if !c.Unreachable {
			runs = append(runs, upstreamRun(env.cat.App(c.App), c, start, now))
		}
	}
	g.Record(ctx, runs...)
}

// printCheckErrors says why checks failed: each error on its line, and the
// packages whose source could not be reached named once.
func printCheckErrors(io *IO, checks []cpk.UpstreamCheck) {
	var cut []string
	first := ""
	for _, c := range checks {
		switch {
		case c.Unreachable:
			cut = append(cut, c.App)
			if first == "" {
				first = c.Error
			}
		case c.Error != "":
			fmt.Fprintf(io.Err, "%s: %s\n", c.App, safe(c.Error))
		}
	}
	if len(cut) > 0 {
		fmt.Fprintf(io.Err, "%d package(s) not checked, their source could not be reached (nothing recorded for them): %s\n  the first: %s\n", len(cut), strings.Join(cut, ", "), safe(first))
	}
}

// keepReached merges the new checks into the saved ones: a package whose
// source could not be reached keeps its last result.
func keepReached(path string, checks []cpk.UpstreamCheck) []cpk.UpstreamCheck {
	old, _ := upstream.LoadResults(path)
	prev := map[string]cpk.UpstreamCheck{}
	for _, c := range old {
		prev[c.App] = c
	}
	out := make([]cpk.UpstreamCheck, 0, len(checks))
	for _, c := range checks {
		if p, ok := prev[c.App]; c.Unreachable && ok {
			c = p
		}
		delete(prev, c.App)
		out = append(out, c)
	}
	for _, c := range old {
		if _, ok := prev[c.App]; ok {
			out = append(out, c) // not asked this time
		}
	}
	return out
}

// unreachable counts the checks whose source could not be reached.
func unreachable(checks []cpk.UpstreamCheck) int {
	n := 0
	for _, c := range checks {
		if c.Unreachable {
			n++
		}
	}
	return n
}

func pinAge(c cpk.UpstreamCheck, now time.Time) *int {
	if c.PinnedDate == nil {
		return nil
	}
	d := int(now.Sub(*c.PinnedDate).Hours() / 24)
	return &d
}

func printUpstreamChecks(io *IO, checks []cpk.UpstreamCheck, now time.Time) {
	h := func(s string) string { return io.paint(bold, s) }
	t := &table{io: io}
	t.row(h("app"), h("pinned"), h("latest"), h("status"), h("pin age"), h("release notes"))
	counts := map[string]int{}
	for _, c := range checks {
		status, style := "current", green
		switch {
		case c.Unreachable:
			status, style = "unreachable", yellow
		case c.Error != "":
			status, style = "error", red
		case c.Pinned == "":
			status, style = "no pin", dim
		case c.Outdated:
			status, style = "outdated", yellow
		}
		counts[status]++
		age := "-"
		if d := pinAge(c, now); d != nil {
			age = fmt.Sprintf("%dd", *d)
		}
		t.row(c.App, safe(valueOrDash(c.Pinned)), safe(valueOrDash(c.Latest)), io.paint(style, status), age, safe(valueOrDash(c.Notes)))
	}
	t.flush()
	var parts []string
	for _, k := range []string{"outdated", "current", "no pin", "error", "unreachable"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	fmt.Fprintf(io.Out, "\n%d packages: %s\n", len(checks), strings.Join(parts, ", "))
}

func valueOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sourceError marks network trouble and rate limits as environment
// problems (exit 3); everything else stays exit 1.
func sourceError(err error) error {
	var rl *upstream.RateLimitError
	var ne net.Error
	if errors.As(err, &rl) || errors.As(err, &ne) {
		return envError(err)
	}
	return err
}

type upstreamBumpOptions struct {
	Format   string
	To       string
	Branch   bool
	DryRun   bool
	Outdated bool
}

// newUpstreamBumpCmdLong is the help text of the command.
const newUpstreamBumpCmdLong = `Move a package to the newest acceptable upstream version (or --to VERSION),
editing in place and atomically:

  Dockerfile              every ARG UPSTREAM_VERSION default; ARG UPSTREAM_SHA256
                          set to the checksum of UPSTREAM_URL for the new version
  CloudronManifest.json   upstreamVersion, and version bumped by the rule below
  CHANGELOG               a section [new version] with the release notes link

The checksum is the digest upstream publishes (the release asset's digest, a
SHA256SUMS-style file, npm integrity, PyPI digests), verified by downloading
the file; when upstream publishes none, the download's own hash, and the
comment above the ARG says which it is. A mismatch stops the bump.

The package version follows upstream: a new upstream major bumps the
package's major (1.4.2 → 2.0.0), a new minor its minor (→ 1.5.0), anything
else its patch (→ 1.4.3); for calendar versions a new year or second number
is a minor.

On any failure no file is changed. --branch commits the bump on a new branch
feature/package-APP and returns to the current branch.

--outdated bumps every package of the catalog that is behind upstream, each
on its own (with --branch, each on its own feature/package-APP branch: what
the scheduled upstream workflow of cpk ci generate runs); a package that
fails is reported and the others go on.`

func newUpstreamBumpCmd(g *Globals) *cobra.Command {
	var opts upstreamBumpOptions
	c := &cobra.Command{
		Use:   "bump APP | --outdated",
		Short: "Move a package to a new upstream version, with a verified checksum",
		Long:  newUpstreamBumpCmdLong,
		Example: `  cpk upstream bump grist
  cpk upstream bump grist --to 1.2.3 --branch
  cpk upstream bump grist --dry-run
  cpk upstream bump --outdated --branch`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if opts.Branch && opts.DryRun {
				return usageError("--branch and --dry-run do not go together")
			}
			switch {
			case opts.Outdated && len(args) > 0:
				return usageError("--outdated bumps every package behind upstream: name none")
			case opts.Outdated && opts.To != "":
				return usageError("--to names one package's version: leave out --outdated")
			case !opts.Outdated && len(args) != 1:
				return usageError("name one package to bump, or bump every outdated one with --outdated")
			}
			return runUpstreamBump(c.Context(), g, args, opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().StringVar(&opts.To, "to", "", "the upstream version to move to (default: the newest acceptable)")
	c.Flags().BoolVar(&opts.Branch, "branch", false, "commit on a new branch feature/package-APP")
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "show what would change without writing")
	c.Flags().BoolVar(&opts.Outdated, "outdated", false, "bump every package that is behind upstream")
	return c
}

func runUpstreamBump(ctx context.Context, g *Globals, ids []string, opts upstreamBumpOptions) error {
	env, err := loadUpstreamEnv(g)
	if err != nil {
		return err
	}
	apps, err := env.pick(ids)
	if err != nil {
		return err
	}
	var results []any
	var failed []string
	for _, a := range apps {
		if opts.Outdated && !ci.Testable(a) {
			continue // no package files to bump yet, or blocked
		}
		r, err := bumpOne(ctx, g, env, a, opts)
		if err != nil {
			if !opts.Outdated || ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(g.IO.Err, "%s: %v\n", a.ID, err)
			failed = append(failed, a.ID)
			continue
		}
		results = append(results, r)
	}
	if opts.Format == "json" {
		if !opts.Outdated {
			return g.IO.writeJSON(results[0])
		}
		if results == nil {
			results = []any{}
		}
		if err := g.IO.writeJSON(results); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("bump failed for %s", strings.Join(failed, ", "))
	}
	return nil
}

// bumpOne bumps one package, printing the text report; the JSON report is
// returned.
func bumpOne(ctx context.Context, g *Globals, env *upstreamEnv, a *catalog.App, opts upstreamBumpOptions) (any, error) {
	text := opts.Format != "json"
	fmt.Fprintf(g.IO.Err, "bumping %s (%s)…\n", a.ID, a.Upstream.Link())
	e, err := bump.Plan(ctx, env.client, bump.Package{ID: a.ID, Dir: a.Dir, Upstream: a.Upstream}, bump.Options{To: opts.To})
	if errors.Is(err, bump.ErrUpToDate) {
		if text {
			fmt.Fprintf(g.IO.Out, "%s is up to date at %s\n", a.ID, e.Result.To)
		}
		return map[string]any{"app": a.ID, "upToDate": true, "version": e.Result.To}, nil
	}
	if err != nil {
		return nil, sourceError(fmt.Errorf("bump %s: %w", a.ID, err))
	}
	switch {
	case opts.DryRun:
	case opts.Branch:
		err = bump.ApplyOnBranch(ctx, env.root, e)
	default:
		err = e.Apply()
	}
	if err != nil {
		return nil, fmt.Errorf("bump %s: %w", a.ID, err)
	}
	r := e.Result
	for _, w := range r.Warnings {
		fmt.Fprintf(g.IO.Err, "warning: %s\n", w)
	}
	report := struct {
		bump.Result
		DryRun bool `json:"dryRun,omitempty"`
	}{r, opts.DryRun}
	if !text {
		return report, nil
	}
	verb := "bumped"
	if opts.DryRun {
		verb = "would bump"
	}
	from := r.From
	if from == "" {
		from = "(no pin)"
	}
	fmt.Fprintf(g.IO.Out, "%s %s: upstream %s → %s, package %s → %s (%s)\n", verb, g.IO.paint(bold, r.App), from, r.To, r.PackageFrom, r.PackageTo, r.Rule)
	if r.Checksum != nil {
		fmt.Fprintf(g.IO.Out, "  checksum  sha256:%s, %s\n", r.Checksum.SHA256, r.Provenance)
	}
	if r.Notes != "" {
		fmt.Fprintf(g.IO.Out, "  notes     %s\n", r.Notes)
	}
	fmt.Fprintf(g.IO.Out, "  files     %s\n", strings.Join(r.Files, ", "))
	if r.Branch != "" {
		fmt.Fprintf(g.IO.Out, "  committed %s on %s\n", r.Commit[:min(12, len(r.Commit))], r.Branch)
	}
	return report, nil
}

type upstreamCloneOptions struct {
	Format string
	Dir    string
	Apps   []string
}

func newUpstreamCloneCmd(g *Globals) *cobra.Command {
	var opts upstreamCloneOptions
	c := &cobra.Command{
		Use:   "clone [APP...]",
		Short: "Clone upstream sources at their pinned versions into a git-ignored workspace",
		Long: `Put each package's upstream source (default: every application whose
upstream is a git repository: github, gitlab, gitea, git) at the tag of its
pinned version — the newest acceptable tag when it pins none — into
.cpk/src/<app>/ (git-ignored): a shallow clone of that tag only, or, when the
folder is a clone already, a shallow fetch and checkout. Packages from npm,
PyPI, registries and Debian are skipped.`,
		Example: `  cpk upstream clone
  cpk upstream clone grist --dir ~/src`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			opts.Apps = args
			return runUpstreamClone(c.Context(), g, opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().StringVar(&opts.Dir, "dir", "", "the workspace folder (default: .cpk/src at the repository root)")
	return c
}

type cloneJSON struct {
	App    string `json:"app"`
	Tag    string `json:"tag,omitempty"`
	Dir    string `json:"dir,omitempty"`
	Action string `json:"action"` // cloned, updated, unchanged, skipped, failed
	Error  string `json:"error,omitempty"`
}

func runUpstreamClone(ctx context.Context, g *Globals, opts upstreamCloneOptions) error {
	env, err := loadUpstreamEnv(g)
	if err != nil {
		return err
	}
	apps, err := env.pick(opts.Apps)
	if err != nil {
		return err
	}
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Join(env.root, ".cpk", "src")
	}
	results := cloneAll(ctx, g, env, apps, dir)
	if err := ctx.Err(); err != nil {
		return err
	}
	if opts.Format == "json" {
		if err := g.IO.writeJSON(results); err != nil {
			return err
		}
	} else {
		t := &table{io: g.IO}
		t.row(g.IO.paint(bold, "app"), g.IO.paint(bold, "tag"), g.IO.paint(bold, "action"), g.IO.paint(bold, "folder or reason"))
		for _, r := range results {
			where := r.Dir
			if r.Error != "" {
				where = r.Error
			}
			t.row(r.App, valueOrDash(r.Tag), r.Action, where)
		}
		t.flush()
	}
	if slices.ContainsFunc(results, func(r cloneJSON) bool { return r.Action == "failed" }) {
		return silentFailure
	}
	return nil
}

// cloneAll clones (or updates) each package's upstream at its pinned tag
// into dir/<id>, four at a time.
func cloneAll(ctx context.Context, g *Globals, env *upstreamEnv, apps []*catalog.App, dir string) []cloneJSON {
	results := make([]cloneJSON, len(apps))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, a := range apps {
		results[i] = cloneJSON{App: a.ID}
		if env.client.CloneURL(a.Upstream) == "" {
			results[i].Action, results[i].Error = "skipped", "upstream "+a.Upstream.Source+" has no git repository"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := &results[i]
			pin, err := bump.ReadPin(a.Dir)
			if err == nil {
				var cr upstream.CloneResult
				cr, err = env.client.Clone(ctx, a.Upstream, pin.Version, filepath.Join(dir, a.ID))
				res.Tag, res.Dir, res.Action = cr.Tag, cr.Dir, cr.Action
			}
			if err != nil {
				res.Action, res.Error = "failed", err.Error()
			}
			mu.Lock()
			fmt.Fprintf(g.IO.Err, "%s: %s %s\n", a.ID, res.Action, res.Tag)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}
