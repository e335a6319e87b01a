// Package cli holds cpk's commands: each parses flags into options and calls
// a service. Output goes through IO; errors become exit codes in cmd/cpk.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
	"cpk/internal/engine"
)

// Globals are the flags every command shares.
type Globals struct {
	IO     *IO
	Root   string // the repository root holding apps/; found from the working directory when empty
	Engine string // --engine: podman, docker or a path; CPK_ENGINE when empty
	// EngineAPI is --engine-api: talk to the engine through its REST API
	// ("true") or its command line ("false"); "" reads CPK_ENGINE_API.
	EngineAPI string
	// engines are the engines opened by this invocation: Main closes them
	// (a podman service cpk started stops with cpk).
	engines []engine.Engine
	DB      string // --db: the results store; CPK_DB, else .cpk/results.db
}

// rootDir returns the repository root, finding it when not given.
func (g *Globals) rootDir() (string, error) {
	root := g.Root
	if root == "" {
		root = os.Getenv("CPK_ROOT")
	}
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", envError(err)
		}
		if root, err = catalog.FindRoot(wd); err != nil {
			return "", envError(err)
		}
	}
	return root, nil
}

// appsDir returns the catalog folder, finding the repository root when not given.
func (g *Globals) appsDir() (string, error) {
	root, err := g.rootDir()
	if err != nil {
		return "", err
	}
	return root + string(os.PathSeparator) + "apps", nil
}

// catalog loads the repository's catalog: the one place commands do. With
// problems in some entries (le), the valid entries are returned.
func (g *Globals) catalog() (cat *catalog.Catalog, le *catalog.LoadError, err error) {
	dir, err := g.appsDir()
	if err != nil {
		return nil, nil, err
	}
	cat, err = catalog.Load(dir)
	if errors.As(err, &le) {
		return cat, le, nil
	}
	if err != nil {
		return nil, nil, envError(err)
	}
	return cat, nil, nil
}

// selectPackages resolves ids and folders (catalog.Select): an argument
// that names no package is a usage error.
func (g *Globals) selectPackages(args []string, f catalog.Filter) (*catalog.Selection, error) {
	dir, err := g.appsDir()
	if err != nil {
		return nil, err
	}
	sel, err := catalog.Select(dir, args, f)
	var se *catalog.SelectError
	switch {
	case errors.As(err, &se):
		return nil, usageError("%v", se)
	case err != nil:
		return nil, envError(err)
	}
	return sel, nil
}

// rootLong is the help text of the command.
const rootLong = `cpk turns a catalog of application packages (apps/<id>/) into verified
Cloudron apps. It validates manifests exactly as the platform does, lints
packages against the platform's rules and shows the catalog's progress
against the plan.

Start with:
  cpk status                     where the catalog stands against the plan
  cpk lint [APP...]              check packages (no argument: the whole catalog)
  cpk manifest check FILE...     validate CloudronManifest.json files
  cpk doctor                     is a container engine ready for builds?
  cpk base build                 make the local Cloudron-compatible base image
  cpk build [APP...|--all]       build package images (only what changed)
  cpk test [APP...]              the lifecycle test in an emulated Cloudron
  cpk push APP... --registry R   push package images to a registry
  cpk gc                         remove what dead test runs left behind
  cpk box serve                  a development Cloudron (its REST API) on this machine
  cpk deploy APP --server URL    install or update a package on a Cloudron (REST API)
  cpk history [APP]              recorded lint, build, test and upstream runs
  cpk serve                      the dashboard: catalog, application pages, progress
  cpk docs                       regenerate package READMEs and reference pages

The team's flow (feature/package-<app> → integration → main):
  cpk branch APP                 start work on a package on its feature branch
  cpk gate integration|main      is this branch ready to merge? (a checklist)
  cpk ci plan                    what CI must test: changed, unproven, spot checks
  cpk ci generate --provider P   the GitHub or Gitea workflows that run the plan
  cpk release                    tag every verified package's new version on main

Exit codes: 0 ok, 1 findings, invalid input, a failed build or test, 2 usage
error, 3 environment problem (e.g. no catalog found, no container engine),
130 interrupted.`

// NewRoot builds the cpk command tree.
func NewRoot(io *IO) *cobra.Command {
	root, _ := newRoot(io)
	return root
}

func newRoot(io *IO) (*cobra.Command, *Globals) {
	g := &Globals{IO: io}
	root := &cobra.Command{
		Use:           "cpk",
		Short:         "The Cloudron packaging kit: lint, build, test and track a catalog of Cloudron packages",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
	}
	root.SetVersionTemplate("cpk {{.Version}}\n")
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.PersistentFlags().StringVar(&g.Root, "root", "", "repository root holding apps/ (default: found from the working directory, or $CPK_ROOT)")
	root.PersistentFlags().StringVar(&g.Engine, "engine", "", "container engine: podman, docker or a path to one (default: $CPK_ENGINE, else detected)")
	_ = root.RegisterFlagCompletionFunc("engine", cobra.FixedCompletions([]string{"podman", "docker"}, cobra.ShellCompDirectiveNoFileComp))
	root.PersistentFlags().Var(&boolString{&g.EngineAPI}, "engine-api", "talk to the engine through its REST API (true), or run its command for each step (false) (default: $CPK_ENGINE_API, else true)")
	root.PersistentFlags().Lookup("engine-api").NoOptDefVal = "true"
	root.PersistentFlags().StringVar(&g.DB, "db", "", "results store: a SQLite file or a postgres:// URL (default: $CPK_DB, else .cpk/results.db)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(newStatusCmd(g), newLintCmd(g), newManifestCmd(g), newDocsCmd(g))
	root.AddCommand(newDoctorCmd(g))
	root.AddCommand(newBaseCmd(g))
	root.AddCommand(newBuildCmd(g), newPushCmd(g))
	root.AddCommand(newUpstreamCmd(g))
	root.AddCommand(newHistoryCmd(g), newServeCmd(g))
	root.AddCommand(newTestCmd(g), newDeployCmd(g))
	root.AddCommand(newGCCmd(g))
	root.AddCommand(newBoxCmd(g))
	root.AddCommand(newNewCmd(g))
	root.AddCommand(newVersionCmd(g))
	root.AddCommand(newCICmd(g), newGateCmd(g), newBranchCmd(g), newReleaseCmd(g))
	return root, g
}

// boolString is a boolean flag kept as text, so that "not given" stays
// apparent ("") and the environment can decide.
type boolString struct{ s *string }

func (b *boolString) String() string { return *b.s }
func (b *boolString) Type() string   { return "bool" }
func (b *boolString) Set(v string) error {
	t, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	*b.s = strconv.FormatBool(t)
	return nil
}

// formatFlag adds the shared --format flag to a reporting command.
func formatFlag(c *cobra.Command, f *string) {
	c.Flags().StringVar(f, "format", "text", "output format: text or json")
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usageError("--format %q: use text or json", f)
	}
	return nil
}

// appCompletion completes application ids from the catalog.
func appCompletion(g *Globals) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cat, _, _ := g.catalog()
		if cat == nil {
			return nil, cobra.ShellCompDirectiveDefault
		}
		var ids []string
		for _, a := range cat.Apps {
			ids = append(ids, fmt.Sprintf("%s\t%s", a.ID, a.Name))
		}
		return ids, cobra.ShellCompDirectiveDefault
	}
}

// Main runs cpk with args and returns the exit code; errors are printed here,
// once. Errors raised before a command starts running (unknown commands,
// wrong argument counts) are usage errors.
func Main(ctx context.Context, io *IO, args []string) int {
	root, g := newRoot(io)
	defer g.closeEngines()
	root.SetArgs(args)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.ExecuteContext(ctx)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	var ee *ExitError
	if err != nil && !started && !errors.As(err, &ee) {
		err = usageError("%v (see cpk --help)", err)
	}
	code := ExitCode(err)
	switch {
	case code == ExitInterrupted:
		fmt.Fprintln(io.Err, "cpk: interrupted")
	case errors.As(err, &ee) && ee.Err == nil:
		// the command has reported everything already
	case err != nil:
		fmt.Fprintf(io.Err, "cpk: %v\n", err)
	}
	return code
}
