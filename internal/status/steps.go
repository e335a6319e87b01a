package status

import (
	"slices"

	"cpk/internal/cpk"
)

// LifecycleSteps are the steps a package climbs on its way to verified, in
// order: lint-clean, built, then each step of the lifecycle test (reference
// §8; the names cpk test records).
var LifecycleSteps = []string{"lint", "build", cpk.StepInstall, cpk.StepRestart, cpk.StepBackup, cpk.StepRestore, cpk.StepMove, cpk.StepUpdate, cpk.StepUninstall}

// StepRecord says whether one lifecycle step ever passed for an
// application (on any content of the package) and whether it passed on the
// package's current content.
type StepRecord struct {
	Step    string `json:"step"`
	Ever    bool   `json:"everPassed"`
	Current bool   `json:"passedOnCurrent"`
}

// lifecycle reads the recorded runs for every lifecycle step: a lint or
// build run that passed, a test run's steps that passed. lintClean is the
// lint result of the current content, measured now.
func (h appHistory) lifecycle(hash string, lintClean bool) []StepRecord {
	out := make([]StepRecord, len(LifecycleSteps))
	for i, s := range LifecycleSteps {
		out[i].Step = s
	}
	mark := func(i int, r *cpk.Run) {
		out[i].Ever = true
		out[i].Current = out[i].Current || (hash != "" && r.Hash == hash)
	}
	for i := range h {
		r := &h[i]
		switch r.Kind {
		case cpk.KindLint:
			if r.Outcome == cpk.OutcomePassed {
				mark(0, r)
			}
		case cpk.KindBuild:
			if r.Outcome == cpk.OutcomePassed {
				mark(1, r)
			}
		case cpk.KindTest:
			for _, s := range r.Steps {
				if j := slices.Index(LifecycleSteps, s.Name); j >= 2 && s.Outcome == cpk.OutcomePassed {
					mark(j, r)
				}
			}
		}
	}
	if lintClean {
		out[0].Ever, out[0].Current = true, true
	} else {
		out[0].Current = false // the current content has errors, whatever was recorded
	}
	return out
}
