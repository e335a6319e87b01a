package cli

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/base"
	"cpk/internal/build"
	"cpk/internal/ci"
	"cpk/internal/cpk"
	"cpk/internal/engine"
	"cpk/internal/evidence"
	"cpk/internal/fsx"
	"cpk/internal/scenario"
)

type testOptions struct {
	Format        string
	JUnit         string
	Keep          bool
	From          string
	RequireUpdate bool
	Offline       bool
	HealthTimeout time.Duration
	Timeout       time.Duration
	Steps         []string
	All           bool
	Shard         string
	Plan          planOptions
	// Server runs the scenario on a Cloudron through its REST API.
	Server   string
	Location string
	Image    string
}

// newTestCmdLong is the help text of the command.
const newTestCmdLong = `Build each package (unchanged packages are not rebuilt; the build is
recorded as cpk build records it) and run the platform's lifecycle test on
it in an emulated Cloudron: install (first start healthy), restart (data
persists), backup, uninstall + restore into a fresh app with fresh add-ons
(data identical), move to another domain, update from the previous version
(data kept), uninstall (nothing left).

After each step cpk checks that no process serving requests runs as root,
that the app stops on SIGTERM within 10 s with exit 0 or 143 (dying of
another signal, such as a crash on the way out, fails; another non-zero
exit, or a crash of the previous version the update step stops, warns; the
end of its output goes to the log), that it logs to
stdout/stderr and that no write failed on the read-only root filesystem (a
failure is run again with a writable root to name the paths the app
writes), then runs the package's own checks (test/checks.yaml).

The previous version is the package at --from REF (git), else the package
at the newest commit where its version is lower (git: what users update
from, and what the evidence names), else the newest earlier version that
passed here with a lower manifest version (a package not yet committed).
Without one the update step is skipped, or fails with --require-update (for
CI, where every package must prove its update).

Add-on services (PostgreSQL, MariaDB, Redis, an SMTP server, OpenLDAP) run
in containers built once from the local base image (cpk base build); the
oidc, proxyAuth and legacy oauth add-ons are served by cpk itself (an
OpenID provider, the login wall and the old OAuth 2.0 paths, in a container
of the base image), and a checks.yaml oidcLogin check signs a test user in
through the app's login. Every
container, network and volume carries io.cpk.* labels and is removed on
success, failure, timeout and Ctrl-C; --keep leaves them for debugging and
cpk gc removes what dead runs left. Results are recorded, so that cpk
status marks a package verified for its exact content.

With --server URL the scenario runs on a Cloudron through its REST API
instead (the token as for cpk deploy: $CPK_CLOUDRON_TOKEN or
~/.config/cpk/cloudron.json): install, restart, backup, restore from that
backup, move to another subdomain, update from the previous version and
uninstall, each followed through the server's task and ending with the app
running and healthy and the package's HTTP checks passing against its
address (exec, mail and scheduler checks need the container: they run
locally only). The app goes at the end whatever happened, Ctrl-C included.
The images are the ones cpk push recorded, or, for a server on this machine
such as cpk box, the local ones. The report, JUnit file and evidence are the
same; the evidence names the server where the test ran.`

func newTestCmd(g *Globals) *cobra.Command {
	var opts testOptions
	c := &cobra.Command{
		Use:   "test [APP|DIR...]",
		Short: "Run the lifecycle test of packages in an emulated Cloudron",
		Long:  newTestCmdLong,
		Example: `  cpk test webhook
  cpk test --all --offline
  cpk test --shard 2/4 --base origin/main --spot 2   one shard of cpk ci plan's tests
  cpk test webhook --from HEAD~3 --junit junit.xml
  cpk test --require-update --format json > results.json
  cpk test ./my-package --keep --step install --step restart
  cpk test redmine --server http://127.0.0.1:8090         on cpk box serve`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			switch {
			case opts.Shard != "" && (len(args) > 0 || opts.All):
				return usageError("--shard runs the packages of cpk ci plan's shard: name no package and leave out --all")
			case opts.Shard == "" && len(args) == 0 && !opts.All:
				return usageError("name the packages to test, or test every package with --all, or one shard of cpk ci plan with --shard i/N")
			case len(args) > 0 && opts.All:
				return usageError("--all tests every package: name none")
			}
			if opts.Server == "" && (opts.Location != "" || opts.Image != "") {
				return usageError("--location and --image go with --server")
			}
			if opts.Server != "" && opts.Image != "" && (len(args) != 1 || opts.All || opts.Shard != "") {
				return usageError("--image names one package's image: test one package with it")
			}
			for _, s := range opts.Steps {
				if !contains(scenario.StepNames, s) {
					return usageError("--step %q: one of %s", s, strings.Join(scenario.StepNames, ", "))
				}
			}
			return runTest(c.Context(), g, opts, args)
		},
	}
	formatFlag(c, &opts.Format)
	f := c.Flags()
	f.StringVar(&opts.JUnit, "junit", "", "also write the results as JUnit XML to this file")
	f.BoolVar(&opts.Keep, "keep", false, "keep the containers, networks and volumes for debugging (cpk gc removes them later)")
	f.StringVar(&opts.From, "from", "", "git ref of the previous version for the update step")
	f.BoolVar(&opts.RequireUpdate, "require-update", false, "fail the update step, rather than skip it, when there is no previous version")
	f.BoolVar(&opts.Offline, "offline", false, "build FROM the local base instead of cloudron/base (as cpk build --offline)")
	f.DurationVar(&opts.HealthTimeout, "health-timeout", 3*time.Minute, "how long an app may take to turn healthy")
	f.DurationVar(&opts.Timeout, "timeout", 45*time.Minute, "the longest one package's test may take")
	f.StringArrayVar(&opts.Steps, "step", nil, "run only this step (repeatable; install and uninstall always run, and backup with restore)")
	f.BoolVar(&opts.All, "all", false, "test every package of the catalog that has a Dockerfile (the full sweep)")
	f.StringVar(&opts.Shard, "shard", "", "test shard i/N of cpk ci plan (with the same --base and --spot; --offline leaves out packages that need the network)")
	f.StringVar(&opts.Plan.Base, "base", "", "with --shard: the plan's git ref to compare with")
	f.IntVar(&opts.Plan.Spot, "spot", 0, "with --shard: the plan's number of spot checks")
	f.StringVar(&opts.Server, "server", "", "run the scenario on this Cloudron through its REST API (its dashboard address, or cpk box serve's)")
	f.StringVar(&opts.Location, "location", "", "with --server: the test app's subdomain (default cpk-test-APP; the move step uses SUB2)")
	f.StringVar(&opts.Image, "image", "", "with --server: the image reference the server installs for the current version")
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runTest(ctx context.Context, g *Globals, opts testOptions, args []string) error {
	root, err := g.rootDir()
	if err != nil {
		return err
	}
	if opts.Shard != "" {
		if args, err = shardApps(ctx, g, opts); err != nil {
			return err
		}
		if len(args) == 0 {
			fmt.Fprintf(g.IO.Err, "shard %s of the plan has nothing to test\n", opts.Shard)
			return nil
		}
	}
	pkgs, err := buildTargets(ctx, g, root, buildOptions{All: opts.All}, args)
	if err != nil {
		return err
	}
	if len(pkgs) == 0 {
		fmt.Fprintln(g.IO.Err, "nothing to test: no package with a Dockerfile among those selected")
		return nil
	}
	disp := &testDisplay{io: g.IO}
	var suite *scenario.Suite
	var facts scenario.Facts
	if opts.Server != "" {
		suite, facts, err = remoteSuite(ctx, g, opts, disp)
	} else {
		suite, facts, err = testSuite(ctx, g, root, opts, disp)
	}
	if err != nil {
		return err
	}
	var results []*scenario.Result
	var runErr error
	for _, p := range pkgs {
		res, err := testOne(ctx, suite, p, opts.Timeout)
		if res != nil {
			results = append(results, res)
			disp.done(res)
			recordTest(ctx, g, root, p, res, facts)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	if err := reportTests(g.IO, opts, results); err != nil {
		return err
	}
	if runErr != nil {
		return engineError(runErr)
	}
	for _, r := range results {
		if r.Outcome != cpk.OutcomePassed {
			return silentFailure
		}
	}
	return nil
}

// reportTests prints the results (or JSON) and writes the JUnit file.
func reportTests(io *IO, opts testOptions, results []*scenario.Result) error {
	if opts.Format == "json" {
		if results == nil {
			results = []*scenario.Result{}
		}
		_ = io.writeJSON(results)
	} else {
		printTestResults(io, results)
	}
	if opts.JUnit != "" {
		if err := writeJUnit(opts.JUnit, results); err != nil {
			return envError(fmt.Errorf("--junit: %w", err))
		}
	}
	return nil
}

// testSuite prepares the lifecycle test: the build configuration, the base
// image mapping, the local base image the add-ons are built from, the
// engine, and the facts the evidence records.
func testSuite(ctx context.Context, g *Globals, root string, opts testOptions, disp *testDisplay) (*scenario.Suite, scenario.Facts, error) {
	cfg, err := build.LoadConfig(root)
	if err != nil {
		return nil, scenario.Facts{}, usageError("%v", err)
	}
	state := filepath.Join(root, ".cpk")
	mapping, err := baseMapping(state, opts.Offline, cfg)
	if err != nil {
		return nil, scenario.Facts{}, err
	}
	// The add-on images are built FROM the local base, online or not.
	baseRef, err := base.LocalRef(state)
	if err != nil {
		return nil, scenario.Facts{}, envError(err)
	}
	e, err := g.openEngine(ctx)
	if err != nil {
		return nil, scenario.Facts{}, err
	}
	if _, err := base.Inspect(ctx, e, baseRef); err != nil {
		return nil, scenario.Facts{}, engineError(err)
	}
	suite := &scenario.Suite{Engine: e, Runner: g.runner(), Root: root, StateDir: state, Mapping: mapping, BuildArgs: cfg.BuildArgs,
		BaseImage: baseRef, From: opts.From, RequireUpdate: opts.RequireUpdate, Keep: opts.Keep, HealthTimeout: opts.HealthTimeout, Steps: opts.Steps,
		Observer: disp, Progress: disp.progress,
		Built: func(p scenario.Package, r *build.Result, started, finished time.Time) {
			// The build cpk test made counts as one (cpk status: build).
			g.Record(context.WithoutCancel(ctx), buildRuns(root, []build.Package{p}, []*build.Result{r}, started, finished)...)
		}}
	return suite, testFacts(ctx, e, baseRef), nil
}

// testOne tests one package within its time limit; running out of time is
// a failed test, not an error of the run.
func testOne(ctx context.Context, suite *scenario.Suite, p build.Package, timeout time.Duration) (*scenario.Result, error) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := suite.Test(pctx, p)
	if res != nil && pctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		res.Outcome, res.Error = cpk.OutcomeFailed, fmt.Sprintf("timed out after %s (--timeout)", timeout)
		err = nil
	}
	return res, err
}

// shardApps are the packages of one shard of the CI plan.
func shardApps(ctx context.Context, g *Globals, opts testOptions) ([]string, error) {
	i, n, err := ci.ParseShard(opts.Shard)
	if err != nil {
		return nil, usageError("%v", err)
	}
	popts := opts.Plan
	popts.Shards, popts.Offline = n, opts.Offline
	p, err := makePlan(ctx, g, popts)
	if err != nil {
		return nil, err
	}
	s, _ := p.Shard(i)
	if len(s.Apps) > 0 {
		fmt.Fprintf(g.IO.Err, "shard %s of the plan at %s: %s\n", s.Name, short(p.Commit), strings.Join(s.Apps, " "))
	}
	return s.Apps, nil
}

// recordTest keeps a test run of a catalog package in the results store,
// under its catalog content hash, and writes the package's evidence
// (test/evidence.json) when the run verifies it.
func recordTest(ctx context.Context, g *Globals, root string, p build.Package, res *scenario.Result, facts scenario.Facts) {
	cat, _, _ := g.catalog()
	if cat == nil {
		return
	}
	a := cat.App(p.ID)
	if a == nil || !sameDir(a.Dir, p.Dir) {
		return
	}
	hash, err := a.ContentHash()
	if err != nil {
		fmt.Fprintf(g.IO.Err, "warning: %s: not recorded: %v\n", p.ID, err)
		return
	}
	var log string
	if rel, err := filepath.Rel(root, res.Log); err == nil && res.Log != "" {
		log = rel
	}
	g.Record(context.WithoutCancel(ctx), res.Run(hash, log))
	if ev := res.Evidence(hash, facts); ev != nil {
		if st := evidence.Check(a.Dir, hash); facts.Where != "emulated" && st.Current() && st.Evidence.Where == "emulated" {
			// The local run checks more (the container's checks, data
			// markers, root, SIGTERM): its proof of this content stays.
			fmt.Fprintf(g.IO.Err, "%s: %s kept: it proves this content with the local run, which checks more than a server run can (this run is recorded in the results store)\n", p.ID, filepath.Join("apps", p.ID, evidence.File))
			return
		}
		if err := evidence.Write(a.Dir, ev); err != nil {
			fmt.Fprintf(g.IO.Err, "warning: %s: evidence not written: %v\n", p.ID, err)
		} else {
			fmt.Fprintf(g.IO.Err, "%s: evidence written to %s (commit it with the package)\n", p.ID, filepath.Join("apps", p.ID, evidence.File))
		}
	}
}

// testFacts are what the evidence records of this machine: cpk's version,
// the engine and the base image.
func testFacts(ctx context.Context, e engine.Engine, baseRef string) scenario.Facts {
	f := scenario.Facts{Where: "emulated", CPK: Version(), Engine: evidence.Engine{Name: e.Name()}, Base: evidence.Image{Ref: baseRef}}
	if info, err := e.Info(ctx); err == nil {
		f.Engine.Version = info.Version
	}
	if img, err := e.InspectImage(ctx, baseRef); err == nil {
		f.Base.Digest = img.ID
		if img.Digest != "" {
			f.Base.Digest = img.Digest
		}
	}
	return f
}

// testDisplay shows the steps as they go, on stderr: one line per step,
// with the checks that did not pass.
type testDisplay struct {
	io *IO
	mu sync.Mutex
}

func (d *testDisplay) progress(app, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.io.Err, "%s: %s\n", app, msg)
}

func (d *testDisplay) StepStarted(app, step string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.io.ErrTTY {
		fmt.Fprintf(d.io.Err, "%s: %s…\r", app, step)
	}
}

var testOutcomeStyle = map[cpk.Outcome]string{cpk.OutcomePassed: green, cpk.OutcomeFailed: red, cpk.OutcomeError: red, cpk.OutcomeSkipped: dim, cpk.OutcomeCancelled: yellow}

func (d *testDisplay) StepEnded(app string, r *scenario.StepResult) {
	d.mu.Lock()
	defer d.mu.Unlock()
	line := fmt.Sprintf("%s: %-9s %s", app, r.Name, d.io.paint(testOutcomeStyle[r.Outcome], string(r.Outcome)))
	if r.Outcome != cpk.OutcomeSkipped {
		line += fmt.Sprintf(" (%.1fs, %d engine calls)", r.Seconds, r.Calls())
	}
	if r.Outcome == cpk.OutcomeSkipped && r.Message != "" {
		line += ": " + r.Message
	}
	if d.io.ErrTTY {
		line = "\x1b[2K" + line
	}
	fmt.Fprintln(d.io.Err, line)
	for _, c := range r.Checks {
		if c.Status == scenario.Passed {
			continue
		}
		style := yellow
		if c.Status == scenario.Failed {
			style = red
		}
		fmt.Fprintf(d.io.Err, "    %s %s: %s\n", d.io.paint(style, c.Status), c.Name, c.Message)
	}
	if (r.Outcome == cpk.OutcomeFailed || r.Outcome == cpk.OutcomeError) && r.Message != "" {
		fmt.Fprintf(d.io.Err, "    %s\n", r.Message)
	}
}

func (d *testDisplay) done(r *scenario.Result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Error != "" {
		fmt.Fprintf(d.io.Err, "%s: %s\n", r.App, r.Error)
	}
	if r.Log != "" {
		fmt.Fprintf(d.io.Err, "%s: log %s\n", r.App, r.Log)
	}
	if r.Kept {
		fmt.Fprintf(d.io.Err, "%s: --keep: run %s left in place (cpk gc removes it once this process is gone)\n", r.App, r.RunID)
	}
}

func printTestResults(io *IO, results []*scenario.Result) {
	t := &table{io: io}
	if io.OutTTY {
		t.row(io.paint(bold, "app"), io.paint(bold, "result"), io.paint(bold, "steps"), io.paint(bold, "time"), io.paint(bold, "app time"))
	}
	for _, r := range results {
		passed := 0
		for _, s := range r.Steps {
			if s.Outcome == cpk.OutcomePassed {
				passed++
			}
		}
		t.row(r.App, io.paint(testOutcomeStyle[r.Outcome], string(r.Outcome)), fmt.Sprintf("%d/%d", passed, len(r.Steps)),
			fmt.Sprintf("%.1fs", r.Seconds), fmt.Sprintf("%.1fs", r.AppSeconds))
	}
	t.flush()
}

// JUnit XML: one suite per package, one case per step.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func junitXML(results []*scenario.Result) ([]byte, error) {
	var doc junitSuites
	for _, r := range results {
		s := junitSuite{Name: "cpk test " + r.App, Time: fmt.Sprintf("%.3f", r.Seconds)}
		if len(r.Steps) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: "prepare", Classname: r.App, Error: &junitMessage{Message: r.Error, Text: r.Error}})
			s.Errors++
		}
		for _, st := range r.Steps {
			c := junitCase{Name: st.Name, Classname: r.App, Time: fmt.Sprintf("%.3f", st.Seconds)}
			var lines, failed []string
			for _, ch := range st.Checks {
				lines = append(lines, fmt.Sprintf("%s: %s: %s", ch.Status, ch.Name, ch.Message))
				if ch.Status == scenario.Failed {
					failed = append(failed, ch.Name+": "+ch.Message)
				}
			}
			c.SystemOut = strings.Join(lines, "\n")
			msg := st.Message
			if msg == "" {
				msg = strings.Join(failed, "; ")
			}
			switch st.Outcome {
			case cpk.OutcomeFailed:
				c.Failure = &junitMessage{Message: msg, Text: strings.Join(failed, "\n")}
				s.Failures++
			case cpk.OutcomeError, cpk.OutcomeCancelled:
				c.Error = &junitMessage{Message: msg, Text: msg}
				s.Errors++
			case cpk.OutcomeSkipped:
				c.Skipped = &junitMessage{Message: msg}
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		doc.Suites = append(doc.Suites, s)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func writeJUnit(path string, results []*scenario.Result) error {
	data, err := junitXML(results)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := fsx.WriteFile(path, data, 0o644); err != nil {
		return errors.Join(err)
	}
	return nil
}
