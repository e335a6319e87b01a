package status

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/evidence"
	"cpk/internal/lint/rules"
)

var day0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func at(h int) time.Time { return day0.Add(time.Duration(h) * time.Hour) }

func passed(name string) cpk.Step { return cpk.Step{Name: name, Outcome: cpk.OutcomePassed} }

// scenario is every step that verifies a content, passed.
func scenario() []cpk.Step {
	var steps []cpk.Step
	for _, s := range evidence.VerifiedSteps {
		steps = append(steps, passed(s))
	}
	return steps
}

func lintRunOf(app, hash string, h int, ok bool) cpk.Run {
	o := cpk.OutcomePassed
	if !ok {
		o = cpk.OutcomeFailed
	}
	return cpk.Run{App: app, Kind: cpk.KindLint, Hash: hash, Started: at(h), Finished: at(h), Outcome: o,
		Steps: []cpk.Step{passed(cpk.StepManifest), {Name: "rules", Outcome: o}, passed(cpk.StepDocs)}}
}

func testRunOf(app, hash string, h int, steps ...cpk.Step) cpk.Run {
	o := cpk.OutcomePassed
	for _, s := range steps {
		if s.Outcome != cpk.OutcomePassed && s.Outcome != cpk.OutcomeSkipped {
			o = cpk.OutcomeFailed
		}
	}
	return cpk.Run{App: app, Kind: cpk.KindTest, Hash: hash, Started: at(h), Finished: at(h), Outcome: o, Steps: steps}
}

func appOf(t *testing.T, rep *Report, id string) App {
	t.Helper()
	for _, a := range rep.Apps {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no app %s", id)
	return App{}
}

// TestLevelsAndRegressions walks one package up to level 7 and down again.
func TestLevelsAndRegressions(t *testing.T) {
	dir := makeCatalog(t, map[string][2]string{"a": {"good", ""}, "p": {"", ""}})
	writeReadmes(t, dir)
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := rules.Registry()
	hash, _ := cat.App("a").ContentHash()
	now := at(100)
	fresh := []cpk.UpstreamCheck{{App: "a", Pinned: "1.0", Latest: "1.0"}}
	report := func(history []cpk.Run, checks []cpk.UpstreamCheck) *Report {
		t.Helper()
		rep, err := Build(cat, Options{Rules: reg, History: history, Upstream: checks, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// No history: lint-clean, level 2; not regressed; planned apps level 0.
	a := appOf(t, report(nil, nil), "a")
	if a.Level != 2 || a.Regressed || a.Previous != nil || a.State != cpk.Packaged || a.Freshness != "unknown" {
		t.Errorf("no history: %+v", a)
	}
	if p := appOf(t, report(nil, fresh), "p"); p.Level != 0 {
		t.Errorf("planned: level %d", p.Level)
	}
	history := []cpk.Run{
		lintRunOf("a", hash, 1, true),
		{App: "a", Kind: cpk.KindBuild, Hash: hash, Started: at(2), Finished: at(2), Outcome: cpk.OutcomePassed},
		testRunOf("a", hash, 3, passed(cpk.StepInstall)),
	}
	// Installed only: level 4, and not verified (the other steps never ran).
	if a := appOf(t, report(history, nil), "a"); a.Level != 4 || a.State != cpk.Packaged || a.LastTest == nil || !a.LastTest.Current || a.LastBuild == nil {
		t.Errorf("built and installed: %+v", a)
	}
	// Backup/restore and update in a later run of the same content; the
	// install step of the earlier run still counts.
	history = append(history, testRunOf("a", hash, 4, passed(cpk.StepBackup), passed(cpk.StepRestore), passed(cpk.StepUpdate)))
	if a := appOf(t, report(history, nil), "a"); a.Level != 6 || a.Evidence.UpstreamFresh {
		t.Errorf("without an upstream check: %+v", a)
	}
	a = appOf(t, report(history, fresh), "a")
	if a.Level != 7 || a.LevelName != "docs current, upstream fresh" || a.Regressed || a.Freshness != "fresh" {
		t.Errorf("everything: %+v", a)
	}
	// An upstream run in the store counts when there is no check file.
	withUp := append(append([]cpk.Run(nil), history...), cpk.Run{App: "a", Kind: cpk.KindUpstream, Hash: hash, Started: at(5), Finished: at(5), Outcome: cpk.OutcomePassed})
	if a := appOf(t, report(withUp, nil), "a"); a.Level != 7 || a.Freshness != "fresh" {
		t.Errorf("upstream from the store: %+v", a)
	}
	// A failed restore: down to level 4, a regression from 7.
	history = append(withUp, testRunOf("a", hash, 6, passed(cpk.StepInstall), passed(cpk.StepBackup), cpk.Step{Name: cpk.StepRestore, Outcome: cpk.OutcomeFailed}))
	a = appOf(t, report(history, fresh), "a")
	if a.Level != 4 || !a.Regressed || a.Previous == nil || *a.Previous != 7 || a.State != cpk.Packaged {
		t.Errorf("failed restore: level %d regressed %v previous %v state %s", a.Level, a.Regressed, a.Previous, a.State)
	}
	// Another run that changes nothing: the drop is no longer news.
	history = append(history, lintRunOf("a", hash, 7, true))
	if a := appOf(t, report(history, fresh), "a"); a.Level != 4 || a.Regressed || *a.Previous != 4 {
		t.Errorf("after the next run: %+v", a)
	}
	// Editing the package leaves the tests behind: level 2 now, below the
	// level of the last run.
	mf := filepath.Join(dir, "a", "start.sh")
	data, _ := os.ReadFile(mf)
	os.WriteFile(mf, append(data, "# edited\n"...), 0o755)
	if a := appOf(t, report(history, fresh), "a"); a.Level != 2 || !a.Regressed || a.State != cpk.Packaged || a.LastTest.Current {
		t.Errorf("edited: %+v", a)
	}
}

func TestVerifiedFrom(t *testing.T) {
	notSelected := func(name string) cpk.Step {
		return cpk.Step{Name: name, Outcome: cpk.OutcomeSkipped, Message: "not selected"}
	}
	v := VerifiedFrom([]cpk.Run{
		// Passed, then failed: not verified.
		testRunOf("a", "h1", 1, scenario()...),
		testRunOf("a", "h1", 2, cpk.Step{Name: cpk.StepInstall, Outcome: cpk.OutcomeFailed}),
		// Failed, then passed: verified.
		testRunOf("a", "h2", 1, cpk.Step{Name: cpk.StepInstall, Outcome: cpk.OutcomeFailed}),
		testRunOf("a", "h2", 3, scenario()...),
		lintRunOf("b", "h3", 1, true),
		// Some steps only (cpk test --step): not verified by itself...
		testRunOf("d", "h4", 1, passed(cpk.StepInstall), notSelected(cpk.StepRestart), notSelected(cpk.StepBackup),
			notSelected(cpk.StepRestore), notSelected(cpk.StepMove), passed(cpk.StepUpdate), passed(cpk.StepUninstall)),
		// ...but verified when the other steps passed in an earlier run.
		testRunOf("e", "h5", 1, scenario()...),
		testRunOf("e", "h5", 2, passed(cpk.StepInstall), notSelected(cpk.StepRestart), notSelected(cpk.StepBackup),
			notSelected(cpk.StepRestore), notSelected(cpk.StepMove), passed(cpk.StepUpdate), passed(cpk.StepUninstall)),
	})
	for _, c := range []struct {
		app, hash string
		want      bool
	}{{"a", "h1", false}, {"a", "h2", true}, {"a", "h3", false}, {"b", "h3", false}, {"c", "", false}, {"d", "h4", false}, {"e", "h5", true}} {
		if got := v(c.app, c.hash); got != c.want {
			t.Errorf("%s %s: %v", c.app, c.hash, got)
		}
	}
}

func TestTimeline(t *testing.T) {
	dir := makeCatalog(t, map[string][2]string{"a": {"", ""}, "b": {"", ""}, "c": {"", ""}, "x": {"", "state: blocked\nreason: waits\n"}})
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	runs := []cpk.Run{
		testRunOf("a", "h1", 30, scenario()...),
		lintRunOf("a", "h1", 10, false),
		lintRunOf("a", "h1", 20, true),
		lintRunOf("b", "h2", 25, true),
		lintRunOf("gone", "h9", 5, true), // not in the catalog
	}
	times := []time.Time{at(0), at(15), at(22), at(26), at(31)}
	tl := Timeline(cat, runs, times)
	want := []map[cpk.State]int{
		{cpk.Planned: 3, cpk.Blocked: 1},
		{cpk.Draft: 1, cpk.Planned: 2, cpk.Blocked: 1},
		{cpk.Packaged: 1, cpk.Planned: 2, cpk.Blocked: 1},
		{cpk.Packaged: 2, cpk.Planned: 1, cpk.Blocked: 1},
		{cpk.Verified: 1, cpk.Packaged: 1, cpk.Planned: 1, cpk.Blocked: 1},
	}
	for i, s := range tl {
		for _, st := range cpk.States {
			if s.States[st] != want[i][st] {
				t.Errorf("at %s: %v, want %v", s.At, s.States, want[i])
				break
			}
		}
	}
	ts := SampleTimes(runs, at(40), 5)
	if len(ts) != 5 || !ts[0].Before(at(5)) || !ts[4].Equal(at(40)) {
		t.Errorf("sample times %v", ts)
	}
	if ts := SampleTimes(nil, at(40), 5); len(ts) != 1 {
		t.Errorf("no runs: %v", ts)
	}
}
