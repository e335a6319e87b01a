// Package steps runs long work as an ordered list of small named steps.
// Timing, logging and "skipped because…" are wrappers here, not code
// inside the steps.
package steps

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Step is one named piece of work on a shared state S.
type Step[S any] struct {
	Name string
	// Skip, when set, returns why the step is not needed ("" = run it).
	Skip func(*S) string
	Run  func(context.Context, *S) error
}

// Observer hears about steps as they start and end.
type Observer interface {
	StepStarted(name string)
	StepEnded(name string, took time.Duration, err error)
	StepSkipped(name, reason string)
}

// Stop, returned by a step, ends the run early and successfully (the work
// is already done, e.g. an image is up to date).
var Stop = stopErr{}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

// Run runs the steps in order until one fails or returns Stop. The error
// of a failed step is wrapped with its name.
func Run[S any](ctx context.Context, list []Step[S], s *S, obs Observer) error {
	for _, st := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if st.Skip != nil {
			if why := st.Skip(s); why != "" {
				if obs != nil {
					obs.StepSkipped(st.Name, why)
				}
				continue
			}
		}
		if obs != nil {
			obs.StepStarted(st.Name)
		}
		start := time.Now()
		err := st.Run(ctx, s)
		if err == Stop {
			if obs != nil {
				obs.StepEnded(st.Name, time.Since(start), nil)
			}
			return nil
		}
		if obs != nil {
			obs.StepEnded(st.Name, time.Since(start), err)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", st.Name, err)
		}
	}
	return nil
}

// LogObserver writes one line per step event to a log.
type LogObserver struct {
	W     io.Writer
	Clock func() time.Time // default time.Now
}

func (l LogObserver) now() string {
	c := l.Clock
	if c == nil {
		c = time.Now
	}
	return c().UTC().Format("15:04:05")
}

func (l LogObserver) StepStarted(name string) {
	fmt.Fprintf(l.W, "cpk %s == %s\n", l.now(), name)
}

func (l LogObserver) StepEnded(name string, took time.Duration, err error) {
	if err != nil {
		fmt.Fprintf(l.W, "cpk %s == %s failed after %s: %v\n", l.now(), name, took.Round(time.Millisecond), err)
		return
	}
	fmt.Fprintf(l.W, "cpk %s == %s done in %s\n", l.now(), name, took.Round(time.Millisecond))
}

func (l LogObserver) StepSkipped(name, reason string) {
	fmt.Fprintf(l.W, "cpk %s == %s skipped: %s\n", l.now(), name, reason)
}

// Observers fans events out to several observers.
type Observers []Observer

func (o Observers) StepStarted(name string) {
	for _, x := range o {
		x.StepStarted(name)
	}
}

func (o Observers) StepEnded(name string, took time.Duration, err error) {
	for _, x := range o {
		x.StepEnded(name, took, err)
	}
}

func (o Observers) StepSkipped(name, reason string) {
	for _, x := range o {
		x.StepSkipped(name, reason)
	}
}
