package manifest

import (
	"fmt"
	"strings"

	"cpk/internal/cpk"
)

// unknownMessage explains an unknown property of the object at parent and
// suggests the closest known one.
// Without suggestions it only explains the rule.
func unknownMessage(key string, s *schema, parent path, suggestions bool) string {
	var b strings.Builder
	if parent.ptr == "/addons" {
		fmt.Fprintf(&b, "unknown addon %q (not in schema", key)
	} else {
		fmt.Fprintf(&b, "unknown property %q", key)
		if parent.ptr != "" {
			b.WriteString(" in " + parent.name)
		}
		b.WriteString(" (not in schema")
	}
	sug := ""
	if suggestions {
		sug = suggest(key, s)
	}
	if sug != "" {
		fmt.Fprintf(&b, "; did you mean %q?)", sug)
	} else if len(s.patterns) > 0 && len(s.props) == 0 {
		b.WriteString("): keys must be " + s.patterns[0].what)
	} else if parent.ptr == "/addons" {
		b.WriteString("): known addons are " + strings.Join(addonNames, ", "))
	} else {
		b.WriteString(")")
	}
	return b.String()
}

// suggest returns the known key closest to key, or "".
func suggest(key string, s *schema) string {
	// Keys ruled by a pattern (env var names, task names): try the obvious repair.
	for _, pp := range s.patterns {
		fixed := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_':
				return r
			}
			return '_'
		}, key)
		if pp.re.MatchString(fixed) && fixed != key {
			return fixed
		}
		if up := strings.ToUpper(fixed); pp.re.MatchString(up) && up != key {
			return up
		}
	}
	var names []string
	for name := range s.props {
		names = append(names, name)
	}
	if len(s.patterns) > 0 && s.patterns[0].re == openAddons {
		names = append(names, addonNames...)
	}
	return cpk.Suggest(key, names)
}
