package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// writeJSON prints v as indented JSON on Out.
func (s *IO) writeJSON(v any) error {
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table prints rows: aligned columns on a terminal, tab-separated otherwise.
// Cells may carry ANSI colours; alignment ignores them.
type table struct {
	io   *IO
	rows [][]string
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) flush() {
	if !t.io.OutTTY {
		for _, r := range t.rows {
			fmt.Fprintln(t.io.Out, strings.Join(r, "\t"))
		}
		t.rows = nil
		return
	}
	w := tabwriter.NewWriter(t.io.Out, 0, 0, 2, ' ', tabwriter.StripEscape)
	for _, r := range t.rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = escapeANSI(c)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	w.Flush()
	t.rows = nil
}

// escapeANSI wraps colour sequences in tabwriter escapes so that they take no width.
func escapeANSI(s string) string {
	if !strings.Contains(s, "\x1b[") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "\x1b[")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], 'm')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteByte(tabwriter.Escape)
		b.WriteString(s[i : i+j+1])
		b.WriteByte(tabwriter.Escape)
		s = s[i+j+1:]
	}
}

// percent formats a share, or "n/a" when it is not defined.
func percent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", *v*100)
}
