package status

import (
	"strings"
	"testing"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/lint/rules"
)

// TestLifecycleSteps: per application, which steps ever passed and which
// passed on the current content, from recorded runs of several contents.
func TestLifecycleSteps(t *testing.T) {
	dir := makeCatalog(t, map[string][2]string{"notes": {"reference", ""}, "todo": {"", ""}})
	cat, err := catalog.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := cat.App("notes").ContentHash()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	run := func(kind cpk.RunKind, h string, outcome cpk.Outcome, steps ...cpk.Step) cpk.Run {
		n++
		return cpk.Run{ID: int64(n), App: "notes", Kind: kind, Hash: h, Outcome: outcome, Steps: steps,
			Started: at.Add(time.Duration(n) * time.Minute), Finished: at.Add(time.Duration(n)*time.Minute + time.Second)}
	}
	pass := func(name string) cpk.Step { return cpk.Step{Name: name, Outcome: cpk.OutcomePassed} }
	fail := func(name string) cpk.Step { return cpk.Step{Name: name, Outcome: cpk.OutcomeFailed} }
	history := []cpk.Run{
		// An earlier content: built, and its test got through backup.
		run(cpk.KindBuild, "old", cpk.OutcomePassed),
		run(cpk.KindTest, "old", cpk.OutcomeFailed, pass("install"), pass("restart"), pass("backup"), fail("restore")),
		// The current content: its build failed, its test installed it.
		run(cpk.KindBuild, hash, cpk.OutcomeFailed),
		run(cpk.KindTest, hash, cpk.OutcomeFailed, pass("install"), fail("restart")),
	}
	reg, err := rules.Registry()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Build(cat, Options{Rules: reg, History: history})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rep.Apps {
		if a.ID == "todo" {
			if a.Lifecycle != nil {
				t.Errorf("a planned application has lifecycle steps: %+v", a.Lifecycle)
			}
			continue
		}
		for _, s := range a.Lifecycle {
			mark := "never"
			switch {
			case s.Current:
				mark = "current"
			case s.Ever:
				mark = "earlier"
			}
			got = append(got, s.Step+"="+mark)
		}
		if a.State != cpk.Packaged {
			t.Errorf("state %s", a.State)
		}
	}
	want := "lint=current build=earlier install=current restart=earlier backup=earlier restore=never move=never update=never uninstall=never"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}
