package version

import (
	"slices"
	"strings"
	"testing"
)

// TestCompare is the table of tricky orderings: each row says a < b, a = b
// or a > b; the test checks both directions.
func TestCompare(t *testing.T) {
	cases := []struct {
		a, op, b string
	}{
		// v prefixes and words before the number
		{"v1.2.3", "=", "1.2.3"},
		{"V1.2.3", "=", "1.2.3"},
		{"release-1.2", "=", "1.2.0"},
		{"release_1_2", "=", "1.2"},
		{"REL_16_1", "=", "16.1"},
		{"REL9_6_24", "<", "REL_16_1"},
		{"curl-8_5_0", "=", "8.5.0"},
		{"version1.2", "=", "1.2"},
		{"r1.2", "<", "r1.10"},
		{"app-v1.2.3", "=", "1.2.3"},
		{"server-v2.0.0", ">", "server-v1.9.9"},
		{"log4j-2.17.1", ">", "log4j-2.9.0"},
		{"k3s-v1.28.1+k3s1", "=", "1.28.1"},
		// numeric, not textual, order
		{"1.10.0", ">", "1.9.0"},
		{"0.10.0", ">", "0.9.9"},
		{"1.2", "=", "1.2.0"},
		{"v2", "=", "2.0.0"},
		{"1.02", "=", "1.2"},
		{"1.2.3", "<", "1.2.10"},
		{"99999999999999999999.0", ">", "9999999999999999999.0"},
		// four parts and more
		{"1.2.3.4", ">", "1.2.3"},
		{"1.2.3.0", "=", "1.2.3"},
		{"1.2.3.10", ">", "1.2.3.9"},
		{"1.2.3_1", ">", "1.2.3"},
		{"10.0.0.1", ">", "9.9.9.9"},
		// pre-releases
		{"1.2.4-beta", "<", "1.2.4"},
		{"1.2.4-beta", ">", "1.2.3"},
		{"1.0.0-alpha", "<", "1.0.0-alpha.1"},
		{"1.0.0-alpha.1", "<", "1.0.0-alpha.beta"},
		{"1.0.0-alpha.9", "<", "1.0.0-beta"},
		{"1.0.0-beta.2", "<", "1.0.0-beta.11"},
		{"1.0.0-beta.11", "<", "1.0.0-rc.1"},
		{"1.0.0-rc1", "<", "1.0.0-rc2"},
		{"1.0.0-rc2", "<", "1.0.0-rc10"},
		{"1.0.0-rc.1", "=", "1.0.0-RC1"},
		{"1.0.0rc1", "=", "1.0.0-rc.1"},
		{"1.0.0-dev", "<", "1.0.0-alpha"},
		{"1.0.0-SNAPSHOT", "<", "1.0.0"},
		{"1.0.0-preview.1", "<", "1.0.0-rc.1"},
		{"1.0.0-pre", ">", "1.0.0-beta"},
		{"1.0.0-b", "=", "1.0.0-beta"},
		{"1.0.0-M1", "<", "1.0.0-RC1"},
		{"2.0.0-rc.1", "<", "2.0.0"},
		{"2.0.0-rc.1", ">", "1.99.99"},
		{"1.0a1", "<", "1.0b1"},
		{"1.0b2", "<", "1.0rc1"},
		{"1.0.dev0", "<", "1.0a1"},
		{"1.0.0-alpha", "<", "1.0.0-alpha.0"},
		// post-releases and revisions
		{"1.0.post1", ">", "1.0"},
		{"1.0.post1", "<", "1.0.1"},
		{"1.2.3-1", ">", "1.2.3"},
		{"1.2.3-2", ">", "1.2.3-1"},
		{"1.2.3-hotfix1", ">", "1.2.3"},
		{"1.2.3-4-gabcdef0", ">", "1.2.3"},
		{"1.2.3.Final", "=", "1.2.3"},
		{"5.3.0.RELEASE", "=", "5.3.0"},
		// variants are stable releases
		{"1.2.3-alpine", ">", "1.2.3"},
		{"1.2.3-alpine", "<", "1.2.4"},
		{"1.2.3-alpine", ">", "1.2.3-rc1"},
		{"1.2.4-alpine", ">", "1.2.3-alpine"},
		{"1.2.3-alpine3.19", "<", "1.2.4-alpine3.18"},
		{"16.1-bookworm", ">", "16.0-bookworm"},
		{"1.2.3-alpine", "<", "1.2.3-bookworm"},
		// build metadata is ignored
		{"1.2.3+build.5", "=", "1.2.3"},
		{"1.2.3+build.5", "=", "1.2.3+build.6"},
		{"1.0.0-rc.1+sha.abc", "=", "1.0.0-rc.1"},
		// calendar versions, padded or not
		{"2024.01.15", "=", "2024.1.15"},
		{"2024.10.1", ">", "2024.9.30"},
		{"24.04", "<", "24.10"},
		{"24.04.1", ">", "24.04"},
		{"23.10", "<", "24.04"},
		{"2024.1", "<", "2024.1.1"},
		{"v2025.01", ">", "v2024.12.31"},
		// dates
		{"2024-01-15", "=", "2024.01.15"},
		{"20240115", "=", "2024-01-15"},
		{"20240115", "<", "20240116"},
		{"2024-01-15", "<", "2024-02-01"},
		{"nightly-2024-01-15", "=", "20240115"},
		{"RELEASE.2023-10-25T06-33-25Z", "<", "RELEASE.2023-10-25T18-00-00Z"},
		{"RELEASE.2023-10-25T18-00-00Z", "<", "RELEASE.2023-11-01T00-00-00Z"},
		{"202401151030", ">", "20240115"},
	}
	if len(cases) < 60 {
		t.Fatalf("only %d cases; the issue asks for at least 60", len(cases))
	}
	want := map[string]int{"<": -1, "=": 0, ">": 1}
	for _, c := range cases {
		a, okA := Parse(c.a)
		b, okB := Parse(c.b)
		if !okA || !okB {
			t.Errorf("%q %s %q: not parsed (%v, %v)", c.a, c.op, c.b, okA, okB)
			continue
		}
		if got := Compare(a, b); got != want[c.op] {
			t.Errorf("Compare(%q, %q) = %d, want %s (%+v vs %+v)", c.a, c.b, got, c.op, a, b)
		}
		if got := Compare(b, a); got != -want[c.op] {
			t.Errorf("Compare(%q, %q) = %d, not antisymmetric", c.b, c.a, got)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "latest", "stable", "main", "nightly", "sha-abcdef", "k3s", "log4j", "v", "release-"} {
		if v, ok := Parse(s); ok {
			t.Errorf("Parse(%q) = %+v, want no version", s, v)
		}
	}
}

func TestPrerelease(t *testing.T) {
	pre := []string{"1.0.0-rc1", "1.0.0-beta", "1.0a1", "1.0.dev0", "2.0.0-alpha.1", "1.0.0-SNAPSHOT", "1.0.0-preview", "3.0.0-M2", "1.0.0-nightly.20240101"}
	stable := []string{"1.0.0", "1.0.0-alpine", "1.0.post1", "1.2.3-1", "1.2.3.Final", "2024.01.15", "1.2.3+build", "16.1-bookworm"}
	for _, s := range pre {
		if !MustParse(s).Prerelease() {
			t.Errorf("%s should be a pre-release", s)
		}
	}
	for _, s := range stable {
		if MustParse(s).Prerelease() {
			t.Errorf("%s should be stable", s)
		}
	}
}

func TestSchemes(t *testing.T) {
	for _, c := range []struct {
		v                       string
		semver, calendar, loose bool
	}{
		{"1.2.3", true, false, true},
		{"v10.2", true, true, true}, // 10.2 could be a 2010 calendar version
		{"1.2.3.4", false, false, true},
		{"2024.01.15", false, true, true},
		{"20240115", false, true, true},
		{"2024-01-15", false, true, true},
		{"24.04", true, true, true},
		{"1000.0.0", false, false, true},
		{"7", true, false, true},
	} {
		v := MustParse(c.v)
		if v.Accepts(SemVer) != c.semver || v.Accepts(Calendar) != c.calendar || v.Accepts(Loose) != c.loose || !v.Accepts("") {
			t.Errorf("%s: semver %v calendar %v loose %v", c.v, v.Accepts(SemVer), v.Accepts(Calendar), v.Accepts(Loose))
		}
	}
}

func TestOnTrack(t *testing.T) {
	for _, c := range []struct {
		v, track string
		want     bool
	}{
		{"2.4.1", "2", true}, {"2.4.1", "2.x", true}, {"2.4.1", "2.4", true}, {"2.4.1", "2.4.x", true},
		{"2.5.0", "2.4", false}, {"3.0.0", "2", false}, {"12.0.0", "1", false}, {"2", "2.0", true},
		{"2.4.1", "", true}, {"v02.4", "2.4", true},
	} {
		if got := MustParse(c.v).OnTrack(c.track); got != c.want {
			t.Errorf("%s on track %q = %v", c.v, c.track, got)
		}
	}
}

func TestDiff(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.2.3", "2.0.0", 0}, {"1.2.3", "1.3.0", 1}, {"1.2.3", "1.2.4", 2}, {"1.2.3", "1.2.3.1", 3},
		{"1.2.3", "1.2.3-1", -1}, {"2024.01", "2024.02", 1},
	} {
		if got := Diff(MustParse(c.a), MustParse(c.b)); got != c.want {
			t.Errorf("Diff(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestSortIsTotal sorts a mixed bag and checks it against the hand order.
func TestSortIsTotal(t *testing.T) {
	want := []string{"0.9", "1.0.0-dev", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
		"1.0.0", "1.0.0-alpine", "1.0.0-1", "1.0.1", "1.0.1.1", "1.1", "v1.10", "2.0.0-rc1", "2.0.0"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortStableFunc(got, func(a, b string) int { return Compare(MustParse(a), MustParse(b)) })
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sorted:\n%v\nwant\n%v", got, want)
	}
}
