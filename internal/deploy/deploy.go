// Package deploy puts a package on a Cloudron through its REST API
// (internal/cloudronapi): install, or update when its location already runs
// the app; uninstall, backup, restore, restart and move; each operation
// follows the server's task to its end and waits for the app to run and be
// healthy. An install this package started is uninstalled again when it is
// interrupted (Ctrl-C) or fails, so that no half-installed app is left.
package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cpk/internal/cloudronapi"
)

// Deployer runs operations on one server.
type Deployer struct {
	Client *cloudronapi.Client
	// Progress hears one line per change of a task or of the app's state.
	Progress func(msg string)
	// Poll is the interval between two looks at a task or an app (1 s when 0).
	Poll time.Duration
	// HealthTimeout bounds the wait for the app to run and be healthy
	// (5 min when 0).
	HealthTimeout time.Duration
	// Keep leaves a failed install in place (for a look at it) rather than
	// uninstalling it; an interrupted one is removed all the same.
	Keep bool
}

func (d *Deployer) progress(format string, args ...any) {
	if d.Progress != nil {
		d.Progress(fmt.Sprintf(format, args...))
	}
}

// Location is where an app is reached: subdomain and domain ("" for the
// server's own, on a server that does not list its domains).
type Location struct {
	Subdomain, Domain string
}

// Is reports whether an app is at this location (any domain when the
// location's domain is not known).
func (l Location) Is(a *cloudronapi.App) bool {
	return strings.EqualFold(a.Subdomain, l.Subdomain) && (l.Domain == "" || strings.EqualFold(a.Domain, l.Domain))
}

func (l Location) String() string {
	if l.Subdomain == "" || l.Domain == "" {
		return l.Subdomain + l.Domain
	}
	return l.Subdomain + "." + l.Domain
}

// WithImage returns the manifest JSON with dockerImage set to image.
func WithImage(manifest []byte, image string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("CloudronManifest.json: %v", err)
	}
	ref, _ := json.Marshal(image)
	m["dockerImage"] = ref
	out, err := json.Marshal(m)
	return out, err
}

// maxFile bounds a file a manifest refers to.
const maxFile = 4 << 20

// ResolveFiles prepares a package's CloudronManifest.json for the API, as
// the platform's own CLI does: a top-level value "file://NAME" (the
// description, the changelog, a post-install message) becomes the file's
// text, and the icon ("icon": "file://icon.png") is read out and returned
// apart, for the install request's own icon field. Names must stay inside
// the package folder.
func ResolveFiles(dir string, manifest []byte) (json.RawMessage, []byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, nil, fmt.Errorf("CloudronManifest.json: %v", err)
	}
	var icon []byte
	for key, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) != nil || !strings.HasPrefix(s, "file://") {
			continue
		}
		name := strings.TrimPrefix(s, "file://")
		clean := filepath.Clean(filepath.FromSlash(name))
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return nil, nil, fmt.Errorf("CloudronManifest.json: %s: %s is outside the package", key, s)
		}
		data, err := readLimited(filepath.Join(dir, clean))
		if err != nil {
			return nil, nil, fmt.Errorf("CloudronManifest.json: %s: %v", key, err)
		}
		if key == "icon" {
			icon = data
			delete(m, key)
			continue
		}
		m[key], _ = json.Marshal(string(data))
	}
	out, err := json.Marshal(m)
	return out, icon, err
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err == nil && len(data) > maxFile {
		err = fmt.Errorf("%s is larger than %d bytes", path, maxFile)
	}
	return data, err
}

// ManifestID is the manifest's id.
func ManifestID(manifest []byte) string {
	var m struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(manifest, &m)
	return m.ID
}

// ResolveLocation turns --location (SUB, SUB.DOMAIN, or "" for def) into a
// location on one of the server's domains: a name ending in one of them is
// split there; otherwise it is a subdomain of the server's only domain
// (with several, say which).
func (d *Deployer) ResolveLocation(ctx context.Context, loc, def string) (Location, error) {
	if loc == "" {
		loc = def
	}
	domains, err := d.Client.Domains(ctx)
	if cloudronapi.NotFound(err) {
		// A server that does not list its domains (cpk box serves one and
		// takes an empty domain for it): SUB.DOMAIN as given, else SUB on
		// the server's own domain.
		if sub, dom, ok := strings.Cut(loc, "."); ok {
			return Location{Subdomain: sub, Domain: dom}, nil
		}
		return Location{Subdomain: loc}, nil
	}
	if err != nil {
		return Location{}, err
	}
	if len(domains) == 0 {
		return Location{}, errors.New("the server has no domain: add one in its dashboard (Domains) first")
	}
	best := ""
	for _, dom := range domains {
		if (loc == dom || strings.HasSuffix(loc, "."+dom)) && len(dom) > len(best) {
			best = dom
		}
	}
	if best != "" {
		return Location{Subdomain: strings.TrimSuffix(strings.TrimSuffix(loc, best), "."), Domain: best}, nil
	}
	if len(domains) > 1 {
		return Location{}, fmt.Errorf("the server has several domains (%s): give --location SUB.DOMAIN", strings.Join(domains, ", "))
	}
	if strings.Contains(loc, ".") {
		return Location{}, fmt.Errorf("--location %s: the server's domain is %s; give a subdomain (SUB) or SUB.%s", loc, domains[0], domains[0])
	}
	return Location{Subdomain: loc, Domain: domains[0]}, nil
}

// AppAt is the app installed at a location (nil when none).
func (d *Deployer) AppAt(ctx context.Context, loc Location) (*cloudronapi.App, error) {
	apps, err := d.Client.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	for i := range apps {
		a := &apps[i]
		if loc.Is(a) {
			return a, nil
		}
	}
	return nil, nil
}

// TakenError is a location that runs another app.
type TakenError struct {
	Location Location
	App      cloudronapi.App
}

func (e *TakenError) Error() string {
	what := e.App.Manifest.ID
	if e.App.Manifest.Title != "" {
		what = e.App.Manifest.Title + " (" + what + ")"
	}
	return fmt.Sprintf("%s is taken by another app: %s, app id %s; choose another --location, or uninstall that app first", e.Location, what, e.App.ID)
}

// task follows a task to its end, reporting its progress.
func (d *Deployer) task(ctx context.Context, id, what string) error {
	_, err := d.Client.WaitTask(ctx, id, what, d.Poll, func(t *cloudronapi.Task) {
		msg := t.Message
		if msg == "" {
			msg = "…"
		}
		d.progress("%s: %3.0f%% %s", what, t.Percent, msg)
	})
	return err
}

// Install installs an app from a manifest (dockerImage set) at a location,
// follows the task and waits until the app runs and is healthy; icon
// (optional) is the app's icon file. The caller has checked that nothing is
// installed at the location. When the
// install is interrupted, or fails (unless Keep), the app it started is
// uninstalled again; the error says so.
func (d *Deployer) Install(ctx context.Context, manifest json.RawMessage, icon []byte, loc Location) (*cloudronapi.App, error) {
	appID, taskID, err := d.Client.InstallApp(ctx, cloudronapi.Install{Manifest: manifest, Icon: icon, Subdomain: loc.Subdomain, Domain: loc.Domain})
	if err != nil {
		err = fmt.Errorf("install at %s: %w", loc, err)
		if ctx.Err() != nil {
			// Interrupted while the server took the request: it may have
			// started the app all the same. Look at the location.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if a, lerr := d.AppAt(cctx, loc); lerr == nil && a != nil && a.Manifest.ID == ManifestID(manifest) {
				d.progress("the install was interrupted: uninstalling app %s, which this run started", a.ID)
				if uerr := d.cleanup(ctx, a.ID); uerr != nil {
					return nil, errors.Join(err, fmt.Errorf("uninstalling app %s, which this run started, failed too: %w (remove it in the dashboard)", a.ID, uerr))
				}
				return nil, fmt.Errorf("%w (app %s uninstalled again)", err, a.ID)
			}
		}
		return nil, err
	}
	d.progress("install: app %s, task %s", appID, taskID)
	err = d.task(ctx, taskID, "install")
	var app *cloudronapi.App
	if err == nil {
		app, err = d.WaitHealthy(ctx, appID)
	}
	if err == nil {
		return app, nil
	}
	if ctx.Err() == nil && d.Keep {
		return nil, fmt.Errorf("%w (app %s left in place: --keep)", err, appID)
	}
	why := "failed"
	if ctx.Err() != nil {
		why = "was interrupted"
	}
	d.progress("the install %s: uninstalling app %s, which this run started", why, appID)
	if uerr := d.cleanup(ctx, appID); uerr != nil {
		return nil, errors.Join(err, fmt.Errorf("uninstalling app %s, which this run started, failed too: %w (remove it in the dashboard)", appID, uerr))
	}
	return nil, fmt.Errorf("%w (app %s uninstalled again)", err, appID)
}

// cleanup uninstalls an app this run started, whatever happened to ctx.
func (d *Deployer) cleanup(ctx context.Context, appID string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	var err error
	for {
		var tid string
		tid, err = d.Client.UninstallApp(cctx, appID)
		if err == nil {
			return d.task(cctx, tid, "uninstall")
		}
		if cloudronapi.NotFound(err) {
			return nil
		}
		// A server may refuse while its own task still runs (409): ask
		// again until it takes it.
		var ae *cloudronapi.APIError
		if !errors.As(err, &ae) || ae.Status != 409 {
			return err
		}
		select {
		case <-cctx.Done():
			return err
		case <-time.After(2 * time.Second):
		}
	}
}

// Update updates an installed app to a manifest (dockerImage set).
func (d *Deployer) Update(ctx context.Context, appID string, manifest json.RawMessage) (*cloudronapi.App, error) {
	tid, err := d.Client.UpdateApp(ctx, appID, manifest, false)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if err := d.task(ctx, tid, "update"); err != nil {
		return nil, err
	}
	return d.WaitHealthy(ctx, appID)
}

// Restart restarts an app and waits for it.
func (d *Deployer) Restart(ctx context.Context, appID string) (*cloudronapi.App, error) {
	tid, err := d.Client.RestartApp(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	if err := d.task(ctx, tid, "restart"); err != nil {
		return nil, err
	}
	return d.WaitHealthy(ctx, appID)
}

// Move moves an app to another location and waits for it.
func (d *Deployer) Move(ctx context.Context, appID string, loc Location) (*cloudronapi.App, error) {
	tid, err := d.Client.ConfigureLocation(ctx, appID, loc.Subdomain, loc.Domain)
	if err != nil {
		return nil, fmt.Errorf("move to %s: %w", loc, err)
	}
	if err := d.task(ctx, tid, "move"); err != nil {
		return nil, err
	}
	return d.WaitHealthy(ctx, appID)
}

// Uninstall uninstalls an app and checks that the server no longer knows
// it.
func (d *Deployer) Uninstall(ctx context.Context, appID string) error {
	tid, err := d.Client.UninstallApp(ctx, appID)
	if err != nil {
		return fmt.Errorf("uninstall: %w", err)
	}
	if err := d.task(ctx, tid, "uninstall"); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		a, err := d.Client.GetApp(ctx, appID)
		if cloudronapi.NotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("uninstall: the task ended, but the server still lists app %s (%s)", appID, a.InstallationState)
		}
		if err := sleep(ctx, d.poll()); err != nil {
			return err
		}
	}
}

// Backup backs the app up and returns the new backup's id. The API
// description has no route that backs up one app: cpk starts the server's
// backup (POST /backups/create) and takes the app's backup that appeared.
func (d *Deployer) Backup(ctx context.Context, appID string) (*cloudronapi.Backup, error) {
	before, err := d.Client.ListBackups(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	seen := map[string]bool{}
	for _, b := range before {
		seen[b.ID] = true
	}
	tid, err := d.Client.CreateBackup(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := d.task(ctx, tid, "backup"); err != nil {
		return nil, err
	}
	after, err := d.Client.ListBackups(ctx, appID)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	for i := range after {
		if !seen[after[i].ID] {
			return &after[i], nil
		}
	}
	return nil, fmt.Errorf("backup: the backup task ended, but app %s lists no new backup", appID)
}

// Restore restores an app from one of its backups and waits for it.
func (d *Deployer) Restore(ctx context.Context, appID, backupID string) (*cloudronapi.App, error) {
	tid, err := d.Client.RestoreApp(ctx, appID, backupID)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := d.task(ctx, tid, "restore"); err != nil {
		return nil, err
	}
	return d.WaitHealthy(ctx, appID)
}

func (d *Deployer) poll() time.Duration {
	if d.Poll > 0 {
		return d.Poll
	}
	return time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// HealthError is an app that did not turn healthy in time.
type HealthError struct {
	App    cloudronapi.App
	Waited time.Duration
}

func (e *HealthError) Error() string {
	a := e.App
	msg := fmt.Sprintf("app %s is not running and healthy after %s: installation %s, run state %s, health %s", a.ID, e.Waited.Round(time.Second),
		orDash(a.InstallationState), orDash(a.RunState), orDash(a.Health))
	if t := a.ErrorText(); t != "" {
		msg += ": " + t
	}
	return msg
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WaitHealthy waits until the app is installed, running and healthy. An
// app in the error state fails at once, with the server's error text.
func (d *Deployer) WaitHealthy(ctx context.Context, appID string) (*cloudronapi.App, error) {
	timeout := d.HealthTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	start := time.Now()
	var last string
	for {
		a, err := d.Client.GetApp(ctx, appID)
		if err != nil {
			return nil, err
		}
		state := a.InstallationState + "/" + a.RunState + "/" + a.Health
		if state != last {
			last = state
			d.progress("app %s: %s, %s, %s", a.ID, orDash(a.InstallationState), orDash(a.RunState), orDash(a.Health))
		}
		switch {
		case a.InstallationState == cloudronapi.StateInstalled && a.RunState == cloudronapi.RunRunning && a.Health == cloudronapi.HealthHealthy:
			return a, nil
		case a.InstallationState == cloudronapi.StateError || strings.HasSuffix(a.InstallationState, "_error"):
			return nil, &HealthError{App: *a, Waited: time.Since(start)}
		case time.Since(start) > timeout:
			return nil, &HealthError{App: *a, Waited: time.Since(start)}
		}
		if err := sleep(ctx, d.poll()); err != nil {
			return nil, err
		}
	}
}

// Logs writes the app's last lines to w (for a failure report).
func (d *Deployer) Logs(ctx context.Context, appID string, lines int, w io.Writer) error {
	out, err := d.Client.Logs(ctx, appID, lines)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, out)
	return err
}
