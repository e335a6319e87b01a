package cli

import (
	"fmt"

	"cpk/internal/cpk"
	"cpk/internal/status"
)

// printLifecycle shows, for each application with package files, which
// lifecycle steps ever passed and which passed on its current content: the
// gap to verified, step by step.
func printLifecycle(io *IO, apps []status.App) {
	var listed []status.App
	for _, a := range apps {
		if len(a.Lifecycle) > 0 {
			listed = append(listed, a)
		}
	}
	if len(listed) == 0 {
		return
	}
	h := func(s string) string { return io.paint(bold, s) }
	fmt.Fprintf(io.Out, "\n%s (%s passed on the current content, %s only on an earlier one, %s never; cpk history APP for the runs)\n",
		h("Lifecycle steps"), io.paint(green, "✓"), io.paint(yellow, "○"), io.paint(dim, "·"))
	t := &table{io: io}
	header := []string{h("id")}
	for _, s := range status.LifecycleSteps {
		header = append(header, h(s))
	}
	t.row(append(header, h("verified"))...)
	for _, a := range listed {
		row := []string{a.ID}
		for _, s := range a.Lifecycle {
			switch {
			case s.Current:
				row = append(row, io.paint(green, "✓"))
			case s.Ever:
				row = append(row, io.paint(yellow, "○"))
			default:
				row = append(row, io.paint(dim, "·"))
			}
		}
		verified := io.paint(dim, "no")
		if a.State == cpk.Verified {
			verified = io.paint(green, "yes")
		}
		t.row(append(row, verified)...)
	}
	t.flush()
}
