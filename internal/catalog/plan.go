package catalog

import "cpk/internal/cpk"

// PhaseTargets is how many applications each phase of the plan adds: 25, then
// 50 more, then 25 more, 100 in all.
var PhaseTargets = map[int]int{2: 25, 3: 50, 4: 25}

// Phases lists the plan's phases in order.
var Phases = []int{2, 3, 4}

// PlanTotal is the plan's package target.
const PlanTotal = 100

// SuccessTarget is the plan's deployment success rate to beat (verified ÷ packaged).
const SuccessTarget = 0.90

// Evidence is what the caller knows about a package's current content.
type Evidence struct {
	HasFiles   bool // any package file beside cpk.yaml
	LintErrors int  // error-level lint findings
	Verified   bool // a lifecycle test passed on this exact content
}

// DeriveState computes an application's state: blocked and retired are taken
// from cpk.yaml; the rest follows from the evidence.
func DeriveState(a *App, ev Evidence) cpk.State {
	switch {
	case a.State == cpk.Blocked || a.State == cpk.Retired:
		return a.State
	case !ev.HasFiles:
		return cpk.Planned
	case ev.LintErrors > 0:
		return cpk.Draft
	case ev.Verified:
		return cpk.Verified
	}
	return cpk.Packaged
}
