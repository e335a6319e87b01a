package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/base"
)

type baseBuildOptions struct {
	Format         string
	Suite          string
	Mirror         string
	SecurityMirror string
	CAFiles        []string
	NoHostCA       bool
	Force          bool
}

func newBaseCmd(g *Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "base",
		Short: "The local Cloudron-compatible base image",
		Long: `cpk builds packages on a local stand-in for cloudron/base, made without any
registry: a Debian root filesystem from the machine's own apt mirror, plus
the conventions of cloudron/base (user cloudron 1000:1000, /app/code and
/app/data, gosu, supervisor, nginx, the usual runtimes). See the README's
"Base image" section for how it differs from the real one.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newBaseBuildCmd(g))
	return c
}

func newBaseBuildCmd(g *Globals) *cobra.Command {
	var opts baseBuildOptions
	c := &cobra.Command{
		Use:   "build",
		Short: "Build the local base image (debootstrap, then the cloudron/base conventions)",
		Long: `Build the local base image, unless it exists: debootstrap a Debian root
filesystem from the host's apt mirror (needs root and debootstrap), import
it, then build the conventions of cloudron/base on it.

The image is tagged ` + base.Repo + `:<suite>-<hash>, the hash covering everything
that shapes it (the conventions, the suite, the CA certificates), and is
recorded in .cpk/base.json for cpk build --offline.

Extra CA certificates (--ca-file, repeatable; default: the host's additions
in ` + base.HostCADir + `) are installed into the image, so HTTPS
inside builds works behind intercepting proxies.

Takes one to three minutes the first time (debootstrap about 30 s).`,
		Example: `  cpk base build
  cpk base build --ca-file corp-root.crt
  cpk base build --force --format json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if opts.NoHostCA && len(opts.CAFiles) > 0 {
				return usageError("--no-host-ca and --ca-file: choose one")
			}
			return runBaseBuild(c.Context(), g, opts)
		},
	}
	formatFlag(c, &opts.Format)
	f := c.Flags()
	f.StringVar(&opts.Suite, "suite", base.DefaultSuite, "Debian suite")
	f.StringVar(&opts.Mirror, "mirror", "", "apt mirror (default: the host's)")
	f.StringVar(&opts.SecurityMirror, "security-mirror", "", "apt security mirror (default: the host's)")
	f.StringArrayVar(&opts.CAFiles, "ca-file", nil, "extra CA certificate (PEM) to trust inside the image; repeatable (default: the host's additions)")
	f.BoolVar(&opts.NoHostCA, "no-host-ca", false, "install no extra CA certificate")
	f.BoolVar(&opts.Force, "force", false, "rebuild even when the image exists (picks up Debian updates)")
	return c
}

func runBaseBuild(ctx context.Context, g *Globals, opts baseBuildOptions) error {
	state, err := g.stateDir()
	if err != nil {
		return err
	}
	e, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	o := base.Options{Suite: opts.Suite, Mirror: opts.Mirror, SecurityMirror: opts.SecurityMirror,
		CAFiles: opts.CAFiles, NoHostCA: opts.NoHostCA, Force: opts.Force, StateDir: state, Progress: g.IO.Err}
	if opts.CAFiles == nil {
		o.CAFiles = nil
	}
	b := &base.Builder{Engine: e, Runner: g.runner()}
	res, err := b.Build(ctx, o)
	if err != nil {
		return engineError(fmt.Errorf("base image: %w", err))
	}
	if opts.Format == "json" {
		return g.IO.writeJSON(res)
	}
	what := "up to date"
	if res.Status == "built" {
		what = "built in " + res.Duration.Round(100*time.Millisecond).String()
	}
	fmt.Fprintf(g.IO.Out, "%s\t%s\t%s\n", res.Ref, what, res.ID)
	return nil
}
