package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"cpk/internal/base"
	"cpk/internal/cpk"
	"cpk/internal/engine"
)

// engineChoice is --engine, else CPK_ENGINE ("" = detect).
func (g *Globals) engineChoice() string {
	if g.Engine != "" {
		return g.Engine
	}
	return os.Getenv("CPK_ENGINE")
}

// runner is the exec door for this invocation; CPK_TRACE=1 prints every
// command line (secrets redacted) on stderr.
func (g *Globals) runner() *engine.Runner {
	r := &engine.Runner{}
	if os.Getenv("CPK_TRACE") != "" {
		r.Trace = func(line string) { fmt.Fprintln(g.IO.Err, "+ "+line) }
	}
	return r
}

// engineAPI is --engine-api, else CPK_ENGINE_API, else engine.APIDefault.
func (g *Globals) engineAPI() (bool, error) {
	if g.EngineAPI != "" {
		return strconv.ParseBool(g.EngineAPI)
	}
	api, err := engine.UseAPI()
	if err != nil {
		return false, usageError("%v", err)
	}
	return api, nil
}

// openEngine detects the container engine; its absence is an environment
// problem (exit 3). The engine is closed when the command ends (Main).
func (g *Globals) openEngine(ctx context.Context) (engine.Engine, error) {
	api, err := g.engineAPI()
	if err != nil {
		return nil, err
	}
	e, err := engine.Open(ctx, g.engineChoice(), api, g.runner())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, envError(err)
	}
	g.engines = append(g.engines, e)
	return e, nil
}

// closeEngines closes the engines this invocation opened: a podman
// service cpk started stops, on success, error or Ctrl-C alike.
func (g *Globals) closeEngines() {
	for _, e := range g.engines {
		if err := engine.Close(e); err != nil {
			fmt.Fprintf(g.IO.Err, "cpk: close the engine: %v\n", err)
		}
	}
	g.engines = nil
}

// stateDir is the repository's .cpk folder (logs, build records).
func (g *Globals) stateDir() (string, error) {
	root, err := g.rootDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cpk"), nil
}

// engineError maps errors of engine work to exit codes: a missing engine,
// tool or base image is an environment problem.
func engineError(err error) error {
	var ee *ExitError
	switch {
	case err == nil, errors.As(err, &ee), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, engine.ErrUnavailable), errors.Is(err, base.ErrMissing):
		return envError(err)
	}
	return err
}

type doctorOptions struct{ Format string }

func newDoctorCmd(g *Globals) *cobra.Command {
	var opts doctorOptions
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check that a container engine and the base image are ready for builds",
		Long: `Check what cpk needs to build and run packages: which container engine is
used (podman or docker; --engine or CPK_ENGINE override the detection) and
its version, whether cpk talks to it through its REST API (the default;
--engine-api=false or CPK_ENGINE_API=0 run its command instead) and on
which socket, the settings podman needs on hosts like Debian 12, debootstrap
and the extra CA certificates for cpk base build, the local base image, and
whether a container actually starts. Every problem comes with its fix.

Exits 3 when something a build needs is missing.`,
		Example: `  cpk doctor
  CPK_ENGINE=docker cpk doctor
  cpk doctor --format json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			return runDoctor(c.Context(), g, opts)
		},
	}
	formatFlag(c, &opts.Format)
	return c
}

func runDoctor(ctx context.Context, g *Globals, opts doctorOptions) error {
	api, err := g.engineAPI()
	if err != nil {
		return err
	}
	d := engine.Diagnose(ctx, g.engineChoice(), api, g.runner())
	if d.Engine != nil {
		g.engines = append(g.engines, d.Engine)
	}
	checks := d.Checks
	state := ""
	if s, err := g.stateDir(); err == nil {
		state = s
	}
	checks = append(checks, base.Diagnose(ctx, d.Engine, state)...)
	if d.Engine != nil {
		smokeImage := ""
		if ref, err := base.LocalRef(state); err == nil {
			if _, err := base.Inspect(ctx, d.Engine, ref); err == nil {
				smokeImage = ref
			}
		}
		checks = append(checks, engine.SmokeCheck(ctx, d.Engine, smokeImage))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := false
	for _, c := range checks {
		failed = failed || c.Status == cpk.CheckFail
	}
	if opts.Format == "json" {
		if err := g.IO.writeJSON(struct {
			Engine *engine.Info `json:"engine"`
			Checks []cpk.Check  `json:"checks"`
			OK     bool         `json:"ok"`
		}{d.Info, checks, !failed}); err != nil {
			return err
		}
	} else {
		printChecks(g.IO, checks)
	}
	if failed {
		return &ExitError{Code: ExitEnvironment}
	}
	return nil
}

var checkStyle = map[cpk.CheckStatus]string{cpk.CheckOK: green, cpk.CheckWarn: yellow, cpk.CheckFail: red, cpk.CheckSkip: dim}

func printChecks(io *IO, checks []cpk.Check) {
	t := &table{io: io}
	for _, c := range checks {
		t.row(io.paint(checkStyle[c.Status], string(c.Status)), c.Name, c.Detail)
		if c.Fix != "" && c.Status != cpk.CheckOK {
			t.row("", "", io.paint(bold, "fix: ")+c.Fix)
		}
	}
	t.flush()
}
