package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/cpk"
)

type historyOptions struct {
	Format string
	Kind   string
	Limit  int
	App    string
}

func newHistoryCmd(g *Globals) *cobra.Command {
	var opts historyOptions
	c := &cobra.Command{
		Use:   "history [APP]",
		Short: "List the recorded lint, build, test and upstream runs",
		Long: `List the runs recorded in the results store, newest first: when each
finished, the application, what ran (lint, build, test, upstream), how it
came out, how long it took, the content hash it looked at, its steps that
did not pass and its log.

cpk lint, cpk build, the lifecycle tests and cpk upstream check record a run
per package. The store is .cpk/results.db at the repository root (SQLite,
git-ignored), or the server named by --db / CPK_DB (postgres://…) that a
team shares.`,
		Example: `  cpk history
  cpk history grist --kind test
  cpk history --limit 200 --format json`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if opts.Kind != "" && !slices.Contains(cpk.RunKinds, cpk.RunKind(opts.Kind)) {
				return usageError("--kind %q: use lint, build, test or upstream", opts.Kind)
			}
			if opts.Limit < 0 {
				return usageError("--limit %d: use 0 (every run) or more", opts.Limit)
			}
			if len(args) == 1 {
				opts.App = args[0]
			}
			return runHistory(c.Context(), g, opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().StringVar(&opts.Kind, "kind", "", "only runs of this kind: lint, build, test or upstream")
	_ = c.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]string{"lint", "build", "test", "upstream"}, cobra.ShellCompDirectiveNoFileComp))
	c.Flags().IntVar(&opts.Limit, "limit", 50, "at most this many runs (0: all)")
	return c
}

func runHistory(ctx context.Context, g *Globals, opts historyOptions) error {
	s, err := g.openResults(ctx)
	if err != nil {
		return err
	}
	var runs []cpk.Run
	if s != nil {
		defer s.Close()
		runs, err = s.Runs(ctx, cpk.RunQuery{App: opts.App, Kind: cpk.RunKind(opts.Kind), Limit: opts.Limit})
		if err != nil {
			return envError(err)
		}
	}
	if runs == nil {
		runs = []cpk.Run{}
	}
	if opts.Format == "json" {
		return g.IO.writeJSON(struct {
			Runs []cpk.Run `json:"runs"`
		}{runs})
	}
	if len(runs) == 0 {
		what := "no runs are recorded yet"
		if opts.App != "" {
			what = "no runs of " + opts.App + " are recorded"
		}
		fmt.Fprintf(g.IO.Err, "%s: cpk lint, cpk build and cpk upstream check record them\n", what)
		return nil
	}
	h := func(s string) string { return g.IO.paint(bold, s) }
	t := &table{io: g.IO}
	t.row(h("run"), h("finished"), h("app"), h("kind"), h("outcome"), h("took"), h("content"), h("notes"), h("log"))
	for _, r := range runs {
		var notes []string
		for _, st := range r.Steps {
			if st.Outcome != cpk.OutcomePassed {
				n := st.Name + " " + string(st.Outcome)
				if st.Message != "" {
					n += ": " + firstLine(st.Message)
				}
				notes = append(notes, n)
			}
		}
		t.row(fmt.Sprint(r.ID), r.Finished.Local().Format("2006-01-02 15:04:05"), r.App, string(r.Kind),
			g.IO.paint(outcomeStyle[r.Outcome], string(r.Outcome)), r.Duration().Round(1e6).String(),
			valueOrDash(r.Hash[:min(12, len(r.Hash))]), valueOrDash(strings.Join(notes, "; ")), valueOrDash(r.Log))
	}
	t.flush()
	return nil
}

var outcomeStyle = map[cpk.Outcome]string{
	cpk.OutcomePassed: green, cpk.OutcomeFailed: red, cpk.OutcomeError: yellow, cpk.OutcomeSkipped: dim, cpk.OutcomeCancelled: dim,
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 120 {
		line = line[:117] + "…"
	}
	return line
}
