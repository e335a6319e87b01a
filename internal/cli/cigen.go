package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/ci"
	"cpk/internal/fsx"
)

type ciGenerateOptions struct {
	Provider string
	Check    bool
	Shards   int
	Spot     int
	Schedule string
}

func newCIGenerateCmd(g *Globals) *cobra.Command {
	var opts ciGenerateOptions
	c := &cobra.Command{
		Use:   "generate --provider github|gitea",
		Short: "Write the CI workflows that run the plan on a CI service's runners",
		Long: `Write the workflows for GitHub Actions (.github/workflows/) or Gitea and
Forgejo Actions (.gitea/workflows/; Gitea 1.22 or later):

  cpk.yml            on pull requests and on pushes to feature/package-*,
                     integration and main: lint (SARIF, docs --check), a plan
                     job that emits the test matrix (cpk ci plan), one job per
                     shard (engine as cpk doctor advises, the cached base image,
                     cpk test --shard, JUnit, logs and new evidence as
                     artifacts), the branch flow's gate (cpk gate), and on main
                     the release tags (cpk release)
  cpk-upstream.yml   the plan's monthly upstream sync: cpk upstream check, then
                     cpk upstream bump --outdated --branch, pushing one
                     feature/package-<app> branch per update

--check changes nothing and exits 1 when the committed workflows differ from
what this cpk would write.`,
		Example: `  cpk ci generate --provider github
  cpk ci generate --provider gitea --shards 8
  cpk ci generate --provider github --check`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runCIGenerate(g, opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Provider, "provider", "", "github or gitea (Gitea and Forgejo Actions)")
	f.BoolVar(&opts.Check, "check", false, "only report whether the committed workflows are current (exit 1 when stale)")
	f.IntVar(&opts.Shards, "shards", 4, "test jobs per run")
	f.IntVar(&opts.Spot, "spot", 2, "proven packages re-checked per run")
	f.StringVar(&opts.Schedule, "schedule", "17 5 1 * *", "cron schedule of the upstream sync (default: monthly)")
	_ = c.RegisterFlagCompletionFunc("provider", cobra.FixedCompletions(ci.Providers, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runCIGenerate(g *Globals, opts ciGenerateOptions) error {
	if opts.Provider == "" {
		return usageError("--provider: one of %s", strings.Join(ci.Providers, ", "))
	}
	files, err := ci.Workflows(ci.WorkflowOptions{Provider: opts.Provider, Shards: opts.Shards, Spot: opts.Spot, Schedule: opts.Schedule})
	if err != nil {
		return usageError("%v", err)
	}
	root, err := g.rootDir()
	if err != nil {
		return err
	}
	var stale []string
	for _, rel := range ci.WorkflowPaths(files) {
		path := filepath.Join(root, filepath.FromSlash(rel))
		old, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return envError(err)
		}
		if bytes.Equal(old, files[rel]) {
			continue
		}
		stale = append(stale, rel)
		if opts.Check {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return envError(err)
		}
		if err := fsx.WriteFile(path, files[rel], 0o644); err != nil {
			return envError(err)
		}
	}
	switch {
	case opts.Check && len(stale) > 0:
		fmt.Fprintf(g.IO.Err, "stale: %s\nrun: cpk ci generate --provider %s\n", strings.Join(stale, ", "), opts.Provider)
		return silentFailure
	case opts.Check:
		fmt.Fprintf(g.IO.Out, "the %s workflows are current\n", opts.Provider)
	case len(stale) == 0:
		fmt.Fprintf(g.IO.Out, "the %s workflows are current: nothing written\n", opts.Provider)
	default:
		fmt.Fprintf(g.IO.Out, "wrote %s\n", strings.Join(stale, ", "))
	}
	return nil
}
