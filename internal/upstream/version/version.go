// Package version reads and orders the version strings upstream projects
// publish as tags, releases and package versions.
//
// One reading serves every source, because projects mix conventions:
//
//   - the version starts at the first number that follows the start of the
//     tag, a separator or a word such as v, r, ver, version, rel or release:
//     v1.2.3, release-1.2, REL_16_1, app-v1.2.3, curl-8_5_0, log4j-2.17.1
//     and k3s-v1.28.1 all read as the version their numbers say;
//   - the release is every number joined by "." or "_", any count of them
//     (1.2.3.4 is above 1.2.3; 1.2 equals 1.2.0; 1.02 equals 1.2; numbers of
//     any size); dates are numbers too: 2024-01-15, 20240115 and 2024.01.15
//     are the same release, and RELEASE.2023-10-25T06-33-25Z orders by time;
//   - what follows is a pre-release when it starts with a known word:
//     dev, snapshot, nightly, canary < alpha, a < beta, b, milestone, m <
//     pre, preview, ea < rc, c, cr < the release itself. 1.2.3-rc.1,
//     1.2.3-RC1 and 1.2.3rc1 are equal; rc10 is above rc9;
//   - a post-release when it starts with post, p, pl, patch, hotfix, fix,
//     rev, r or a plain number (1.2.3-1, 1.2.3.post1): above the release;
//   - final, ga, release, stable, lts say nothing (1.2.3.Final = 1.2.3);
//   - any other suffix is a variant (1.2.3-alpine, 1.2.3-bookworm): a
//     stable release that orders after the plain one and by name among
//     variants, never a pre-release;
//   - build metadata (after "+") is ignored.
package version

import (
	"strings"
)

// Scheme narrows which version strings are accepted.
type Scheme string

const (
	// Loose accepts every version with a number (the default).
	Loose Scheme = "loose"
	// SemVer accepts one to three release numbers with a major below 1000
	// (dates and 4-part versions are refused).
	SemVer Scheme = "semver"
	// Calendar accepts versions that start with a year: 2024.1, 24.04,
	// 2024-01-15, 20240115.
	Calendar Scheme = "calendar"
)

// Phases of a version, in order.
const (
	phaseDev = iota
	phaseAlpha
	phaseBeta
	phasePre
	phaseRC
	phaseStable
	phasePost
)

var preWords = map[string]int{
	"dev": phaseDev, "snapshot": phaseDev, "nightly": phaseDev, "canary": phaseDev,
	"alpha": phaseAlpha, "a": phaseAlpha,
	"beta": phaseBeta, "b": phaseBeta, "milestone": phaseBeta, "m": phaseBeta,
	"pre": phasePre, "preview": phasePre, "ea": phasePre,
	"rc": phaseRC, "c": phaseRC, "cr": phaseRC,
	"post": phasePost, "p": phasePost, "pl": phasePost, "patch": phasePost, "hotfix": phasePost,
	"fix": phasePost, "rev": phasePost, "r": phasePost,
}

var neutralWords = map[string]bool{"final": true, "ga": true, "release": true, "stable": true, "lts": true}

// lead words may stand right before the first number: v1.2, version2.
var leadWords = map[string]bool{"v": true, "r": true, "ver": true, "version": true, "rel": true, "release": true}

// Version is a parsed version string.
type Version struct {
	Raw     string   // the input
	Release []string // the release numbers, without leading zeros
	Suffix  string   // what followed the release numbers, build metadata excluded
	Build   string   // build metadata, after "+"
	phase   int
	ids     []string // the identifiers of a pre- or post-release, lower-case
	variant string   // a variant suffix, lower-case
	date    bool     // the release was written as a date with dashes
}

// Parse reads s. ok is false when s holds no version.
func Parse(s string) (v Version, ok bool) {
	v.Raw = s
	s = strings.TrimSpace(s)
	s, v.Build, _ = strings.Cut(s, "+")
	start := findStart(s)
	if start < 0 {
		return v, false
	}
	i := start
	num := func() string {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		n := s[i:j]
		i = j
		return n
	}
	v.Release = append(v.Release, num())
	for i+1 < len(s) && isDigit(s[i+1]) {
		switch {
		case s[i] == '.' || s[i] == '_':
			i++
			v.Release = append(v.Release, num())
			continue
		case s[i] == '-' && len(v.Release) == 1 && len(v.Release[0]) == 4 && isDashDate(s[i:]):
			v.Release = append(v.Release, s[i+1:i+3], s[i+4:i+6])
			v.date = true
			i += 6
			i += readTime(s[i:], &v.Release)
			continue
		}
		break
	}
	v.Release = splitDate(v.Release)
	for k, n := range v.Release {
		v.Release[k] = trimZeros(n)
	}
	v.Suffix = s[i:]
	v.phase = phaseStable
	rest := strings.TrimLeft(v.Suffix, "-._~")
	if rest == "" {
		return v, true
	}
	toks := tokens(strings.ToLower(rest))
	first := toks[0]
	switch p, known := preWords[first]; {
	case known:
		v.phase, v.ids = p, toks[1:]
	case isDigit(first[0]):
		v.phase, v.ids = phasePost, toks
	case neutralWords[first] && len(toks) == 1:
	default:
		v.variant = strings.ToLower(rest)
	}
	for k, id := range v.ids {
		if isDigit(id[0]) {
			v.ids[k] = trimZeros(id)
		}
	}
	return v, true
}

// findStart returns the index of the first digit that begins the version,
// or -1.
func findStart(s string) int {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			continue
		}
		if i == 0 || !isAlnum(s[i-1]) {
			return i
		}
		if !isLetter(s[i-1]) {
			continue
		}
		j := i
		for j > 0 && isLetter(s[j-1]) {
			j--
		}
		if (j == 0 || !isAlnum(s[j-1])) && leadWords[strings.ToLower(s[j:i])] {
			return i
		}
		for i+1 < len(s) && isDigit(s[i+1]) {
			i++ // skip the rest of a number inside a word (log4j, k3s)
		}
	}
	return -1
}

// isDashDate reports whether s starts with -MM-DD.
func isDashDate(s string) bool {
	return len(s) >= 6 && s[0] == '-' && isDigit(s[1]) && isDigit(s[2]) && s[3] == '-' && isDigit(s[4]) && isDigit(s[5]) &&
		(len(s) == 6 || !isDigit(s[6]))
}

// readTime reads a time after a dashed date (T06-33-25Z, T06:33Z) into
// release and returns how many bytes it took.
func readTime(s string, release *[]string) int {
	if len(s) < 3 || s[0] != 'T' {
		return 0
	}
	i, parts := 1, []string{}
	for len(parts) < 3 && i+1 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) {
		parts = append(parts, s[i:i+2])
		i += 2
		if i < len(s) && (s[i] == '-' || s[i] == ':') && len(parts) < 3 {
			i++
		}
	}
	if len(parts) < 2 {
		return 0
	}
	if i < len(s) && s[i] == 'Z' {
		i++
	}
	*release = append(*release, parts...)
	return i
}

// splitDate turns a release that is one 8-, 12- or 14-digit date
// (20240115, 202401151030) into its parts.
func splitDate(r []string) []string {
	if len(r) != 1 {
		return r
	}
	n := r[0]
	if len(n) != 8 && len(n) != 12 && len(n) != 14 {
		return r
	}
	y, m, d := n[:4], n[4:6], n[6:8]
	if (y[:2] != "19" && y[:2] != "20") || m < "01" || m > "12" || d < "01" || d > "31" {
		return r
	}
	out := []string{y, m, d}
	for k := 8; k < len(n); k += 2 {
		out = append(out, n[k:k+2])
	}
	return out
}

func tokens(s string) []string {
	var out []string
	cur := ""
	flush := func() {
		if cur != "" {
			out = append(out, cur)
			cur = ""
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case !isAlnum(c):
			flush()
		case cur != "" && isDigit(c) != isDigit(cur[len(cur)-1]):
			flush()
			cur = string(c)
		default:
			cur += string(c)
		}
	}
	flush()
	if len(out) == 0 {
		out = []string{s}
	}
	return out
}

// MustParse is Parse for tests and constants; it panics on a non-version.
func MustParse(s string) Version {
	v, ok := Parse(s)
	if !ok {
		panic("version: not a version: " + s)
	}
	return v
}

// String returns the version as it was written.
func (v Version) String() string { return v.Raw }

// Prerelease reports whether v is a pre-release (dev, alpha, beta, pre, rc…).
func (v Version) Prerelease() bool { return v.phase < phaseStable }

// Accepts reports whether v fits the scheme ("" is Loose).
func (v Version) Accepts(s Scheme) bool {
	switch s {
	case SemVer:
		return len(v.Release) <= 3 && !v.date && len(v.Release[0]) <= 3
	case Calendar:
		y := v.Release[0]
		return len(y) == 4 && y >= "1970" && y <= "2999" || len(y) == 2 && len(v.Release) >= 2
	}
	return true
}

// OnTrack reports whether v's release starts with the numbers of track
// ("2", "2.x", "2.4"). An empty track accepts everything.
func (v Version) OnTrack(track string) bool {
	track = strings.TrimRight(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(track, "x"), "X"), "*"), ".")
	if track == "" {
		return true
	}
	for k, n := range strings.Split(track, ".") {
		if k >= len(v.Release) {
			if trimZeros(n) != "0" {
				return false
			}
			continue
		}
		if trimZeros(n) != v.Release[k] {
			return false
		}
	}
	return true
}

// Compare orders a and b: -1, 0 or +1. Build metadata is ignored; a variant
// orders after the plain release and variants by name.
func Compare(a, b Version) int {
	for k := 0; k < max(len(a.Release), len(b.Release)); k++ {
		if c := compareNum(at(a.Release, k), at(b.Release, k)); c != 0 {
			return c
		}
	}
	if a.phase != b.phase {
		return sign(a.phase - b.phase)
	}
	if c := compareIDs(a.ids, b.ids); c != 0 {
		return c
	}
	return strings.Compare(a.variant, b.variant)
}

// Less is Compare(a, b) < 0.
func Less(a, b Version) bool { return Compare(a, b) < 0 }

// Diff returns the index of the first release number that differs between a
// and b (0 major, 1 minor, 2 patch…), or -1 when the release numbers are
// equal.
func Diff(a, b Version) int {
	for k := 0; k < max(len(a.Release), len(b.Release)); k++ {
		if compareNum(at(a.Release, k), at(b.Release, k)) != 0 {
			return k
		}
	}
	return -1
}

// compareIDs orders pre- or post-release identifiers as semver does:
// numbers numerically and below words, words by text, fewer identifiers
// first when one list is a prefix of the other.
func compareIDs(a, b []string) int {
	for k := 0; k < min(len(a), len(b)); k++ {
		x, y := a[k], b[k]
		xn, yn := isDigit(x[0]), isDigit(y[0])
		switch {
		case xn && yn:
			if c := compareNum(x, y); c != 0 {
				return c
			}
		case xn:
			return -1
		case yn:
			return 1
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return sign(len(a) - len(b))
}

func at(r []string, k int) string {
	if k < len(r) {
		return r[k]
	}
	return "0"
}

// compareNum orders two digit strings without leading zeros by value.
func compareNum(a, b string) int {
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func trimZeros(n string) string {
	n = strings.TrimLeft(n, "0")
	if n == "" {
		return "0"
	}
	return n
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }
