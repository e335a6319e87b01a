package manifest

// The string formats of the official validator (cloudron-manifestformat
// 5.27.0), ported from the JavaScript they run: manifestformat's own checks
// here, node-semver in semver.go, validator.js in email.go and url.go, and the
// cron package in cron.go. formats_diff_test.go runs the JavaScript on a few
// thousand candidates and asserts the verdicts are identical.
//
// JavaScript strings are sequences of UTF-16 code units, and the regular
// expressions these checks use (none with the u flag) see code units, so the
// ports measure lengths in code units and see a character outside the Basic
// Multilingual Plane as two surrogates. A Go string is read as the runes it
// decodes to; an invalid UTF-8 byte counts as U+FFFD, which is what
// encoding/json turns it into.

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// isID reports whether s is a reverse-domain id as manifestformat's isId
// defines it: at least two dot-separated parts, each a lower-case ASCII letter
// or digit followed by lower-case letters, digits, '-' and '_'.
func isID(s string) bool {
	parts := 0
	for part := range strings.SplitSeq(s, ".") {
		parts++
		if !isIDPart(part) {
			return false
		}
	}
	return parts > 1
}

func isIDPart(p string) bool {
	if p == "" || !isLowerAlnum(p[0]) {
		return false
	}
	for i := 1; i < len(p); i++ {
		if c := p[i]; !isLowerAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) }

// isByteString is the manifest's byteString format: an optionally signed
// decimal number, optional spaces and a unit among kb, mb, gb and tb in any
// ASCII case.
func isByteString(s string) bool {
	_, _, ok := splitByteString(s)
	return ok
}

// ParseByteString returns the number of bytes a byteString stands for. The
// format's pattern is the one of the npm package bytes (less its pb unit), so
// the value is the one bytes.parse gives: binary multiples (1kb = 1024,
// 1mb = 1024², 1gb = 1024³, 1tb = 1024⁴), the number read as a float64,
// multiplied, then rounded down ("1.5kb" is 1536, "-0.5kb" is -512). ok is
// false when s is not a byteString or the result does not fit an int64.
func ParseByteString(s string) (int64, bool) {
	num, shift, ok := splitByteString(s)
	if !ok {
		return 0, false
	}
	f, _ := strconv.ParseFloat(num, 64) // ±Inf past the float64 range, as parseFloat
	v := math.Floor(math.Ldexp(f, shift))
	if math.IsInf(v, 0) || v >= 1<<63 || v < -(1<<63) {
		return 0, false
	}
	return int64(v), true
}

// splitByteString matches ^([-+]?\d+(\.\d+)?) *(kb|mb|gb|tb)$ with an ASCII
// case-insensitive unit, returning the number and log2 of the unit.
func splitByteString(s string) (num string, shift int, ok bool) {
	if len(s) < 3 {
		return "", 0, false
	}
	unit := s[len(s)-2:]
	switch lowerASCII(unit[0]) {
	case 'k':
		shift = 10
	case 'm':
		shift = 20
	case 'g':
		shift = 30
	case 't':
		shift = 40
	default:
		return "", 0, false
	}
	if lowerASCII(unit[1]) != 'b' {
		return "", 0, false
	}
	num = s[:len(s)-2]
	for len(num) > 0 && num[len(num)-1] == ' ' {
		num = num[:len(num)-1]
	}
	rest := num
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		rest = rest[1:]
	}
	intPart, frac, hasDot := strings.Cut(rest, ".")
	if !allDigits(intPart) || hasDot && !allDigits(frac) {
		return "", 0, false
	}
	return num, shift, true
}

// Helpers shared by the ports.

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// allDigits reports whether s is one or more ASCII digits (JS /^\d+$/).
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// utf16Len is JavaScript's s.length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// isJSSpace reports whether r is matched by JavaScript's \s and removed by
// String.prototype.trim: WhiteSpace and LineTerminator of ECMA-262.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return 0x2000 <= r && r <= 0x200A
}

// containsJSSpace is JavaScript's /\s/.test(s).
func containsJSSpace(s string) bool {
	for _, r := range s {
		if isJSSpace(r) {
			return true
		}
	}
	return false
}

// jsTrim is String.prototype.trim.
func jsTrim(s string) string {
	for s != "" {
		r, n := utf8.DecodeRuneInString(s)
		if !isJSSpace(r) {
			break
		}
		s = s[n:]
	}
	for s != "" {
		r, n := utf8.DecodeLastRuneInString(s)
		if !isJSSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}
