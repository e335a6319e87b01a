package manifest

import (
	"strings"
	"testing"
)

var urlTests = []struct {
	in   string
	want bool
}{
	{"http://example.com", true},
	{"https://example.com/path?q=1#frag", true},
	{"HtTpS://example.com", true},
	{"example.com", true}, // the protocol is optional
	{"www.example.com/index.html", true},
	{"example.com:8080", true},
	{"http://example.com:080", true},
	{"http://example.com:", true}, // an empty port passes
	{"http:example.com", true},    // the "//" is not required
	{"user:pass@example.com", true},
	{"a:1@example.com", true},
	{"http://user:pass@example.com:8080/x", true},
	{"http://user:pass@[::1]:80", true},
	{"http://127.0.0.1:8080/x", true},
	{"http://[::1]", true},
	{"http://[1:2:3:4:5:6:7::]", true},
	{"http://[fe80::1%eth0]", true},
	{"http://bücher.de", true},
	{"http://😀.com", true},
	{"http://example.xn--p1ai", true},
	{"http://" + strings.Repeat("a", 63) + ".com", true},

	{"", false},
	{"ftp://example.com", false},
	{"javascript:alert(1)", false},
	{"javascript:alert();@example.com", false},
	{"javascript:%61@example.com", false},
	{"mailto:a@example.com", false},
	{"//example.com", false}, // no protocol-relative URLs
	{"example.com:", false},  // "example.com" is taken for a protocol
	{"localhost:3000", false},
	{"http://localhost", false},
	{"http://example.com.", false},
	{"http://exa_mple.com", false},
	{"http://example.ｃｏｍ", false},
	{"http://xn--p1ai", false},
	{"http://256.1.1.1", false},
	{"http://[::1]:0", false},
	{"http://[::1]:65536", false},
	{"http://[::1]:80:90", false},
	{"http://[1::2::3]", false},
	{"http://a@b@example.com", false},
	{"http://:@example.com", false},
	{"http://@example.com", false},
	{"http://a:b:c@example.com", false},
	{"http://ex ample.com", false},
	{"http://example.com/<", false},
	{"http://example.com\u00a0", false},
	{"http://", false},
	{"http:", false},
	{"http://" + strings.Repeat("a", 64) + ".com", false},
	{"http://example.com/" + strings.Repeat("a", 2065), true},
	{"http://example.com/" + strings.Repeat("a", 2066), false}, // 2085 characters
}

func TestURL(t *testing.T) {
	for _, tt := range urlTests {
		if got := isURL(tt.in); got != tt.want {
			t.Errorf("isURL(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
