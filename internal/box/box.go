// Package box is a development Cloudron on the packager's machine (cpk box
// serve): the part of the platform's REST API that deploying and testing a
// package use (apps: list, get, install, update, uninstall, restart,
// configure location, logs; backups: create, list, restore; tasks), served
// from the published API description (reference/cloudron-openapi) over
// cpk's emulated runtime, whose add-ons are real servers in containers.
//
// A box is long-lived: its run id, apps, backups and tasks are kept in its
// state folder (BoxStateFile), and everything it creates carries the
// runtime's labels plus LabelBox, the state folder's path. Stopping the
// server leaves the apps and their add-ons running; the next Open finds
// them again, finishes what a killed server left half done (an install
// that did not end is removed) and removes the helpers it left. cpk gc
// leaves a box's resources alone while its state names them; Down removes
// them all, and the state with them.
//
// Long operations answer with a task id at once and run one at a time;
// a task moves pending → active → success or error, its error being the
// text of the real failure. As on the platform, a task ends when the app's
// container runs: its health is asked when the app is shown (GET
// /apps/{id}), and clients wait for "healthy". Each app's local address
// (http://127.0.0.1:PORT, its httpPort published on loopback, the same
// port at every start) is reported in the app's upstreamUri.
package box

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"cpk/internal/engine"
	"cpk/internal/fsx"
	"cpk/internal/manifest"
	"cpk/internal/runtime"
)

// Options configure a box.
type Options struct {
	Engine engine.Engine
	// BaseImage is the local base image the add-on and helper images
	// start FROM (base.LocalRef).
	BaseImage string
	// StateDir holds the box's state, the apps' credentials and the
	// backups (e.g. .cpk/box).
	StateDir string
	// Token is the API token every request must carry.
	Token string
	// Domain is the box's domain (default runtime.DefaultDomain): apps live
	// at <subdomain>.<domain>.
	Domain string
	// Log receives what the box does, one line per action.
	Log io.Writer
}

// ErrServing says another cpk box serve serves the box.
var ErrServing = errors.New("another cpk box serve serves the box")

// open are the state folders of the boxes open in this process.
var open sync.Map

// APIVersion is the platform version whose API the box serves (POST /apps
// installs since 8.1), with cpk's mark.
const APIVersion = "8.1.0+cpk.box"

// Box is an open development Cloudron.
type Box struct {
	o   Options
	dir string // StateDir, absolute
	rt  *runtime.Box

	mu   sync.Mutex
	st   *state
	apps map[string]*runtime.App // live apps by id

	ctx    context.Context // the tasks' context: cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sem    chan struct{} // one task at a time

	closeOnce sync.Once
}

// state is BoxStateFile.
type state struct {
	Run      string         `json:"run"`
	Domain   string         `json:"domain"`
	PID      int            `json:"pid,omitempty"` // the serving process
	NextTask int            `json:"nextTask"`
	Apps     []*appState    `json:"apps"`
	Backups  []*backupState `json:"backups"`
	Tasks    []*task        `json:"tasks"`
}

// Installation states of the platform.
const (
	stateInstalled       = "installed"
	stateError           = "error"
	statePendingInstall  = "pending_install"
	statePendingUninst   = "pending_uninstall"
	statePendingUpdate   = "pending_update"
	statePendingRestart  = "pending_restart"
	statePendingRestore  = "pending_restore"
	statePendingBackup   = "pending_backup"
	statePendingLocation = "pending_location_change"
)

// appState is one app as the box keeps it.
type appState struct {
	Runtime           runtime.AppRecord `json:"runtime"`
	AppStoreID        string            `json:"appStoreId"`
	InstallationState string            `json:"installationState"`
	Error             string            `json:"error,omitempty"`
	TaskID            int               `json:"taskId,omitempty"`
	Created           time.Time         `json:"creationTime"`
	Updated           time.Time         `json:"updateTime"`
}

// backupState is one app backup.
type backupState struct {
	Backup   runtime.Backup  `json:"backup"`
	Manifest json.RawMessage `json:"manifest"`
	Version  string          `json:"packageVersion"`
	Created  time.Time       `json:"creationTime"`
}

// maxTasks is how many ended tasks the state keeps.
const maxTasks = 500

// Open opens the box in o.StateDir, making it the first time: it finds
// its apps again and tidies what a killed server left. Close it.
func Open(ctx context.Context, o Options) (*Box, error) {
	if o.Engine == nil {
		return nil, errors.New("box: no engine")
	}
	if o.Token == "" {
		return nil, errors.New("box: no API token")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	dir, err := filepath.Abs(o.StateDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = &state{Run: runtime.NewRunID(), Domain: o.Domain, NextTask: 1}
		if st.Domain == "" {
			st.Domain = runtime.DefaultDomain
		}
	} else if o.Domain != "" && o.Domain != st.Domain {
		return nil, fmt.Errorf("the box in %s serves the domain %s, not %s (cpk box down makes a fresh one)", dir, st.Domain, o.Domain)
	}
	if st.PID != 0 && st.PID != os.Getpid() && runtime.ProcessAlive(st.PID) {
		return nil, fmt.Errorf("%w in %s (process %d): stop it first", ErrServing, dir, st.PID)
	}
	if _, busy := open.LoadOrStore(dir, true); busy {
		return nil, fmt.Errorf("%w in %s (this process): stop it first", ErrServing, dir)
	}
	opened := false
	defer func() {
		if !opened {
			open.Delete(dir)
		}
	}()
	st.PID = os.Getpid()
	b := &Box{o: o, dir: dir, st: st, apps: map[string]*runtime.App{}, sem: make(chan struct{}, 1)}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	// The state names the run before anything of it exists: cpk gc must
	// never take the box's resources for a dead run's.
	if err := b.save(); err != nil {
		return nil, err
	}
	rt, err := runtime.New(ctx, runtime.Options{Engine: o.Engine, App: "box", BaseImage: o.BaseImage, StateDir: dir,
		Domain: st.Domain, Log: o.Log, RunID: st.Run,
		Labels: map[string]string{runtime.LabelBox: dir}})
	if err != nil {
		b.release()
		return nil, err
	}
	b.rt = rt
	if err := b.recover(ctx); err != nil {
		b.release()
		return nil, err
	}
	opened = true
	return b, nil
}

// Dir is the box's state folder.
func (b *Box) Dir() string { return b.dir }

// Domain is the box's domain.
func (b *Box) Domain() string { return b.st.Domain }

// RunID is the box's run id (the io.cpk.run label of what it made).
func (b *Box) RunID() string { return b.st.Run }

func (b *Box) logf(format string, args ...any) {
	fmt.Fprintf(b.o.Log, "%s %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func readState(dir string) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, runtime.BoxStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := &state{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("%s: %w (cpk box down removes the box)", filepath.Join(dir, runtime.BoxStateFile), err)
	}
	if st.Run == "" {
		return nil, fmt.Errorf("%s names no run (cpk box down removes the box)", filepath.Join(dir, runtime.BoxStateFile))
	}
	return st, nil
}

// save writes the state (the caller holds mu, or no task runs yet).
func (b *Box) save() error {
	if n := len(b.st.Tasks); n > maxTasks {
		b.st.Tasks = b.st.Tasks[n-maxTasks:]
	}
	data, err := json.MarshalIndent(b.st, "", "  ")
	if err != nil {
		return err
	}
	return fsx.WriteFile(filepath.Join(b.dir, runtime.BoxStateFile), append(data, '\n'), 0o600)
}

// saveLocked saves, logging a failure (a task goes on).
func (b *Box) saveLocked() {
	if err := b.save(); err != nil {
		b.logf("cannot save the box's state: %v", err)
	}
}

// release forgets the serving process in the state.
func (b *Box) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.st.PID = 0
	b.saveLocked()
}

// Close stops the tasks (an install that has not ended is removed, the
// others leave their app in the error state), waits for them and keeps
// everything else: the apps go on running, and the next Open finds them.
func (b *Box) Close() error {
	b.closeOnce.Do(func() {
		b.cancel()
		b.wg.Wait()
		b.release()
		open.Delete(b.dir)
	})
	return nil
}

// Apps is the number of apps on the box.
func (b *Box) Apps() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.st.Apps)
}

// recover adopts the apps of the state, ends what a killed server left
// half done and removes the helpers and containers nothing names.
func (b *Box) recover(ctx context.Context) error {
	now := time.Now()
	for _, t := range b.st.Tasks {
		if t.State == taskPending || t.State == taskActive {
			t.State, t.Error, t.Updated = taskError, "interrupted: cpk box serve stopped before the task ended", now
		}
	}
	var keep []*appState
	for _, as := range b.st.Apps {
		m, err := decodeManifest(as.Runtime.Raw)
		if err != nil {
			return fmt.Errorf("app %s: %w", as.Runtime.ID, err)
		}
		a := b.rt.Adopt(as.Runtime, m)
		switch as.InstallationState {
		case statePendingInstall, statePendingUninst:
			// An install that did not end leaves no half-installed app.
			b.logf("app %s: %s did not end; removing it", a.ID, as.InstallationState)
			if _, err := a.Uninstall(ctx); err != nil {
				b.logf("app %s: remove: %v", a.ID, err)
			}
			continue
		case stateInstalled, stateError:
		default:
			as.InstallationState, as.Error = stateError, fmt.Sprintf("interrupted: cpk box serve stopped during %s", as.InstallationState)
		}
		b.apps[a.ID] = a
		keep = append(keep, as)
		if as.InstallationState == stateInstalled {
			if err := b.ensureRunning(ctx, a); err != nil {
				as.InstallationState, as.Error = stateError, err.Error()
			}
			as.Runtime = a.Record()
		}
	}
	b.st.Apps = keep
	if err := b.tidy(ctx); err != nil {
		b.logf("tidy: %v", err)
	}
	return b.save()
}

// ensureRunning starts an app whose container is gone or stopped (the
// machine restarted, someone stopped it) afresh, as the platform does.
func (b *Box) ensureRunning(ctx context.Context, a *runtime.App) error {
	if a.Container != "" {
		info, err := a.State(ctx)
		if err == nil && info.Running {
			return nil
		}
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return err
		}
		if _, err := a.Stop(ctx); err != nil {
			b.logf("app %s: remove its stopped container: %v", a.ID, err)
		}
	}
	b.logf("app %s: start it again", a.ID)
	return a.Start(ctx)
}

// tidy removes what carries the box's run but nothing of the state names:
// helpers of a killed backup, containers and volumes of a killed start.
func (b *Box) tidy(ctx context.Context) error {
	all, err := b.o.Engine.ListResources(ctx, map[string]string{runtime.LabelRun: b.st.Run})
	if err != nil {
		return err
	}
	named := map[string]bool{}
	for _, a := range b.apps {
		r := a.Record()
		named[r.Container] = true
		named[r.DataVolume] = true
		for _, v := range r.Volumes {
			named[v] = true
		}
		named["cpk-"+b.st.Run+"-redis-"+a.ID] = true
	}
	var errs []error
	for _, r := range all {
		role := r.Labels[runtime.LabelRole]
		orphan := false
		switch r.Kind {
		case engine.KindContainer:
			orphan = role == "helper" || role == "app" && !named[r.Name] ||
				role == "addon" && isRedis(r.Name, b.st.Run) && !named[r.Name]
		case engine.KindVolume:
			orphan = (role == "app" || role == "data") && !named[r.Name]
		}
		if !orphan {
			continue
		}
		b.logf("remove the leftover %s %s", r.Kind, r.Name)
		if r.Kind == engine.KindContainer {
			err = b.o.Engine.Remove(ctx, r.Name)
		} else {
			err = b.o.Engine.RemoveVolume(ctx, r.Name)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func isRedis(name, run string) bool {
	p := "cpk-" + run + "-redis-"
	return len(name) > len(p) && name[:len(p)] == p
}

func decodeManifest(raw []byte) (manifest.Manifest, error) {
	doc, errs := manifest.Decode(raw)
	if len(errs) > 0 {
		return manifest.Manifest{}, fmt.Errorf("manifest: %v", errs[0])
	}
	return doc.Manifest(), nil
}

// DownResult is what Down removed.
type DownResult struct {
	Removed  []engine.Resource `json:"removed"`
	StateDir string            `json:"stateDir"`
}

// Down removes everything the box in stateDir made (containers, networks,
// volumes: whatever carries its LabelBox or its run), then its state
// folder. It refuses while a server serves the box.
func Down(ctx context.Context, e engine.Engine, stateDir string) (*DownResult, error) {
	dir, err := filepath.Abs(stateDir)
	if err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if err != nil {
		st = nil // a damaged state still names its folder: the labels find the rest
	}
	if st != nil && st.PID != 0 && st.PID != os.Getpid() && runtime.ProcessAlive(st.PID) {
		return nil, fmt.Errorf("%w in %s (process %d): stop it first (Ctrl-C)", ErrServing, dir, st.PID)
	}
	if _, busy := open.Load(dir); busy {
		return nil, fmt.Errorf("%w in %s (this process): stop it first (Ctrl-C)", ErrServing, dir)
	}
	found := map[string]engine.Resource{}
	filters := []map[string]string{{runtime.LabelBox: dir}}
	if st != nil {
		filters = append(filters, map[string]string{runtime.LabelRun: st.Run})
	}
	for _, f := range filters {
		rs, err := e.ListResources(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			found[r.Kind+" "+r.Name] = r
		}
	}
	list := make([]engine.Resource, 0, len(found))
	for _, r := range found {
		list = append(list, r)
	}
	res := &DownResult{StateDir: dir}
	if res.Removed, err = engine.RemoveResources(ctx, e, list); err != nil {
		return res, err
	}
	return res, os.RemoveAll(dir)
}
