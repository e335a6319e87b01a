package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/status"
	"cpk/internal/upstream"
)

type statusOptions struct {
	Format   string
	All      bool
	Timeline bool
}

func newStatusCmd(g *Globals) *cobra.Command {
	var opts statusOptions
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the catalog's progress against the plan",
		Long: `Show where every application of the catalog stands: counts per phase and
tier of planned, draft, packaged, verified, blocked and retired applications
against the plan's targets, and the plan's four success metrics.

States are derived: planned (only cpk.yaml), draft (package files with lint
errors), packaged (lint-clean), verified (its current content passed the
lifecycle test: the newest test run passed, and install, restart, backup,
restore, move and uninstall each passed on it). Only blocked (with a reason) and retired are set by hand in
cpk.yaml.

Each package also has a quality level from its recorded results (cpk
history): 0 nothing, 1 manifest valid, 2 lint-clean, 3 builds, 4 installs
healthy, 5 backup/restore identical, 6 updates from the previous version,
7 docs current and upstream fresh. A level below the one before the last
recorded run is a regression, marked with ▼.

The lifecycle table shows, for each package, which steps ever passed —
lint, build, and the lifecycle test's install, restart, backup, restore,
move, update and uninstall — and which passed on its current content: the
gap to verified, step by step (--format json: "lifecycle" per app).`,
		Example: `  cpk status
  cpk status --all              list every application
  cpk status --format json      the whole report, every application included
  cpk status --timeline         …and how the counts grew along main's history`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			return abandonable(c.Context(), func(ctx context.Context) error { return runStatus(ctx, g, opts) })
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().BoolVar(&opts.All, "all", false, "list every application, not only those with package files")
	c.Flags().BoolVar(&opts.Timeline, "timeline", false, "also show the counts per state along main's git history (each commit's packages and evidence), ending with now")
	return c
}

func runStatus(ctx context.Context, g *Globals, opts statusOptions) error {
	cat, le, err := g.catalog()
	if err != nil {
		return err
	}
	reg, err := g.rules()
	if err != nil {
		return err
	}
	rep, _, err := g.reportService(reg, func(err error) {
		fmt.Fprintf(g.IO.Err, "warning: %v\n", err)
	}).Report(ctx, cat, time.Now())
	if err != nil {
		return err
	}
	rep.AddUnreadable(le.Entries(cat.Dir))
	var timeline []status.Snapshot
	if opts.Timeline {
		root, _ := g.rootDir()
		if timeline, _ = progress(ctx, root, cat, reg, rep, time.Now()); timeline == nil {
			fmt.Fprintln(g.IO.Err, "warning: no timeline: the catalog is not in a git repository")
		}
	}
	if opts.Format == "json" {
		var out any = rep
		if opts.Timeline {
			out = struct {
				*status.Report
				Timeline []status.Snapshot `json:"timeline"`
			}{rep, timeline}
		}
		if err := g.IO.writeJSON(out); err != nil {
			return err
		}
	} else {
		printStatus(g.IO, rep, opts.All)
		if len(timeline) > 0 {
			printTimeline(g.IO, timeline)
		}
	}
	if le != nil {
		fmt.Fprintln(g.IO.Err, le)
		return silentFailure
	}
	return nil
}

var stateStyle = map[cpk.State]string{
	cpk.Planned: dim, cpk.Draft: yellow, cpk.Packaged: blue, cpk.Verified: green, cpk.Blocked: red, cpk.Retired: dim,
}

func printStatus(io *IO, r *status.Report, all bool) {
	printGroups(io, r)
	printMetrics(io, r)
	printApps(io, r, all)
}

// printGroups prints the counts per state, per phase and per tier.
func printGroups(io *IO, r *status.Report) {
	h := func(s string) string { return io.paint(bold, s) }
	fmt.Fprintf(io.Out, "%s — %d applications in the catalog, plan target %d\n\n", h("cpk status"), r.Total.Total, r.Total.Target)

	t := &table{io: io}
	header := []string{h("")}
	header = append(header, h("target"), h("apps"))
	for _, s := range cpk.States {
		header = append(header, io.paint(bold+";"+stateStyle[s], string(s)))
	}
	group := func(g status.Group) {
		target := "-"
		if g.Target > 0 {
			target = strconv.Itoa(g.Target)
		}
		row := []string{g.Name, target, strconv.Itoa(g.Total)}
		for _, s := range cpk.States {
			n := g.States[s]
			cell := strconv.Itoa(n)
			if n == 0 {
				cell = io.paint(dim, cell)
			} else {
				cell = io.paint(stateStyle[s], cell)
			}
			row = append(row, cell)
		}
		t.row(row...)
	}
	t.row(header...)
	for _, g := range r.Phases {
		group(g)
	}
	group(r.Total)
	t.flush()
	fmt.Fprintln(io.Out)
	t.row(header...)
	for _, g := range r.Tiers {
		group(g)
	}
	t.flush()

}

// printMetrics prints the plan's four success metrics.
func printMetrics(io *IO, r *status.Report) {
	h := func(s string) string { return io.paint(bold, s) }
	t := &table{io: io}
	m := r.Metrics
	fmt.Fprintf(io.Out, "\n%s\n", h("Success metrics"))
	t.row("packages", fmt.Sprintf("%d of %d", m.Packages.Count, m.Packages.Target), "lint-clean packages (packaged or verified)")
	t.row("deploy success", percent(m.SuccessRate.Value), fmt.Sprintf("%d verified of %d packaged; target above %.0f%%", m.SuccessRate.Count, m.SuccessRate.Of, m.SuccessRate.Target*100))
	t.row("build notes", percent(m.BuildNotes.Value), fmt.Sprintf("%d of %d packages have NOTES.md and a current README.md (cpk docs); target 100%%", m.BuildNotes.Count, m.BuildNotes.Of))
	fresh, freshNote := "unknown", "packages within a month of upstream; no upstream checks recorded yet (cpk upstream check)"
	if f := m.UpstreamFreshness; f.Known {
		fresh = percent(f.Value)
		freshNote = fmt.Sprintf("%d of %d checked packages within a month of upstream (cpk upstream check)", f.Count, f.Of)
	}
	t.row("upstream freshness", fresh, freshNote)
	t.flush()
	if r.WaitingForNetwork > 0 {
		fmt.Fprintf(io.Out, "\n%d application(s) wait only for network access to their release source (cpk.yaml needsNetwork; cpk status --all lists them)\n", r.WaitingForNetwork)
	}

}

// printApps lists the applications (with package files, or all) and their
// lifecycle steps.
func printApps(io *IO, r *status.Report, all bool) {
	h := func(s string) string { return io.paint(bold, s) }
	t := &table{io: io}
	var listed []status.App
	for _, a := range r.Apps {
		if all || a.State != cpk.Planned {
			listed = append(listed, a)
		}
	}
	if phase, next := nextUp(r); len(next) > 0 {
		fmt.Fprintf(io.Out, "\n%s %s\n", h(fmt.Sprintf("Next up in phase %d, by tier:", phase)), strings.Join(next, ", "))
	}
	if len(listed) == 0 {
		fmt.Fprintf(io.Out, "\nNo application has package files yet: add them beside apps/<id>/cpk.yaml and run cpk lint <id>.\ncpk status --all lists all %d applications.\n", len(r.Apps))
		return
	}
	fmt.Fprintf(io.Out, "\n%s\n", h("Applications"))
	t.row(h("id"), h("tier"), h("phase"), h("state"), h("level"), h("lint"), h("notes"))
	for _, a := range listed {
		tier := "-"
		if a.Tier > 0 {
			tier = strconv.Itoa(a.Tier)
		}
		lintCell, notes, level := "-", "-", "-"
		if a.Hash != "" {
			lintCell = fmt.Sprintf("%d errors, %d warnings", a.Errors, a.Warnings)
			switch {
			case a.Notes:
				notes = "yes"
			case !a.HasNotes:
				notes = "no NOTES.md"
			default:
				notes = "README.md stale"
			}
			level = fmt.Sprintf("%d %s", a.Level, a.LevelName)
			if a.Regressed && a.Previous != nil {
				level = io.paint(red, fmt.Sprintf("%s ▼ was %d", level, *a.Previous))
			}
		}
		state := io.paint(stateStyle[a.State], string(a.State))
		switch {
		case a.Reason != "":
			state += " (" + a.Reason + ")"
		case a.NeedsNetwork != "" && a.State != cpk.Verified:
			state += " (needs network: " + a.NeedsNetwork + ")"
		}
		t.row(a.ID, tier, strconv.Itoa(a.Phase), state, level, lintCell, notes)
	}
	t.flush()
	printLifecycle(io, listed)
}

// nextUp names the planned applications of the earliest phase that still has
// some, highest tier first: where packaging work should go next.
func nextUp(r *status.Report) (int, []string) {
	const most = 8
	for _, phase := range catalog.Phases {
		var ids []string
		for tier := 1; tier <= 5 && len(ids) < most; tier++ {
			for _, a := range r.Apps {
				t := a.Tier
				if t == 0 {
					t = 5 // untiered after tier 4
				}
				if a.Phase == phase && t == tier && a.State == cpk.Planned && len(ids) < most {
					ids = append(ids, a.ID)
				}
			}
		}
		if len(ids) > 0 {
			return phase, ids
		}
	}
	return 0, nil
}

// reportService is the report's sources for this repository: the last
// upstream checks and the results store (status and the dashboard share it).
func (g *Globals) reportService(reg *lint.Registry, warn func(error)) status.Service {
	var cache *status.Cache
	if root, err := g.rootDir(); err == nil {
		cache = &status.Cache{Dir: filepath.Join(root, ".cpk", "cache", "status")}
	}
	return status.Service{Rules: reg, Warn: warn, Cache: cache,
		Upstream: func() ([]cpk.UpstreamCheck, error) {
			root, err := g.rootDir()
			if err != nil {
				return nil, err
			}
			return upstream.LoadResults(resultsPath(root))
		},
		Runs: func(ctx context.Context) ([]cpk.Run, error) {
			runs, err := loadHistory(ctx, g)
			if err != nil {
				err = fmt.Errorf("%w (levels and verified states need the results store)", err)
			}
			return runs, err
		},
	}
}

// loadHistory reads every recorded run; nil when there is no store yet.
func loadHistory(ctx context.Context, g *Globals) ([]cpk.Run, error) {
	s, err := g.openResults(ctx)
	if err != nil || s == nil {
		return nil, err
	}
	defer s.Close()
	runs, err := s.Runs(ctx, cpk.RunQuery{})
	if runs == nil && err == nil {
		runs = []cpk.Run{}
	}
	return runs, err
}

func printTimeline(io *IO, points []status.Snapshot) {
	fmt.Fprintf(io.Out, "\n%s\n", io.paint(bold, "Along main's history"))
	t := &table{io: io}
	row := []string{io.paint(bold, "date")}
	for _, s := range cpk.States {
		row = append(row, io.paint(bold, string(s)))
	}
	t.row(row...)
	for i, p := range points {
		at := p.At.UTC().Format("2006-01-02 15:04")
		if i == len(points)-1 {
			at = "now"
		}
		row := []string{at}
		for _, s := range cpk.States {
			row = append(row, strconv.Itoa(p.States[s]))
		}
		t.row(row...)
	}
	t.flush()
}
