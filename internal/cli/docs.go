package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/docs"
	"cpk/internal/lint/rules"
)

type docsOptions struct{ Check bool }

func newDocsCmd(g *Globals) *cobra.Command {
	var opts docsOptions
	c := &cobra.Command{
		Use:   "docs",
		Short: "Generate the reference pages (docs/rules) from the code",
		Long: `Generate the reference pages that come from the code: one page per lint rule
and their index under docs/rules. Pages of rules that no longer exist are
removed. --check changes nothing and exits 1 when a page is stale (CI runs it).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runDocs(g, opts) },
	}
	c.Flags().BoolVar(&opts.Check, "check", false, "only report stale pages (exit 1 when any)")
	return c
}

func runDocs(g *Globals, opts docsOptions) error {
	apps, err := g.appsDir()
	if err != nil {
		return err
	}
	reg, err := rules.Registry()
	if err != nil {
		return err
	}
	dir := filepath.Join(filepath.Dir(apps), docs.RulesDir)
	stale, err := docs.Sync(dir, docs.RulePages(reg.Rules()), opts.Check)
	if err != nil {
		return err
	}
	switch {
	case len(stale) == 0:
		fmt.Fprintf(g.IO.Err, "%s is up to date (%d rules)\n", docs.RulesDir, len(reg.Rules()))
	case opts.Check:
		fmt.Fprintf(g.IO.Err, "stale in %s: %s\nrun cpk docs to regenerate them\n", docs.RulesDir, strings.Join(stale, ", "))
		return silentFailure
	default:
		fmt.Fprintf(g.IO.Err, "wrote %d page(s) in %s\n", len(stale), docs.RulesDir)
	}
	return nil
}
