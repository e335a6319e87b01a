package manifest

import (
	"strings"
	"testing"
)

var (
	emailLabel60   = strings.Repeat("x", 60)
	emailDomain247 = emailLabel60 + "." + emailLabel60 + "." + emailLabel60 + "." + emailLabel60 + ".com"
)

var emailTests = []struct {
	in   string
	want bool
}{
	{"a@example.com", true},
	{"john.doe@sub.example.co.uk", true},
	{"a+tag@example.com", true},
	{"a!#$%&'*+-/=?^_`{|}~@example.com", true},
	{"ü@bücher.ch", true},
	{"Σ@example.com", true},
	{"a@xn--80ak6aa92e.com", true},
	{"a@example.xn--p1ai", true},
	{`"a b"@example.com`, true},
	{`"a\"b"@example.com`, true},
	{`"a@b"@example.com`, true},
	{`"@example.com`, true}, // '"'.slice(1, 0) is empty, and empty passes
	{`""@example.com`, true},
	{"\"a\tb\"@example.com", true},

	{"", false},
	{"a", false},
	{"@example.com", false},
	{"a@", false},
	{"a..b@example.com", false},
	{".a@example.com", false},
	{"a.@example.com", false},
	{"a b@example.com", false},
	{"a(b)@example.com", false},
	{"a@b@example.com", false},        // the local part is "a@b"
	{`"a"b"@example.com`, false},      // unescaped quote inside
	{"\"a\\\nb\"@example.com", false}, // LF cannot be escaped
	{"\"a\u0080b\"@example.com", false},
	{"😀@example.com", false},      // outside the BMP: surrogates
	{"\ufdd0@example.com", false}, // noncharacter
	{"a@localhost", false},
	{"a@example", false},
	{"a@example.c", false},
	{"a@example.123", false},
	{"a@example.com.", false},
	{"a@127.0.0.1", false}, // IP domains are off by default
	{"a@[127.0.0.1]", false},
	{"a@exa_mple.com", false},
	{"a@-example.com", false},
	{"a@example-.com", false},
	{"a@example.ｃｏｍ", false}, // full-width
	{"a@example.c\u00a9m", false},
	{"a@example.co\u2000", false},
	{"a@ex..com", false},
	{strings.Repeat("a", 64) + "@example.com", true},
	{strings.Repeat("a", 65) + "@example.com", false},
	{strings.Repeat("é", 32) + "@example.com", true},  // 64 bytes
	{strings.Repeat("é", 33) + "@example.com", false}, // 66 bytes
	{"a@" + strings.Repeat("b", 63) + ".com", true},
	{"a@" + strings.Repeat("b", 64) + ".com", false},
	{"a@" + strings.Repeat("😀", 31) + "b.com", true}, // 63 UTF-16 units
	{"a@" + strings.Repeat("😀", 32) + ".com", false}, // 64 UTF-16 units
	// 254 UTF-16 units in all is the limit.
	{"abcdef@" + emailDomain247, true},
	{"abcdefg@" + emailDomain247, false},
	{"abcdé@" + emailDomain247, true},       // one unit, two bytes
	{"abcdef@😀" + emailDomain247[2:], true}, // a surrogate pair counts two
	{"abcdefg@😀" + emailDomain247[2:], false},
}

func TestEmail(t *testing.T) {
	for _, tt := range emailTests {
		if got := isEmail(tt.in); got != tt.want {
			t.Errorf("isEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestEmailIP(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"127.0.0.1", true},
		{"255.255.255.255", true},
		{"256.1.1.1", false},
		{"01.1.1.1", false},
		{"1.2.3", false},
		{"::", true},
		{"::1", true},
		{"1:2:3:4:5:6:7:8", true},
		{"1:2:3:4:5:6:7::", true},
		{"::ffff:1.2.3.4", true},
		{"1:2:3:4:5:6:1.2.3.4", true},
		{"fe80::1%eth0", true},
		{"fe80::1%", false},
		{"1::2::3", false},
		{"1:2:3:4:5:6:7:8:9", false},
		{"12345::", false},
	}
	for _, tt := range tests {
		if got := isIP(tt.in); got != tt.want {
			t.Errorf("isIP(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
