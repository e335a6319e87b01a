package scenario

import (
	"context"
	"fmt"
	"io"
	"slices"

	"cpk/internal/cpk"
	"cpk/internal/steps"
)

// recorder keeps the checks of the step that runs, locally and on a
// server alike.
type recorder struct {
	log io.Writer
	cur *StepResult
}

// add records a check in the current step; a failed check fails the step.
func (r *recorder) add(c Check) {
	r.cur.Checks = append(r.cur.Checks, c)
	if c.Status == Failed {
		r.cur.Outcome = cpk.OutcomeFailed
	}
	fmt.Fprintf(r.log, "   %s: %s: %s\n", c.Status, c.Name, c.Message)
}

// verdict ends a step: errChecks when a check failed.
func (r *recorder) verdict() error {
	if r.cur.Outcome == cpk.OutcomeFailed {
		return errChecks
	}
	return nil
}

// selection decides which steps run, with the same rules locally and on
// a server: the chosen steps and those they need (restore needs backup),
// install and uninstall always, update only from a previous version.
type selection struct {
	steps           []string // none: all
	previous        bool
	requirePrevious bool
	noPrevious      string
}

func selectionOf(chosen []string, previous, requirePrevious bool, noPrevious string) selection {
	return selection{steps: chosen, previous: previous, requirePrevious: requirePrevious, noPrevious: noPrevious}
}

func (sel selection) wanted(name string) bool {
	return len(sel.steps) == 0 || slices.Contains(sel.steps, name)
}

// skip says why the step does not run ("" when it runs); haveBackup is
// whether the backup step made one.
func (sel selection) skip(name string, haveBackup bool) string {
	switch {
	case name == StepInstall || name == StepUninstall:
		return ""
	case name == StepBackup:
		if !sel.wanted(StepBackup) && !sel.wanted(StepRestore) {
			return "not selected"
		}
		return ""
	case !sel.wanted(name):
		return "not selected"
	case name == StepRestore && !haveBackup:
		return "no backup"
	case name == StepUpdate && !sel.previous && !sel.requirePrevious:
		if sel.noPrevious != "" {
			return sel.noPrevious
		}
		return "no previous version"
	}
	return ""
}

// lifecycle lists the steps in order (StepNames) with their runs; skip
// says why one does not run.
func lifecycle[S any](run map[string]func(context.Context, *S) error, skip func(*S, string) string) []steps.Step[S] {
	out := make([]steps.Step[S], 0, len(StepNames))
	for _, name := range StepNames {
		out = append(out, steps.Step[S]{Name: name, Run: run[name], Skip: func(s *S) string { return skip(s, name) }})
	}
	return out
}
