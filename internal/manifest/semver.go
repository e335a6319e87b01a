package manifest

import (
	"strconv"
	"strings"
)

// A port of node-semver 7.8.6 strict parsing (semver.parse(s) and
// semver.valid(s) without options) and of semver.compare.

// semverMaxLength is node-semver's MAX_LENGTH, in UTF-16 code units of the
// untrimmed input.
const semverMaxLength = 256

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER (2^53 - 1).
const maxSafeInteger = 1<<53 - 1

// semverVersion is a parsed semantic version as node-semver's parse returns it.
type semverVersion struct {
	Major, Minor, Patch uint64
	Prerelease          []semverIdent
	Build               []string
}

// semverIdent is one prerelease identifier. node-semver turns an all-digit
// identifier below Number.MAX_SAFE_INTEGER into a number: those have Numeric
// set and their value in Num; every other identifier (including all-digit ones
// at or above that bound) is kept as the string Str.
type semverIdent struct {
	Numeric bool
	Num     uint64
	Str     string
}

func (id semverIdent) String() string {
	if id.Numeric {
		return strconv.FormatUint(id.Num, 10)
	}
	return id.Str
}

// parseSemver is node-semver's parse(s) without options: ok is false where it
// returns null. The input may carry JavaScript whitespace around it (trimmed)
// and one leading "v"; it must be at most 256 UTF-16 code units long before
// trimming, and major, minor and patch must not exceed 2^53 - 1.
func parseSemver(s string) (semverVersion, bool) {
	v, ok := parseSemverStrict(s)
	if !ok {
		return semverVersion{}, false
	}
	return v, true
}

func parseSemverStrict(s string) (v semverVersion, ok bool) {
	if utf16Len(s) > semverMaxLength {
		return v, false
	}
	s = jsTrim(s)
	s = strings.TrimPrefix(s, "v")

	if v.Major, s, ok = semverMainNumber(s); !ok || !strings.HasPrefix(s, ".") {
		return v, false
	}
	if v.Minor, s, ok = semverMainNumber(s[1:]); !ok || !strings.HasPrefix(s, ".") {
		return v, false
	}
	if v.Patch, s, ok = semverMainNumber(s[1:]); !ok {
		return v, false
	}

	var pre, build string
	hasPre, hasBuild := false, false
	switch {
	case strings.HasPrefix(s, "-"):
		hasPre = true
		pre, build, hasBuild = strings.Cut(s[1:], "+")
	case strings.HasPrefix(s, "+"):
		hasBuild, build = true, s[1:]
	case s != "":
		return v, false
	}

	if hasPre {
		for id := range strings.SplitSeq(pre, ".") {
			if !isPrereleaseIdent(id) {
				return v, false
			}
			v.Prerelease = append(v.Prerelease, newSemverIdent(id))
		}
	}
	if hasBuild {
		for id := range strings.SplitSeq(build, ".") {
			if !isBuildIdent(id) {
				return v, false
			}
			v.Build = append(v.Build, id)
		}
	}
	return v, true
}

// semverMainNumber reads a numeric identifier (0, or digits without a leading
// zero) at the start of s and returns its value and the rest of s. Values
// above 2^53 - 1 are rejected, as node-semver does once it has made them
// numbers.
func semverMainNumber(s string) (uint64, string, bool) {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n == 0 || n > 1 && s[0] == '0' || n > 16 {
		return 0, s, false
	}
	v, err := strconv.ParseUint(s[:n], 10, 64)
	if err != nil || v > maxSafeInteger {
		return 0, s, false
	}
	return v, s[n:], true
}

// isPrereleaseIdent: letters, digits and '-'; one that is all digits must be
// "0" or have no leading zero.
func isPrereleaseIdent(id string) bool {
	if !isBuildIdent(id) {
		return false
	}
	return !allDigits(id) || id == "0" || id[0] != '0'
}

// isBuildIdent: one or more of [0-9A-Za-z-].
func isBuildIdent(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isDigit(c) && !isASCIILetter(c) && c != '-' {
			return false
		}
	}
	return true
}

func newSemverIdent(id string) semverIdent {
	if allDigits(id) {
		if n, err := strconv.ParseUint(id, 10, 64); err == nil && n < maxSafeInteger {
			return semverIdent{Numeric: true, Num: n}
		}
	}
	return semverIdent{Str: id}
}

// validSemver is node-semver's valid(s) != null.
func validSemver(s string) bool {
	_, ok := parseSemver(s)
	return ok
}

// String is node-semver's version property: the normalised version without
// build metadata.
func (a semverVersion) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(a.Major, 10))
	b.WriteByte('.')
	b.WriteString(strconv.FormatUint(a.Minor, 10))
	b.WriteByte('.')
	b.WriteString(strconv.FormatUint(a.Patch, 10))
	for i, id := range a.Prerelease {
		if i == 0 {
			b.WriteByte('-')
		} else {
			b.WriteByte('.')
		}
		b.WriteString(id.String())
	}
	return b.String()
}

// compare is node-semver's compare(a, b): -1, 0 or 1. Build metadata is
// ignored; a version with a prerelease sorts before the same version without;
// prerelease identifiers compare one by one, numbers below words. As in
// node-semver, all-digit identifiers too large to be numbers compare as
// float64 values, and the first differing identifier decides even when that
// comparison says equal.
func (a semverVersion) compare(b semverVersion) int {
	if a.String() == b.String() {
		return 0
	}
	if c := cmpUint(a.Major, b.Major); c != 0 {
		return c
	}
	if c := cmpUint(a.Minor, b.Minor); c != 0 {
		return c
	}
	if c := cmpUint(a.Patch, b.Patch); c != 0 {
		return c
	}
	switch {
	case len(a.Prerelease) > 0 && len(b.Prerelease) == 0:
		return -1
	case len(a.Prerelease) == 0 && len(b.Prerelease) > 0:
		return 1
	}
	for i := 0; ; i++ {
		switch {
		case i >= len(a.Prerelease) && i >= len(b.Prerelease):
			return 0
		case i >= len(b.Prerelease):
			return 1
		case i >= len(a.Prerelease):
			return -1
		}
		x, y := a.Prerelease[i], b.Prerelease[i]
		if x == y {
			continue
		}
		return compareSemverIdents(x, y)
	}
}

// compareSemverIdents is node-semver's compareIdentifiers.
func compareSemverIdents(a, b semverIdent) int {
	if a.Numeric && b.Numeric {
		return cmpUint(a.Num, b.Num)
	}
	aNum, bNum := a.Numeric || allDigits(a.Str), b.Numeric || allDigits(b.Str)
	switch {
	case aNum && bNum:
		x, y := a.float(), b.float()
		switch {
		case x == y:
			return 0
		case x < y:
			return -1
		}
		return 1
	case aNum:
		return -1
	case bNum:
		return 1
	case a.Str == b.Str:
		return 0
	case a.Str < b.Str:
		return -1
	}
	return 1
}

// float is JavaScript's +id for an all-digit identifier.
func (id semverIdent) float() float64 {
	if id.Numeric {
		return float64(id.Num)
	}
	f, _ := strconv.ParseFloat(id.Str, 64) // at most 250 digits: never ±Inf
	return f
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// CompareVersions compares two manifest versions as node-semver's compare
// does (-1, 0 or 1); ok is false when either is not a valid version.
func CompareVersions(a, b string) (cmp int, ok bool) {
	va, okA := parseSemver(a)
	vb, okB := parseSemver(b)
	if !okA || !okB {
		return 0, false
	}
	return va.compare(vb), true
}
