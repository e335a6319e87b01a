package runtime

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"cpk/internal/engine"
)

// --- scheduler (§3.3): tasks run in sibling containers of the app, from
// its image, with its environment, sharing its /tmp, /run and /app/data,
// with twice its memory. cpk runs them on demand (RunTask), not by cron. ---

type scheduler struct{}

func (scheduler) Setup(context.Context, *App, map[string]any) (map[string]string, error) {
	return nil, nil
}

func (scheduler) Teardown(context.Context, *App) error { return nil }

// Task is one scheduler entry of the manifest.
type Task struct {
	Name     string
	Schedule string
	Command  string
}

// Tasks lists the manifest's scheduler tasks, by name.
func (a *App) Tasks() []Task {
	var out []Task
	for name, v := range a.Manifest.Addons["scheduler"] {
		t, _ := v.(map[string]any)
		sched, _ := t["schedule"].(string)
		cmd, _ := t["command"].(string)
		out = append(out, Task{Name: name, Schedule: sched, Command: cmd})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TaskResult is how a task run ended.
type TaskResult struct {
	ExitCode int
	Output   string
	Took     time.Duration
}

// RunTask runs a scheduler task now, as the platform would on its tick,
// and waits for it (at most timeout).
func (a *App) RunTask(ctx context.Context, t Task, timeout time.Duration) (*TaskResult, error) {
	if a.Container == "" {
		return nil, fmt.Errorf("task %s: the app is not running (the platform runs tasks only while it is)", t.Name)
	}
	name := a.ID + "-" + t.Name
	spec := a.Spec(name, nil)
	// The app's /tmp, /run, /app/data (and certificates), as the
	// platform's VolumesFrom gives them.
	spec.Volumes, spec.VolumesFrom = nil, []string{a.Container}
	spec.Cmd = []string{"/bin/sh", "-c", t.Command}
	spec.Labels = a.box.Labels("task")
	spec.Aliases, spec.Ports, spec.TTY = nil, nil, false
	if spec.Memory > 0 {
		spec.Memory, spec.MemorySwap = spec.Memory*2, spec.MemorySwap*2
	}
	a.box.own("container "+name, func(ctx context.Context) error { return a.box.Engine.Remove(ctx, name) })
	defer func() { _ = a.box.Engine.Remove(context.WithoutCancel(ctx), name) }()
	start := time.Now()
	if _, err := a.box.Engine.Run(ctx, spec); err != nil {
		return nil, fmt.Errorf("task %s: %w", t.Name, err)
	}
	deadline := start.Add(timeout)
	for {
		info, err := a.box.Engine.InspectContainer(ctx, name)
		if err != nil {
			return nil, err
		}
		if !info.Running && info.State != "created" {
			var out bytes.Buffer
			_ = a.box.Engine.Logs(ctx, name, engine.LogsSpec{}, &out)
			return &TaskResult{ExitCode: info.ExitCode, Output: out.String(), Took: time.Since(start)}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("task %s still runs after %s", t.Name, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
