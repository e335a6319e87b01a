package manifest

import (
	"fmt"
	"slices"
	"strings"
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
	slices.Sort(names)
	best, bestDist := "", 1<<30
	lk := strings.ToLower(key)
	for _, name := range names {
		d := editDistance(lk, strings.ToLower(name))
		if d < bestDist {
			best, bestDist = name, d
		}
	}
	limit := 1
	switch n := len([]rune(key)); {
	case n > 10:
		limit = 3
	case n > 4:
		limit = 2
	}
	if best == key || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent runes.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	if len(x) > 64 || len(y) > 64 {
		if a == b {
			return 0
		}
		return 1 << 20
	}
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range y {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
