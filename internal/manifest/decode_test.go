package manifest

import (
	"strings"
	"testing"
)

func TestDecodeRejects(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	tests := []struct {
		name        string
		in          string
		line, col   int
		msg         string // substring of the message
		keepsTheDoc bool   // the bytes are JSON (duplicate keys): Decode returns the document too
	}{
		{name: "empty file", in: "", line: 1, col: 1, msg: "empty file"},
		{name: "only whitespace", in: "  \n\t ", line: 2, col: 3, msg: "only whitespace"},
		{name: "BOM", in: "\ufeff{}", line: 1, col: 1, msg: "remove the BOM"},
		{name: "UTF-16", in: "\xff\xfe{\x00}\x00", line: 1, col: 1, msg: "UTF-16"},
		{name: "invalid UTF-8", in: "{\n  \"title\": \"caf\xe9\"\n}", line: 2, col: 16, msg: "invalid UTF-8 byte 0xe9"},
		{name: "invalid UTF-8 after multibyte", in: "{\"t\": \"ééé\xff\"}", line: 1, col: 11, msg: "invalid UTF-8"},
		{name: "encoded surrogate", in: "{\"t\": \"\xed\xa0\x80\"}", line: 1, col: 8, msg: "invalid UTF-8"},
		{name: "trailing garbage", in: "{}\n  x", line: 2, col: 3, msg: "after the end of the JSON value"},
		{name: "second document", in: "{} {}", line: 1, col: 4, msg: "after the end of the JSON value"},
		{name: "trailing comma in object", in: "{\n  \"a\": 1,\n}", line: 2, col: 9, msg: "trailing comma before '}'"},
		{name: "trailing comma in array", in: `{"a": [1, 2,]}`, line: 1, col: 12, msg: "trailing comma before ']'"},
		{name: "line comment", in: "{\n  // the port\n  \"a\": 1}", line: 2, col: 3, msg: "comments are not allowed"},
		{name: "block comment", in: `{"a": /* x */ 1}`, line: 1, col: 7, msg: "comments are not allowed"},
		{name: "comment at the end", in: "{}\n// done", line: 2, col: 1, msg: "comments are not allowed"},
		{name: "single-quoted value", in: `{"a": 'b'}`, line: 1, col: 7, msg: "double quotes"},
		{name: "single-quoted key", in: `{'a': 1}`, line: 1, col: 2, msg: "double quotes"},
		{name: "unquoted key", in: `{a: 1}`, line: 1, col: 2, msg: "property name a must be a double-quoted string"},
		{name: "NaN", in: `{"httpPort": NaN}`, line: 1, col: 14, msg: "NaN found"},
		{name: "Infinity", in: `{"httpPort": Infinity}`, line: 1, col: 14, msg: "Infinity found"},
		{name: "negative Infinity", in: `{"httpPort": -Infinity}`, line: 1, col: 15, msg: "a digit must follow '-'"},
		{name: "undefined", in: `{"a": undefined}`, line: 1, col: 7, msg: "undefined found"},
		{name: "Python literal", in: `{"a": True}`, line: 1, col: 7, msg: "lower case"},
		{name: "bad literal", in: `{"a": nul}`, line: 1, col: 7, msg: `unexpected word "nul"`},
		{name: "leading zero", in: `{"a": 01}`, line: 1, col: 8, msg: "leading zeros"},
		{name: "plus sign", in: `{"a": +1}`, line: 1, col: 7, msg: "unexpected character '+'"},
		{name: "bare decimal point", in: `{"a": .5}`, line: 1, col: 7, msg: "unexpected character '.'"},
		{name: "trailing decimal point", in: `{"a": 1.}`, line: 1, col: 9, msg: "a digit must follow the decimal point"},
		{name: "empty exponent", in: `{"a": 1e}`, line: 1, col: 9, msg: "a digit must follow the exponent"},
		{name: "hexadecimal", in: `{"a": 0x10}`, line: 1, col: 8, msg: "where ',' or '}' was expected"},
		{name: "missing comma", in: "{\"a\": 1\n \"b\": 2}", line: 2, col: 2, msg: "where ',' or '}' was expected"},
		{name: "missing colon", in: `{"a" 1}`, line: 1, col: 6, msg: `':' was expected after property name "a"`},
		{name: "missing value", in: `{"a": }`, line: 1, col: 7, msg: "expected a value, found '}'"},
		{name: "unterminated string", in: `{"a": "abc`, line: 1, col: 7, msg: "unterminated string"},
		{name: "raw newline in string", in: "{\"a\": \"ab\ncd\"}", line: 1, col: 7, msg: "raw line break"},
		{name: "raw tab in string", in: "{\"a\": \"a\tb\"}", line: 1, col: 9, msg: "control character U+0009"},
		{name: "invalid escape", in: `{"a": "\x41"}`, line: 1, col: 8, msg: `invalid escape sequence \x`},
		{name: "short unicode escape", in: `{"a": "\u12"}`, line: 1, col: 8, msg: "four hexadecimal digits"},
		{name: "lone high surrogate", in: `{"title": "\ud83d!"}`, line: 1, col: 12, msg: `lone surrogate escape \ud83d`},
		{name: "lone low surrogate", in: `{"title": "x\ude00"}`, line: 1, col: 13, msg: `lone surrogate escape \ude00`},
		{name: "high surrogate then non-surrogate", in: `{"t": "\ud83d\u0041"}`, line: 1, col: 8, msg: "lone surrogate"},
		{name: "unclosed object", in: `{"a": 1`, line: 1, col: 8, msg: "unexpected end of file"},
		{name: "unclosed array", in: `[1, 2`, line: 1, col: 6, msg: "unexpected end of file"},
		{name: "too deep", in: deep, line: 1, col: maxDepth + 1, msg: "nested more than 256 levels"},
		{name: "too large", in: "{" + strings.Repeat(" ", maxSize) + "}", line: 1, col: 1, msg: "more than the 8 MiB"},
		{name: "columns count runes", in: `{"ü€😀": x}`, line: 1, col: 9, msg: "unexpected"},
		{name: "top-level array", in: "\n  [1]", line: 2, col: 3, msg: "the manifest must be a JSON object ({ … }), found array", keepsTheDoc: true},
		{name: "top-level null", in: "null", line: 1, col: 1, msg: "must be a JSON object ({ … }), found null", keepsTheDoc: true},
		{name: "duplicate key", in: "{\n  \"title\": \"a\",\n  \"title\": \"b\"\n}", line: 3, col: 3,
			msg: `duplicate property "title": first defined at line 2, column 3, again at line 3, column 3`, keepsTheDoc: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := Decode([]byte(tt.in))
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(errs), errs)
			}
			e := errs[0]
			if e.Kind != Syntax {
				t.Errorf("Kind = %v, want syntax", e.Kind)
			}
			if e.Line != tt.line || e.Column != tt.col {
				t.Errorf("position %d:%d, want %d:%d (%s)", e.Line, e.Column, tt.line, tt.col, e.Message)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
			if (doc != nil) != tt.keepsTheDoc {
				t.Errorf("document returned: %v, want %v", doc != nil, tt.keepsTheDoc)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	in := "{\r\n\t\"a\" : [ 1, -0, 1.5e3, 1e400, -1e400, 1e-400, \"x\\u00e9\\ud83d\\ude00\\n\\/\" ],\n" +
		"  \"ü\": { \"t\": true, \"f\": false, \"n\": null }, \"😀\": {}, \"e\": [] }"
	doc, errs := Decode([]byte(in))
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	a := doc.Root.Get("a")
	if a == nil || len(a.Items) != 7 {
		t.Fatalf("a = %+v", a)
	}
	if got := a.Items[6].Str; got != "xé😀\n/" {
		t.Errorf("string = %q", got)
	}
	if a.Items[2].Num != 1500 || a.Items[2].Raw != "1.5e3" {
		t.Errorf("number = %v %q", a.Items[2].Num, a.Items[2].Raw)
	}
	// JavaScript reads 1e400 as Infinity and 1e-400 as 0; tv4's integer
	// test (n % 1 === 0) accepts -0 and 0 but not ±Infinity.
	for i, want := range map[int]bool{1: true, 3: false, 4: false, 5: true} {
		if hasType(a.Items[i], "integer") != want {
			t.Errorf("integer(%s) = %v", a.Items[i].Raw, !want)
		}
	}
	if a.Items[5].Num != 0 {
		t.Errorf("1e-400 = %v, want 0", a.Items[5].Num)
	}
	// Member order and key positions are kept.
	var keys []string
	for _, m := range doc.Root.Members {
		keys = append(keys, m.Key)
	}
	if strings.Join(keys, ",") != "a,ü,😀,e" {
		t.Errorf("member order %v", keys)
	}
	if m := doc.Root.member("😀"); m.KeyLine != 3 || m.KeyCol != 46 {
		t.Errorf("key position %d:%d, want 3:46", m.KeyLine, m.KeyCol)
	}
	for ptr, want := range map[string][2]int{
		"":       {1, 1},
		"/a":     {2, 8},
		"/a/1":   {2, 13},
		"/ü/n":   {3, 38},
		"/😀":     {3, 51},
		"/e":     {3, 60},
		"/a/7":   {0, 0},
		"/a/01":  {0, 0},
		"/nope":  {0, 0},
		"a":      {0, 0},
		"/ü/n/x": {0, 0},
	} {
		line, col, ok := doc.Position(ptr)
		if ok != (want[0] != 0) || line != want[0] || col != want[1] {
			t.Errorf("Position(%q) = %d:%d %v, want %d:%d", ptr, line, col, ok, want[0], want[1])
		}
	}
}

func TestDecodePointerEscapes(t *testing.T) {
	doc, errs := Decode([]byte(`{"a/b": {"c~d": 1}}`))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if line, col, ok := doc.Position("/a~1b/c~0d"); !ok || line != 1 || col != 17 {
		t.Errorf("Position = %d:%d %v", line, col, ok)
	}
}

func TestDecodeDuplicateKeepsLast(t *testing.T) {
	doc, errs := Decode([]byte(`{"a": 1, "b": 2, "a": 3, "a": 4}`))
	if len(errs) != 2 {
		t.Fatalf("errors: %v", errs)
	}
	if len(doc.Root.Members) != 2 || doc.Root.Get("a").Num != 4 {
		t.Errorf("members %+v", doc.Root.Members)
	}
}
