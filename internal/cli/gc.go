package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"cpk/internal/runtime"
)

type gcOptions struct {
	Format string
	DryRun bool
}

func newGCCmd(g *Globals) *cobra.Command {
	var opts gcOptions
	c := &cobra.Command{
		Use:   "gc",
		Short: "Remove the containers, networks and volumes that dead cpk runs left behind",
		Long: `Remove every container, network and volume labelled io.cpk.run whose cpk
process (label io.cpk.pid, on this machine: io.cpk.host) is gone: what a
killed run, or one kept with cpk test --keep, left behind. Runs that are
still going are not touched, nor is what a development box (cpk box serve)
made while its state folder names it, whether it serves or not: cpk box
down removes that.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			return runGC(c.Context(), g, opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "only list what would be removed")
	return c
}

func runGC(ctx context.Context, g *Globals, opts gcOptions) error {
	e, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	res, err := runtime.GC(ctx, e, opts.DryRun)
	if res != nil {
		if opts.Format == "json" {
			_ = g.IO.writeJSON(res)
		} else {
			t := &table{io: g.IO}
			verb := "removed"
			if opts.DryRun {
				verb = "would remove"
			}
			for _, r := range res.Removed {
				t.row(verb, r.Kind, r.Name, "run "+r.Labels[runtime.LabelRun])
			}
			t.flush()
			fmt.Fprintf(g.IO.Err, "%d %s; %d of live runs kept; %d of other machines kept; %d of development boxes kept (cpk box down removes them)\n",
				len(res.Removed), verb, len(res.Live), len(res.Foreign), len(res.Boxes))
		}
	}
	return engineError(err)
}
