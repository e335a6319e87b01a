package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestFormatsMatchNode runs the official validator's format checks (through
// testdata/formats_oracle.js) on tens of thousands of candidate strings and
// asserts that the Go ports give the same verdict on each: the same parse for
// semver (numbers, prerelease identifiers and their kind, build), the same
// order for semver.compare, the same message for cron patterns.
func TestFormatsMatchNode(t *testing.T) {
	node, dir := officialValidator(t)
	in := formatCandidates()

	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	inFile := filepath.Join(t.TempDir(), "candidates.json")
	if err := os.WriteFile(inFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("testdata/formats_oracle.js")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, script, dir, inFile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run %s: %v\n%s", script, err, stderr.String())
	}
	var out oracleVerdicts
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("decode the oracle's output: %v", err)
	}
	for _, d := range out.Disagreements {
		t.Errorf("oracle: %s", d)
	}

	checkLen := func(name string, got, want int) bool {
		if got != want {
			t.Errorf("%s: the oracle returned %d verdicts for %d candidates", name, got, want)
			return false
		}
		return true
	}
	mismatches := map[string]int{}
	report := func(format, msg string, args ...any) {
		mismatches[format]++
		t.Errorf("%s: "+msg, append([]any{format}, args...)...)
	}

	if checkLen("id", len(out.ID), len(in.ID)) {
		for i, s := range in.ID {
			if got := isID(s); got != out.ID[i] {
				report("isID", "%q: go %v, node %v", s, got, out.ID[i])
			}
		}
	}
	if checkLen("semver", len(out.Semver), len(in.Semver)) {
		for i, s := range in.Semver {
			v, ok := parseSemver(s)
			got := ""
			if ok {
				got = describeSemver(v)
			}
			want := ""
			if out.Semver[i] != nil {
				want = out.Semver[i].describe()
			}
			if got != want {
				report("parseSemver", "%q: go %q, node %q", s, got, want)
			}
			if validSemver(s) != (want != "") {
				report("validSemver", "%q: go %v, node %v", s, validSemver(s), want != "")
			}
		}
	}
	if checkLen("compare", len(out.Compare), len(in.Compare)) {
		for i, p := range in.Compare {
			a, okA := parseSemver(p[0])
			b, okB := parseSemver(p[1])
			if !okA || !okB {
				report("compare", "%q or %q does not parse in Go", p[0], p[1])
				continue
			}
			if got := a.compare(b); got != out.Compare[i] {
				report("compare", "%q vs %q: go %d, node %d", p[0], p[1], got, out.Compare[i])
			}
		}
	}
	if checkLen("email", len(out.Email), len(in.Email)) {
		for i, s := range in.Email {
			if got := isEmail(s); got != out.Email[i] {
				report("isEmail", "%q: go %v, node %v", s, got, out.Email[i])
			}
		}
	}
	if checkLen("url", len(out.URL), len(in.URL)) {
		for i, s := range in.URL {
			if got := isURL(s); got != out.URL[i] {
				report("isURL", "%q: go %v, node %v", s, got, out.URL[i])
			}
		}
	}
	if checkLen("byteString", len(out.ByteString), len(in.ByteString)) {
		for i, s := range in.ByteString {
			if got := isByteString(s); got != out.ByteString[i] {
				report("isByteString", "%q: go %v, node %v", s, got, out.ByteString[i])
			}
			if _, ok := ParseByteString(s); ok && !out.ByteString[i] {
				report("ParseByteString", "%q: parsed although node rejects it", s)
			}
		}
	}
	if checkLen("cron", len(out.Cron), len(in.Cron)) {
		for i, s := range in.Cron {
			if got := cronPatternError(s); got != out.Cron[i] {
				report("cronPatternError", "%q: go %q, node %q", s, got, out.Cron[i])
			}
		}
	}

	accepted := func(list []bool) int {
		n := 0
		for _, ok := range list {
			if ok {
				n++
			}
		}
		return n
	}
	validSemvers, validCrons := 0, 0
	for _, v := range out.Semver {
		if v != nil {
			validSemvers++
		}
	}
	for _, msg := range out.Cron {
		if msg == "" {
			validCrons++
		}
	}
	t.Logf("candidates (accepted by node): id %d (%d), semver %d (%d), compare pairs %d, email %d (%d), url %d (%d), byteString %d (%d), cron %d (%d)",
		len(in.ID), accepted(out.ID), len(in.Semver), validSemvers, len(in.Compare), len(in.Email), accepted(out.Email),
		len(in.URL), accepted(out.URL), len(in.ByteString), accepted(out.ByteString), len(in.Cron), validCrons)
	if len(mismatches) > 0 {
		t.Logf("mismatches per function: %v", mismatches)
	}
}

// oracleInput is the candidates file formats_oracle.js reads.
type oracleInput struct {
	ID         []string    `json:"id"`
	Semver     []string    `json:"semver"`
	Compare    [][2]string `json:"compare"`
	Email      []string    `json:"email"`
	URL        []string    `json:"url"`
	ByteString []string    `json:"byteString"`
	Cron       []string    `json:"cron"`
}

type oracleVerdicts struct {
	ID            []bool          `json:"id"`
	Semver        []*oracleSemver `json:"semver"`
	Compare       []int           `json:"compare"`
	Email         []bool          `json:"email"`
	URL           []bool          `json:"url"`
	ByteString    []bool          `json:"byteString"`
	Cron          []string        `json:"cron"`
	Disagreements []string        `json:"disagreements"`
}

// oracleSemver is a SemVer object as node-semver builds it: prerelease holds
// JSON numbers for the identifiers it made numbers, strings for the others.
type oracleSemver struct {
	Major      json.Number       `json:"major"`
	Minor      json.Number       `json:"minor"`
	Patch      json.Number       `json:"patch"`
	Prerelease []json.RawMessage `json:"prerelease"`
	Build      []string          `json:"build"`
	Version    string            `json:"version"`
}

// describe renders the parse in the form describeSemver gives a Go one:
// numbers bare, string identifiers quoted.
func (v *oracleSemver) describe() string {
	pre := make([]string, len(v.Prerelease))
	for i, raw := range v.Prerelease {
		pre[i] = string(raw)
	}
	return fmt.Sprintf("%s.%s.%s pre=[%s] build=%q version=%s",
		v.Major, v.Minor, v.Patch, strings.Join(pre, ","), v.Build, v.Version)
}

func describeSemver(v semverVersion) string {
	pre := make([]string, len(v.Prerelease))
	for i, id := range v.Prerelease {
		if id.Numeric {
			pre[i] = fmt.Sprint(id.Num)
		} else {
			pre[i] = fmt.Sprintf("%q", id.Str)
		}
	}
	build := v.Build
	if build == nil {
		build = []string{}
	}
	return fmt.Sprintf("%d.%d.%d pre=[%s] build=%q version=%s",
		v.Major, v.Minor, v.Patch, strings.Join(pre, ","), build, v.String())
}

// formatCandidates builds the strings the differential test runs: hand-written
// tricky cases per format, then systematic mutations of them.
func formatCandidates() oracleInput {
	in := oracleInput{
		ID:         idCandidates(),
		Semver:     semverCandidates(),
		Compare:    comparePairs(),
		Email:      emailCandidates(),
		URL:        urlCandidates(),
		ByteString: byteStringCandidates(),
		Cron:       cronCandidates(),
	}
	// Random strings made of tokens each format cares about.
	rng := rand.New(rand.NewPCG(2024, 11))
	in.ID = append(in.ID, tokenStrings(rng, 600, 6, "a", "b0", "z9", "-", "_", ".", ".", "A", "é", "x-y", "a_b", " ")...)
	in.Semver = append(in.Semver, tokenStrings(rng, 1500, 10, "0", "1", "01", "42", "9007199254740992", ".", ".", ".",
		"-", "+", "a", "alpha", "v", "=", " ", "\u00a0", "-0", "--", "Z")...)
	in.Email = append(in.Email, tokenStrings(rng, 2000, 10, "a", "b", "é", "😀", ".", ".", "@", "@", `"`, `\`, " ", "-",
		"_", "com", "xn--p1ai", "1", "[", "]", "127.0.0.1", ":", "%", "ｃ", "\t")...)
	in.URL = append(in.URL, tokenStrings(rng, 2500, 10, "http", "https", "ftp", ":", ":", "//", "/", "@", "a", "b.com",
		"example", ".", "com", "[", "]", "::1", "1", "80", "65536", "%41", "?", "#", "-", "_", "é", "😀", "user",
		"pass", "localhost", "127.0.0.1", "javascript", "mailto:")...)
	in.Cron = append(in.Cron, tokenStrings(rng, 2500, 12, "*", "/", "-", ",", "0", "1", "5", "7", "12", "31", "59",
		"60", " ", " ", " ", " ", " ", "jan", "mon", "sun", "x", "\t", "?", "L", "Σ", "@daily")...)
	in.ByteString = append(in.ByteString, tokenStrings(rng, 600, 6, "1", "0", ".", "5", "-", "+", " ", "k", "b", "m",
		"g", "t", "K", "B", "\t", "p")...)

	// The unit tests' tables go in too, so node vouches for their answers.
	for _, tt := range idTests {
		in.ID = append(in.ID, tt.in)
	}
	for _, tt := range semverParseTests {
		in.Semver = append(in.Semver, tt.in)
	}
	for _, tt := range semverCompareTests {
		in.Compare = append(in.Compare, [2]string{tt.a, tt.b})
	}
	for _, tt := range emailTests {
		in.Email = append(in.Email, tt.in)
	}
	for _, tt := range urlTests {
		in.URL = append(in.URL, tt.in)
	}
	for _, tt := range byteStringTests {
		in.ByteString = append(in.ByteString, tt.in)
	}
	for _, tt := range cronTests {
		in.Cron = append(in.Cron, tt.in)
	}
	return in
}

// tokenStrings returns n strings, each 1 to maxTokens tokens picked at
// random.
func tokenStrings(rng *rand.Rand, n, maxTokens int, tokens ...string) []string {
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 1 + rng.IntN(maxTokens) {
			b.WriteString(tokens[rng.IntN(len(tokens))])
		}
		out[i] = b.String()
	}
	return out
}

// oddSpaces is the number of whitespace-like runes oddRunes starts with.
const oddSpaces = 19

// oddRunes are characters that JavaScript and Go tell apart in some way:
// JavaScript whitespace Go's unicode.IsSpace disagrees on (and the reverse),
// case folding into ASCII, full-width forms, noncharacters, the edges of the
// ranges validator uses, and characters outside the BMP.
var oddRunes = []string{
	" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029",
	"\u202f", "\u205f", "\u3000", "\ufeff", "\u0085", "\u180e", "\u200b",
	"\x00", "\x01", "\x7f", "\u0080", "\u009f", "\u00a1", "\u00a8", "\u00a9", "\u00aa",
	"é", "ß", "ü", "İ", "ı", "\u212a", "ſ", "Σ", "\u0307",
	"\ud7ff", "\ue000", "\uf8ff", "\uf900", "\ufdcf", "\ufdd0", "\ufdef", "\ufdf0", "\uffef", "\ufff0", "\ufffd",
	"\uff01", "\uff10", "\uff21", "\uff41", "\uff5e", "\uff5f", "\u0660", "\u00b2",
	"😀", "\U00010000", "\U0010ffff",
	"\"", "\\", "'", "@", ".", ":", "/", "?", "#", "%", "[", "]", "<", ">", "*", ",", "-", "_", "+", "=", "~",
}

// mutate returns the seeds and, for each, its upper- and lower-case forms,
// the seed without its first or last character and doubled; with positions,
// also each odd rune put in the middle, and each whitespace-like one in front
// and at the end too (for seeds of at most 100 bytes: the long ones are there
// for their length alone).
func mutate(seeds []string, positions bool) []string {
	out := append([]string(nil), seeds...)
	for _, s := range seeds {
		out = append(out, strings.ToUpper(s), strings.ToLower(s))
		if s != "" {
			_, first := utf8.DecodeRuneInString(s)
			_, last := utf8.DecodeLastRuneInString(s)
			out = append(out, s[first:], s[:len(s)-last], s+s)
		}
		if !positions || len(s) > 100 {
			continue
		}
		mid := len(s) / 2
		for mid > 0 && mid < len(s) && !utf8.RuneStart(s[mid]) {
			mid--
		}
		for i, r := range oddRunes {
			out = append(out, s[:mid]+r+s[mid:])
			if i < oddSpaces {
				out = append(out, r+s, s+r)
			}
		}
	}
	return dedupe(out)
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func idCandidates() []string {
	seeds := []string{
		"com.example.app", "io.cloudron.surfer", "a.b", "a", "", ".", "..", "a.", ".a", "a..b",
		"A.b", "a.B", "a-b.c_d", "-a.b", "_a.b", "a.-b", "a.b-", "a.b_", "0.1", "0a.1b", "a.b.c.d.e.f",
		"com.example.App", "com.ex ample", "com.exämple", "com.example\n", "com.example.", "org.x--y.z__",
	}
	var combos []string
	parts := []string{"a", "z", "0", "9", "a-", "a_", "a-b", "a_b", "0a", "ab-cd", "x--y", "", "-a", "_a", "A", "é"}
	for _, p := range parts {
		for _, q := range parts {
			combos = append(combos, p+"."+q, "com."+p+"."+q)
		}
	}
	return dedupe(append(mutate(seeds, true), mutate(combos, false)...))
}

func semverCandidates() []string {
	seeds := []string{
		"1.2.3", "v1.2.3", "=1.2.3", "V1.2.3", "vv1.2.3", "v=1.2.3", "=v1.2.3", " 1.2.3 ", "v 1.2.3",
		"1.2", "1", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "0.0.0", "00.0.0", "1.2.3 4",
		"1.2.3-alpha", "1.2.3-alpha.1", "1.2.3-01", "1.2.3-0", "1.2.3-00", "1.2.3-0a", "1.2.3-a0",
		"1.2.3--", "1.2.3-", "1.2.3-.", "1.2.3-a.", "1.2.3-.a", "1.2.3+", "1.2.3+build", "1.2.3+001",
		"1.2.3+b.01", "1.2.3-a+b", "1.2.3-a+b+c", "1.2.3-a..b", "1.2.3-a_b", "1.2.3+a_b", "1.2.3alpha",
		"1.2.3-rc.1+build.5", "1.2.3-x-y-z.--", "1.2.3-DEV", "1.2.3-0.3.7",
		"9007199254740991.0.0", "9007199254740992.0.0", "0.9007199254740991.0", "0.0.9007199254740992",
		"9999999999999999.0.0", "10000000000000000.0.0", "99999999999999999999.0.0",
		"1.2.3-9007199254740990", "1.2.3-9007199254740991", "1.2.3-9007199254740992",
		"1.2.3-99999999999999999999", "1.2.3-a.9007199254740993", "1.2.3-1.0.01",
		"1.2.3-ä", "１.2.3", "1.2.3\u0660", "1.2.3-\u212a", "\ufeff1.2.3", "1.2.3\u00a0", "1.2.3\u0085",
		"1.2.3\u180e", "\u20281.2.3\u2029", "1.2.3\n", "\t1.2.3\t",
	}
	// Lengths around MAX_LENGTH (256), before and after trimming.
	for _, n := range []int{249, 250, 251, 252} {
		seeds = append(seeds,
			"1.2.3-"+strings.Repeat("a", n),
			"1.2.3+"+strings.Repeat("b", n),
			"v1.2.3-"+strings.Repeat("c", n-1),
			"1.2.3-"+strings.Repeat("1", n),
			"1.2.3-a."+strings.Repeat("9", n-2),
		)
	}
	for _, total := range []int{255, 256, 257} {
		for _, left := range []int{0, 1, total - 5} {
			seeds = append(seeds, strings.Repeat(" ", left)+"1.2.3"+strings.Repeat("\u00a0", total-5-left))
		}
		seeds = append(seeds, "1.2.3-a"+strings.Repeat("\u3000", total-7), "1.2.3"+strings.Repeat("😀", (total-4)/2))
	}
	return mutate(seeds, true)
}

// compareVersions are ordered by hand only roughly: every pair is compared.
var compareVersions = []string{
	"0.0.0", "0.0.1", "0.1.0", "1.0.0", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-a",
	"1.0.0-A", "1.0.0-a.1", "1.0.0-a.2", "1.0.0-a.10", "1.0.0-a.b", "1.0.0-a.-", "1.0.0--",
	"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
	"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0+build", "1.0.0+other", "v1.0.0", "1.0.0-1a", "1.0.0-a1",
	"1.0.0-9007199254740990", "1.0.0-9007199254740991", "1.0.0-9007199254740992",
	"1.0.0-9007199254740993", "1.0.0-9007199254740993.a", "1.0.0-9007199254740992.b",
	"1.0.0-99999999999999999999", "1.0.0-100000000000000000000", "1.0.0-1.2.3", "1.0.0-1.2.3.4",
	"2.0.0", "10.0.0", "9007199254740991.0.0", "1.10.0", "1.2.10", "1.2.9",
}

func comparePairs() [][2]string {
	var pairs [][2]string
	for _, a := range compareVersions {
		for _, b := range compareVersions {
			pairs = append(pairs, [2]string{a, b})
		}
	}
	return pairs
}

func emailCandidates() []string {
	seeds := []string{
		"a@example.com", "a.b@example.com", "a..b@example.com", ".a@example.com", "a.@example.com",
		`"a b"@example.com`, `"a\"b"@example.com`, `"@example.com`, `""@example.com`, `"a"b"@example.com`,
		`"a\\"@example.com`, `"a\`, `"a\"@example.com`, "\"a\\\nb\"@example.com", "\"a\\\rb\"@example.com",
		"\"a\x00b\"@example.com", "\"a\\\x00b\"@example.com", "\"a\u0080b\"@example.com", "\"a\\\u00a0b\"@example.com",
		"\"a\tb\"@example.com", `"a@b"@example.com`, `a"b@example.com`,
		"a@b@example.com", "a@localhost", "a@127.0.0.1", "a@[127.0.0.1]", "a@[::1]", "a@example",
		"a@example.c", "a@example.co", "a@example.123", "a@example.1a", "a@exa_mple.com", "a@-example.com",
		"a@example-.com", "a@xn--bcher-kva.ch", "a@bücher.ch", "ü@example.com", "a@example.com.",
		"a+tag@example.com", "a!#$%&'*+-/=?^_`{|}~@example.com", "a(b)@example.com", "a,b@example.com",
		"a b@example.com", "a@exam ple.com", "@example.com", "a@", "a", "", "@", "a@ex..com", "a@.com",
		"a@example.xn--p1ai", "a@example.xn--", "a@example.XN--P1AI", "a@example.xn1", "a@例え.テスト",
		"a@example.ｃｏｍ", "a@EXAMPLE.COM", "A@example.com", "a@example.c\u00a9m", "a@example.co\u00a9",
		"a@example.\u00a1\u00a8", "a@example.\u00aa\u00ab", "a@example.co\u2000", "a@ex\u2000ample.com",
		"a@example.com\u00a0", "a@e😀.com", "a@example.😀", "😀@example.com", "\"😀\"@example.com",
		"a@example.\ufdd0\ufdd0", "\ufdd0@example.com", "\uf8ff@example.com", "Σ@example.com",
		"a@xn--.com", "a@a.b.c.d.e.f.g.h", "a@\uff21.com", "a@\uff5f.com",
		"john.doe@sub.example.co.uk", "user%example.org@example.com", "\"\"\"@example.com",
	}
	// Length limits: 64 UTF-8 bytes for the local part, 63 code units per
	// label, 254 bytes for the domain and 254 code units overall.
	for _, n := range []int{62, 63, 64, 65} {
		seeds = append(seeds,
			strings.Repeat("a", n)+"@example.com",
			strings.Repeat("é", n/2)+"@example.com",
			"a@"+strings.Repeat("b", n)+".com",
			"a@"+strings.Repeat("ü", n)+".com",
			"a@"+strings.Repeat("😀", n/2)+".com",
			`"`+strings.Repeat("a", n-2)+`"@example.com`,
		)
	}
	for _, n := range []int{240, 241, 242, 243, 244, 245} {
		label := strings.Repeat("x", 60)
		domain := label + "." + label + "." + label + "." + strings.Repeat("y", n-183) + ".com"
		seeds = append(seeds, "a@"+domain, "ab@"+domain, "é@"+domain, "😀x@"+domain)
	}
	return mutate(seeds, true)
}

func urlCandidates() []string {
	seeds := []string{
		"http://example.com", "https://example.com/path?q=1#frag", "example.com", "ftp://example.com",
		"HTTP://EXAMPLE.COM", "HtTpS://example.com", "http://localhost", "http://localhost:3000",
		"http://127.0.0.1", "http://127.0.0.1:8080/x", "http://256.1.1.1", "http://01.1.1.1",
		"http://[::1]", "http://[::1]:8080", "http://[::1]:0", "http://[::1]:", "http://[::1]x",
		"http://[fe80::1%eth0]", "http://[1:2:3:4:5:6:7::]", "http://[1:2:3:4:5:6:7:8]", "http://[::ffff:1.2.3.4]",
		"http://[1:2:3:4:5:6:1.2.3.4]", "http://[1::2::3]", "http://[]", "http://[example.com]",
		"http://[::1]:65536", "http://[::1]:065535", "//example.com", "http:example.com", "http:/example.com",
		"http:///example.com", "https:////example.com", "http://user:pass@example.com", "http://user@example.com",
		"http://:@example.com", "http://@example.com", "http://:pass@example.com", "http://user:@example.com",
		"http://a:b:c@example.com", "http://user:pass@example.com:8080/x", "http://a@b@example.com",
		"example.com:8080", "example.com:0", "example.com:00", "example.com:65535", "example.com:65536",
		"example.com:", "example.com:abc", "example.com:8080:90", "example.com:+80", "example.com: 80",
		"user:pass@example.com", "user:p%41ss@example.com", "user:pa$$@example.com",
		"javascript:alert(1)", "javascript:alert();@example.com", "javascript:%61@example.com",
		"javascript://example.com", "mailto:a@example.com", "http://exa_mple.com", "http://example.com.",
		"http://1.2.3.4:80", "http://example.com/<", "http://example.com/>", "http://ex ample.com",
		"http://example.com\t", "http://bücher.de", "http://xn--bcher-kva.de", "http://例え.テスト",
		"http://😀.com", "http://example.😀", "http://example.ｃｏｍ", "http://example.c", "http://example.123",
		"http://-example.com", "http://example-.com", "https://example.com:443", "http://a.b--c.de",
		"git+ssh://example.com", "http://example.com?", "http://example.com#", "http://exa#mple.com",
		"http://exa?mple.com", "?http://x", "#x", "http", "http:", "http://", "https:///", "https://?",
		"http://example.com/path/../x", "http://example.com//", "http://example.com\\x", "http://ex\\ample.com",
		"http://example.com%2f", "http://%65xample.com", "http://example.com:80/a:b@c", "a:1@example.com",
		"a1:b@example.com", "a+b:c@example.com", "1a:b@example.com", "a:1", "a:b", "a:/b", "localhost:3000",
		"www.example.com/index.html", "http://www.example.com:8080/a?b=c&d=e#f", "HTTPS://WWW.EXAMPLE.COM",
		"http://x.y", "http://x.yz", "http://xn--p1ai", "http://example.xn--p1ai", "http://" + strings.Repeat("a", 63) + ".com",
		"http://" + strings.Repeat("a", 64) + ".com", "http://" + strings.Repeat("é", 63) + ".com",
		"http://" + strings.Repeat("😀", 31) + "a.com", "http://" + strings.Repeat("😀", 32) + ".com",
	}
	for _, n := range []int{2083, 2084, 2085} {
		seeds = append(seeds,
			"http://example.com/"+strings.Repeat("a", n-19),
			"http://example.com/"+strings.Repeat("😀", (n-19)/2),
		)
	}
	return mutate(seeds, true)
}

func byteStringCandidates() []string {
	seeds := []string{
		"1kb", "1KB", "1Kb", "1kB", "1 kb", "1  kb", "1.5mb", "-1gb", "+1tb", "1pb", "1b", "1", "kb", "1.kb",
		".5kb", "1.5.5kb", "1e3kb", " 1kb", "1kb ", "1\tkb", "1K b", "1\u212ab", "0kb", "00kb", "١kb",
		"1ｋb", "99999999999999999999999tb", "--1kb", "+-1kb", "1,5kb", "1_000kb", "0.0001tb", "256mb",
		"1gb\n", "\n1gb", "1\u00a0gb", "1gbb", "1mbkb", "1 mb ", "1.0mb", "1.00000000000000000001gb",
	}
	var combos []string
	for _, num := range []string{"0", "7", "-3", "+12", "1.25", "-0.5", "123456789012345678901234567890"} {
		for _, unit := range []string{"kb", "MB", "gB", "Tb", "pb", "b", "k", ""} {
			for _, gap := range []string{"", " ", "   ", "\t"} {
				combos = append(combos, num+gap+unit)
			}
		}
	}
	return dedupe(append(mutate(seeds, true), mutate(combos, false)...))
}

// cronFieldValues are put in each of the five positions of "0 0 * * *".
var cronFieldValues = []string{
	"*", "0", "00", "007", "5", "7", "8", "12", "13", "23", "24", "31", "32", "59", "60", "99",
	"*/5", "*/0", "0/0", "*/60", "*/99999999999999999999", "1-5", "5-1", "5-5", "1-5/2", "0-7", "7-0",
	"1-12/3", "1-31/31", "0,30", "0,,30", "0,", ",0", "1-2-3", "1/2/3", "**", "*5", "5*", "*-5", "*/5/2",
	"-1", "+1", "1.5", "?", "L", "5L", "5#2", "W", "٣", "０", "jan", "JAN", "Jan", "dec", "jan-dec",
	"mon", "MON", "sun", "sat", "sun-sat", "sat-sun", "mon-fri", "mon,wed,fri", "monday", "january",
	"ja", "j", "xyz", "jann", "janfeb", "1jan", "jan1", "99999999999999999999", "0-99999999999999999999",
	"9007199254740993-9007199254740992", "1e3", "0x1", "İ", "frİ", "\u212a", "Σ", "aΣ", "*/", "/5", "",
	"1-", "-", ",", "*,*", "*/5,1-3", "@daily", "1\u00a02", "1\u20282", "1\t2",
}

func cronCandidates() []string {
	seeds := []string{
		"* * * * *", "0 0 * * *", "*/5 * * * *", "0 0 1 1 *", "0 0 * * 0", "0 0 * * 7", "0 0 * * 8",
		"0 0 * 0 *", "0 0 * 13 *", "0 0 0 * *", "0 0 32 * *", "60 * * * *", "0 24 * * *",
		"* * * jan mon", "* * * JAN MON", "* * * jan-dec mon-fri", "* * * * mon,wed,fri", "* * * * monday",
		"@daily", "@DAILY", "@every 5m", "@minutely", "@weekdays", "@reboot", "@service", "@yearly",
		"@annually", "@monthly", "@weekly", "@hourly", "@secondly", "@weekends", " @daily", "@daily ",
		"* * * *", "* * * * * *", "*  * * *", " * * * *", "* * * * ", "*\t* * * *", "* * * * *\n",
		"    ", "* * * *\u00a0*", "* * * * *\u00a0", "\u00a0* * * * *", "* * * *\u3000* *", "\ufeff* * * * *",
		"* * * * *\u0085", "* * * * *\u180e", "0 0 29 2 *", "0 0 31 4 *", "59 23 31 12 7",
		"* * * * 7-0", "1-60 * * * *", "* * * * *,", "0 0 * * FRİ", "0 0 * * ΑΣ", "0 0 * * ΣA", "0 0 * * ΑΣ.",
		"0 0 * * A.Σ", "0 0 * * ΑΣ'Σ", "99 * * * ΑΣ", "99,ΑΣ * * * *", "5*,ΑΣ * * * *",
	}
	var perField []string
	for pos := range 5 {
		for _, v := range cronFieldValues {
			fields := []string{"0", "0", "*", "*", "*"}
			fields[pos] = v
			perField = append(perField, strings.Join(fields, " "))
		}
	}
	return dedupe(append(mutate(seeds, true), mutate(perField, false)...))
}
