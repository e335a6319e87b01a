package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
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
	defer func() { t.rows = nil }()
	if !t.io.OutTTY {
		for _, r := range t.rows {
			fmt.Fprintln(t.io.Out, strings.Join(r, "\t"))
		}
		return
	}
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], visibleWidth(c))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-visibleWidth(c)+2))
			}
		}
		fmt.Fprintln(t.io.Out, b.String())
	}
}

// visibleWidth counts the runes of s that a terminal shows (ANSI colour
// sequences take no room).
func visibleWidth(s string) int {
	n := 0
	for len(s) > 0 {
		if strings.HasPrefix(s, "\x1b[") {
			if j := strings.IndexByte(s, 'm'); j >= 0 {
				s = s[j+1:]
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		n++
	}
	return n
}

// percent formats a share, or "n/a" when it is not defined.
func percent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", *v*100)
}

// safe escapes control characters (a terminal's escape sequences, newlines
// in a file name) in text that comes from outside cpk — upstream data, file
// names, package text — so that it cannot clear a screen or start a CI
// log's workflow command. Tabs become spaces (they split table cells).
func safe(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
