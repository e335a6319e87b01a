// Package runtime is the emulated Cloudron box (reference §2–§4, §11): the
// app container as the platform runs it (read-only root filesystem, fresh
// /tmp and /run, /app/data only with localstorage, memory split into RAM
// and swap, the platform's capabilities and variables, a private network),
// the health check, add-on services as real servers in containers built
// from the local base image, the scheduler, and backup and restore.
//
// Everything a Box creates carries the labels io.cpk.run, io.cpk.app,
// io.cpk.pid and io.cpk.host, and its removal is registered the moment it
// is created: Close removes it all, on success, failure, timeout or Ctrl-C
// (with a fresh context, in one batch by the run's label), unless the box
// keeps it for debugging. A watch removes it too when cpk is killed
// before Close (engine.Reap).
package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"cpk/internal/engine"
	"cpk/internal/sso"
)

// Labels on everything a run creates.
const (
	LabelRun  = "io.cpk.run"  // the run id
	LabelApp  = "io.cpk.app"  // the catalog id of the app under test
	LabelPID  = "io.cpk.pid"  // the cpk process that made it: cpk gc removes what dead processes left
	LabelHost = "io.cpk.host" // the machine that process runs on
	LabelRole = "io.cpk.role" // app, addon, task, helper
	// LabelBox marks what a long-lived box (cpk box serve) made: the
	// absolute path of its state folder. cpk gc leaves it alone while that
	// folder's BoxStateFile names the resource's run.
	LabelBox = "io.cpk.box"
)

// BoxStateFile is the file in a long-lived box's state folder that names
// its run: a JSON object with the run id in "run".
const BoxStateFile = "box.json"

// DefaultDomain is the emulated Cloudron's domain: apps live at
// <location>.<domain>, the dashboard at my.<domain>.
const DefaultDomain = "cloudron.test"

// Options configure a Box.
type Options struct {
	Engine engine.Engine
	// App is the catalog id of the package under test (the io.cpk.app label).
	App string
	// BaseImage is the local base image the add-on and helper images
	// start FROM (base.LocalRef).
	BaseImage string
	// StateDir is the run's own folder (credentials, backups, logs).
	StateDir string
	Domain   string // default DefaultDomain
	// Keep leaves everything in place when the box closes (--keep).
	Keep bool
	// Log receives what the box does, one line per action.
	Log io.Writer
	// HealthTimeout bounds the wait for a first healthy answer (default 3 min).
	HealthTimeout time.Duration
	// SelfBinary is the program the sign-on server's container runs
	// (default: this process's own binary; see addon_sso.go).
	SelfBinary string
	// RunID reuses a run: a long-lived box keeps its run id (its network,
	// add-on services and apps) from one process to the next. "" = a new run.
	RunID string
	// Labels are added to everything the box creates (LabelBox).
	Labels map[string]string
}

// Box is one run's emulated Cloudron: a private network, the add-on
// services on it, and the apps installed into it.
type Box struct {
	Options
	RunID   string
	Network string
	Gateway string // the network's gateway: CLOUDRON_PROXY_IP
	labels  map[string]string
	cleanup Cleanup
	// bg is the work left to run in the background (the apps' data
	// helpers starting and going); Close waits for it.
	bg background
	// unwatch ends the watch that removes the run's resources if cpk dies
	// before Close (engine.Reap); nil with Keep.
	unwatch func()

	mu       sync.Mutex
	services map[string]*service
	images   map[string]string // image kind → ref
	// engineSocket is the engine's API socket the docker proxies mount.
	engineSocket        string
	engineSocketPrivate bool

	ssoMu  sync.Mutex
	sso    *ssoServer // the sign-on server (oidc, proxyAuth), once started
	routes sso.Routes // where each domain of the box answers, seen from the host
}

// NewRunID returns a fresh run id: 10 hex digits.
func NewRunID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// New makes a box: its network is created at once (and its removal
// registered). Close it whatever happens.
func New(ctx context.Context, o Options) (*Box, error) {
	if o.Engine == nil {
		return nil, errors.New("runtime: no engine")
	}
	if o.Domain == "" {
		o.Domain = DefaultDomain
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.HealthTimeout == 0 {
		o.HealthTimeout = 3 * time.Minute
	}
	b := &Box{Options: o, RunID: o.RunID, services: map[string]*service{}, images: map[string]string{}}
	if b.RunID == "" {
		b.RunID = NewRunID()
	}
	host, _ := os.Hostname()
	b.labels = map[string]string{}
	for k, v := range o.Labels {
		b.labels[k] = v
	}
	for k, v := range map[string]string{LabelRun: b.RunID, LabelApp: o.App, LabelPID: strconv.Itoa(os.Getpid()), LabelHost: host} {
		b.labels[k] = v
	}
	if b.StateDir == "" {
		dir, err := os.MkdirTemp("", "cpk-run-*")
		if err != nil {
			return nil, err
		}
		b.StateDir = dir
	}
	if err := os.MkdirAll(b.StateDir, 0o755); err != nil {
		return nil, err
	}
	if !o.Keep && o.Labels[LabelBox] == "" {
		// A killed cpk (SIGKILL) runs no clean-up: the watch does. A
		// long-lived box (LabelBox) outlives its processes on purpose.
		unwatch, err := engine.Reap(o.Engine, map[string]string{LabelRun: b.RunID})
		if err != nil {
			return nil, err
		}
		b.unwatch = unwatch
	}
	b.Network = "cpk-" + b.RunID
	b.own("network "+b.Network, func(ctx context.Context) error { return b.Engine.RemoveNetwork(ctx, b.Network) })
	// A box that goes on with its run finds its network again.
	n, err := (*engine.NetworkInfo)(nil), engine.ErrNotFound
	if o.RunID != "" {
		n, err = b.Engine.InspectNetwork(ctx, b.Network)
	}
	if errors.Is(err, engine.ErrNotFound) {
		if err := b.Engine.CreateNetwork(ctx, engine.NetworkSpec{Name: b.Network, Labels: b.Labels("network")}); err != nil {
			return b, fmt.Errorf("create the network %s: %w", b.Network, err)
		}
		n, err = b.Engine.InspectNetwork(ctx, b.Network)
	}
	if err != nil {
		return b, fmt.Errorf("inspect the network %s: %w", b.Network, err)
	}
	b.Gateway = n.Gateway
	b.logf("run %s: network %s (gateway %s)", b.RunID, b.Network, b.Gateway)
	return b, nil
}

// Labels returns the run's labels plus a role.
func (b *Box) Labels(role string) map[string]string {
	l := make(map[string]string, len(b.labels)+1)
	for k, v := range b.labels {
		l[k] = v
	}
	l[LabelRole] = role
	return l
}

func (b *Box) logf(format string, args ...any) {
	fmt.Fprintf(b.Log, "%s %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// OnClose registers a removal to run when the box closes (in reverse order
// of registration).
func (b *Box) OnClose(what string, f func(context.Context) error) { b.cleanup.Add(what, f) }

// own registers the removal of a container, volume or network the box
// made with its labels: Close removes all of those at once, by label, and
// runs these removals only when that fails.
func (b *Box) own(what string, f func(context.Context) error) { b.cleanup.add(what, f, true) }

// Close removes everything the box created, with a fresh context (the
// caller's may be cancelled: Ctrl-C), unless Keep is set; then it says
// what it leaves. What carries the run's label goes in one batch.
func (b *Box) Close(ctx context.Context) error {
	b.bg.Wait()
	if b.Keep {
		b.logf("--keep: leaving %d resources of run %s (cpk gc removes them once this process is gone)", b.cleanup.Len(), b.RunID)
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if b.unwatch != nil {
		defer b.unwatch()
	}
	return b.cleanup.Run(cctx, func(ctx context.Context) error {
		_, err := b.Engine.RemoveLabelled(ctx, map[string]string{LabelRun: b.RunID})
		return err
	})
}

// background is work left to run behind the caller's back. Unlike a bare
// WaitGroup, work may be added while Wait runs (a long-lived box's task
// still under way when it closes): it then starts once Wait returns. The
// work itself must not call Go (Wait would wait for it forever).
type background struct {
	mu sync.Mutex
	wg sync.WaitGroup
}

func (g *background) Go(f func()) {
	g.mu.Lock()
	g.wg.Add(1)
	g.mu.Unlock()
	go func() {
		defer g.wg.Done()
		f()
	}()
}

func (g *background) Wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.wg.Wait()
}

// Cleanup is a stack of idempotent removals.
type Cleanup struct {
	mu    sync.Mutex
	items []cleanupItem
}

type cleanupItem struct {
	what string
	f    func(context.Context) error
	// labelled: a resource the batch removal by label takes care of.
	labelled bool
}

// Add registers a removal.
func (c *Cleanup) Add(what string, f func(context.Context) error) { c.add(what, f, false) }

func (c *Cleanup) add(what string, f func(context.Context) error, labelled bool) {
	c.mu.Lock()
	c.items = append(c.items, cleanupItem{what, f, labelled})
	c.mu.Unlock()
}

// Len is the number of registered removals.
func (c *Cleanup) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Run runs every removal, newest first, and forgets them. With batch, the
// other removals run first, then batch; the labelled ones run only if
// batch fails.
func (c *Cleanup) Run(ctx context.Context, batch func(context.Context) error) error {
	c.mu.Lock()
	items := c.items
	c.items = nil
	c.mu.Unlock()
	var errs []error
	if batch != nil {
		var rest []cleanupItem
		for _, it := range items {
			if !it.labelled {
				rest = append(rest, it)
			}
		}
		if err := runItems(ctx, rest); err != nil {
			errs = append(errs, err)
		}
		if err := batch(ctx); err == nil {
			return errors.Join(errs...)
		}
		all := items
		items = nil
		for _, it := range all {
			if it.labelled {
				items = append(items, it)
			}
		}
	}
	if err := runItems(ctx, items); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func runItems(ctx context.Context, items []cleanupItem) error {
	var errs []error
	for i := len(items) - 1; i >= 0; i-- {
		if err := items[i].f(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", items[i].what, err))
		}
	}
	return errors.Join(errs...)
}

// dir returns a folder inside the run's state folder, created.
func (b *Box) dir(parts ...string) (string, error) {
	d := filepath.Join(append([]string{b.StateDir}, parts...)...)
	return d, os.MkdirAll(d, 0o755)
}
