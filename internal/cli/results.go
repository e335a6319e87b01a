package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/docs"
	"cpk/internal/lint"
	"cpk/internal/store"
)

// storeDSN names the results store: --db, else $CPK_DB, else the SQLite
// file .cpk/results.db at the repository root (dflt is then true).
func (g *Globals) storeDSN() (dsn string, dflt bool, err error) {
	if g.DB != "" {
		return g.DB, false, nil
	}
	if v := os.Getenv("CPK_DB"); v != "" {
		return v, false, nil
	}
	root, err := g.rootDir()
	if err != nil {
		return "", false, err
	}
	return filepath.Join(root, ".cpk", store.DefaultFile), true, nil
}

// openStore opens the results store for recording, creating it when needed.
func (g *Globals) openStore(ctx context.Context) (*store.Store, error) {
	dsn, _, err := g.storeDSN()
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, envError(err)
	}
	s.Warn = func(msg string) { fmt.Fprintln(g.IO.Err, "warning:", msg) }
	return s, nil
}

// openResults opens the results store for reading: nil (and no error)
// when the default store has not been created yet.
func (g *Globals) openResults(ctx context.Context) (*store.Store, error) {
	dsn, dflt, err := g.storeDSN()
	if err != nil {
		return nil, err
	}
	if dflt {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, envError(err)
	}
	s.Warn = func(msg string) { fmt.Fprintln(g.IO.Err, "warning:", msg) }
	return s, nil
}

// Record keeps runs in the results store. A store that cannot be opened or
// written is a warning, not a failure of the command that ran: the check
// itself went fine. Builds and tests call it with their results.
func (g *Globals) Record(ctx context.Context, runs ...cpk.Run) {
	if len(runs) == 0 {
		return
	}
	s, err := g.openStore(ctx)
	if err != nil {
		fmt.Fprintf(g.IO.Err, "warning: results not recorded: %v\n", err)
		return
	}
	defer s.Close()
	for _, r := range runs {
		if err := s.Record(ctx, r); err != nil {
			fmt.Fprintf(g.IO.Err, "warning: %v\n", err)
		}
	}
}

// lintRun is the record of one package's lint: passed without error-level
// findings; steps for the manifest (quality level 1), the docs (NOTES.md
// and a current README.md, level 7) and the rules.
func lintRun(reg *lint.Registry, a *catalog.App, findings []cpk.Finding, started, finished time.Time) (cpk.Run, error) {
	hash, err := a.ContentHash()
	if err != nil {
		return cpk.Run{}, err
	}
	t := reg.Tally(findings)
	errs, warns, infos, manifestErrs, notes := t.Errors, t.Warnings, t.Infos, t.ManifestErrors, !t.NotesMissing
	outcome := func(ok bool) cpk.Outcome {
		if ok {
			return cpk.OutcomePassed
		}
		return cpk.OutcomeFailed
	}
	current, err := docs.PackageCurrent(a)
	if err != nil {
		return cpk.Run{}, err
	}
	docsMsg := "NOTES.md and a current README.md"
	switch {
	case !notes:
		docsMsg = "no NOTES.md"
	case !current:
		docsMsg = "README.md is missing or stale: run cpk docs " + a.ID
	}
	return cpk.Run{
		App: a.ID, Kind: cpk.KindLint, Hash: hash, Started: started, Finished: finished, Outcome: outcome(errs == 0),
		Steps: []cpk.Step{
			{Name: cpk.StepManifest, Outcome: outcome(manifestErrs == 0), Message: fmt.Sprintf("%d manifest error(s)", manifestErrs)},
			{Name: "rules", Outcome: outcome(errs == 0), Message: fmt.Sprintf("%d error(s), %d warning(s), %d info", errs, warns, infos)},
			{Name: cpk.StepDocs, Outcome: outcome(notes && current), Message: docsMsg},
		},
		Figures: map[string]float64{"errors": float64(errs), "warnings": float64(warns), "infos": float64(infos)},
	}, nil
}

// upstreamRun is the record of one upstream check: passed when the package
// is within a month of upstream, failed when it trails further, error when
// the check failed, skipped when the package pins no version.
func upstreamRun(a *catalog.App, c cpk.UpstreamCheck, started, now time.Time) cpk.Run {
	r := cpk.Run{App: c.App, Kind: cpk.KindUpstream, Started: started, Finished: now, Figures: map[string]float64{}}
	if a != nil {
		r.Hash, _ = a.ContentHash()
	}
	if r.Finished.Before(r.Started) {
		r.Finished = r.Started
	}
	fresh, known := c.Fresh(now)
	msg := fmt.Sprintf("pinned %s, newest %s", valueOrDash(c.Pinned), valueOrDash(c.Latest))
	switch {
	case c.Error != "":
		r.Outcome, msg = cpk.OutcomeError, c.Error
	case !known:
		r.Outcome, msg = cpk.OutcomeSkipped, "no pinned version: "+msg
	case fresh:
		r.Outcome = cpk.OutcomePassed
	default:
		r.Outcome = cpk.OutcomeFailed
	}
	if c.Outdated {
		r.Figures["outdated"] = 1
	} else if c.Error == "" {
		r.Figures["outdated"] = 0
	}
	if d := pinAge(c, now); d != nil {
		r.Figures["pinAgeDays"] = float64(*d)
	}
	if c.LatestDate != nil && c.Outdated {
		r.Figures["newestAgeDays"] = float64(int(now.Sub(*c.LatestDate).Hours() / 24))
	}
	r.Steps = []cpk.Step{{Name: "check", Outcome: r.Outcome, Message: msg}}
	return r
}

// recordLint keeps a lint run for each linted package of the catalog
// (folders outside the catalog are not recorded).
func recordLint(ctx context.Context, g *Globals, reg *lint.Registry, pkgs []lint.Package, results []lint.Result) []cpk.Run {
	cat, _, _ := g.catalog()
	if cat == nil {
		return nil
	}
	var runs []cpk.Run
	for i, p := range pkgs {
		a := cat.App(p.ID)
		if a == nil || i >= len(results) || !sameDir(a.Dir, p.Dir) {
			continue
		}
		r, err := lintRun(reg, a, results[i].Findings, results[i].Started, results[i].Finished)
		if err != nil {
			fmt.Fprintf(g.IO.Err, "warning: %s: not recorded: %v\n", a.ID, err)
			continue
		}
		runs = append(runs, r)
	}
	g.Record(ctx, runs...)
	return runs
}

func sameDir(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}
