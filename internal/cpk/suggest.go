package cpk

import (
	"slices"
	"strings"
)

// Suggest returns the entry of known closest to word, ignoring case, when it
// is close enough to be a likely typo (one edit for short words, two from
// five runes, three from eleven), or "". Ties go to the alphabetically first.
func Suggest(word string, known []string) string {
	names := slices.Clone(known)
	slices.Sort(names)
	best, bestDist := "", 1<<30
	lw := strings.ToLower(word)
	for _, name := range names {
		if d := editDistance(lw, strings.ToLower(name)); d < bestDist {
			best, bestDist = name, d
		}
	}
	limit := 1
	switch n := len([]rune(word)); {
	case n > 10:
		limit = 3
	case n > 4:
		limit = 2
	}
	if best == word || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent runes (the
// commonest typo, which plain Levenshtein counts twice). Words longer than
// 64 runes are never close.
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
