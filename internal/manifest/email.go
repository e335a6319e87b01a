package manifest

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A port of validator 13.15.35: isEmail with its default options, and the
// isFQDN and isIP it relies on (isURL in url.go uses them too).

// isEmail is validator.isEmail(s) with default options: no display name, at
// most 254 UTF-16 code units, the local part (before the last '@') at most 64
// UTF-8 bytes and the domain at most 254, the domain a fully qualified domain
// name (no IP literals, no underscores), and the local part either quoted or
// dot-separated atoms that may hold non-ASCII characters.
func isEmail(s string) bool {
	s = validRunes(s)
	if utf16Len(s) > 254 {
		return false
	}
	user, domain := "", s
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		user, domain = s[:at], s[at+1:]
	}
	// validator measures with encodeURI: one per escaped byte, so UTF-8 bytes.
	if len(user) > 64 || len(domain) > 254 {
		return false
	}
	if !isFQDN(domain) {
		return false
	}
	if user != "" && user[0] == '"' && user[len(user)-1] == '"' {
		if len(user) == 1 {
			return true // JavaScript's '"'.slice(1, 0) is "", and the pattern allows it
		}
		return isQuotedLocalPart(user[1 : len(user)-1])
	}
	for part := range strings.SplitSeq(user, ".") {
		if !isLocalAtom(part) {
			return false
		}
	}
	return true
}

// isLocalAtom: one or more of the RFC 5322 atext characters or of the
// non-ASCII BMP characters U+00A1–U+D7FF, U+F900–U+FDCF and U+FDF0–U+FFEF.
func isLocalAtom(p string) bool {
	if p == "" {
		return false
	}
	for _, r := range p {
		if r < utf8.RuneSelf {
			if !isASCIILetter(byte(r)) && !isDigit(byte(r)) && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r) {
				return false
			}
		} else if !inEmailUnicode(r, 0xA1) {
			return false
		}
	}
	return true
}

// inEmailUnicode reports whether r lies in [lo–U+D7FF], U+F900–U+FDCF or
// U+FDF0–U+FFEF: the BMP less surrogates, private use and the noncharacters
// U+FDD0–U+FDEF. Characters outside the BMP never match, as JavaScript sees
// them as surrogates.
func inEmailUnicode(r rune, lo rune) bool {
	return lo <= r && r <= 0xD7FF || 0xF900 <= r && r <= 0xFDCF || 0xFDF0 <= r && r <= 0xFFEF
}

// isQuotedLocalPart checks the inside of a quoted local part: any sequence of
// whitespace, printable ASCII but '"' and '\', the control characters but NUL,
// TAB excepted (TAB, LF, CR come in as whitespace), the non-ASCII characters of
// inEmailUnicode from U+00A0, and backslash escapes of a character among
// U+0001–U+007F but LF, or of those non-ASCII characters.
func isQuotedLocalPart(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == '\\' {
			if i == len(s) {
				return false
			}
			r, n = utf8.DecodeRuneInString(s[i:])
			i += n
			if !(r >= 0x01 && r <= 0x7F && r != '\n' || inEmailUnicode(r, 0xA0)) {
				return false
			}
			continue
		}
		switch {
		case isJSSpace(r):
		case r >= 0x01 && r <= 0x7F && r != '"':
		case inEmailUnicode(r, 0xA0):
		default:
			return false
		}
	}
	return true
}

// isFQDN is validator.isFQDN(s) with require_tld, without underscores,
// trailing dot, numeric TLD or wildcard, and with the 63-unit label limit: the
// options both isEmail and isURL pass here.
func isFQDN(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	tld := parts[len(parts)-1]
	if !isTLD(tld) || containsJSSpace(tld) || allDigits(tld) {
		return false
	}
	for _, part := range parts {
		if !isDomainLabel(part) {
			return false
		}
	}
	return true
}

// isTLD: two or more letters (ASCII, U+00A1–U+00A8, and U+00AA on as in
// inEmailUnicode), or "xn" in any case followed by two or more ASCII letters,
// digits or hyphens.
func isTLD(tld string) bool {
	n, letters := 0, true
	for _, r := range tld {
		n++
		if r < utf8.RuneSelf {
			letters = letters && isASCIILetter(byte(r))
		} else {
			letters = letters && r != 0xA9 && inEmailUnicode(r, 0xA1)
		}
	}
	if letters && n >= 2 {
		return true
	}
	if len(tld) < 4 || lowerASCII(tld[0]) != 'x' || lowerASCII(tld[1]) != 'n' {
		return false
	}
	for i := 2; i < len(tld); i++ {
		if c := tld[i]; !isASCIILetter(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// isDomainLabel: 1 to 63 UTF-16 code units among ASCII letters, digits and
// '-', and any code unit from U+00A1 (so characters outside the BMP too), but
// no full-width ASCII (U+FF01–U+FF5E), no '_', and no '-' at either end.
func isDomainLabel(p string) bool {
	if p == "" || utf16Len(p) > 63 || p[0] == '-' || p[len(p)-1] == '-' {
		return false
	}
	for _, r := range p {
		if r < utf8.RuneSelf {
			if c := byte(r); !isASCIILetter(c) && !isDigit(c) && c != '-' {
				return false
			}
		} else if r < 0xA1 || 0xFF01 <= r && r <= 0xFF5E {
			return false
		}
	}
	return true
}

// isIP is validator.isIP(s) without a version: IPv4 dotted decimal without
// leading zeros, or IPv6 text with an optional %zone.
func isIP(s string) bool { return ipv4RE.MatchString(s) || ipv6RE.MatchString(s) }

// isIPv6 is validator.isIP(s, 6).
func isIPv6(s string) bool { return ipv6RE.MatchString(s) }

const ipv4Octet = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])`

var (
	ipv4Pattern = ipv4Octet + `(?:\.` + ipv4Octet + `){3}`
	ipv4RE      = regexp.MustCompile(`^` + ipv4Pattern + `$`)
	ipv6RE      = regexp.MustCompile(ipv6Pattern())
)

// ipv6Pattern builds the language validator accepts for IPv6: k leading
// groups each followed by ':', then a tail. With 7 leading groups the tail is
// a last group or ':'; with 6 it is an IPv4 address, ':group' or ':'; with k
// from 0 to 5 it is up to 5-k ':group' then ':' and an IPv4 address, or 1 to
// 7-k ':group', or ':'. With no leading group the text starts with ':'. So
// "1:2:3:4:5:6:7::" passes (an elided run of one group) and "::" does too.
func ipv6Pattern() string {
	const g = `[0-9a-fA-F]{1,4}`
	lead := func(k int) string {
		if k == 0 {
			return `:`
		}
		return `(?:` + g + `:){` + strconv.Itoa(k) + `}`
	}
	alts := []string{
		lead(7) + `(?:` + g + `|:)`,
		lead(6) + `(?:` + ipv4Pattern + `|:` + g + `|:)`,
	}
	for k := 5; k >= 0; k-- {
		alts = append(alts, lead(k)+`(?:(?::`+g+`){0,`+strconv.Itoa(5-k)+`}:`+ipv4Pattern+`|(?::`+g+`){1,`+strconv.Itoa(7-k)+`}|:)`)
	}
	return `^(?:` + strings.Join(alts, `|`) + `)(?:%[0-9a-zA-Z.]+)?$`
}

// validRunes returns s with each invalid UTF-8 byte replaced by U+FFFD, as
// encoding/json would have decoded it.
func validRunes(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}
