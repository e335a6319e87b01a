package scenario

import (
	"strings"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/evidence"
)

// Run is the result as a record of the results store, under the package's
// content hash; log is the run's log path relative to the repository ("" for
// none).
func (r *Result) Run(hash, log string) cpk.Run {
	run := cpk.Run{App: r.App, Kind: cpk.KindTest, Hash: hash, Started: r.Started, Finished: r.Finished, Outcome: r.Outcome, Log: log,
		Figures: map[string]float64{"seconds": r.Seconds, "appSeconds": r.AppSeconds}}
	if run.Finished.Before(run.Started) {
		run.Finished = run.Started
	}
	for _, s := range r.Steps {
		msg := s.Message
		if msg == "" {
			var parts []string
			for _, c := range s.Checks {
				if c.Status != Passed {
					parts = append(parts, c.Name+": "+c.Message)
				}
			}
			msg = strings.Join(parts, "; ")
		}
		run.Steps = append(run.Steps, cpk.Step{Name: s.Name, Outcome: s.Outcome, Duration: time.Duration(s.Seconds * float64(time.Second)), Message: msg})
	}
	if r.Error != "" && len(run.Steps) == 0 {
		run.Steps = []cpk.Step{{Name: "prepare", Outcome: r.Outcome, Message: r.Error}}
	}
	return run
}

// Verifies reports whether the result verifies the package's content
// (evidence.Verifies): a run of some steps only (--step) does not.
func (r *Result) Verifies() bool {
	steps := map[string]cpk.Outcome{}
	for _, s := range r.Steps {
		steps[s.Name] = s.Outcome
	}
	return evidence.Verifies(r.Outcome, steps)
}

// Facts are what the evidence records beside the result: where and with
// what the test ran.
type Facts struct {
	Where  string // "emulated" or a server address
	CPK    string // cpk's version
	Engine evidence.Engine
	Base   evidence.Image
}

// Evidence is the result as the package's committed proof (nil when it does
// not verify the package).
func (r *Result) Evidence(hash string, f Facts) *evidence.Evidence {
	if !r.Verifies() {
		return nil
	}
	e := &evidence.Evidence{Schema: evidence.Schema, App: r.App, Version: r.Version, ContentHash: hash,
		Tested: r.Finished.UTC().Truncate(time.Second).Format(time.RFC3339), Where: f.Where, CPK: f.CPK, Engine: f.Engine, Base: f.Base,
		Seconds: round(r.Seconds), Steps: []evidence.Step{}, Checks: []string{}}
	seen := map[string]bool{}
	for _, s := range r.Steps {
		step := evidence.Step{Name: s.Name, Outcome: s.Outcome, Seconds: round(s.Seconds)}
		for _, c := range s.Checks {
			if c.Status == Passed {
				step.Checks++
			}
			if !seen[c.Name] {
				seen[c.Name] = true
				e.Checks = append(e.Checks, c.Name)
			}
		}
		if s.Name == StepUpdate && s.Outcome == cpk.OutcomePassed && r.PreviousVersion != "" {
			e.Update = &evidence.Update{From: r.PreviousVersion, Source: r.PreviousFrom}
		}
		e.Steps = append(e.Steps, step)
	}
	return e
}

// round keeps a tenth of a second: enough to balance shards, and a re-test
// shows as a small diff.
func round(s float64) float64 { return float64(int64(s*10+0.5)) / 10 }
