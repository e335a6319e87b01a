package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/build"
	"cpk/internal/catalog"
	"cpk/internal/cloudronapi"
	"cpk/internal/cpk"
	"cpk/internal/deploy"
	"cpk/internal/evidence"
	"cpk/internal/scenario"
)

type deployOptions struct {
	Server        string
	Location      string
	Update        bool
	Uninstall     bool
	Backup        bool
	Restore       string
	Image         string
	Format        string
	Offline       bool
	Keep          bool
	HealthTimeout time.Duration
}

const newDeployCmdLong = `Put a package on a Cloudron through its REST API (the platform's published
API description, embedded in cpk): install it, or update it when its
location already runs this app; follow the server's task to its end,
showing its progress; wait until the app runs and is healthy; then send the
package's own HTTP checks (test/checks.yaml) to the app's real address.

The server is the Cloudron's dashboard address (--server https://my.example.com)
or a local development Cloudron (cpk box serve, http://127.0.0.1:PORT). The
API token comes from $CPK_CLOUDRON_TOKEN, or from the server's entry in
~/.config/cpk/cloudron.json, which must be readable by you only (mode 0600):
  {"servers": {"https://my.example.com": {"token": "…"}}}
Make the token in the dashboard: Profile → API Tokens, read-write (an admin's).
A token is never taken from a flag: flags end up in shell history.

The image: --image REF; else, for a server on this machine (a loopback
address, such as cpk box), the package's local image (built when needed,
unchanged content is not rebuilt; the box runs it from the same image
store); else the image cpk push recorded for the package's current content,
by digest. A remote Cloudron pulls the image itself, so push it first
(cpk push APP --registry HOST/NAMESPACE).

Other operations on the app at the location: --update (it must be there),
--uninstall, --backup (the API has no per-app backup route: the server's
backup runs, and the app's new backup is reported), --restore BACKUP_ID.

Checks: only HTTP checks can be sent to an app on a server (exec, mail and
scheduler checks need its container and run in cpk test); the package's data
actions that are HTTP run after a fresh install, and when some data needs
exec, a failing check is reported as a warning rather than a failure.

Safety: Ctrl-C, or a failed install, uninstalls the app this run started
installing (--keep leaves a failed one for a look). An answer the API
description does not allow fails with the offending field named.

Exit codes: 0 deployed and healthy, checks passing; 1 the task failed, the
app did not turn healthy, a check failed, the location is taken by another
app, nothing to act on; 2 usage; 3 no token, the server cannot be reached,
refuses the token or answers unexpectedly; 130 interrupted.`

func newDeployCmd(g *Globals) *cobra.Command {
	var opts deployOptions
	c := &cobra.Command{
		Use:   "deploy APP --server URL",
		Short: "Install or update a package on a Cloudron through its REST API",
		Long:  newDeployCmdLong,
		Example: `  export CPK_CLOUDRON_TOKEN=…          # made in the dashboard: Profile → API Tokens
  cpk push webhook --registry registry.example.com/team
  cpk deploy webhook --server https://my.example.com --location hooks
  cpk deploy webhook --server http://127.0.0.1:8090     # cpk box serve: the local image
  cpk deploy webhook --server https://my.example.com --location hooks --backup
  cpk deploy webhook --server https://my.example.com --location hooks --restore app_…
  cpk deploy webhook --server https://my.example.com --location hooks --uninstall --format json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			n := 0
			for _, set := range []bool{opts.Update, opts.Uninstall, opts.Backup, opts.Restore != ""} {
				if set {
					n++
				}
			}
			if n > 1 {
				return usageError("give one of --update, --uninstall, --backup, --restore")
			}
			if opts.Server == "" {
				return usageError("--server URL is required: the Cloudron's dashboard address, or cpk box serve's http://127.0.0.1:PORT")
			}
			return runDeploy(c.Context(), g, opts, args[0])
		},
	}
	formatFlag(c, &opts.Format)
	f := c.Flags()
	f.StringVar(&opts.Server, "server", "", "the Cloudron's address (its dashboard), e.g. https://my.example.com")
	f.StringVar(&opts.Location, "location", "", "the app's subdomain, or SUB.DOMAIN on a server with several domains (default: the app's id)")
	f.BoolVar(&opts.Update, "update", false, "update the app installed at the location (fail when there is none)")
	f.BoolVar(&opts.Uninstall, "uninstall", false, "uninstall the app installed at the location")
	f.BoolVar(&opts.Backup, "backup", false, "back the app at the location up and print the backup's id")
	f.StringVar(&opts.Restore, "restore", "", "restore the app at the location from this backup id")
	f.StringVar(&opts.Image, "image", "", "the image reference the server installs (default: the local image for a server on this machine, else the one cpk push recorded)")
	f.BoolVar(&opts.Offline, "offline", false, "build FROM the local base, when a local image is built (as cpk build --offline)")
	f.BoolVar(&opts.Keep, "keep", false, "leave a failed install on the server for a look (an interrupted one is removed all the same)")
	f.DurationVar(&opts.HealthTimeout, "health-timeout", 5*time.Minute, "how long the app may take to run and be healthy")
	return c
}

// deployReport is what cpk deploy prints (--format json: all of it).
type deployReport struct {
	App      string           `json:"app"`
	Server   string           `json:"server"`
	Action   string           `json:"action"` // install, update, uninstall, backup, restore
	AppID    string           `json:"appId,omitempty"`
	Location string           `json:"location"`
	Address  string           `json:"address,omitempty"`
	Version  string           `json:"version,omitempty"`
	Image    string           `json:"image,omitempty"`
	Backup   string           `json:"backup,omitempty"`
	Health   string           `json:"health,omitempty"`
	Checks   []scenario.Check `json:"checks"`
	Outcome  string           `json:"outcome"` // passed, failed
	Error    string           `json:"error,omitempty"`
	Seconds  float64          `json:"seconds"`
}

func runDeploy(ctx context.Context, g *Globals, opts deployOptions, appArg string) error {
	started := time.Now()
	sel, err := g.selectPackages([]string{appArg}, catalog.Filter{Dockerfile: true})
	if err != nil {
		return err
	}
	if len(sel.Packages) != 1 {
		return usageError("%s: not a package with a Dockerfile", appArg)
	}
	p := sel.Packages[0]
	raw, err := os.ReadFile(filepath.Join(p.Dir, "CloudronManifest.json"))
	if err != nil {
		return envError(err)
	}
	server, err := cloudronapi.ParseServer(opts.Server)
	if err != nil {
		return usageError("--server: %v", err)
	}
	token, _, err := cloudronapi.Token(server.String())
	if err != nil {
		return envError(err)
	}
	client, err := cloudronapi.New(server.String(), token, nil)
	if err != nil {
		return envError(err)
	}
	d := &deploy.Deployer{Client: client, HealthTimeout: opts.HealthTimeout, Keep: opts.Keep,
		Progress: func(msg string) { fmt.Fprintf(g.IO.Err, "%s: %s\n", p.ID, msg) }}
	rep := &deployReport{App: p.ID, Server: client.Server(), Checks: []scenario.Check{}, Outcome: "passed"}
	err = deployRun(ctx, g, opts, d, p, raw, rep)
	rep.Seconds = float64(time.Since(started).Round(100*time.Millisecond)) / float64(time.Second)
	if err != nil {
		rep.Outcome, rep.Error = "failed", err.Error()
		if ctx.Err() != nil {
			rep.Outcome = "cancelled"
		}
	} else {
		for _, c := range rep.Checks {
			if c.Status == scenario.Failed {
				rep.Outcome = "failed"
				err = silentFailure
			}
		}
	}
	printDeploy(g.IO, opts.Format, rep)
	return deployExit(err)
}

// deployExit maps a deploy failure to the exit codes of the help text.
func deployExit(err error) error {
	var ue *cloudronapi.UnreachableError
	var pe *cloudronapi.ProtocolError
	var ae *cloudronapi.APIError
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return err
	case err == silentFailure:
		return err
	case errors.As(err, &ue), errors.As(err, &pe):
		return envError(err)
	case errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403):
		return envError(err)
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: ExitFindings, Err: err}
}

func deployRun(ctx context.Context, g *Globals, opts deployOptions, d *deploy.Deployer, p build.Package, raw []byte, rep *deployReport) error {
	loc, err := d.ResolveLocation(ctx, opts.Location, p.ID)
	if err != nil {
		return err
	}
	rep.Location = loc.String()
	existing, err := d.AppAt(ctx, loc)
	if err != nil {
		return err
	}
	wantID := deploy.ManifestID(raw)
	if existing != nil && existing.Manifest.ID != wantID {
		return &deploy.TakenError{Location: loc, App: *existing}
	}
	none := func(what string) error {
		return fmt.Errorf("nothing to %s: no app is installed at %s", what, loc)
	}
	switch {
	case opts.Uninstall:
		rep.Action = "uninstall"
		if existing == nil {
			return none("uninstall")
		}
		rep.AppID = existing.ID
		return d.Uninstall(ctx, existing.ID)
	case opts.Backup:
		rep.Action = "backup"
		if existing == nil {
			return none("back up")
		}
		rep.AppID = existing.ID
		b, err := d.Backup(ctx, existing.ID)
		if err != nil {
			return err
		}
		rep.Backup = b.ID
		return nil
	case opts.Restore != "":
		rep.Action, rep.Backup = "restore", opts.Restore
		if existing == nil {
			return none("restore")
		}
		rep.AppID = existing.ID
		app, err := d.Restore(ctx, existing.ID, opts.Restore)
		if err != nil {
			return err
		}
		return deployChecks(ctx, p, raw, app, false, rep)
	case opts.Update && existing == nil:
		rep.Action = "update"
		return none("update")
	}
	image, err := deployImage(ctx, g, opts, d.Client, p)
	if err != nil {
		return err
	}
	resolved, icon, err := deploy.ResolveFiles(p.Dir, raw)
	if err != nil {
		return &ExitError{Code: ExitFindings, Err: err}
	}
	m, err := deploy.WithImage(resolved, image)
	if err != nil {
		return &ExitError{Code: ExitFindings, Err: err}
	}
	rep.Image = image
	if existing != nil {
		rep.Action, rep.AppID = "update", existing.ID
		fmt.Fprintf(g.IO.Err, "%s: %s runs %s %s (app %s): updating it to %s\n", p.ID, loc, existing.Manifest.ID, existing.Manifest.Version, existing.ID, image)
		app, err := d.Update(ctx, existing.ID, m)
		if err != nil {
			return err
		}
		return deployChecks(ctx, p, raw, app, false, rep)
	}
	rep.Action = "install"
	fmt.Fprintf(g.IO.Err, "%s: installing %s at %s on %s\n", p.ID, image, loc, d.Client.Server())
	app, err := d.Install(ctx, m, icon, loc)
	if app != nil {
		rep.AppID = app.ID
	}
	if err != nil {
		return err
	}
	return deployChecks(ctx, p, raw, app, true, rep)
}

// deployChecks reports the healthy app and runs the package's HTTP checks
// against its address (after a fresh install, its HTTP data actions first).
func deployChecks(ctx context.Context, p build.Package, raw []byte, app *cloudronapi.App, fresh bool, rep *deployReport) error {
	rep.AppID, rep.Address, rep.Version, rep.Health, rep.Location = app.ID, app.Address(), app.Manifest.Version, app.Health, app.Location()
	pc, err := scenario.LoadChecks(p.Dir)
	if err != nil {
		return &ExitError{Code: ExitFindings, Err: err}
	}
	target := scenario.URLTarget{Base: app.Address()}
	var m struct {
		HealthCheckPath string `json:"healthCheckPath"`
	}
	_ = json.Unmarshal(raw, &m)
	rep.Checks = append(rep.Checks, scenario.AddressCheck(ctx, target, app.Address(), m.HealthCheckPath))
	complete := true
	for _, a := range pc.Data {
		if !a.HTTPOnly() {
			complete = false
		}
	}
	if fresh {
		var checks []scenario.Check
		checks, complete = pc.RemoteData(ctx, target)
		rep.Checks = append(rep.Checks, checks...)
	}
	step := scenario.StepInstall
	if rep.Action != "install" {
		step = rep.Action
	}
	rep.Checks = append(rep.Checks, pc.RemoteChecks(ctx, step, target, complete)...)
	return ctx.Err()
}

func printDeploy(io *IO, format string, rep *deployReport) {
	if format == "json" {
		_ = io.writeJSON(rep)
		return
	}
	for _, c := range rep.Checks {
		style := green
		switch c.Status {
		case scenario.Failed:
			style = red
		case scenario.Warning:
			style = yellow
		}
		fmt.Fprintf(io.Err, "%s:   %s %s: %s\n", rep.App, io.paint(style, c.Status), c.Name, c.Message)
	}
	t := &table{io: io}
	if io.OutTTY {
		t.row(io.paint(bold, "app"), io.paint(bold, "action"), io.paint(bold, "result"), io.paint(bold, "location"), io.paint(bold, "app id"), io.paint(bold, "address / backup"))
	}
	where := rep.Address
	if rep.Action == "backup" || rep.Action == "restore" {
		where = rep.Backup
	}
	style := green
	if rep.Outcome != "passed" {
		style = red
	}
	t.row(rep.App, rep.Action, io.paint(style, rep.Outcome), rep.Location, orDash(rep.AppID), orDash(where))
	t.flush()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// deployImage is the reference the server installs: --image; else, for a
// server on this machine, the package's local image (built when its
// content changed); else the one cpk push recorded for the package's
// current content, by digest.
func deployImage(ctx context.Context, g *Globals, opts deployOptions, client *cloudronapi.Client, p build.Package) (string, error) {
	if opts.Image != "" {
		return opts.Image, nil
	}
	if !client.Loopback() {
		push, err := pushedImage(ctx, g, p.ID, p.Dir)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(g.IO.Err, "%s: the image cpk push recorded for this content: %s (%s, pushed %s)\n", p.ID, push.Pinned(), push.Reference, push.Pushed.UTC().Format(time.RFC3339))
		return push.Pinned(), nil
	}
	v, err := localVersion(ctx, g, opts.Offline, p)
	if err != nil {
		return "", err
	}
	return v.Image, nil
}

// pushedImage is the newest push cpk push recorded for the content of the
// package folder dir (cpk.LastPush); none is a usage error that says how to
// make one.
func pushedImage(ctx context.Context, g *Globals, app, dir string) (cpk.Push, error) {
	hash, err := (&catalog.App{Dir: dir}).ContentHash()
	if err != nil {
		return cpk.Push{}, envError(err)
	}
	st, err := g.openResults(ctx)
	if err != nil {
		return cpk.Push{}, err
	}
	if st == nil {
		return cpk.Push{}, usageError("%s: no image was pushed from here (no results store yet): push it first (cpk push %s --registry HOST/NAMESPACE), or give --image REF", app, app)
	}
	defer st.Close()
	push, err := cpk.LastPush(ctx, st, app, hash, "")
	if errors.Is(err, cpk.ErrNoPush) {
		return cpk.Push{}, usageError("%v (a remote Cloudron pulls the image itself), or give --image REF", err)
	}
	if err != nil {
		return cpk.Push{}, envError(err)
	}
	return push, nil
}

// localVersion builds a package's current content (cached when unchanged)
// as cpk build does, and records the build.
func localVersion(ctx context.Context, g *Globals, offline bool, p build.Package) (*scenario.Version, error) {
	suite, err := buildSuite(ctx, g, offline)
	if err != nil {
		return nil, err
	}
	v, err := suite.Current(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, engineError(err)
	}
	return v, nil
}

// buildSuite is a scenario.Suite able to build packages (and find their
// previous versions), without the emulated runtime's add-ons.
func buildSuite(ctx context.Context, g *Globals, offline bool) (*scenario.Suite, error) {
	root, err := g.rootDir()
	if err != nil {
		return nil, err
	}
	cfg, err := build.LoadConfig(root)
	if err != nil {
		return nil, usageError("%v", err)
	}
	state := filepath.Join(root, ".cpk")
	mapping, err := baseMapping(state, offline, cfg)
	if err != nil {
		return nil, err
	}
	e, err := g.openEngine(ctx)
	if err != nil {
		return nil, err
	}
	return &scenario.Suite{Engine: e, Runner: g.runner(), Root: root, StateDir: state, Mapping: mapping, BuildArgs: cfg.BuildArgs,
		Progress: func(app, msg string) { fmt.Fprintf(g.IO.Err, "%s: %s\n", app, msg) },
		Built: func(p scenario.Package, r *build.Result, started, finished time.Time) {
			g.Record(context.WithoutCancel(ctx), buildRuns(root, []build.Package{p}, []*build.Result{r}, started, finished)...)
		}}, nil
}

// remoteSuite prepares cpk test --server: the packages are built here (as
// for the local test), the scenario runs on the server.
func remoteSuite(ctx context.Context, g *Globals, opts testOptions, disp *testDisplay) (*scenario.Suite, scenario.Facts, error) {
	server, err := cloudronapi.ParseServer(opts.Server)
	if err != nil {
		return nil, scenario.Facts{}, usageError("--server: %v", err)
	}
	token, _, err := cloudronapi.Token(server.String())
	if err != nil {
		return nil, scenario.Facts{}, envError(err)
	}
	client, err := cloudronapi.New(server.String(), token, nil)
	if err != nil {
		return nil, scenario.Facts{}, envError(err)
	}
	version, err := client.Status(ctx)
	if err != nil {
		return nil, scenario.Facts{}, deployExit(err)
	}
	suite, err := buildSuite(ctx, g, opts.Offline)
	if err != nil {
		return nil, scenario.Facts{}, err
	}
	suite.From, suite.RequireUpdate, suite.HealthTimeout, suite.Steps = opts.From, opts.RequireUpdate, opts.HealthTimeout, opts.Steps
	suite.Observer, suite.Progress = disp, disp.progress
	suite.Remote = &scenario.Remote{Client: client, Location: opts.Location,
		Image: func(ctx context.Context, p scenario.Package, v *scenario.Version, current bool) (string, error) {
			if opts.Image != "" && current {
				return opts.Image, nil
			}
			if client.Loopback() {
				return v.Image, nil
			}
			if v.Dir == "" {
				return "", fmt.Errorf("%s (%s): an earlier tested image, with no package folder to find its push by; give --from REF", p.ID, v.Label)
			}
			push, err := pushedImage(ctx, g, p.ID, v.Dir)
			if err != nil {
				return "", fmt.Errorf("%s (%s): %w", p.ID, v.Label, err)
			}
			return push.Pinned(), nil
		}}
	facts := scenario.Facts{Where: client.Server(), CPK: Version(), Engine: evidence.Engine{Name: "cloudron", Version: version}}
	return suite, facts, nil
}
