package runtime

import (
	"context"
	"fmt"
	"sync"

	"cpk/internal/engine"
)

// A data helper is a container of the base image that sleeps beside an
// app with its /app/data volume at /app/data and the run's backups folder
// at /backup. The markers, backups, restores and listings run there as
// execs, not in the app's container: the app's image may have no shell
// or tools, and podman runs one container's execs one after the other
// (a check exec'd into the app waited for a marker read in it). It is
// started when first needed (or ahead: WarmHelper) and removed with the
// app's data (Uninstall, or localstorage's teardown).
type dataHelper struct {
	mu     sync.Mutex
	ready  chan struct{} // closed when the start ends; nil when none runs or starts
	err    error         // the start's error, once ready is closed
	volume string        // the data volume it mounts
	gone   chan struct{} // closed when the removal asked last ended
	rmErr  error
}

// helperName is the data helper's container name: one per app, the same
// from one process to the next (a long-lived box adopts its apps).
func (a *App) helperName() string { return a.ID + "-data" }

// WarmHelper starts the data helper in the background when the app has a
// data volume, so that it is ready when the markers need it: the
// lifecycle test calls it once the app's container runs (not beside its
// start, which the engine would slow down: the app's time, measured).
func (a *App) WarmHelper(ctx context.Context) {
	if a.DataVolume != "" {
		a.warmHelper(ctx)
	}
}

// warmHelper starts the data helper in the background unless it runs or
// starts already, and returns what to wait on.
func (a *App) warmHelper(ctx context.Context) chan struct{} {
	d := a.data
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ready != nil && d.volume != a.DataVolume {
		// localstorage came or went (an update): a helper with the mounts
		// of now, once the old one is gone.
		d.removeLocked(ctx, a)
	}
	if d.ready == nil {
		ready, gone, volume := make(chan struct{}), d.gone, a.DataVolume
		d.ready, d.volume = ready, volume
		a.box.bg.Go(func() {
			if gone != nil {
				<-gone
			}
			err := a.startHelper(ctx, volume)
			d.mu.Lock()
			d.err = err
			d.mu.Unlock()
			close(ready)
		})
	}
	return d.ready
}

// helper returns the running data helper's name, starting it if need be.
func (a *App) helper(ctx context.Context) (string, error) {
	d := a.data
	ready := a.warmHelper(ctx)
	select {
	case <-ready:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.err; err != nil {
		if d.ready == ready {
			d.ready = nil // the next use tries again
		}
		return "", err
	}
	return a.helperName(), nil
}

func (a *App) startHelper(ctx context.Context, volume string) error {
	b := a.box
	if b.BaseImage == "" {
		return fmt.Errorf("no base image for the data helper")
	}
	backups, err := b.dir("backups")
	if err != nil {
		return err
	}
	name := a.helperName()
	labels := b.Labels("helper")
	labels["io.cpk.appid"] = a.ID
	spec := engine.RunSpec{Name: name, Image: b.BaseImage, Cmd: []string{"sleep", "infinity"}, Labels: labels, Network: "none",
		Volumes: []engine.Mount{{Source: backups, Target: "/backup"}}}
	if volume != "" {
		spec.Volumes = append(spec.Volumes, engine.Mount{Source: volume, Target: "/app/data"})
	}
	b.own("container "+name, func(ctx context.Context) error { return b.Engine.Remove(ctx, name) })
	if _, err := b.Engine.Run(ctx, spec); err != nil {
		// One left by an earlier process of a long-lived box (or by a
		// start that failed half-way) holds the name: it goes, and a
		// fresh one starts.
		if rerr := b.Engine.Remove(ctx, name); rerr != nil {
			return fmt.Errorf("start the data helper: %w", err)
		}
		if _, err := b.Engine.Run(ctx, spec); err != nil {
			return fmt.Errorf("start the data helper: %w", err)
		}
	}
	return nil
}

// dropHelper removes the data helper in the background (a start under
// way ends first) and returns what to wait on; an app that never had one
// in this process has one removed all the same when it was adopted.
func (a *App) dropHelper(ctx context.Context) chan struct{} {
	d := a.data
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ready == nil && !a.adopted {
		if d.gone == nil {
			d.gone = make(chan struct{})
			close(d.gone)
		}
		return d.gone
	}
	d.removeLocked(ctx, a)
	return d.gone
}

// removeLocked removes the helper in the background; d.mu is held.
func (d *dataHelper) removeLocked(ctx context.Context, a *App) {
	ready, prev, gone := d.ready, d.gone, make(chan struct{})
	d.ready, d.gone, d.volume = nil, gone, ""
	a.adopted = false
	a.box.bg.Go(func() {
		if ready != nil {
			<-ready
		}
		if prev != nil {
			<-prev
		}
		err := a.box.Engine.Remove(context.WithoutCancel(ctx), a.helperName())
		d.mu.Lock()
		d.rmErr = err
		d.mu.Unlock()
		close(gone)
	})
}

// helperGone waits for the removal dropHelper began.
func (a *App) helperGone(gone chan struct{}) error {
	<-gone
	d := a.data
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rmErr != nil {
		return fmt.Errorf("remove the data helper: %w", d.rmErr)
	}
	return nil
}

// sh runs a shell script as root in the data helper.
func (a *App) sh(ctx context.Context, script string, args ...string) ([]byte, error) {
	name, err := a.helper(ctx)
	if err != nil {
		return nil, err
	}
	return a.box.execIn(ctx, name, engine.ExecSpec{Cmd: append([]string{"/bin/sh", "-ec", script, "sh"}, args...)})
}
