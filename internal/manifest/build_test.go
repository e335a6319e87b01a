package manifest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Test helpers that build JSON text with a fixed member order, so that tests
// can write manifests the way JavaScript's JSON.stringify would, and insert
// literals JSON.stringify cannot produce (1e400, -0, \u escapes).

// obj is a JSON object with ordered members.
type obj []kv

type kv struct {
	k string
	v any
}

// raw is JSON text inserted verbatim.
type raw string

// encode renders v: obj, []any, string, raw, int, float64, bool or nil.
func encode(v any) string {
	var b strings.Builder
	encodeTo(&b, v)
	return b.String()
}

func encodeTo(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case string:
		b.WriteString(jsonString(v))
	case raw:
		b.WriteString(string(v))
	case []any:
		b.WriteByte('[')
		for i, it := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeTo(b, it)
		}
		b.WriteByte(']')
	case obj:
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsonString(m.k))
			b.WriteByte(':')
			encodeTo(b, m.v)
		}
		b.WriteByte('}')
	default:
		panic("encode: unsupported type")
	}
}

// jsonString quotes s as JSON, leaving <, > and & unescaped.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// clone deep-copies obj and []any values.
func clone(v any) any {
	switch v := v.(type) {
	case obj:
		out := make(obj, len(v))
		for i, m := range v {
			out[i] = kv{m.k, clone(m.v)}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, it := range v {
			out[i] = clone(it)
		}
		return out
	}
	return v
}

// with returns a copy of o with the member at keys set to v (created when
// missing, appended at the end of its object).
func (o obj) with(v any, keys ...string) obj {
	out := clone(o).(obj)
	if len(keys) == 1 {
		for i := range out {
			if out[i].k == keys[0] {
				out[i].v = v
				return out
			}
		}
		return append(out, kv{keys[0], v})
	}
	for i := range out {
		if out[i].k == keys[0] {
			child, ok := out[i].v.(obj)
			if !ok {
				child = obj{}
			}
			out[i].v = child.with(v, keys[1:]...)
			return out
		}
	}
	return append(out, kv{keys[0], obj{}.with(v, keys[1:]...)})
}

// without returns a copy of o without the member at keys.
func (o obj) without(keys ...string) obj {
	out := clone(o).(obj)
	for i := range out {
		if out[i].k != keys[0] {
			continue
		}
		if len(keys) == 1 {
			return append(out[:i], out[i+1:]...)
		}
		if child, ok := out[i].v.(obj); ok {
			out[i].v = child.without(keys[1:]...)
		}
		return out
	}
	return out
}
