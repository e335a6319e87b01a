// Package status measures the catalog against the plan: each application's
// derived state, counts per phase and tier, and the plan's success metrics.
package status

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/docs"
	"cpk/internal/evidence"
	"cpk/internal/lint"
)

// App is one application's line in the report.
type App struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Tier     int    `json:"tier,omitempty"`
	Phase    int    `json:"phase"`
	Category string `json:"category"`
	// Planning facts from cpk.yaml.
	Complexity string    `json:"complexity,omitempty"`
	Estimate   string    `json:"estimateHours,omitempty"`
	Upstream   string    `json:"upstream,omitempty"`
	Tracker    int       `json:"tracker,omitempty"`
	State      cpk.State `json:"state"`
	Reason     string    `json:"reason,omitempty"`
	// NeedsNetwork names the release source the package waits for, when it
	// cannot be reached from the project's machines (cpk.yaml).
	NeedsNetwork string `json:"needsNetwork,omitempty"`
	Errors       int    `json:"lintErrors"`
	Warnings     int    `json:"lintWarnings"`
	// Notes is true when the package counts for build-notes coverage: it has
	// NOTES.md and its generated README.md is current (cpk docs).
	Notes bool `json:"buildNotes"`
	// HasNotes: NOTES.md exists; DocsCurrent: README.md is generated and current.
	HasNotes    bool   `json:"notesFile"`
	DocsCurrent bool   `json:"docsCurrent"`
	Hash        string `json:"contentHash,omitempty"`
	// Level is the quality level (0-7) of the current content; Evidence says
	// which of its needs are met.
	Level     cpk.Level         `json:"level"`
	LevelName string            `json:"levelName"`
	Evidence  cpk.LevelEvidence `json:"levelEvidence"`
	// Previous is the level the recorded runs gave before the newest one;
	// Regressed is true when the level is now below it (or below the level
	// right after that run): a drop since the last run.
	Previous  *cpk.Level `json:"previousLevel,omitempty"`
	Regressed bool       `json:"regressed"`
	// TestEvidence is the state of the package's committed proof
	// (test/evidence.json): current, stale, missing, invalid or tampered;
	// EvidenceProblem says why it does not count.
	TestEvidence    evidence.State `json:"evidence,omitempty"`
	EvidenceProblem string         `json:"evidenceProblem,omitempty"`
	// Lifecycle says which lifecycle steps ever passed, and which passed on
	// the current content: the gap to verified, step by step.
	Lifecycle []StepRecord `json:"lifecycle,omitempty"`
	// LastTest and LastBuild are the newest recorded runs of those kinds.
	LastTest  *RunRef `json:"lastTest,omitempty"`
	LastBuild *RunRef `json:"lastBuild,omitempty"`
	// Upstream freshness from the last upstream check: fresh, stale or
	// unknown, with the versions.
	Freshness string `json:"upstreamFreshness"`
	Pinned    string `json:"pinned,omitempty"`
	Latest    string `json:"latest,omitempty"`
}

// Group counts applications per state for one phase, one tier or the whole plan.
type Group struct {
	Name   string            `json:"name"`
	Target int               `json:"target,omitempty"` // the plan's target, where it sets one
	Total  int               `json:"total"`
	States map[cpk.State]int `json:"states"`
}

// Ratio is a measured share; Value is nil while the denominator is zero.
type Ratio struct {
	Count  int      `json:"count"`
	Of     int      `json:"of"`
	Value  *float64 `json:"value"`
	Target float64  `json:"target"`
}

func ratio(n, d int, target float64) Ratio {
	r := Ratio{Count: n, Of: d, Target: target}
	if d > 0 {
		v := float64(n) / float64(d)
		r.Value = &v
	}
	return r
}

// Metrics are the plan's four success metrics.
type Metrics struct {
	// Packages counts lint-clean packages (packaged or verified) against 100.
	Packages struct {
		Count  int `json:"count"`
		Target int `json:"target"`
	} `json:"packages"`
	// SuccessRate is verified ÷ packaged (packaged includes verified), target > 90%.
	SuccessRate Ratio `json:"successRate"`
	// BuildNotes is the share of packages (apps with package files) whose
	// build notes are complete: NOTES.md and a current generated README.md.
	BuildNotes Ratio `json:"buildNotes"`
	// UpstreamFreshness is the share of packages within a month of upstream
	// (pinning the newest acceptable version, or trailing one released less
	// than 30 days ago) among the checked packages that pin a version;
	// unknown until upstream checks are recorded.
	UpstreamFreshness struct {
		Known bool     `json:"known"`
		Value *float64 `json:"value"`
		Count int      `json:"count"` // fresh packages
		Of    int      `json:"of"`    // checked packages with a pinned version
	} `json:"upstreamFreshness"`
}

// Report is the whole status.
type Report struct {
	Apps []App `json:"apps"`
	// WaitingForNetwork counts the applications, not verified, whose only
	// obstacle named in cpk.yaml is network access to their release source.
	WaitingForNetwork int     `json:"waitingForNetwork"`
	Phases            []Group `json:"phases"`
	Tiers             []Group `json:"tiers"`
	Total             Group   `json:"total"`
	Metrics           Metrics `json:"metrics"`
	// Unreadable are the catalog's folders whose cpk.yaml cpk cannot read
	// (CY001): they are in no count, and each shows with its problems.
	Unreadable []Unreadable `json:"unreadable,omitempty"`
}

// Unreadable is a catalog folder whose cpk.yaml has problems.
type Unreadable struct {
	ID       string         `json:"id"` // the folder's name
	Problems []EntryProblem `json:"problems"`
}

// EntryProblem is one problem of a catalog entry's cpk.yaml.
type EntryProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// AddUnreadable lists the catalog's entries that have problems (from a
// *catalog.LoadError) on the report.
func (r *Report) AddUnreadable(entries []cpk.Package) {
	for _, e := range entries {
		u := Unreadable{ID: e.ID}
		for _, p := range e.EntryProblems {
			u.Problems = append(u.Problems, EntryProblem{File: p.File, Line: p.Line, Column: p.Column, Message: p.Message})
		}
		r.Unreadable = append(r.Unreadable, u)
	}
}

// Options are the inputs beyond the catalog.
type Options struct {
	Rules *lint.Registry
	// Verified reports whether a lifecycle test passed on this content hash;
	// nil until test results are recorded.
	Verified func(app, hash string) bool
	Workers  int // lint concurrency; 0 = one per CPU
	// Upstream are the last recorded upstream checks (cpk upstream check);
	// nil until there are some. Now is the time freshness is judged at
	// (zero: the current time).
	Upstream []cpk.UpstreamCheck
	Now      time.Time
	// History are the recorded runs (cpk history), any order; nil without a
	// results store. They give the build and test levels, the last test and
	// regressions, and Verified when it is nil.
	History []cpk.Run
	// Cache, when set, keeps each package's findings and docs currency by
	// its inputs: an unchanged package is not linted again.
	Cache *Cache
	// Context, when set, stops the work when done (Ctrl-C): Build then
	// returns its error.
	Context context.Context
}

// Build computes the report: it lints every application that has package
// files and derives each state.
func Build(cat *catalog.Catalog, opts Options) (*Report, error) {
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	history := byApp(opts.History)
	if opts.Verified == nil && opts.History != nil {
		opts.Verified = func(app, hash string) bool { return history[app].verified(hash) }
	}
	checks := map[string]cpk.UpstreamCheck{}
	for _, c := range opts.Upstream {
		checks[c.App] = c
	}
	apps := make([]App, len(cat.Apps))
	for i, a := range cat.Apps {
		apps[i] = App{ID: a.ID, Name: a.Name, Tier: a.Tier, Phase: a.Phase, Category: a.Category, Reason: a.Reason, NeedsNetwork: a.NeedsNetwork,
			Complexity: a.Complexity, Estimate: a.Estimate, Upstream: a.Upstream.Link(), Tracker: a.Tracker}
	}
	pkgs, err := inspect(cat, opts)
	if err != nil {
		return nil, err
	}
	var packaged []int // indexes into apps of the packages
	for i, a := range cat.Apps {
		if pkgs[i].hash == "" {
			apps[i].State = catalog.DeriveState(a, catalog.Evidence{})
		} else {
			packaged = append(packaged, i)
		}
	}
	proofOf := map[int]*evidence.Evidence{} // app index → its evidence
	for _, i := range packaged {
		a, pkg := cat.Apps[i], pkgs[i]
		tally := opts.Rules.Tally(pkg.findings)
		apps[i].Errors, apps[i].Warnings, apps[i].HasNotes = tally.Errors, tally.Warnings, !tally.NotesMissing
		manifestValid := tally.ManifestValid()
		hash := pkg.hash
		apps[i].DocsCurrent = pkg.docsCurrent
		apps[i].Notes = apps[i].HasNotes && pkg.docsCurrent
		apps[i].Hash = hash
		proof := pkg.proof
		proofOf[i] = proof.Evidence
		apps[i].TestEvidence = proof.State
		if !proof.Current() {
			apps[i].EvidenceProblem = proof.Problem
		}
		ev := catalog.Evidence{HasFiles: true, LintErrors: apps[i].Errors, Verified: proof.Current()}
		if opts.Verified != nil && !ev.Verified {
			ev.Verified = opts.Verified(a.ID, hash)
		}
		apps[i].State = catalog.DeriveState(a, ev)
		apps[i].Evidence = cpk.LevelEvidence{ManifestValid: manifestValid, LintClean: apps[i].Errors == 0, DocsCurrent: apps[i].Notes}
	}
	for i, a := range cat.Apps {
		app := &apps[i]
		h := history[a.ID]
		app.Freshness = "unknown"
		if c, ok := checks[a.ID]; ok {
			app.Pinned, app.Latest = c.Pinned, c.Latest
			if fresh, known := c.Fresh(opts.Now); known {
				app.Freshness = map[bool]string{true: "fresh", false: "stale"}[fresh]
				app.Evidence.UpstreamFresh = fresh
			}
		} else if u := h.latest(cpk.KindUpstream, "", nil); u != nil {
			// Passed: within a month; failed: further behind; error or
			// skipped (no pin): unknown.
			switch u.Outcome {
			case cpk.OutcomePassed:
				app.Freshness, app.Evidence.UpstreamFresh = "fresh", true
			case cpk.OutcomeFailed:
				app.Freshness = "stale"
			}
		}
		h.runEvidence(&app.Evidence, app.Hash)
		if app.TestEvidence == evidence.Current {
			proofEvidence(&app.Evidence, proofOf[i])
		}
		app.Level = app.Evidence.Level()
		if app.Hash == "" {
			app.Level = 0
		}
		app.LevelName = app.Level.String()
		app.LastTest = ref(h.latest(cpk.KindTest, "", nil), app.Hash)
		app.LastBuild = ref(h.latest(cpk.KindBuild, "", nil), app.Hash)
		if app.Hash != "" {
			app.Lifecycle = h.lifecycle(app.Hash, app.Errors == 0)
			if app.TestEvidence == evidence.Current {
				proofLifecycle(app.Lifecycle, proofOf[i])
			}
		}
		if len(h) > 0 {
			before, after := h[:len(h)-1].level(), h.level()
			app.Previous = &before
			app.Regressed = app.Level < max(before, after)
		}
	}
	r := summarise(apps)
	r.freshness(cat, opts)
	return r, nil
}

// inspected is what Build learns from one application's package folder.
type inspected struct {
	hash        string // its content hash; "" when it has no package files
	proof       evidence.Status
	findings    []cpk.Finding
	docsCurrent bool
}

// inspect reads every application's package once (its files, their hash),
// checks its evidence, and lints it and checks its README, or takes both
// from the cache. Each package is read, linted and let go on one worker:
// lint takes the files the hash read, and the README's currency comes from
// what the lint pass read and parsed, so nothing is read or parsed twice.
func inspect(cat *catalog.Catalog, opts Options) ([]inspected, error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	out := make([]inspected, len(cat.Apps))
	errs := make([]error, len(cat.Apps))
	parallel(len(cat.Apps), opts.Workers, func(i int) {
		if errs[i] = ctx.Err(); errs[i] != nil {
			return
		}
		a, r := cat.Apps[i], &out[i]
		c, err := evidence.ReadContents(a.Dir)
		if err != nil || len(c.Files) == 0 {
			errs[i] = err
			return
		}
		r.hash = c.Hash
		r.proof = evidence.Check(a.Dir, r.hash)
		var key string
		if opts.Cache != nil {
			key = opts.Cache.key(opts.Rules, a, c)
			if e, hit := opts.Cache.get(key); hit {
				r.findings, r.docsCurrent = e.Findings, e.DocsCurrent
				return
			}
		}
		p := opts.Rules.Lint(lint.Package{ID: a.ID, Dir: a.Dir, Contents: c})
		r.findings = p.Findings()
		if r.docsCurrent, errs[i] = docs.PackageCurrentPass(a, p, c.Files); errs[i] == nil && opts.Cache != nil {
			opts.Cache.put(key, cacheEntry{Findings: r.findings, DocsCurrent: r.docsCurrent})
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

// parallel runs f(0…n-1) on workers goroutines.
func parallel(n, workers int, f func(int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				f(k)
			}
		}()
	}
	for k := range n {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
}

// proofEvidence adds what current committed evidence proves to the level's
// evidence: it built, installed, was backed up and restored, and updated
// when its update step passed.
func proofEvidence(ev *cpk.LevelEvidence, e *evidence.Evidence) {
	ev.Builds = true
	ev.Installs = ev.Installs || e.StepPassed(cpk.StepInstall)
	ev.BackupRestore = ev.BackupRestore || (e.StepPassed(cpk.StepBackup) && e.StepPassed(cpk.StepRestore))
	ev.Updates = ev.Updates || e.StepPassed(cpk.StepUpdate)
}

// proofLifecycle marks the steps current committed evidence passed.
func proofLifecycle(steps []StepRecord, e *evidence.Evidence) {
	for i := range steps {
		if steps[i].Step == "build" || e.StepPassed(steps[i].Step) {
			steps[i].Ever, steps[i].Current = true, true
		}
	}
}

// freshness computes the upstream freshness metric from recorded checks of
// applications of the catalog.
func (r *Report) freshness(cat *catalog.Catalog, opts Options) {
	if opts.Upstream == nil {
		r.storedFreshness()
		return
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	m := &r.Metrics.UpstreamFreshness
	m.Known = true
	for _, c := range opts.Upstream {
		if cat.App(c.App) == nil {
			continue
		}
		if fresh, known := c.Fresh(now); known {
			m.Of++
			if fresh {
				m.Count++
			}
		}
	}
	if m.Of > 0 {
		v := float64(m.Count) / float64(m.Of)
		m.Value = &v
	}
}

// storedFreshness computes the freshness metric from the upstream runs of
// the results store, when there is no .cpk/upstream.json (another clone
// sharing the team's store).
func (r *Report) storedFreshness() {
	m := &r.Metrics.UpstreamFreshness
	for _, a := range r.Apps {
		if a.Freshness == "fresh" || a.Freshness == "stale" {
			m.Known = true
			m.Of++
			if a.Freshness == "fresh" {
				m.Count++
			}
		}
	}
	if m.Of > 0 {
		v := float64(m.Count) / float64(m.Of)
		m.Value = &v
	}
}

// summarise counts the applications per phase, per tier and in all, and
// computes the metrics.
func summarise(apps []App) *Report {
	r := &Report{Apps: apps, Total: Group{Name: "all", Target: catalog.PlanTotal, States: map[cpk.State]int{}}}
	phases := map[int]*Group{}
	for _, p := range catalog.Phases {
		r.Phases = append(r.Phases, Group{Name: fmt.Sprintf("phase %d", p), Target: catalog.PhaseTargets[p], States: map[cpk.State]int{}})
	}
	for i := range r.Phases {
		phases[catalog.Phases[i]] = &r.Phases[i]
	}
	for t := 1; t <= 4; t++ {
		r.Tiers = append(r.Tiers, Group{Name: fmt.Sprintf("tier %d", t), States: map[cpk.State]int{}})
	}
	r.Tiers = append(r.Tiers, Group{Name: "untiered", States: map[cpk.State]int{}})
	var withFiles, withNotes int
	for _, a := range apps {
		tier := &r.Tiers[len(r.Tiers)-1]
		if a.Tier >= 1 && a.Tier <= 4 {
			tier = &r.Tiers[a.Tier-1]
		}
		for _, g := range []*Group{&r.Total, phases[a.Phase], tier} {
			if g != nil {
				g.Total++
				g.States[a.State]++
			}
		}
		if a.Hash != "" {
			withFiles++
			if a.Notes {
				withNotes++
			}
		}
	}
	for _, a := range apps {
		if a.NeedsNetwork != "" && a.State != cpk.Verified && a.State != cpk.Blocked && a.State != cpk.Retired {
			r.WaitingForNetwork++
		}
	}
	lintClean := r.Total.States[cpk.Packaged] + r.Total.States[cpk.Verified]
	r.Metrics.Packages.Count, r.Metrics.Packages.Target = lintClean, catalog.PlanTotal
	r.Metrics.SuccessRate = ratio(r.Total.States[cpk.Verified], lintClean, catalog.SuccessTarget)
	r.Metrics.BuildNotes = ratio(withNotes, withFiles, 1)
	return r
}
