package manifest

// PLACEHOLDER implementations: the formats helper replaces every body in this
// file with an exact port of the official validator's dependencies. The
// signatures are the contract the schema validator relies on.

import (
	"regexp"
	"strings"
)

// isID reports whether s is a reverse-domain id as manifestformat's isId defines it.
func isID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) == 1 {
		return false
	}
	for _, p := range parts {
		if !idPart.MatchString(p) {
			return false
		}
	}
	return true
}

var idPart = regexp.MustCompile(`^[a-z0-9][-a-z0-9_]*$`)

// semverVersion is a parsed semantic version as node-semver's parse returns it.
type semverVersion struct {
	Major, Minor, Patch uint64
	Prerelease          []semverIdent
	Build               []string
}

// semverIdent is one prerelease identifier: numeric ones have Numeric set.
type semverIdent struct {
	Numeric bool
	Num     uint64
	Str     string
}

// parseSemver is node-semver 7's parse(s) (no options): ok is false where it returns null.
func parseSemver(s string) (semverVersion, bool) { return semverVersion{}, looseSemver.MatchString(s) }

var looseSemver = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// validSemver is node-semver's valid(s) != null.
func validSemver(s string) bool { _, ok := parseSemver(s); return ok }

// compare is node-semver's compare(a, b): -1, 0 or 1.
func (a semverVersion) compare(b semverVersion) int { return 0 }

// isEmail is validator.isEmail(s) with default options.
func isEmail(s string) bool { return strings.Contains(s, "@") }

// isURL is validator.isURL(s, {protocols: [http, https], require_tld: true,
// require_protocol: false, allow_underscores: false}).
func isURL(s string) bool { return s != "" }

// cronPatternError returns "" when s passes the manifest's cronpattern format,
// otherwise the message the official format returns.
func cronPatternError(s string) string {
	if len(strings.Split(s, " ")) != 5 {
		return "Invalid cron pattern (note: seconds disallowed)"
	}
	return ""
}

// isByteString is the manifest's byteString format.
func isByteString(s string) bool { return byteString.MatchString(s) }

var byteString = regexp.MustCompile(`(?i)^((-|\+)?(\d+(?:\.\d+)?)) *(kb|mb|gb|tb)$`)
