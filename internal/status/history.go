package status

import (
	"sort"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/evidence"
)

// RunRef is a short reference to a recorded run.
type RunRef struct {
	ID       int64       `json:"id"`
	Outcome  cpk.Outcome `json:"outcome"`
	Finished time.Time   `json:"finished"`
	// Current is true when the run looked at the package's current content.
	Current bool `json:"current"`
}

func ref(r *cpk.Run, hash string) *RunRef {
	if r == nil {
		return nil
	}
	return &RunRef{ID: r.ID, Outcome: r.Outcome, Finished: r.Finished, Current: r.Hash != "" && r.Hash == hash}
}

// appHistory is one application's runs, oldest first.
type appHistory []cpk.Run

// byApp groups runs per application, each group oldest first (by finish
// time, then id).
func byApp(runs []cpk.Run) map[string]appHistory {
	out := map[string]appHistory{}
	for _, r := range runs {
		out[r.App] = append(out[r.App], r)
	}
	for _, h := range out {
		sortOldestFirst(h)
	}
	return out
}

func sortOldestFirst(runs []cpk.Run) {
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].Finished.Equal(runs[j].Finished) {
			return runs[i].Finished.Before(runs[j].Finished)
		}
		return runs[i].ID < runs[j].ID
	})
}

// latest returns the newest run of a kind (and of a content hash, unless
// hash is "") that matches, or nil.
func (h appHistory) latest(kind cpk.RunKind, hash string, match func(*cpk.Run) bool) *cpk.Run {
	for i := len(h) - 1; i >= 0; i-- {
		r := &h[i]
		if r.Kind == kind && (hash == "" || r.Hash == hash) && (match == nil || match(r)) {
			return r
		}
	}
	return nil
}

// stepPassed reports whether the newest test run of this content that ran
// the step (a skipped step did not run) passed it. A passed test run
// without named steps counts as a passed install.
func (h appHistory) stepPassed(hash, step string) bool {
	r := h.latest(cpk.KindTest, hash, func(r *cpk.Run) bool {
		s, ok := r.Step(step)
		return (ok && s.Outcome != cpk.OutcomeSkipped) || (step == cpk.StepInstall && len(r.Steps) == 0)
	})
	if r == nil {
		return false
	}
	if s, ok := r.Step(step); ok {
		return s.Outcome == cpk.OutcomePassed
	}
	return r.Outcome == cpk.OutcomePassed
}

// verified reports whether the newest test run of this content passed and
// every step of evidence.VerifiedSteps passed on it: a run of some steps only
// (cpk test --step) does not verify a package by itself.
func (h appHistory) verified(hash string) bool {
	r := h.latest(cpk.KindTest, hash, nil)
	if r == nil || r.Outcome != cpk.OutcomePassed {
		return false
	}
	for _, s := range evidence.VerifiedSteps {
		if !h.stepPassed(hash, s) {
			return false
		}
	}
	return true
}

// runEvidence fills in what the build and test runs of one content say.
func (h appHistory) runEvidence(ev *cpk.LevelEvidence, hash string) {
	if hash == "" {
		return
	}
	if b := h.latest(cpk.KindBuild, hash, nil); b != nil {
		ev.Builds = b.Outcome == cpk.OutcomePassed
	}
	ev.Installs = h.stepPassed(hash, cpk.StepInstall)
	ev.BackupRestore = h.stepPassed(hash, cpk.StepBackup) && h.stepPassed(hash, cpk.StepRestore)
	ev.Updates = h.stepPassed(hash, cpk.StepUpdate)
}

// level is the quality level the recorded runs alone give: the newest
// lint run's content and findings, the build and test runs of that
// content, the newest upstream check.
func (h appHistory) level() cpk.Level {
	lint := h.latest(cpk.KindLint, "", nil)
	if lint == nil {
		return 0
	}
	passed := func(step string) bool {
		if s, ok := lint.Step(step); ok {
			return s.Outcome == cpk.OutcomePassed
		}
		return lint.Outcome == cpk.OutcomePassed
	}
	ev := cpk.LevelEvidence{
		ManifestValid: lint.Hash != "" && passed(cpk.StepManifest),
		LintClean:     lint.Outcome == cpk.OutcomePassed,
		DocsCurrent:   passed(cpk.StepDocs),
	}
	h.runEvidence(&ev, lint.Hash)
	if u := h.latest(cpk.KindUpstream, "", nil); u != nil {
		ev.UpstreamFresh = u.Outcome == cpk.OutcomePassed
	}
	return ev.Level()
}

// VerifiedFrom is the Options.Verified hook over recorded runs: the newest
// test run of the application on exactly this content passed.
func VerifiedFrom(runs []cpk.Run) func(app, hash string) bool {
	h := byApp(runs)
	return func(app, hash string) bool { return h[app].verified(hash) }
}

// Snapshot is how many applications stood in each state at one moment.
type Snapshot struct {
	At     time.Time         `json:"at"`
	States map[cpk.State]int `json:"states"`
}

// Timeline reconstructs the catalog's states at each of the given times
// (ascending) from the recorded runs: before its first lint run an
// application is planned; then draft or packaged by its newest lint run,
// verified when that lint run's content was (see appHistory.verified).
// Blocked and retired come from cpk.yaml as it is now.
func Timeline(cat *catalog.Catalog, runs []cpk.Run, times []time.Time) []Snapshot {
	sorted := append([]cpk.Run(nil), runs...)
	sortOldestFirst(sorted)
	type lintState struct {
		hash   string
		passed bool
	}
	lints := map[string]lintState{}
	tests := map[string]appHistory{} // app → its test runs so far, oldest first
	out := make([]Snapshot, 0, len(times))
	next := 0
	for _, at := range times {
		for ; next < len(sorted) && !sorted[next].Finished.After(at); next++ {
			r := sorted[next]
			switch r.Kind {
			case cpk.KindLint:
				lints[r.App] = lintState{r.Hash, r.Outcome == cpk.OutcomePassed}
			case cpk.KindTest:
				tests[r.App] = append(tests[r.App], r)
			}
		}
		s := Snapshot{At: at, States: map[cpk.State]int{}}
		for _, a := range cat.Apps {
			l, linted := lints[a.ID]
			ev := catalog.Evidence{HasFiles: linted}
			if linted && !l.passed {
				ev.LintErrors = 1
			}
			ev.Verified = linted && l.passed && tests[a.ID].verified(l.hash)
			s.States[catalog.DeriveState(a, ev)]++
		}
		out = append(out, s)
	}
	return out
}

// SampleTimes returns up to n times, evenly spread from the first run's
// finish to now (now alone when there are no runs).
func SampleTimes(runs []cpk.Run, now time.Time, n int) []time.Time {
	if len(runs) == 0 || n < 2 {
		return []time.Time{now}
	}
	first := runs[0].Finished
	for _, r := range runs {
		if r.Finished.Before(first) {
			first = r.Finished
		}
	}
	first = first.Add(-time.Minute) // start just before: every state planned
	if !first.Before(now) {
		return []time.Time{now}
	}
	span := now.Sub(first)
	out := make([]time.Time, n)
	for i := range n {
		out[i] = first.Add(span * time.Duration(i) / time.Duration(n-1))
	}
	return out
}
