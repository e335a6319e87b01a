package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/ci"
)

type gateOptions struct {
	Format string
	Base   string
}

func newGateCmd(g *Globals) *cobra.Command {
	var opts gateOptions
	c := &cobra.Command{
		Use:   "gate integration|main",
		Short: "Check that the current branch may merge into integration or main",
		Long: `The plan's branch flow as gates: each application is developed on
feature/package-<app>, merged into integration where packages are tested
together, and promoted to main after validation.

  cpk gate integration   run on a feature branch: every package changed since
                         integration is lint-clean, builds, has current
                         evidence (cpk test) and current docs (cpk docs), and
                         its NOTES.md changed with its content
  cpk gate main          run on integration: every package that differs from
                         main is verified, no quality level regressed, and
                         every version bump has a CHANGELOG entry

Packages are compared with the fork point of the branch and the target
(--base, default the target branch itself). The checklist shows ✓ or ✗ for
each check, with what was found and the command that fixes it; the exit
code is 1 when any check fails.`,
		Example: `  cpk gate integration
  cpk gate main --base origin/main --format json`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: ci.Gates,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if !contains(ci.Gates, args[0]) {
				return usageError("gate %q: one of %s", args[0], strings.Join(ci.Gates, ", "))
			}
			return runGate(c.Context(), g, args[0], opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().StringVar(&opts.Base, "base", "", "the ref to compare with (default: the target branch)")
	return c
}

func runGate(ctx context.Context, g *Globals, gate string, opts gateOptions) error {
	repo, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	cat, err := g.loadCatalog()
	if err != nil {
		return err
	}
	reg, err := g.rules()
	if err != nil {
		return err
	}
	base := opts.Base
	if base == "" {
		base = gate
	}
	if _, err := repo.RevParse(ctx, base); err != nil {
		return usageError("%s is not a branch or commit here: create it (cpk branch APP creates integration from main) or pass --base", base)
	}
	r, err := ci.Gate(ctx, repo, cat, ci.GateOptions{Gate: gate, Base: base, Rules: reg})
	if err != nil {
		return envError(err)
	}
	if opts.Format == "json" {
		if err := g.IO.writeJSON(r); err != nil {
			return err
		}
	} else {
		printGate(g.IO, r)
	}
	if !r.Passed {
		return silentFailure
	}
	return nil
}

func printGate(io *IO, r *ci.GateReport) {
	fmt.Fprintf(io.Out, "%s %s: %s at %s, %d package(s) changed: %s\n", io.paint(bold, "cpk gate"), r.Gate, valueOrDash(r.Branch), short(r.Base),
		len(r.Apps), strings.Join(r.Apps, ", "))
	failed := 0
	for _, it := range r.Items {
		mark := io.paint(green, "✓")
		if !it.OK {
			mark = io.paint(red, "✗")
			failed++
		}
		who := ""
		if it.App != "" {
			who = it.App + ": "
		}
		fmt.Fprintf(io.Out, "%s %s%s", mark, who, it.Check)
		if it.Detail != "" {
			fmt.Fprintf(io.Out, " — %s", it.Detail)
		}
		fmt.Fprintln(io.Out)
		if it.Fix != "" {
			fmt.Fprintf(io.Out, "    fix: %s\n", it.Fix)
		}
	}
	if failed > 0 {
		fmt.Fprintf(io.Out, "%s: %d check(s) failed\n", io.paint(red, "not ready for "+r.Gate), failed)
	} else {
		fmt.Fprintf(io.Out, "%s\n", io.paint(green, "ready for "+r.Gate))
	}
}

func newBranchCmd(g *Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "branch APP",
		Short: "Start work on a package: feature/package-APP from integration",
		Long: `Create the branch feature/package-APP from integration and switch to it,
creating integration from main first when it does not exist yet (the plan's
branch flow: feature/package-<app> → integration → main; cpk gate checks
each step).`,
		Example:           `  cpk branch grist`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			if !validID(args[0]) {
				return usageError("%q is not an application id: lower-case letters, digits and dashes", args[0])
			}
			repo, err := g.openRepo(ctx)
			if err != nil {
				return err
			}
			created, err := ci.Branch(ctx, repo, args[0])
			for _, b := range created {
				fmt.Fprintf(g.IO.Err, "created %s\n", b)
			}
			if err != nil {
				return envError(err)
			}
			fmt.Fprintf(g.IO.Out, "on %s; when it is ready: cpk gate integration\n", ci.FeatureBranch(args[0]))
			return nil
		},
	}
	return c
}

func validID(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

type releaseOptions struct {
	Format string
	DryRun bool
}

func newReleaseCmd(g *Globals) *cobra.Command {
	var opts releaseOptions
	c := &cobra.Command{
		Use:   "release",
		Short: "Tag every verified package whose version has no release yet",
		Long: `Run on main: tag every package whose manifest version has no tag yet as
<app>/v<version> (an annotated tag whose message is the version's CHANGELOG
section), and print the release notes. Packages that are not verified on
their current content are named and left untagged. Push the tags with
git push origin --tags.`,
		Example: `  cpk release
  cpk release --dry-run --format json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			return runRelease(c.Context(), g, opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "show the tags and notes without tagging")
	return c
}

func runRelease(ctx context.Context, g *Globals, opts releaseOptions) error {
	repo, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	if b, err := repo.Branch(ctx); err != nil {
		return envError(err)
	} else if b != ci.Main {
		return usageError("cpk release runs on main (on %s now): git switch main", valueOrDash(b))
	}
	cat, err := g.loadCatalog()
	if err != nil {
		return err
	}
	rels, err := ci.Releases(ctx, repo, cat)
	if err != nil {
		return envError(err)
	}
	for _, r := range rels {
		if r.Skipped != "" || opts.DryRun {
			continue
		}
		msg := fmt.Sprintf("%s %s\n\n%s", r.App, r.Version, r.Notes)
		if err := repo.Tag(ctx, r.Tag, "HEAD", msg); err != nil {
			return envError(fmt.Errorf("tag %s: %w", r.Tag, err))
		}
	}
	if rels == nil {
		rels = []ci.Release{}
	}
	if opts.Format == "json" {
		return g.IO.writeJSON(rels)
	}
	tagged := 0
	for _, r := range rels {
		if r.Skipped != "" {
			fmt.Fprintf(g.IO.Err, "not released %s %s: %s\n", r.App, r.Version, r.Skipped)
			continue
		}
		tagged++
		verb := "tagged"
		if opts.DryRun {
			verb = "would tag"
		}
		fmt.Fprintf(g.IO.Out, "%s %s\n", verb, g.IO.paint(bold, r.Tag))
		for _, l := range strings.Split(valueOr(r.Notes, "(no CHANGELOG section for this version)"), "\n") {
			fmt.Fprintf(g.IO.Out, "    %s\n", l)
		}
	}
	if tagged == 0 {
		fmt.Fprintln(g.IO.Out, "nothing to release: every verified package's version is tagged")
	}
	return nil
}

func valueOr(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}
