package manifest

import (
	"strconv"
	"strings"
)

// ValueKind is the JSON type of a Value.
type ValueKind int

const (
	NullValue ValueKind = iota
	BoolValue
	NumberValue
	StringValue
	ArrayValue
	ObjectValue
)

// Value is one JSON value with its position in the source.
type Value struct {
	Kind       ValueKind
	Line, Col  int // 1-based position of the first character; Col counts runes
	Start, End int // byte offsets of the value in the source, End exclusive

	Bool    bool
	Num     float64 // as JavaScript reads it: ±Inf for literals beyond float64
	Raw     string  // the literal text of a number
	Str     string
	Items   []*Value  // ArrayValue
	Members []*Member // ObjectValue, in document order
}

// Member is one "key": value pair of an object.
type Member struct {
	Key             string
	KeyLine, KeyCol int
	KeyStart        int // byte offset of the opening quote of the key
	Value           *Value
}

// Document is a decoded JSON file: a tree of positioned values.
type Document struct {
	Root *Value
}

// Get returns the member value named key of an object, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != ObjectValue {
		return nil
	}
	for _, m := range v.Members {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// member returns the member named key of an object, or nil.
func (v *Value) member(key string) *Member {
	if v == nil || v.Kind != ObjectValue {
		return nil
	}
	for _, m := range v.Members {
		if m.Key == key {
			return m
		}
	}
	return nil
}

// jsType is the type name tv4 uses in its messages.
func (v *Value) jsType() string {
	switch v.Kind {
	case NullValue:
		return "null"
	case BoolValue:
		return "boolean"
	case NumberValue:
		return "number"
	case StringValue:
		return "string"
	case ArrayValue:
		return "array"
	}
	return "object"
}

// truthy is JavaScript's boolean conversion of the value.
func (v *Value) truthy() bool {
	if v == nil {
		return false
	}
	switch v.Kind {
	case NullValue:
		return false
	case BoolValue:
		return v.Bool
	case NumberValue:
		return v.Num != 0 // NaN cannot come out of JSON
	case StringValue:
		return v.Str != ""
	}
	return true
}

// Lookup returns the value at a JSON pointer ("" is the root), or nil.
func (d *Document) Lookup(pointer string) *Value {
	if d == nil || d.Root == nil {
		return nil
	}
	if pointer == "" {
		return d.Root
	}
	if pointer[0] != '/' {
		return nil
	}
	v := d.Root
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch v.Kind {
		case ObjectValue:
			v = v.Get(tok)
		case ArrayValue:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v.Items) || strconv.Itoa(i) != tok {
				return nil
			}
			v = v.Items[i]
		default:
			return nil
		}
		if v == nil {
			return nil
		}
	}
	return v
}

// Position returns the line and column (1-based, in runes) where the value at
// a JSON pointer starts.
func (d *Document) Position(pointer string) (line, col int, ok bool) {
	v := d.Lookup(pointer)
	if v == nil {
		return 0, 0, false
	}
	return v.Line, v.Col, true
}
