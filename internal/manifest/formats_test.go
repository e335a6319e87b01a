package manifest

import "testing"

var idTests = []struct {
	in   string
	want bool
}{
	{"com.example.app", true},
	{"io.cloudron.surfer", true},
	{"a.b", true},
	{"0.1", true},
	{"a-b.c_d", true},
	{"org.x--y.z__", true},
	{"a", false},           // a single part
	{"", false},            // one empty part
	{"a.", false},          // empty last part
	{".a", false},          // empty first part
	{"a..b", false},        // empty middle part
	{"A.b", false},         // upper case
	{"-a.b", false},        // must start with a letter or digit
	{"_a.b", false},        // same
	{"com.exämple", false}, // ASCII only
	{"com.example\n", false},
}

func TestFormatID(t *testing.T) {
	for _, tt := range idTests {
		if got := isID(tt.in); got != tt.want {
			t.Errorf("isID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

var byteStringTests = []struct {
	in    string
	valid bool
	bytes int64
}{
	{"1kb", true, 1024},
	{"1KB", true, 1024},
	{"1kB", true, 1024},
	{"256mb", true, 256 << 20},
	{"1 gb", true, 1 << 30},
	{"1   tb", true, 1 << 40},
	{"1.5kb", true, 1536},
	{"+2mb", true, 2 << 20},
	{"-1kb", true, -1024},
	{"-0.5kb", true, -512},
	{"0.0001kb", true, 0},   // 0.1024 rounded down
	{"-0.0001kb", true, -1}, // -0.1024 rounded down
	{"00kb", true, 0},
	{"1.00000000000000000001gb", true, 1 << 30},
	{"1pb", false, 0}, // pb is not in the format's list
	{"1b", false, 0},
	{"1", false, 0},
	{"kb", false, 0},
	{"1.kb", false, 0},
	{".5kb", false, 0},
	{"1e3kb", false, 0},
	{" 1kb", false, 0},
	{"1kb ", false, 0},
	{"1\tkb", false, 0},    // only spaces between number and unit
	{"1\u212ab", false, 0}, // KELVIN SIGN does not fold to k in JavaScript
	{"١kb", false, 0},      // \d is ASCII only
	{"1gb\n", false, 0},
}

func TestByteString(t *testing.T) {
	for _, tt := range byteStringTests {
		if got := isByteString(tt.in); got != tt.valid {
			t.Errorf("isByteString(%q) = %v, want %v", tt.in, got, tt.valid)
		}
		n, ok := ParseByteString(tt.in)
		if ok != tt.valid || n != tt.bytes {
			t.Errorf("ParseByteString(%q) = %d, %v, want %d, %v", tt.in, n, ok, tt.bytes, tt.valid)
		}
	}
	// Valid for the format, but too large for an int64.
	if n, ok := ParseByteString("99999999999tb"); ok {
		t.Errorf("ParseByteString(99999999999tb) = %d, true; want overflow", n)
	}
	if !isByteString("99999999999tb") {
		t.Error("isByteString(99999999999tb) = false, want true")
	}
}

func TestFormatJSHelpers(t *testing.T) {
	if got := utf16Len("a😀é"); got != 4 {
		t.Errorf("utf16Len = %d, want 4", got)
	}
	if got := jsTrim("\u00a0\ufeff\u2028 x y\u3000\t"); got != "x y" {
		t.Errorf("jsTrim = %q", got)
	}
	if got := jsTrim("\u0085x\u180e\u200b"); got != "\u0085x\u180e\u200b" {
		t.Errorf("jsTrim removed what JavaScript keeps: %q", got)
	}
}
