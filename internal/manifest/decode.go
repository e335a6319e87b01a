package manifest

// The decoder is hand-written because encoding/json forgets where a value came
// from and the order of object members, and silently accepts duplicate keys.
// It accepts exactly the grammar of JavaScript's JSON.parse (what the official
// validator reads files with) and rejects, with a positioned message, the few
// inputs JSON.parse takes that cpk refuses on purpose: duplicate keys, lone
// surrogate escapes, invalid UTF-8, absurd sizes and nesting depths.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	maxSize  = 8 << 20 // bytes; a manifest is a few KiB
	maxDepth = 256     // nested arrays and objects
)

// Decode parses data as one JSON value. A syntax error ends decoding and the
// Document is nil. Duplicate keys are reported but decoding goes on (the later
// member replaces the earlier one, as in JSON.parse), and a value other than
// an object is reported too; in both cases the Document is returned.
func Decode(data []byte) (*Document, []Error) {
	if len(data) > maxSize {
		return nil, []Error{syntaxErr(1, 1, fmt.Sprintf("file is %d bytes, more than the %d MiB a manifest may have", len(data), maxSize>>20))}
	}
	if len(data) == 0 {
		return nil, []Error{syntaxErr(1, 1, "empty file: a manifest must be a JSON object")}
	}
	if e := checkEncoding(data); e != nil {
		return nil, []Error{*e}
	}
	d := &decoder{data: data, line: 1, col: 1}
	d.skipSpace()
	if d.off == len(data) {
		return nil, []Error{syntaxErr(d.line, d.col, "file contains only whitespace: a manifest must be a JSON object")}
	}
	root := d.value()
	if d.err == nil {
		d.skipSpace()
		if d.off < len(data) {
			d.fail(d.describeHere() + " after the end of the JSON value (only whitespace may follow it)")
		}
	}
	if d.err != nil {
		return nil, []Error{*d.err}
	}
	if root.Kind != ObjectValue {
		// JSON, but not a manifest: the official parse() throws on some of these.
		d.dups = append(d.dups, syntaxErr(root.Line, root.Col,
			fmt.Sprintf("the manifest must be a JSON object ({ … }), found %s", describeValue(root))))
	}
	return &Document{Root: root}, d.dups
}

// checkEncoding rejects byte order marks and invalid UTF-8 before parsing.
func checkEncoding(data []byte) *Error {
	switch {
	case strings.HasPrefix(string(data[:min(len(data), 3)]), "\uFEFF"):
		e := syntaxErr(1, 1, "file starts with a UTF-8 byte order mark (BOM), which JSON.parse rejects: remove the BOM")
		return &e
	case len(data) >= 2 && (data[0] == 0xFE && data[1] == 0xFF || data[0] == 0xFF && data[1] == 0xFE):
		e := syntaxErr(1, 1, "file is UTF-16 encoded: save it as UTF-8 without a byte order mark")
		return &e
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		b := data[i]
		if b < utf8.RuneSelf {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			e := syntaxErr(line, col, fmt.Sprintf("invalid UTF-8 byte 0x%02x: a manifest must be UTF-8 text", b))
			return &e
		}
		col++
		i += size
	}
	return nil
}

func syntaxErr(line, col int, msg string) Error {
	return Error{Line: line, Column: col, Message: msg, Kind: Syntax}
}

type decoder struct {
	data      []byte
	off       int
	line, col int // position of data[off]
	depth     int
	path      []pathSeg // where the current value sits, for the pointers of duplicate keys
	err       *Error
	dups      []Error
}

type pathSeg struct {
	key     string
	index   int
	isIndex bool
}

// pointer is the JSON pointer of the current object.
func (d *decoder) pointer() string {
	var b strings.Builder
	for _, s := range d.path {
		b.WriteByte('/')
		if s.isIndex {
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteString(escapePointer(s.key))
		}
	}
	return b.String()
}

// fail records the first syntax error at the current position.
func (d *decoder) fail(msg string) {
	d.failAt(d.line, d.col, msg)
}

func (d *decoder) failAt(line, col int, msg string) {
	if d.err == nil {
		e := syntaxErr(line, col, msg)
		d.err = &e
	}
}

// advance moves over n bytes that contain no newline.
func (d *decoder) advance(n int) {
	for i := 0; i < n; i++ {
		if d.data[d.off]&0xC0 != 0x80 { // count runes, not bytes
			d.col++
		}
		d.off++
	}
}

// skipSpace moves over JSON whitespace: space, tab, newline, carriage return.
func (d *decoder) skipSpace() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\r':
			d.col++
		case '\n':
			d.line, d.col = d.line+1, 1
			d.off++
			continue
		default:
			return
		}
		d.off++
	}
}

func (d *decoder) peek() byte {
	if d.off < len(d.data) {
		return d.data[d.off]
	}
	return 0
}

// describeHere names what is at the current position for an error message,
// recognising the usual non-JSON habits.
func (d *decoder) describeHere() string {
	if d.off >= len(d.data) {
		return "unexpected end of file"
	}
	rest := d.data[d.off:]
	switch {
	case rest[0] == '/' && len(rest) > 1 && (rest[1] == '/' || rest[1] == '*'):
		return "comment found: comments are not allowed in JSON"
	case rest[0] == '\'':
		return "single-quoted string found: JSON strings use double quotes"
	}
	if w := identifier(rest); w != "" {
		switch w {
		case "NaN", "Infinity":
			return fmt.Sprintf("%s found: it is not a JSON value (use a number or a string)", w)
		case "undefined":
			return "undefined found: it is not a JSON value (use null or remove the property)"
		case "True", "False", "None", "TRUE", "FALSE", "Null", "NULL":
			return fmt.Sprintf("%s found: JSON literals are lower case (true, false, null)", w)
		}
		return fmt.Sprintf("unexpected word %q", w)
	}
	r, _ := utf8.DecodeRune(rest)
	if r < ' ' || r == utf8.RuneError || r == '\u00a0' || r == '\ufeff' || r == '\u2028' || r == '\u2029' {
		return fmt.Sprintf("unexpected character U+%04X", r)
	}
	return fmt.Sprintf("unexpected character %q", r)
}

// identifier returns the leading word of b (letters, digits, _ and $).
func identifier(b []byte) string {
	n := 0
	for n < len(b) && n < 40 {
		c := b[n]
		if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || n > 0 && c >= '0' && c <= '9' {
			n++
			continue
		}
		break
	}
	return string(b[:n])
}

// value parses the value at the current position (whitespace already skipped).
func (d *decoder) value() *Value {
	v := &Value{Line: d.line, Col: d.col, Start: d.off}
	switch c := d.peek(); {
	case c == '{':
		d.object(v)
	case c == '[':
		d.array(v)
	case c == '"':
		v.Kind = StringValue
		v.Str, _ = d.str()
	case c == '-' || c >= '0' && c <= '9':
		d.number(v)
	case c == 't' || c == 'f' || c == 'n':
		d.literal(v)
	case c == ',' || c == ']' || c == '}':
		d.fail(fmt.Sprintf("expected a value, found %q", rune(c)))
	default:
		d.fail(d.describeHere() + " where a value was expected")
	}
	v.End = d.off
	return v
}

func (d *decoder) literal(v *Value) {
	w := identifier(d.data[d.off:])
	switch w {
	case "true":
		v.Kind, v.Bool = BoolValue, true
	case "false":
		v.Kind = BoolValue
	case "null":
		v.Kind = NullValue
	default:
		d.fail(fmt.Sprintf("unexpected word %q where a value was expected (JSON literals are true, false and null)", w))
		return
	}
	d.advance(len(w))
}

func (d *decoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.fail(fmt.Sprintf("arrays and objects are nested more than %d levels deep", maxDepth))
		return false
	}
	return true
}

func (d *decoder) object(v *Value) {
	v.Kind = ObjectValue
	if !d.enter() {
		return
	}
	defer func() { d.depth-- }()
	d.advance(1) // {
	d.skipSpace()
	if d.peek() == '}' {
		d.advance(1)
		return
	}
	seen := map[string]int{}
	for {
		if d.peek() != '"' {
			if d.off < len(d.data) && identifier(d.data[d.off:]) != "" {
				d.fail(fmt.Sprintf("property name %s must be a double-quoted string", identifier(d.data[d.off:])))
			} else {
				d.fail(d.describeHere() + " where a property name (a double-quoted string) was expected")
			}
			return
		}
		m := &Member{KeyLine: d.line, KeyCol: d.col, KeyStart: d.off}
		key, ok := d.str()
		if !ok {
			return
		}
		m.Key = key
		d.skipSpace()
		if d.peek() != ':' {
			d.fail(d.describeHere() + fmt.Sprintf(" where ':' was expected after property name %q", key))
			return
		}
		d.advance(1)
		d.skipSpace()
		d.path = append(d.path, pathSeg{key: key})
		m.Value = d.value()
		d.path = d.path[:len(d.path)-1]
		if d.err != nil {
			return
		}
		if i, dup := seen[key]; dup {
			first := v.Members[i]
			d.dups = append(d.dups, Error{
				Pointer: d.pointer() + "/" + escapePointer(key), Line: m.KeyLine, Column: m.KeyCol, Kind: Syntax,
				Message: fmt.Sprintf("duplicate property %q: first defined at line %d, column %d, again at line %d, column %d (JSON.parse would silently keep the last one; remove one)",
					key, first.KeyLine, first.KeyCol, m.KeyLine, m.KeyCol),
			})
			v.Members[i] = m
		} else {
			seen[key] = len(v.Members)
			v.Members = append(v.Members, m)
		}
		if !d.more('}', "property", "a property value") {
			return
		}
	}
}

// more reads what follows a property or an item: a comma when more
// follow (true), else the closing bracket; anything else, or a comma
// before the bracket, fails. last names the element ("property"), after
// what was read last ("a property value").
func (d *decoder) more(closing byte, last, after string) bool {
	d.skipSpace()
	switch d.peek() {
	case ',':
		cl, cc := d.line, d.col
		d.advance(1)
		d.skipSpace()
		if d.peek() == closing {
			d.failAt(cl, cc, fmt.Sprintf("trailing comma before '%c': JSON does not allow a comma after the last %s", closing, last))
			return false
		}
		return true
	case closing:
		d.advance(1)
		return false
	}
	d.fail(fmt.Sprintf("%s where ',' or '%c' was expected after %s", d.describeHere(), closing, after))
	return false
}

func (d *decoder) array(v *Value) {
	v.Kind = ArrayValue
	if !d.enter() {
		return
	}
	defer func() { d.depth-- }()
	d.advance(1) // [
	d.skipSpace()
	if d.peek() == ']' {
		d.advance(1)
		return
	}
	for {
		d.path = append(d.path, pathSeg{index: len(v.Items), isIndex: true})
		item := d.value()
		d.path = d.path[:len(d.path)-1]
		if d.err != nil {
			return
		}
		v.Items = append(v.Items, item)
		if !d.more(']', "item", "an array item") {
			return
		}
	}
}

// number parses a number with JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number(v *Value) {
	b := d.data
	i := d.off
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	bad := func(msg string) {
		d.advance(i - d.off)
		d.fail(msg)
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
		if i < len(b) && b[i] >= '0' && b[i] <= '9' {
			bad("numbers cannot have leading zeros")
			return
		}
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		digits()
	default:
		bad("a digit must follow '-'")
		return
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			bad("a digit must follow the decimal point")
			return
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			bad("a digit must follow the exponent")
			return
		}
	}
	v.Kind = NumberValue
	v.Raw = string(b[d.off:i])
	// ParseFloat rounds like JavaScript; out of range it returns ±Inf or 0,
	// which is what JSON.parse gives too.
	v.Num, _ = strconv.ParseFloat(v.Raw, 64)
	d.advance(i - d.off)
}

// str parses a double-quoted string starting at the current position.
func (d *decoder) str() (string, bool) {
	startLine, startCol := d.line, d.col
	d.advance(1) // "
	var sb []byte
	from := d.off
	for {
		if d.off >= len(d.data) {
			d.failAt(startLine, startCol, "unterminated string: the closing '\"' is missing")
			return "", false
		}
		c := d.data[d.off]
		switch {
		case c == '"':
			s := string(d.data[from:d.off])
			if sb != nil {
				s = string(append(sb, s...))
			}
			d.advance(1)
			return s, true
		case c == '\n':
			d.failAt(startLine, startCol, "unterminated string: a string cannot contain a raw line break (write \\n)")
			return "", false
		case c < 0x20:
			d.fail(fmt.Sprintf("control character U+%04X in a string: write it as an escape such as \\t or \\u%04x", c, c))
			return "", false
		case c == '\\':
			sb = append(sb, d.data[from:d.off]...)
			r, ok := d.escape()
			if !ok {
				return "", false
			}
			sb = utf8.AppendRune(sb, r)
			from = d.off
		default:
			d.advance(1)
		}
	}
}

// escape parses one escape sequence after a backslash, combining surrogate pairs.
func (d *decoder) escape() (rune, bool) {
	line, col := d.line, d.col
	if d.off+1 >= len(d.data) {
		d.failAt(line, col, "unterminated escape sequence at the end of the file")
		return 0, false
	}
	switch c := d.data[d.off+1]; c {
	case '"', '\\', '/':
		d.advance(2)
		return rune(c), true
	case 'b':
		d.advance(2)
		return '\b', true
	case 'f':
		d.advance(2)
		return '\f', true
	case 'n':
		d.advance(2)
		return '\n', true
	case 'r':
		d.advance(2)
		return '\r', true
	case 't':
		d.advance(2)
		return '\t', true
	case 'u':
		r, ok := d.hex4()
		if !ok {
			return 0, false
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			d.failAt(line, col, fmt.Sprintf("lone surrogate escape \\u%04x: a low surrogate must follow a high one (\\ud800-\\udbff)", r))
			return 0, false
		case r >= 0xD800 && r <= 0xDBFF:
			if d.off+1 < len(d.data) && d.data[d.off] == '\\' && d.data[d.off+1] == 'u' {
				lo, ok := d.hex4()
				if !ok {
					return 0, false
				}
				if lo >= 0xDC00 && lo <= 0xDFFF {
					return (r-0xD800)<<10 | (lo - 0xDC00) + 0x10000, true
				}
			}
			d.failAt(line, col, fmt.Sprintf("lone surrogate escape \\u%04x: it must be followed by a low surrogate (\\udc00-\\udfff)", r))
			return 0, false
		}
		return r, true
	default:
		r, _ := utf8.DecodeRune(d.data[d.off+1:])
		d.failAt(line, col, fmt.Sprintf("invalid escape sequence \\%c (JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", r))
		return 0, false
	}
}

// hex4 parses \uXXXX at the current position.
func (d *decoder) hex4() (rune, bool) {
	if d.off+6 > len(d.data) {
		d.fail("incomplete \\u escape: four hexadecimal digits must follow \\u")
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.data[d.off+2:d.off+6]), 16, 32)
	if err != nil {
		d.fail("invalid \\u escape: four hexadecimal digits must follow \\u")
		return 0, false
	}
	d.advance(6)
	return rune(n), true
}

// escapePointer escapes one JSON pointer token.
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
