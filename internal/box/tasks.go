package box

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Task states.
const (
	taskPending = "pending"
	taskActive  = "active"
	taskSuccess = "success"
	taskError   = "error"
)

// task is one long operation.
type task struct {
	ID      int            `json:"id"`
	Type    string         `json:"type"` // app, backup
	AppID   string         `json:"appId,omitempty"`
	Op      string         `json:"op"` // install, uninstall, update, restart, restore, location, backup
	State   string         `json:"state"`
	Percent int            `json:"percent"`
	Message string         `json:"message"`
	Error   string         `json:"error,omitempty"`
	Result  map[string]any `json:"result,omitempty"`
	Created time.Time      `json:"creationTime"`
	Updated time.Time      `json:"ts"`
}

// step is a task's work; it reports progress through p.
type step func(ctx context.Context, p *progress) error

// progress lets a running task say how far it is.
type progress struct {
	b *Box
	t *task
}

func (p *progress) say(percent int, format string, args ...any) {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	p.t.Percent, p.t.Message, p.t.Updated = percent, fmt.Sprintf(format, args...), time.Now()
	p.b.logf("task %d (%s %s): %d%% %s", p.t.ID, p.t.Op, p.t.AppID, percent, p.t.Message)
	p.b.saveLocked()
}

// startTask records a pending task and runs it after the tasks before it
// (the caller holds mu). done runs under mu with the step's error, to
// settle the app's state.
func (b *Box) startTask(typ, op, appID string, run step, done func(err error)) *task {
	now := time.Now()
	t := &task{ID: b.st.NextTask, Type: typ, AppID: appID, Op: op, State: taskPending, Percent: 1, Message: "waiting for the tasks before it", Created: now, Updated: now}
	b.st.NextTask++
	b.st.Tasks = append(b.st.Tasks, t)
	b.saveLocked()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		err := b.runTask(t, run)
		b.mu.Lock()
		defer b.mu.Unlock()
		t.Updated = time.Now()
		if err != nil {
			t.State, t.Error = taskError, err.Error()
			b.logf("task %d (%s %s) failed: %v", t.ID, op, appID, err)
		} else {
			t.State, t.Percent, t.Message = taskSuccess, 100, "done"
			b.logf("task %d (%s %s) done", t.ID, op, appID)
		}
		done(err)
		b.saveLocked()
	}()
	return t
}

func (b *Box) runTask(t *task, run step) error {
	select {
	case b.sem <- struct{}{}:
	case <-b.ctx.Done():
		return errors.New("interrupted: cpk box serve stopped before the task started")
	}
	defer func() { <-b.sem }()
	if b.ctx.Err() != nil {
		return errors.New("interrupted: cpk box serve stopped before the task started")
	}
	b.mu.Lock()
	t.State, t.Updated = taskActive, time.Now()
	b.saveLocked()
	b.mu.Unlock()
	err := run(b.ctx, &progress{b: b, t: t})
	if err != nil && b.ctx.Err() != nil {
		err = fmt.Errorf("interrupted: cpk box serve stopped (%w)", err)
	}
	return err
}

// task returns a task by id (the caller holds mu).
func (b *Box) task(id string) *task {
	n, err := strconv.Atoi(id)
	if err != nil {
		return nil
	}
	for _, t := range b.st.Tasks {
		if t.ID == n {
			return t
		}
	}
	return nil
}

// busy returns the unfinished task of an app (the caller holds mu).
func (b *Box) busy(appID string) *task {
	for _, t := range b.st.Tasks {
		if (t.AppID == appID || t.Type == "backup") && (t.State == taskPending || t.State == taskActive) {
			return t
		}
	}
	return nil
}
