package manifest

import (
	"slices"
	"strings"
	"testing"
)

func semNum(n uint64) semverIdent { return semverIdent{Numeric: true, Num: n} }
func semStr(s string) semverIdent { return semverIdent{Str: s} }

var semverParseTests = []struct {
	in   string
	ok   bool
	want semverVersion
}{
	{"1.2.3", true, semverVersion{Major: 1, Minor: 2, Patch: 3}},
	{"v1.2.3", true, semverVersion{Major: 1, Minor: 2, Patch: 3}},
	{" v1.2.3\u00a0", true, semverVersion{Major: 1, Minor: 2, Patch: 3}}, // JS trim
	{"\ufeff1.2.3\u2028", true, semverVersion{Major: 1, Minor: 2, Patch: 3}},
	{"1.2.3-alpha.1", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semStr("alpha"), semNum(1)}}},
	{"1.2.3-0a.0", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semStr("0a"), semNum(0)}}},
	{"1.2.3--", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semStr("-")}}},
	{"1.2.3+001.b", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Build: []string{"001", "b"}}},
	{"1.2.3-rc.1+build.5", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semStr("rc"), semNum(1)}, Build: []string{"build", "5"}}},
	{"9007199254740991.0.0", true, semverVersion{Major: 9007199254740991}},
	// Prerelease numbers stay strings from Number.MAX_SAFE_INTEGER on.
	{"1.2.3-9007199254740990", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semNum(9007199254740990)}}},
	{"1.2.3-9007199254740991", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semStr("9007199254740991")}}},
	{"1.2.3-99999999999999999999", true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semStr("99999999999999999999")}}},

	{"9007199254740992.0.0", false, semverVersion{}},
	{"0.0.99999999999999999999", false, semverVersion{}},
	{"=1.2.3", false, semverVersion{}}, // only loose mode takes '='
	{"V1.2.3", false, semverVersion{}},
	{"vv1.2.3", false, semverVersion{}},
	{"v 1.2.3", false, semverVersion{}},
	{"1.2", false, semverVersion{}},
	{"1.2.3.4", false, semverVersion{}},
	{"01.2.3", false, semverVersion{}},
	{"1.2.3-01", false, semverVersion{}},
	{"1.2.3-", false, semverVersion{}},
	{"1.2.3+", false, semverVersion{}},
	{"1.2.3-a..b", false, semverVersion{}},
	{"1.2.3-a+b+c", false, semverVersion{}},
	{"1.2.3alpha", false, semverVersion{}},
	{"1.2.3-a_b", false, semverVersion{}},
	{"１.2.3", false, semverVersion{}},
	{"1.2.3\u0085", false, semverVersion{}}, // NEL is not JavaScript whitespace
	{"1.2.3\u180e", false, semverVersion{}},
	{"1.2.3-" + strings.Repeat("a", 250), true, semverVersion{Major: 1, Minor: 2, Patch: 3, Prerelease: []semverIdent{semStr(strings.Repeat("a", 250))}}},
	{"1.2.3-" + strings.Repeat("a", 251), false, semverVersion{}},                            // 257 characters
	{" 1.2.3" + strings.Repeat(" ", 250), true, semverVersion{Major: 1, Minor: 2, Patch: 3}}, // 256 before trimming
	{" 1.2.3" + strings.Repeat(" ", 251), false, semverVersion{}},                            // the limit applies before trimming
	{"1.2.3" + strings.Repeat("\u3000", 252), false, semverVersion{}},                        // counted in UTF-16 units
}

func TestSemverParse(t *testing.T) {
	for _, tt := range semverParseTests {
		got, ok := parseSemver(tt.in)
		if ok != tt.ok {
			t.Errorf("parseSemver(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if validSemver(tt.in) != tt.ok {
			t.Errorf("validSemver(%q) = %v, want %v", tt.in, !tt.ok, tt.ok)
		}
		if ok && !equalSemver(got, tt.want) {
			t.Errorf("parseSemver(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func equalSemver(a, b semverVersion) bool {
	return a.Major == b.Major && a.Minor == b.Minor && a.Patch == b.Patch &&
		slices.Equal(a.Prerelease, b.Prerelease) && slices.Equal(a.Build, b.Build)
}

var semverCompareTests = []struct {
	a, b string
	want int
}{
	{"1.0.0", "1.0.0", 0},
	{"1.0.0", "2.0.0", -1},
	{"1.10.0", "1.9.0", 1},
	{"1.0.0-alpha", "1.0.0", -1},
	{"1.0.0", "1.0.0-alpha", 1},
	{"1.0.0-alpha", "1.0.0-alpha.1", -1},
	{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1}, // numbers sort below words
	{"1.0.0-beta.2", "1.0.0-beta.11", -1},     // numerically
	{"1.0.0-a", "1.0.0-1", 1},
	{"1.0.0-A", "1.0.0-a", -1}, // code unit order
	{"1.0.0-1a", "1.0.0-a1", -1},
	{"1.0.0+a", "1.0.0+b", 0}, // build ignored
	{"v1.0.0", "1.0.0", 0},
	{"1.0.0-9007199254740991", "1.0.0-9007199254740990", 1},
	{"1.0.0-9007199254740991", "1.0.0-a", -1}, // all digits: still below words
	// Too large to be exact: both become 2^53 as float64, so equal, and the
	// first differing identifier decides.
	{"1.0.0-9007199254740993", "1.0.0-9007199254740992", 0},
	{"1.0.0-9007199254740993.a", "1.0.0-9007199254740992.b", 0},
	{"1.0.0-99999999999999999999", "1.0.0-100000000000000000000", 0},
	{"1.0.0-9007199254740993", "1.0.0-9007199254740995", -1},
}

func TestSemverCompare(t *testing.T) {
	for _, tt := range semverCompareTests {
		a, okA := parseSemver(tt.a)
		b, okB := parseSemver(tt.b)
		if !okA || !okB {
			t.Fatalf("parse %q / %q failed", tt.a, tt.b)
		}
		if got := a.compare(b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
