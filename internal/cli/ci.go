package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
	"cpk/internal/ci"
	"cpk/internal/git"
)

func newCICmd(g *Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "ci",
		Short: "Plan CI at catalog scale and write the workflows that run it",
		Long: `What continuous integration must run for the catalog, and the workflows
that run it on a CI service's runners.

  cpk ci plan       which packages need lint, build and test, in shards
  cpk ci generate   the GitHub Actions or Gitea/Forgejo Actions workflows`,
	}
	c.AddCommand(newCIPlanCmd(g), newCIGenerateCmd(g))
	return c
}

type planOptions struct {
	Format  string
	Base    string
	Shards  int
	Spot    int
	Offline bool
}

func (o *planOptions) flags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.Base, "base", "", "git ref to compare with: packages changed since it are planned (default: evidence alone)")
	f.IntVar(&o.Shards, "shards", 1, "split the tests into this many shards, balanced by the durations the evidence records")
	f.IntVar(&o.Spot, "spot", 0, "also re-check this many proven packages, chosen from the commit hash")
	f.BoolVar(&o.Offline, "offline", false, "leave out packages that wait for network access (cpk.yaml needsNetwork)")
}

func newCIPlanCmd(g *Globals) *cobra.Command {
	var opts planOptions
	c := &cobra.Command{
		Use:   "plan",
		Short: "Decide which packages CI must lint, build and test, in shards",
		Long: `Decide which packages need lint, build and test:

  changed           files under apps/<id>/ differ from --base (committed or not)
  shared input      an input every package shares changed (` + strings.Join(ci.SharedInputs, ", ") + `)
  evidence missing  no test/evidence.json: never proven
  evidence stale    its evidence was written for other content
  evidence invalid  its evidence was edited by hand, or records no verifying test
  spot check        proven packages re-checked by a sample chosen from the commit
                    hash (--spot K), so that committed evidence keeps being tried

The tests are split into --shards N shards balanced by the durations their
evidence records (longest first, each to the least loaded shard); every
shard exists, empty or not, so a CI matrix of N jobs always finds its own.
cpk test --shard i/N runs one of them with the same flags. The plan is the
same on every machine for the same commit and flags.`,
		Example: `  cpk ci plan
  cpk ci plan --base origin/main --shards 4 --spot 2 --format json
  cpk ci plan --base HEAD~1`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			p, err := makePlan(c.Context(), g, opts)
			if err != nil {
				return err
			}
			if opts.Format == "json" {
				return g.IO.writeJSON(p)
			}
			printPlan(g.IO, p)
			return nil
		},
	}
	formatFlag(c, &opts.Format)
	opts.flags(c)
	return c
}

// openRepo opens the git repository holding the catalog.
func (g *Globals) openRepo(ctx context.Context) (*git.Repo, error) {
	root, err := g.rootDir()
	if err != nil {
		return nil, err
	}
	repo, err := git.Open(ctx, root, g.runner())
	if err != nil {
		return nil, envError(err)
	}
	return repo, nil
}

// loadCatalog loads the catalog; problems in some entries are warnings (the
// valid entries are used).
func (g *Globals) loadCatalog() (*catalog.Catalog, error) {
	cat, le, err := g.catalog()
	if le != nil {
		fmt.Fprintln(g.IO.Err, "warning:", le)
	}
	return cat, err
}

func makePlan(ctx context.Context, g *Globals, opts planOptions) (*ci.Plan, error) {
	if opts.Shards < 1 {
		return nil, usageError("--shards %d: at least 1", opts.Shards)
	}
	if opts.Spot < 0 {
		return nil, usageError("--spot %d: 0 or more", opts.Spot)
	}
	repo, err := g.openRepo(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := g.loadCatalog()
	if err != nil {
		return nil, err
	}
	if opts.Base != "" {
		if _, err := repo.RevParse(ctx, opts.Base); err != nil {
			return nil, usageError("--base %s: not a commit here (fetch it first, e.g. git fetch origin main)", opts.Base)
		}
	}
	p, err := ci.Make(ctx, repo, cat, ci.Options{Base: opts.Base, Shards: opts.Shards, Spot: opts.Spot, Offline: opts.Offline})
	if err != nil {
		return nil, envError(err)
	}
	return p, nil
}

func printPlan(io *IO, p *ci.Plan) {
	h := func(s string) string { return io.paint(bold, s) }
	base := "evidence alone"
	if p.Base != "" {
		base = "changes since " + short(p.Base)
	}
	fmt.Fprintf(io.Out, "%s at %s (%s): %d to test, %d to lint\n", h("CI plan"), short(p.Commit), base, len(p.Test), len(p.Lint))
	if len(p.Test) > 0 {
		t := &table{io: io}
		t.row(h("app"), h("why"), h("evidence"), h("expected"))
		for _, it := range p.Test {
			t.row(it.App, strings.Join(it.Reasons, ", "), string(it.Evidence), fmt.Sprintf("%.0fs", it.Seconds))
		}
		t.flush()
	}
	if len(p.Shards) > 1 {
		fmt.Fprintln(io.Out)
		t := &table{io: io}
		t.row(h("shard"), h("expected"), h("apps"))
		for _, s := range p.Shards {
			t.row(s.Name, fmt.Sprintf("%.0fs", s.Seconds), strings.Join(s.Apps, " "))
		}
		t.flush()
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(io.Err, "skipped %s: %s\n", s.App, s.Reason)
	}
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
