// Package scenario runs the lifecycle test of a package as ordered steps,
// after the platform's own test sequence (reference §8): install, restart,
// backup, uninstall + restore into a fresh instance, move to another
// domain, update from the previous version, uninstall. After each step the
// app must be healthy and keep its data, and cpk checks what only running
// the app can show: that it does not serve as root, that it stops on
// SIGTERM within 10 s with exit 0 or 143 (not by crashing), that it logs
// to stdout/stderr and that no write failed on the read-only root
// filesystem. A package's own checks (test/checks.yaml) run after each
// step too.
package scenario

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/engine"
	"cpk/internal/manifest"
	"cpk/internal/runtime"
	"cpk/internal/steps"
)

// The steps, in order.
const (
	StepInstall   = cpk.StepInstall
	StepRestart   = cpk.StepRestart
	StepBackup    = cpk.StepBackup
	StepRestore   = cpk.StepRestore
	StepMove      = cpk.StepMove
	StepUpdate    = cpk.StepUpdate
	StepUninstall = cpk.StepUninstall
)

// StepNames lists the steps in the order they run.
var StepNames = []string{StepInstall, StepRestart, StepBackup, StepRestore, StepMove, StepUpdate, StepUninstall}

// Version is one version of a package: its image and manifest.
type Version struct {
	Image    string
	Manifest manifest.Manifest
	Raw      []byte // CloudronManifest.json as written
	Label    string // how to call it in messages (a version, a git ref)
	// Dir is the package folder it was built from ("" for an earlier
	// tested image): the files its manifest refers to (file://…).
	Dir string
}

// Options configure one scenario.
type Options struct {
	Engine     engine.Engine
	App        string // catalog id
	Dir        string // the package folder (test/checks.yaml)
	Current    Version
	Previous   *Version // the update step's starting point; nil skips it with NoPrevious as the reason
	NoPrevious string
	// RequirePrevious fails the update step, rather than skipping it,
	// when there is no previous version.
	RequirePrevious bool
	BaseImage       string
	StateDir        string // this run's folder
	Keep            bool
	// HealthTimeout bounds each wait for the app to turn healthy (default 3 min).
	HealthTimeout time.Duration
	// Steps limits the run to these steps (and those they need); nil = all.
	Steps    []string
	Log      io.Writer
	Observer Observer
}

// Observer hears about the steps as they go.
type Observer interface {
	StepStarted(app, step string)
	StepEnded(app string, r *StepResult)
}

// Check statuses.
const (
	Passed  = "passed"
	Warning = "warning"
	Failed  = "failed"
)

// Check is one verdict inside a step.
type Check struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

func (c Check) pass(f string, a ...any) Check {
	c.Status, c.Message = Passed, fmt.Sprintf(f, a...)
	return c
}
func (c Check) warn(f string, a ...any) Check {
	c.Status, c.Message = Warning, fmt.Sprintf(f, a...)
	return c
}
func (c Check) fail(f string, a ...any) Check {
	c.Status, c.Message = Failed, fmt.Sprintf(f, a...)
	return c
}

// StepResult is what one step did.
type StepResult struct {
	Name    string      `json:"name"`
	Outcome cpk.Outcome `json:"outcome"`
	Seconds float64     `json:"seconds"`
	// AppSeconds is the part spent waiting for the app: starting its
	// container until it is healthy, stopping it.
	AppSeconds float64 `json:"appSeconds"`
	// StartSeconds is the part of AppSeconds the engine took to create
	// and start the app's containers.
	StartSeconds float64 `json:"startSeconds,omitempty"`
	Message      string  `json:"message,omitempty"`
	Checks       []Check `json:"checks,omitempty"`
	// EngineCalls counts the engine calls the step made, by verb.
	EngineCalls map[string]int `json:"engineCalls,omitempty"`
}

// Calls is the number of engine calls of the step.
func (r *StepResult) Calls() int { return sum(r.EngineCalls) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Result is one scenario's outcome.
type Result struct {
	App      string `json:"app"`
	Image    string `json:"image"`
	Version  string `json:"version,omitempty"` // the manifest version tested
	Previous string `json:"previous,omitempty"`
	// PreviousVersion and PreviousFrom say where the update step started:
	// the previous manifest version and where it came from (a git commit, an
	// earlier tested image).
	PreviousVersion string        `json:"previousVersion,omitempty"`
	PreviousFrom    string        `json:"previousFrom,omitempty"`
	RunID           string        `json:"run"`
	Outcome         cpk.Outcome   `json:"outcome"`
	Started         time.Time     `json:"started"`
	Finished        time.Time     `json:"finished"`
	Seconds         float64       `json:"seconds"`
	AppSeconds      float64       `json:"appSeconds"`
	Steps           []*StepResult `json:"steps"`
	Kept            bool          `json:"kept,omitempty"`
	Error           string        `json:"error,omitempty"`
	// Log is the path of the run's full log.
	Log string `json:"log,omitempty"`
	// EngineCalls counts the run's engine calls by verb: the steps', and
	// those of setting the box up and removing it.
	EngineCalls map[string]int `json:"engineCalls,omitempty"`
	// EngineSeconds is the time those calls took, by verb.
	EngineSeconds map[string]float64 `json:"engineSeconds,omitempty"`
}

// Failures lists the failed checks and steps, "step: message".
func (r *Result) Failures() []string {
	var out []string
	for _, s := range r.Steps {
		n := 0
		for _, c := range s.Checks {
			if c.Status == Failed {
				out = append(out, s.Name+": "+c.Name+": "+c.Message)
				n++
			}
		}
		if s.Outcome == cpk.OutcomeFailed && n == 0 || s.Outcome == cpk.OutcomeError {
			out = append(out, s.Name+": "+s.Message)
		}
	}
	return out
}

type state struct {
	recorder
	o       Options
	calls   *engine.Counter
	before  map[string]int // the counts when the current step started
	box     *runtime.Box
	app     *runtime.App // the app under test
	backup  *runtime.Backup
	pc      *PackageChecks
	marker  string
	res     *Result
	stopped bool
}

// errChecks is a step that ran but whose checks failed.
var errChecks = errors.New("checks failed")

// Run runs the scenario. The error is for the run as a whole (no engine,
// Ctrl-C); a failed step is in the result.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	calls := engine.NewCounter(o.Engine)
	o.Engine = calls
	res := &Result{App: o.App, Image: o.Current.Image, Version: o.Current.Manifest.Version, Started: time.Now(), Outcome: cpk.OutcomePassed}
	if o.Previous != nil {
		res.Previous = o.Previous.Image
		res.PreviousVersion, res.PreviousFrom = o.Previous.Manifest.Version, o.Previous.Label
	}
	defer func() {
		res.Finished = time.Now()
		res.Seconds = res.Finished.Sub(res.Started).Seconds()
		for _, s := range res.Steps {
			res.AppSeconds += s.AppSeconds
		}
		res.EngineCalls = calls.Counts()
		res.EngineSeconds = map[string]float64{}
		for verb, d := range calls.Took() {
			res.EngineSeconds[verb] = math.Round(d.Seconds()*1000) / 1000
		}
	}()
	pc, err := LoadChecks(o.Dir)
	if err != nil {
		res.Outcome, res.Error = cpk.OutcomeFailed, err.Error()
		return res, nil
	}
	var names []string
	for n := range o.Current.Manifest.Addons {
		names = append(names, n)
	}
	if err := runtime.CheckAddons(names); err != nil {
		res.Outcome, res.Error = cpk.OutcomeSkipped, err.Error()
		return res, nil
	}
	box, err := runtime.New(ctx, runtime.Options{Engine: o.Engine, App: o.App, BaseImage: o.BaseImage, StateDir: o.StateDir,
		Keep: o.Keep, Log: o.Log, HealthTimeout: o.HealthTimeout})
	if box != nil {
		res.RunID = box.RunID
		res.Kept = o.Keep
		defer func() {
			if cerr := box.Close(ctx); cerr != nil && res.Error == "" {
				res.Error = "cleanup: " + cerr.Error()
				if res.Outcome == cpk.OutcomePassed {
					res.Outcome = cpk.OutcomeError
				}
			}
		}()
	}
	if err != nil {
		return res, err
	}
	s := &state{recorder: recorder{log: o.Log}, o: o, calls: calls, box: box, pc: pc, res: res, marker: nonce()}
	list := s.steps()
	obs := &observer{s: s}
	runErr := steps.Run(ctx, list, s, obs)
	// The app is stopped whatever happened, and how it stops is checked.
	if s.app != nil && s.app.Container != "" && ctx.Err() == nil {
		if s.cur == nil {
			s.cur = res.Steps[len(res.Steps)-1]
		}
		if runErr != nil {
			// The container goes when it stops: its output stays in the log.
			if out, err := s.app.Logs(ctx); err == nil {
				fmt.Fprintf(o.Log, "   the app's output, in full:\n%s\n", indent(strings.TrimRight(out, "\n")))
			}
		}
		s.stop(context.WithoutCancel(ctx))
	}
	for _, st := range list[len(res.Steps):] {
		why := "an earlier step failed"
		if ctx.Err() != nil {
			why = "interrupted"
		}
		res.Steps = append(res.Steps, &StepResult{Name: st.Name, Outcome: cpk.OutcomeSkipped, Message: why})
	}
	switch {
	case ctx.Err() != nil:
		res.Outcome = cpk.OutcomeCancelled
		return res, ctx.Err()
	case runErr != nil:
		res.Outcome = cpk.OutcomeFailed
		last := res.Steps[len(res.Steps)-1]
		for _, st := range res.Steps {
			if st.Outcome == cpk.OutcomeFailed || st.Outcome == cpk.OutcomeError {
				last = st
				break
			}
		}
		if !errors.Is(runErr, errChecks) && last.Message == "" {
			last.Message = runErr.Error()
		}
	}
	return res, nil
}

// callSummary lists calls by verb, the most frequent first: "exec 9, inspect 4".
func callSummary(calls map[string]int) string {
	verbs := make([]string, 0, len(calls))
	for v := range calls {
		verbs = append(verbs, v)
	}
	slices.SortFunc(verbs, func(a, b string) int {
		if calls[a] != calls[b] {
			return calls[b] - calls[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(verbs))
	for i, v := range verbs {
		parts[i] = fmt.Sprintf("%s %d", v, calls[v])
	}
	return strings.Join(parts, ", ")
}

func nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type observer struct{ s *state }

func (o *observer) StepStarted(name string) {
	sr := &StepResult{Name: name, Outcome: cpk.OutcomePassed}
	o.s.res.Steps = append(o.s.res.Steps, sr)
	o.s.cur = sr
	o.s.before = o.s.calls.Counts()
	if o.s.o.Observer != nil {
		o.s.o.Observer.StepStarted(o.s.o.App, name)
	}
	fmt.Fprintf(o.s.o.Log, "== %s\n", name)
}

func (o *observer) StepEnded(name string, took time.Duration, err error) {
	sr := o.s.cur
	sr.Seconds = took.Seconds()
	sr.EngineCalls = o.s.calls.Since(o.s.before)
	fmt.Fprintf(o.s.o.Log, "   %d engine calls: %s\n", sr.Calls(), callSummary(sr.EngineCalls))
	if err != nil {
		sr.Outcome = cpk.OutcomeFailed
		if !errors.Is(err, errChecks) {
			var ee *engine.Error
			if errors.As(err, &ee) && !errors.Is(err, context.Canceled) {
				sr.Outcome = cpk.OutcomeError
			}
			sr.Message = err.Error()
		}
	} else if sr.Outcome == cpk.OutcomeFailed {
		sr.Outcome = cpk.OutcomeFailed
	}
	if o.s.o.Observer != nil {
		o.s.o.Observer.StepEnded(o.s.o.App, sr)
	}
}

func (o *observer) StepSkipped(name, reason string) {
	sr := &StepResult{Name: name, Outcome: cpk.OutcomeSkipped, Message: reason}
	o.s.res.Steps = append(o.s.res.Steps, sr)
	if o.s.o.Observer != nil {
		o.s.o.Observer.StepEnded(o.s.o.App, sr)
	}
}

func (s *state) steps() []steps.Step[state] {
	sel := selectionOf(s.o.Steps, s.o.Previous != nil, s.o.RequirePrevious, s.o.NoPrevious)
	return lifecycle(map[string]func(context.Context, *state) error{
		StepInstall: install, StepRestart: restart, StepBackup: backupStep, StepRestore: restore,
		StepMove: move, StepUpdate: update, StepUninstall: uninstall,
	}, func(s *state, name string) string { return sel.skip(name, s.backup != nil) })
}

// --- the steps ---

func install(ctx context.Context, s *state) error {
	s.app = s.box.NewApp(s.o.Current.Image, s.o.Current.Manifest, "test")
	s.app.Raw = s.o.Current.Raw
	if err := s.startFresh(ctx, s.app); err != nil {
		return err
	}
	if s.cur.Outcome == cpk.OutcomeFailed {
		return errChecks
	}
	s.writeData(ctx, s.app)
	s.afterStep(ctx)
	return s.verdict()
}

// startFresh installs app and waits for it to be healthy; when it never
// is, the checks say why (read-only writes, root, logs).
func (s *state) startFresh(ctx context.Context, app *runtime.App) error {
	if err := app.Install(ctx); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	app.WarmHelper(ctx) // the markers are written once the app is healthy
	return s.waitHealthy(ctx, app)
}

// waitHealthy waits for the first healthy answer and records it as the
// "healthy" check; on failure it runs the diagnosis.
func (s *state) waitHealthy(ctx context.Context, app *runtime.App) error {
	probe, err := app.WaitHealthy(ctx, 0)
	s.cur.AppSeconds += app.StartTook.Seconds() + app.HealthTook.Seconds()
	s.cur.StartSeconds += app.StartTook.Seconds()
	c := Check{Name: "healthy"}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		s.add(c.fail("%v", err))
		s.diagnose(ctx, app, true)
		return nil
	case probe.Redirect():
		s.add(c.warn("GET %s answered %s: the docs ask for 2xx (the platform follows no redirect)", app.Manifest.HealthCheckPath, probe))
	case app.Manifest.HealthCheckPath == "":
		s.add(c.warn("no healthCheckPath: the platform calls the app healthy whatever it does"))
	default:
		s.add(c.pass("GET %s answered %s after %.1fs", app.Manifest.HealthCheckPath, probe, app.HealthTook.Seconds()))
	}
	return nil
}

// diagnose explains a failed start: the processes, the logs, and, when
// the logs show a write on the read-only root or the app never turned
// healthy, the paths it writes (run again with a writable root).
func (s *state) diagnose(ctx context.Context, app *runtime.App, failed bool) {
	if info, err := app.State(ctx); err == nil && info.Running {
		s.add(checkNotRoot(ctx, app))
	}
	logs, ro, hit := checkLogs(ctx, app)
	s.add(logs)
	if out, err := app.Logs(ctx); err == nil && failed {
		// All of it: the container is removed when it stops, --keep or not.
		fmt.Fprintf(s.o.Log, "   the app's output, in full:\n%s\n", indent(strings.TrimRight(out, "\n")))
	}
	if hit || failed {
		// Stop the failed container first (its stop is checked too).
		s.stop(ctx)
		paths, err := diagnoseReadOnly(ctx, app, 30*time.Second)
		switch {
		case err != nil:
			s.add(Check{Name: "read-only root"}.warn("the diagnosis with a writable root failed: %v", err))
		case len(paths) > 0:
			msg := fmt.Sprintf("the app writes outside /app/data, /run and /tmp, which are read-only on Cloudron: %s (found by running it with a writable root)", strings.Join(paths, ", "))
			if hit {
				msg = ro.Message + "; " + msg
			}
			ro = ro.fail("%s", msg)
		case hit:
			ro.Message += " (a run with a writable root wrote nowhere else: the write may be conditional)"
		}
	}
	s.add(ro)
}

func indent(s string) string { return "     " + strings.ReplaceAll(s, "\n", "\n     ") }

// afterStep runs the checks every step ends with while the app runs:
// root, logs, the markers, the package's own checks. They only read, so
// they run at once (each an exec or a request the engine or the app
// answers on its own; the process list leaves the others' execs out);
// the package's checks keep their order among themselves, and the report
// keeps the order above.
func (s *state) afterStep(ctx context.Context) {
	app := s.app
	if app == nil || app.Container == "" {
		return
	}
	var (
		wg                 sync.WaitGroup
		root, logs, ro     Check
		hit                bool
		markers, sso, pkgs []Check
	)
	wg.Go(func() { root = checkNotRoot(ctx, app) })
	wg.Go(func() { logs, ro, hit = checkLogs(ctx, app) })
	if s.cur.Name != StepInstall {
		wg.Go(func() { markers = []Check{s.checkMarkers(ctx, app)} })
	}
	wg.Go(func() { sso = s.checkSSO(ctx, app); pkgs = s.packageChecks(ctx, app) })
	wg.Wait()
	s.add(root)
	s.add(logs)
	if hit {
		if paths, err := diagnoseReadOnlyRunning(ctx, s, app); err == nil && len(paths) > 0 {
			ro = ro.fail("%s; the app writes: %s (found by running it with a writable root)", ro.Message, strings.Join(paths, ", "))
		}
	}
	s.add(ro)
	for _, c := range slices.Concat(markers, sso, pkgs) {
		s.add(c)
	}
}

// packageChecks runs the package's own checks for this step, in order.
func (s *state) packageChecks(ctx context.Context, app *runtime.App) []Check {
	var out []Check
	for _, a := range s.pc.Checks {
		if len(a.Steps) > 0 && !slices.Contains(a.Steps, s.cur.Name) {
			continue
		}
		c := Check{Name: "package: " + a.title()}
		if err := a.run(ctx, app); err != nil {
			out = append(out, c.fail("%v", err))
		} else {
			out = append(out, c.pass("ok"))
		}
	}
	return out
}

// diagnoseReadOnlyRunning runs the writable copy beside a healthy app: it
// is stopped first, then started again.
func diagnoseReadOnlyRunning(ctx context.Context, s *state, app *runtime.App) ([]string, error) {
	s.stop(ctx)
	paths, err := diagnoseReadOnly(ctx, app, 30*time.Second)
	if serr := app.Start(ctx); serr != nil {
		return paths, serr
	}
	_, _ = app.WaitHealthy(ctx, 0)
	return paths, err
}

// writeData writes the markers and runs the package's data actions.
func (s *state) writeData(ctx context.Context, app *runtime.App) {
	c := Check{Name: "data written"}
	// The markers and the package's actions touch different data: at once.
	var wg sync.WaitGroup
	var markerErr error
	wg.Go(func() { markerErr = app.WriteMarker(ctx, s.marker) })
	var failed *Check
	for _, a := range s.pc.Data {
		// steps: [install] leaves a data action out of the update step's
		// previous version (which may not have what it needs yet).
		if len(a.Steps) > 0 && !slices.Contains(a.Steps, s.cur.Name) {
			continue
		}
		if err := a.run(ctx, app); err != nil {
			f := Check{Name: "package data: " + a.title()}.fail("%v", err)
			failed = &f
			break
		}
	}
	wg.Wait()
	switch {
	case markerErr != nil:
		s.add(c.fail("%v", markerErr))
		return
	case failed != nil:
		s.add(*failed)
		return
	}
	s.add(c.pass("markers in %s; %d package data action(s)", strings.Join(markerPlaces(app), ", "), len(s.pc.Data)))
}

func markerPlaces(app *runtime.App) []string {
	var out []string
	for _, n := range []string{"localstorage", "mysql", "postgresql", "redis"} {
		if _, ok := app.Manifest.Addons[n]; ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []string{"nowhere (no add-on keeps data)"}
	}
	return out
}

func (s *state) checkMarkers(ctx context.Context, app *runtime.App) Check {
	c := Check{Name: "data kept"}
	m, err := app.ReadMarkers(ctx)
	if err != nil {
		return c.fail("%v", err)
	}
	var lost []string
	for place, v := range m {
		if v != s.marker {
			lost = append(lost, place)
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		return c.fail("the data written at install is gone from %s", strings.Join(lost, ", "))
	}
	return c.pass("in %s", strings.Join(markerPlaces(app), ", "))
}

// stop stops the app and checks that it ended on SIGTERM (§4.7).
func (s *state) stop(ctx context.Context) {
	if s.app == nil || s.app.Container == "" {
		return
	}
	s.stopApp(ctx, s.app)
}

func (s *state) stopApp(ctx context.Context, app *runtime.App) {
	if app.Container == "" {
		return
	}
	res, err := app.Stop(ctx)
	s.cur.AppSeconds += res.Took.Seconds()
	s.addStop(res, err)
}

// uninstallApp uninstalls app, whose stop is checked as stopApp checks it.
func (s *state) uninstallApp(ctx context.Context, app *runtime.App) error {
	running := app.Container != ""
	res, err := app.Uninstall(ctx)
	if running {
		s.cur.AppSeconds += res.Took.Seconds()
		s.addStop(res, res.Err)
	}
	return err
}

// addStop adds the check of a stop and, when the app did not end
// cleanly, the end of its output to the log (the container is gone).
func (s *state) addStop(res runtime.StopResult, err error) {
	s.add(stopCheck(res, err))
	s.stopOutput(res, err)
}

// addPreviousStop checks the stop of the previous version (label) that
// the update step replaces: as addStop, except that a crash or another
// non-zero exit only warns, as the version under test cannot change how
// its predecessor stops (the package's own checks still see what was
// lost).
func (s *state) addPreviousStop(res runtime.StopResult, err error, label string) {
	c := stopCheck(res, err)
	if c.Status == Failed && err == nil && !res.Killed {
		c = c.warn("the previous version %s: %s (users who update from it may lose the same; nothing in this version can change that)", label, c.Message)
	}
	s.add(c)
	s.stopOutput(res, err)
}

func (s *state) stopOutput(res runtime.StopResult, err error) {
	if err == nil && !res.Clean() && res.LastOutput != "" {
		fmt.Fprintf(s.log, "   the app's last output before it ended:\n%s\n", indent(strings.TrimRight(res.LastOutput, "\n")))
	}
}

// stopCheck judges how the app ended on SIGTERM (§4.7). Exit 0, and 143
// (128+SIGTERM: it died of SIGTERM, or its shell returned the status of
// a child that did), are clean. Needing the SIGKILL, or dying of another
// signal (a crash: 139 SIGSEGV, 134 SIGABRT…), fail: what the app had
// not yet saved may be lost. Another non-zero exit is a warning: many
// servers exit 1 on SIGTERM for nothing worse, but it may be an error at
// shutdown.
func stopCheck(res runtime.StopResult, err error) Check {
	c := Check{Name: "stops on SIGTERM"}
	took := res.Took.Round(100 * time.Millisecond)
	switch {
	case err != nil:
		return c.fail("%v", err)
	case res.Killed:
		return c.fail("the app ignored SIGTERM and was killed after %s: exec the final process and let it handle SIGTERM (reference §4.7)", took)
	case !res.Inspected:
		return c.pass("in %s (exit code unknown: the stopped container could not be inspected)", took)
	case res.Clean():
		return c.pass("in %s (exit %d)", took, res.ExitCode)
	}
	read := "its output could not be read before its container went: stop it by hand, read what it prints"
	if res.LastOutput != "" {
		read = "read the end of its output (below)"
	}
	if n := res.Signal(); n > 0 {
		why := "it crashed while shutting down"
		if n == 9 {
			why = "it was killed before the grace period ended"
			if res.OOMKilled {
				why += ", by the kernel for want of memory (raise memoryLimit in the manifest)"
			}
		}
		return c.fail("the app ended with exit %d (128+%d: it, or the process its start script waited for, died of %s) %s after SIGTERM: %s, and what it had not saved yet may be lost; "+
			"%s, find what fails at shutdown and make the app end with exit 0 or 143 (reference §4.7)",
			res.ExitCode, n, runtime.SignalName(n), took, why, read)
	}
	return c.warn("the app ended with exit %d %s after SIGTERM, not 0 or 143: a non-zero exit on SIGTERM often means an error at shutdown, which may lose data; %s and fix what it shows (reference §4.7)",
		res.ExitCode, took, read)
}

func restart(ctx context.Context, s *state) error {
	s.stop(ctx)
	if err := s.app.Start(ctx); err != nil {
		return err
	}
	if err := s.waitHealthy(ctx, s.app); err != nil {
		return err
	}
	if s.cur.Outcome == cpk.OutcomeFailed {
		return errChecks
	}
	s.afterStep(ctx)
	return s.verdict()
}

func backupStep(ctx context.Context, s *state) error {
	bk, err := s.app.Backup(ctx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	s.backup = bk
	s.add(Check{Name: "backup"}.pass("%s: /app/data (%d paths) and %s, %d bytes", bk.ID, len(bk.Snapshot.Files), strings.Join(bk.Files, ", "), bk.Bytes))
	return nil
}

func restore(ctx context.Context, s *state) error {
	old, bk := s.app, s.backup
	app := s.box.NewApp(bk.Image, bk.Manifest, old.Location)
	app.Raw = bk.Raw
	// The fresh app (its own id, add-ons and volume) is filled from the
	// archive while the old one stops and goes: they share nothing, and
	// the fresh one starts only once the old one is gone.
	var restoreErr error
	var wg sync.WaitGroup
	wg.Go(func() { restoreErr = app.RestoreFrom(ctx, bk) })
	uninstallErr := s.uninstallApp(ctx, old)
	wg.Wait()
	if uninstallErr != nil {
		return fmt.Errorf("uninstall before the restore: %w", uninstallErr)
	}
	s.app = app
	if restoreErr != nil {
		return fmt.Errorf("restore: %w", restoreErr)
	}
	snap, err := app.Snapshot(ctx)
	if err != nil {
		return err
	}
	c := Check{Name: "data identical"}
	if d := bk.Snapshot.Diff(snap); len(d) > 0 {
		if len(d) > 10 {
			d = append(d[:10], fmt.Sprintf("and %d more", len(d)-10))
		}
		s.add(c.fail("the restored data differs from the backup: %s", strings.Join(d, "; ")))
	} else {
		var parts []string
		if len(snap.Files) > 0 || app.DataVolume != "" {
			parts = append(parts, fmt.Sprintf("/app/data (%d paths)", len(snap.Files)))
		}
		for _, n := range sortedKeys(snap.Addons) {
			parts = append(parts, n)
		}
		s.add(c.pass("%s identical in a fresh app %s with fresh add-ons", orNothing(parts), app.ID))
	}
	if err := app.Start(ctx); err != nil {
		return err
	}
	if err := s.waitHealthy(ctx, app); err != nil {
		return err
	}
	if s.cur.Outcome == cpk.OutcomeFailed {
		return errChecks
	}
	s.afterStep(ctx)
	return s.verdict()
}

func orNothing(parts []string) string {
	if len(parts) == 0 {
		return "nothing to compare (no add-on keeps data):"
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func move(ctx context.Context, s *state) error {
	app := s.app
	loc := app.Location + "2"
	res, err := app.Reconfigure(ctx, app.Image, app.Manifest, loc)
	s.cur.AppSeconds += res.Took.Seconds()
	s.addStop(res, err)
	if err != nil {
		return err
	}
	if err := s.waitHealthy(ctx, app); err != nil {
		return err
	}
	if s.cur.Outcome == cpk.OutcomeFailed {
		return errChecks
	}
	// Beside the checks every step ends with (they only read too).
	var domain Check
	var wg sync.WaitGroup
	wg.Go(func() { domain = checkDomain(ctx, app) })
	s.afterStep(ctx)
	wg.Wait()
	s.add(domain)
	return s.verdict()
}

// checkDomain checks that the moved app's container was created with
// its new domain: the environment its processes start with, as the
// engine reports it (no exec: the image needs no shell).
func checkDomain(ctx context.Context, app *runtime.App) Check {
	c := Check{Name: "new domain"}
	info, err := app.State(ctx)
	if err != nil {
		return c.fail("inspect the app's container: %v", err)
	}
	p := "CLOUDRON_"
	if app.Manifest.ManifestVersion <= 1 {
		p = ""
	}
	for _, kv := range []string{p + "APP_DOMAIN=" + app.FQDN(), p + "APP_ORIGIN=https://" + app.FQDN()} {
		if !slices.Contains(info.Env, kv) {
			return c.fail("the app does not see its new domain %s: its container has no %s", app.FQDN(), kv)
		}
	}
	return c.pass("%sAPP_DOMAIN=%s", p, app.FQDN())
}

func update(ctx context.Context, s *state) error {
	prev := s.o.Previous
	if prev == nil {
		why := s.o.NoPrevious
		if why == "" {
			why = "no previous version"
		}
		return errors.New(why + " (a previous version is required)")
	}
	if s.app != nil {
		if err := s.uninstallApp(ctx, s.app); err != nil {
			return fmt.Errorf("uninstall before installing the previous version: %w", err)
		}
	}
	var names []string
	for n := range prev.Manifest.Addons {
		names = append(names, n)
	}
	if err := runtime.CheckAddons(names); err != nil {
		return fmt.Errorf("the previous version: %w", err)
	}
	app := s.box.NewApp(prev.Image, prev.Manifest, "test")
	app.Raw = prev.Raw
	s.app = app
	if err := s.startFresh(ctx, app); err != nil {
		return fmt.Errorf("the previous version (%s): %w", prev.Label, err)
	}
	if s.cur.Outcome == cpk.OutcomeFailed {
		s.cur.Message = "the previous version " + prev.Label + " did not install"
		return errChecks
	}
	s.writeData(ctx, app)
	res, err := app.Reconfigure(ctx, s.o.Current.Image, s.o.Current.Manifest, app.Location)
	app.Raw = s.o.Current.Raw
	s.cur.AppSeconds += res.Took.Seconds()
	s.addPreviousStop(res, err, prev.Label)
	if err != nil {
		return err
	}
	if err := s.waitHealthy(ctx, app); err != nil {
		return err
	}
	if s.cur.Outcome == cpk.OutcomeFailed {
		return errChecks
	}
	s.add(Check{Name: "updated"}.pass("from %s (%s) to %s on the same data and databases", prev.Label, prev.Image, s.o.Current.Image))
	s.afterStep(ctx)
	return s.verdict()
}

func uninstall(ctx context.Context, s *state) error {
	app := s.app
	if err := s.uninstallApp(ctx, app); err != nil {
		return err
	}
	left, err := app.Leftovers(ctx)
	if err != nil {
		return err
	}
	c := Check{Name: "nothing left"}
	if len(left) > 0 {
		s.add(c.fail("left behind: %s", strings.Join(left, ", ")))
	} else {
		s.add(c.pass("no container, volume, database or user of app %s", app.ID))
	}
	return s.verdict()
}
