package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"cpk/internal/cloudronapi"
	"cpk/internal/cpk"
	"cpk/internal/deploy"
	"cpk/internal/runtime"
	"cpk/internal/steps"
)

// URLTarget sends a package's HTTP checks to an app at its address on a
// Cloudron (https://FQDN, or a local server's http://127.0.0.1:PORT).
type URLTarget struct {
	Base   string
	Client *http.Client // default: 10 s per request, no redirects followed
}

var remoteClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Request sends one request, as runtime.App.Request does.
func (u URLTarget) Request(ctx context.Context, method, path string, body io.Reader, header map[string]string) runtime.Response {
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(u.Base, "/")+path, body)
	if err != nil {
		return runtime.Response{Probe: runtime.Probe{Err: err.Error()}}
	}
	req.Header.Set("User-Agent", runtime.HealthUserAgent)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := u.Client
	if c == nil {
		c = remoteClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return runtime.Response{Probe: runtime.Probe{Err: "no answer: " + err.Error()}}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return runtime.Response{Probe: runtime.Probe{Status: resp.StatusCode, Location: resp.Header.Get("Location")}, Body: string(data)}
}

// RemoteData runs the package's data actions that an app on a Cloudron can
// take: HTTP requests. complete is false when some could not run (exec
// needs a shell in the app's container, which the API does not give).
func (pc *PackageChecks) RemoteData(ctx context.Context, t Target) (checks []Check, complete bool) {
	complete = true
	for _, a := range pc.Data {
		c := Check{Name: "package data: " + a.Title()}
		if !a.HTTPOnly() {
			complete = false
			checks = append(checks, c.warn("not run on a server: it needs the app's container (the API has no exec); the checks that need this data are not counted"))
			continue
		}
		if err := a.RunHTTP(ctx, t, 0); err != nil {
			checks = append(checks, c.fail("%v", err))
		} else {
			checks = append(checks, c.pass("ok"))
		}
	}
	return checks, complete
}

// RemoteChecks runs the package's HTTP checks that apply after step
// against an app on a Cloudron. The other checks need the app's container
// and run in the local test only; when the package's data could not all be
// made (dataComplete false), a failing HTTP check is a warning: it may
// need that data.
func (pc *PackageChecks) RemoteChecks(ctx context.Context, step string, t Target, dataComplete bool) []Check {
	var out []Check
	for _, a := range pc.Checks {
		if !a.HTTPOnly() || len(a.Steps) > 0 && !containsStr(a.Steps, step) {
			continue
		}
		c := Check{Name: "package: " + a.Title()}
		// Without all of the package's data a failure is expected of the
		// checks that need it: they are not asked again for long.
		patience := time.Duration(0)
		if !dataComplete {
			patience = 2 * time.Second
		}
		err := a.RunHTTP(ctx, t, patience)
		switch {
		case err == nil:
			out = append(out, c.pass("ok"))
		case !dataComplete:
			out = append(out, c.warn("%v (not counted: the package's data, made by exec, could not be made on a server)", err))
		default:
			out = append(out, c.fail("%v", err))
		}
	}
	return out
}

// AddressCheck asks the app's health check path at its real address (the
// server says it is healthy; this proves the address serves it): 2xx
// passes, 3xx is a warning (the platform follows no redirect), anything
// else fails, after asking again for up to 10 s.
func AddressCheck(ctx context.Context, t Target, base, path string) Check {
	if path == "" {
		path = "/"
	}
	c := Check{Name: "answers at its address"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := t.Request(ctx, http.MethodGet, path, nil, nil)
		switch {
		case r.Status >= 200 && r.Status < 300:
			return c.pass("GET %s%s answered %s", base, path, r.Probe)
		case r.Redirect():
			return c.warn("GET %s%s answered %s: the docs ask for 2xx", base, path, r.Probe)
		case time.Now().After(deadline) || ctx.Err() != nil:
			return c.fail("GET %s%s answered %s", base, path, r.Probe)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// LocalOnly counts the checks that need the app's container.
func (pc *PackageChecks) LocalOnly() int {
	n := 0
	for _, a := range pc.Checks {
		if !a.HTTPOnly() {
			n++
		}
	}
	return n
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Remote is a Cloudron that cpk test runs the lifecycle on (--server)
// instead of the emulated runtime.
type Remote struct {
	Client *cloudronapi.Client
	// Location is the app's subdomain (or SUB.DOMAIN); "" is cpk-test-APP.
	Location string
	// Image gives the reference the server installs a version from (a
	// pushed image, or the local one for a server on this machine);
	// current is false for the update step's previous version.
	Image func(ctx context.Context, p Package, v *Version, current bool) (string, error)
	// Poll is the interval between two looks at a task (1 s when 0).
	Poll time.Duration
}

// RemoteOptions configure one scenario on a Cloudron.
type RemoteOptions struct {
	Remote          Remote
	App             string
	Dir             string
	Current         Version
	CurrentImage    string // the reference the server installs
	Previous        *Version
	PreviousImage   string
	NoPrevious      string
	RequirePrevious bool
	HealthTimeout   time.Duration
	Steps           []string
	Log             io.Writer
	Observer        Observer
}

type remoteState struct {
	recorder
	o        RemoteOptions
	d        *deploy.Deployer
	pc       *PackageChecks
	res      *Result
	loc      deploy.Location
	appID    string // the app this run installed ("" when none)
	app      *cloudronapi.App
	backup   string
	complete bool // the package's data was all made
	// healthPath is the running version's healthCheckPath.
	healthPath string
}

// RunRemote runs the lifecycle scenario on a Cloudron through its REST
// API: install, restart, backup, restore (from that backup, in place),
// move (to another subdomain), update (the previous version installed,
// then updated to the current one), uninstall (the server no longer knows
// the app). After each step the app must be running and healthy, and the
// package's HTTP checks run against its address. Whatever happens, the app
// this run installed is uninstalled at the end.
func RunRemote(ctx context.Context, o RemoteOptions) (*Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	res := &Result{App: o.App, Image: o.CurrentImage, Version: o.Current.Manifest.Version, Started: time.Now(), Outcome: cpk.OutcomePassed,
		RunID: "server " + o.Remote.Client.Server()}
	if o.Previous != nil {
		res.Previous = o.PreviousImage
		res.PreviousVersion, res.PreviousFrom = o.Previous.Manifest.Version, o.Previous.Label
	}
	defer func() {
		res.Finished = time.Now()
		res.Seconds = res.Finished.Sub(res.Started).Seconds()
		for _, s := range res.Steps {
			res.AppSeconds += s.AppSeconds
		}
	}()
	pc, err := LoadChecks(o.Dir)
	if err != nil {
		res.Outcome, res.Error = cpk.OutcomeFailed, err.Error()
		return res, nil
	}
	s := &remoteState{recorder: recorder{log: o.Log}, o: o, pc: pc, res: res}
	s.d = &deploy.Deployer{Client: o.Remote.Client, Poll: o.Remote.Poll, HealthTimeout: o.HealthTimeout,
		Progress: func(msg string) { fmt.Fprintf(o.Log, "   %s\n", msg) }}
	def := o.Remote.Location
	if def == "" {
		def = "cpk-test-" + o.App
	}
	if s.loc, err = s.d.ResolveLocation(ctx, def, def); err != nil {
		res.Outcome, res.Error = cpk.OutcomeError, err.Error()
		return res, ctxErr(ctx)
	}
	if a, err := s.d.AppAt(ctx, s.loc); err != nil || a != nil {
		if err == nil {
			err = fmt.Errorf("%s already runs app %s (%s): the test installs its own app; give another --location, or uninstall it", s.loc, a.ID, a.Manifest.ID)
		}
		res.Outcome, res.Error = cpk.OutcomeError, err.Error()
		return res, ctxErr(ctx)
	}
	list := s.steps()
	runErr := steps.Run(ctx, list, s, &remoteObserver{s: s})
	if s.appID != "" {
		// The app goes, whatever happened (Ctrl-C included).
		fmt.Fprintf(o.Log, "== cleanup: uninstall app %s\n", s.appID)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		if err := s.d.Uninstall(cctx, s.appID); err != nil && !cloudronapi.NotFound(err) {
			res.Error = fmt.Sprintf("cleanup: app %s could not be uninstalled: %v (remove it in the dashboard)", s.appID, err)
		}
		cancel()
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
	case res.Error != "":
		res.Outcome = cpk.OutcomeError
	}
	return res, nil
}

func ctxErr(ctx context.Context) error { return ctx.Err() }

type remoteObserver struct{ s *remoteState }

func (o *remoteObserver) StepStarted(name string) {
	sr := &StepResult{Name: name, Outcome: cpk.OutcomePassed}
	o.s.res.Steps = append(o.s.res.Steps, sr)
	o.s.cur = sr
	if o.s.o.Observer != nil {
		o.s.o.Observer.StepStarted(o.s.o.App, name)
	}
	fmt.Fprintf(o.s.o.Log, "== %s\n", name)
}

func (o *remoteObserver) StepEnded(name string, took time.Duration, err error) {
	sr := o.s.cur
	sr.Seconds = took.Seconds()
	if err != nil {
		sr.Outcome = cpk.OutcomeFailed
		if !errors.Is(err, errChecks) {
			sr.Message = err.Error()
			fmt.Fprintf(o.s.o.Log, "   failed: %v\n", err)
		}
	}
	if o.s.o.Observer != nil {
		o.s.o.Observer.StepEnded(o.s.o.App, sr)
	}
}

func (o *remoteObserver) StepSkipped(name, reason string) {
	sr := &StepResult{Name: name, Outcome: cpk.OutcomeSkipped, Message: reason}
	o.s.res.Steps = append(o.s.res.Steps, sr)
	if o.s.o.Observer != nil {
		o.s.o.Observer.StepEnded(o.s.o.App, sr)
	}
}

func (s *remoteState) steps() []steps.Step[remoteState] {
	sel := selectionOf(s.o.Steps, s.o.Previous != nil, s.o.RequirePrevious, s.o.NoPrevious)
	return lifecycle(map[string]func(context.Context, *remoteState) error{
		StepInstall: remoteInstall, StepRestart: remoteRestart, StepBackup: remoteBackup, StepRestore: remoteRestore,
		StepMove: remoteMove, StepUpdate: remoteUpdate, StepUninstall: remoteUninstall,
	}, func(s *remoteState, name string) string { return sel.skip(name, s.backup != "") })
}

// healthy records the app running and healthy, then runs the checks.
func (s *remoteState) healthy(ctx context.Context, app *cloudronapi.App, took time.Duration) {
	s.app = app
	s.cur.AppSeconds += took.Seconds()
	s.add(Check{Name: "healthy"}.pass("installed, running and healthy at %s after %.1fs", app.Address(), took.Seconds()))
}

func (s *remoteState) afterStep(ctx context.Context) {
	t := URLTarget{Base: s.app.Address()}
	s.add(AddressCheck(ctx, t, s.app.Address(), s.healthPath))
	for _, c := range s.pc.RemoteChecks(ctx, s.cur.Name, t, s.complete) {
		s.add(c)
	}
}

// forServer is a version's manifest as the API takes it: its files read
// in (file://…), the icon apart, dockerImage set.
func forServer(v Version, image string) (json.RawMessage, []byte, error) {
	raw, icon := json.RawMessage(v.Raw), []byte(nil)
	if v.Dir != "" {
		var err error
		if raw, icon, err = deploy.ResolveFiles(v.Dir, v.Raw); err != nil {
			return nil, nil, err
		}
	}
	m, err := deploy.WithImage(raw, image)
	return m, icon, err
}

// install installs a version and makes the package's data.
func (s *remoteState) install(ctx context.Context, v Version, image string) error {
	m, icon, err := forServer(v, image)
	if err != nil {
		return err
	}
	start := time.Now()
	app, err := s.d.Install(ctx, m, icon, s.loc)
	if err != nil {
		return err
	}
	s.appID = app.ID
	s.healthPath = v.Manifest.HealthCheckPath
	s.healthy(ctx, app, time.Since(start))
	checks, complete := s.pc.RemoteData(ctx, URLTarget{Base: app.Address()})
	s.complete = complete
	for _, c := range checks {
		s.add(c)
	}
	return nil
}

func remoteInstall(ctx context.Context, s *remoteState) error {
	if err := s.install(ctx, s.o.Current, s.o.CurrentImage); err != nil {
		return err
	}
	if n := s.pc.LocalOnly(); n > 0 {
		s.add(Check{Name: "package checks run locally only"}.warn("%d check(s) need the app's container (exec, mail, scheduler task): cpk test without --server runs them", n))
	}
	s.afterStep(ctx)
	return s.verdict()
}

func remoteRestart(ctx context.Context, s *remoteState) error {
	start := time.Now()
	app, err := s.d.Restart(ctx, s.appID)
	if err != nil {
		return err
	}
	s.healthy(ctx, app, time.Since(start))
	s.afterStep(ctx)
	return s.verdict()
}

func remoteBackup(ctx context.Context, s *remoteState) error {
	b, err := s.d.Backup(ctx, s.appID)
	if err != nil {
		return err
	}
	s.backup = b.ID
	s.add(Check{Name: "backup"}.pass("%s (version %s)", b.ID, orDash(b.PackageVersion)))
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func remoteRestore(ctx context.Context, s *remoteState) error {
	start := time.Now()
	app, err := s.d.Restore(ctx, s.appID, s.backup)
	if err != nil {
		return err
	}
	s.healthy(ctx, app, time.Since(start))
	s.add(Check{Name: "restored"}.pass("from backup %s", s.backup))
	s.afterStep(ctx)
	return s.verdict()
}

func remoteMove(ctx context.Context, s *remoteState) error {
	to := deploy.Location{Subdomain: s.loc.Subdomain + "2", Domain: s.loc.Domain}
	if s.loc.Subdomain == "" {
		return errors.New("the app is at the domain's root: there is no subdomain to move it beside")
	}
	if a, err := s.d.AppAt(ctx, to); err != nil {
		return err
	} else if a != nil {
		return fmt.Errorf("%s, where the move step goes, runs app %s: give another --location", to, a.ID)
	}
	start := time.Now()
	app, err := s.d.Move(ctx, s.appID, to)
	if err != nil {
		return err
	}
	s.healthy(ctx, app, time.Since(start))
	c := Check{Name: "new location"}
	if !to.Is(app) {
		s.add(c.fail("the server reports the app at %s, not %s", app.Location(), to))
	} else {
		s.add(c.pass("%s", to))
	}
	s.afterStep(ctx)
	return s.verdict()
}

func remoteUpdate(ctx context.Context, s *remoteState) error {
	prev := s.o.Previous
	if prev == nil {
		why := s.o.NoPrevious
		if why == "" {
			why = "no previous version"
		}
		return errors.New(why + " (a previous version is required)")
	}
	if s.appID != "" {
		if err := s.d.Uninstall(ctx, s.appID); err != nil {
			return fmt.Errorf("uninstall before installing the previous version: %w", err)
		}
		s.appID = ""
	}
	if err := s.install(ctx, *prev, s.o.PreviousImage); err != nil {
		return fmt.Errorf("the previous version (%s): %w", prev.Label, err)
	}
	m, _, err := forServer(s.o.Current, s.o.CurrentImage)
	if err != nil {
		return err
	}
	start := time.Now()
	app, err := s.d.Update(ctx, s.appID, m)
	if err != nil {
		return err
	}
	s.healthPath = s.o.Current.Manifest.HealthCheckPath
	s.healthy(ctx, app, time.Since(start))
	c := Check{Name: "updated"}
	if app.Manifest.Version != s.o.Current.Manifest.Version {
		s.add(c.fail("the server reports version %s, not %s", app.Manifest.Version, s.o.Current.Manifest.Version))
	} else {
		s.add(c.pass("from %s (%s) to %s on the same data", prev.Label, s.o.PreviousImage, s.o.CurrentImage))
	}
	s.afterStep(ctx)
	return s.verdict()
}

func remoteUninstall(ctx context.Context, s *remoteState) error {
	id := s.appID
	if err := s.d.Uninstall(ctx, id); err != nil {
		return err
	}
	s.appID = ""
	s.add(Check{Name: "nothing left"}.pass("the server no longer knows app %s", id))
	return nil
}
