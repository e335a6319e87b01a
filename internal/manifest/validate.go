package manifest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// validate runs the schema and the extra checks of the official parse() on a
// decoded document. Where tv4 stops at the first error, it goes on, but it
// reports at most one problem per value: a value of the wrong type is not
// also checked for length or format.
func validate(doc *Document) []Error {
	root := doc.Root
	if root.Kind != ObjectValue {
		return nil // Decode reports it
	}
	v := &validator{}
	if mb := root.Get("minBoxVersion"); mb != nil && mb.Kind == StringValue {
		v.minBoxRaw = mb.Str
		if sv, ok := parseSemver(mb.Str); ok {
			v.minBox = &sv
		}
	}
	v.check(root, manifestSchema, path{name: "manifest"})
	v.extraChecks(root)
	return v.errs
}

type validator struct {
	errs      []Error
	minBox    *semverVersion // nil when minBoxVersion is absent or invalid
	minBoxRaw string
	unknowns  int // unknown properties seen so far
}

// maxSuggestions bounds the work spent on "did you mean" for files full of
// unknown properties.
const maxSuggestions = 100

// path is where a value sits: its JSON pointer and a readable name for messages.
type path struct{ ptr, name string }

func (p path) key(k string) path {
	name := k
	if p.ptr != "" {
		name = p.name + "." + k
	}
	return path{p.ptr + "/" + escapePointer(k), name}
}

func (p path) index(i int) path {
	return path{p.ptr + "/" + strconv.Itoa(i), fmt.Sprintf("%s[%d]", p.name, i)}
}

func (v *validator) add(kind Kind, at *Value, p path, format string, args ...any) {
	v.errs = append(v.errs, Error{Pointer: p.ptr, Line: at.Line, Column: at.Col, Kind: kind,
		Message: p.name + ": " + fmt.Sprintf(format, args...)})
}

// addAtKey positions an error on the key of an object member.
func (v *validator) addAtKey(kind Kind, m *Member, p path, msg string) {
	v.errs = append(v.errs, Error{Pointer: p.ptr, Line: m.KeyLine, Column: m.KeyCol, Kind: kind, Message: msg})
}

// check validates one value against one schema, the way tv4's validateAll
// does, but collecting every error below it.
func (v *validator) check(val *Value, s *schema, p path) {
	if s.oneOf != nil {
		v.checkOneOf(val, s, p)
		return
	}
	if !hasType(val, s.typ) {
		v.add(Type, val, p, "invalid type: %s (expected %s)%s", describeValue(val), s.typ, typeHint(val, s.typ))
		return
	}
	switch val.Kind {
	case NumberValue:
		if s.min != nil && val.Num < *s.min {
			v.add(Constraint, val, p, "value %s is less than minimum %s", val.Raw, jsNumber(*s.min))
		} else if s.max != nil && val.Num > *s.max {
			v.add(Constraint, val, p, "value %s is greater than maximum %s", val.Raw, jsNumber(*s.max))
		}
	case StringValue:
		if n := utf16Len(val.Str); n < s.minLength {
			v.add(Constraint, val, p, "string is too short (%d chars), minimum %d", n, s.minLength)
		} else if s.pattern != nil && !s.pattern.MatchString(val.Str) {
			v.add(Constraint, val, p, "string %s does not match pattern %s", quoteShort(val.Str), s.pattern)
		} else if s.format != "" {
			if msg := stringFormat(s.format, val.Str); msg != "" {
				v.add(Format, val, p, "format validation failed (%s): %s; %s", msg, quoteShort(val.Str), formatHints[s.format])
			}
		}
	case ArrayValue:
		v.checkArray(val, s, p)
	case ObjectValue:
		v.checkObject(val, s, p)
	}
}

func (v *validator) checkArray(val *Value, s *schema, p path) {
	bad := make([]bool, len(val.Items))
	for i, item := range val.Items {
		if s.items != nil {
			n := len(v.errs)
			v.check(item, s.items, p.index(i))
			bad[i] = len(v.errs) > n
		}
	}
	if !s.unique {
		return
	}
	first := map[string]int{}
	for j, item := range val.Items {
		var b strings.Builder
		uniqueKey(item, &b)
		i, seen := first[b.String()]
		if !seen {
			first[b.String()] = j
		} else if !bad[j] {
			v.add(Constraint, item, p.index(j), "array items are not unique: item %d repeats item %d (%s)", j, i, describeValue(item))
		}
	}
}

func (v *validator) checkObject(val *Value, s *schema, p path) {
	for _, key := range s.required {
		if val.member(key) == nil {
			where := ""
			if p.ptr != "" {
				where = " in " + p.name
			}
			v.errs = append(v.errs, Error{Pointer: p.ptr, Line: val.Line, Column: val.Col, Kind: Required,
				Message: fmt.Sprintf("missing required property %q%s%s", key, where, requiredHints[key])})
		}
	}
	for _, m := range val.Members {
		mp := p.key(m.Key)
		matched := false
		// A map lookup, not a JavaScript property lookup: tv4 also "finds"
		// keys such as "constructor" or "toString" on Object.prototype and
		// accepts them anywhere; cpk reports them as unknown on purpose.
		if ps, ok := s.props[m.Key]; ok {
			matched = true
			if ps.gate != "" && !v.gateMet(ps.gate) {
				v.addAtKey(Gate, m, mp, v.gateMessage(m.Key, ps.gate))
				continue
			}
			v.check(m.Value, ps, mp)
		}
		for _, pp := range s.patterns {
			if pp.re.MatchString(m.Key) {
				matched = true
				v.check(m.Value, pp.schema, mp)
			}
		}
		if !matched && !s.anyKeys {
			v.unknowns++
			v.addAtKey(Unknown, m, mp, unknownMessage(m.Key, s, p, v.unknowns <= maxSuggestions))
		}
	}
	if s.format == "envvar" {
		for _, m := range val.Members {
			if strings.HasPrefix(m.Key, "CLOUDRON_") {
				v.addAtKey(Format, m, p.key(m.Key), fmt.Sprintf("%s: format validation failed (CLOUDRON_ prefix is reserved): the platform sets the CLOUDRON_ variables; rename it", p.key(m.Key).name))
			}
		}
	}
}

// checkOneOf is tv4's oneOf: exactly one branch must accept the value.
func (v *validator) checkOneOf(val *Value, s *schema, p path) {
	passed := 0
	var near *Error // the first error of a branch whose type matched
	for _, b := range s.oneOf {
		sub := &validator{minBox: v.minBox, minBoxRaw: v.minBoxRaw}
		sub.check(val, b, p)
		if len(sub.errs) == 0 {
			passed++
		} else if hasType(val, b.typ) && near == nil {
			near = &sub.errs[0]
		}
	}
	switch {
	case passed == 1:
	case passed == 0:
		kind := Type
		if near != nil {
			kind = near.Kind
		}
		v.add(kind, val, p, "data does not match any schemas from \"oneOf\": found %s, expected %s%s", describeValue(val), s.hint, typeHint(val, ""))
	default:
		v.add(Constraint, val, p, "data is valid against more than one schema from \"oneOf\"")
	}
}

// gateMet reports whether minBoxVersion is at least version.
func (v *validator) gateMet(version string) bool {
	gate, ok := parseSemver(version)
	return ok && v.minBox != nil && v.minBox.compare(gate) >= 0
}

func (v *validator) gateMessage(key, version string) string {
	var found string
	switch {
	case v.minBoxRaw == "":
		found = "minBoxVersion is not set"
	case v.minBox == nil:
		found = fmt.Sprintf("minBoxVersion %q is not a valid version", v.minBoxRaw)
	default:
		found = fmt.Sprintf("minBoxVersion is %s", v.minBoxRaw)
	}
	return fmt.Sprintf("unknown property %q (not in schema of validator 5.27.0; needs minBoxVersion ≥ %s, %s)", key, version, found)
}

// extraChecks are the checks parse() runs after the schema, each applied
// wherever the values it reads have the right types.
func (v *validator) extraChecks(root *Value) {
	seen := map[string]string{}
	for _, group := range []string{"tcpPorts", "udpPorts", "httpPorts"} {
		obj := root.Get(group)
		if obj == nil || obj.Kind != ObjectValue {
			continue
		}
		for _, m := range obj.Members {
			if first, dup := seen[m.Key]; dup {
				v.addAtKey(ExtraCheck, m, path{ptr: "/" + group + "/" + escapePointer(m.Key)},
					fmt.Sprintf("%s.%s: Duplicate env vars in tcpPorts/udpPorts/httpPorts: %q is already declared in %s", group, m.Key, m.Key, first))
				continue
			}
			seen[m.Key] = group
		}
	}

	if img := root.Get("dockerImage"); img != nil && img.Kind == StringValue && strings.Contains(img.Str, "//") {
		v.add(ExtraCheck, img, path{"/dockerImage", "dockerImage"}, "Invalid docker image name: %s contains \"//\" (write the image reference without a URL scheme, e.g. \"cloudron/io.example.app:1.0.0\")", quoteShort(img.Str))
	}

	if dirs := root.Get("runtimeDirs"); dirs != nil && dirs.Kind == ArrayValue {
		p := path{"/runtimeDirs", "runtimeDirs"}
		for i, d := range dirs.Items {
			if d.Kind == StringValue && d.Str != "" && !strings.HasPrefix(d.Str, "/root") && !strings.HasPrefix(d.Str, "/app/code") && !strings.HasPrefix(d.Str, "/home/cloudron") {
				v.add(ExtraCheck, d, p.index(i), "Invalid run time dir: %s must be under /app/code, /root or /home/cloudron", quoteShort(d.Str))
			}
		}
	}

	// addons?.localstorage?.sqlite: only objects have named members.
	sqlite := root.Get("addons").Get("localstorage").Get("sqlite")
	if !sqlite.truthy() {
		return
	}
	p := path{"/addons/localstorage/sqlite", "addons.localstorage.sqlite"}
	switch {
	case sqlite.Kind != ObjectValue && sqlite.Kind != ArrayValue:
		v.add(ExtraCheck, sqlite, p, "Expecting sqlite to be an object, found %s (write {\"paths\": [\"/app/data/db.sqlite\"]})", describeValue(sqlite))
	case !sqlite.Get("paths").truthy():
		v.add(ExtraCheck, sqlite, p, "sqlite.paths is required: an array of the paths of the SQLite databases")
	default:
		paths := sqlite.Get("paths")
		ok := paths.Kind == ArrayValue
		for _, it := range paths.Items {
			ok = ok && it.Kind == StringValue
		}
		if !ok {
			v.add(ExtraCheck, paths, p.key("paths"), "Expecting sqlite.paths to be an array of strings, found %s", describeValue(paths))
		}
	}
}

// hasType is tv4's type test; "integer" is a number n with n % 1 === 0.
func hasType(v *Value, typ string) bool {
	switch typ {
	case "":
		return true
	case "integer":
		return v.Kind == NumberValue && !math.IsInf(v.Num, 0) && v.Num == math.Trunc(v.Num)
	}
	return v.jsType() == typ
}

// typeHint adds a suggestion to a type error when the fix is obvious.
func typeHint(v *Value, typ string) string {
	switch {
	case v.Kind == NumberValue && math.IsInf(v.Num, 0):
		return fmt.Sprintf("; JavaScript reads %s as Infinity", v.Raw)
	case v.Kind == StringValue && typ == "integer":
		if _, err := strconv.ParseFloat(strings.TrimSpace(v.Str), 64); err == nil {
			return "; remove the quotes"
		}
	case v.Kind == StringValue && typ == "boolean" && (v.Str == "true" || v.Str == "false"):
		return "; remove the quotes"
	case v.Kind == ArrayValue && typ == "string" && len(v.Items) == 1 && v.Items[0].Kind == StringValue:
		return "; write the string without the brackets"
	}
	return ""
}

// describe names a value's type, with the value itself when it is short.
func describeValue(v *Value) string {
	switch v.Kind {
	case NumberValue:
		return "number " + v.Raw
	case StringValue:
		return "string " + quoteShort(v.Str)
	case BoolValue:
		return "boolean " + strconv.FormatBool(v.Bool)
	}
	return v.jsType()
}

// quote quotes s for a message, shortening long strings.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "…"
	}
	return strconv.Quote(s)
}

// jsNumber formats a schema bound the way JavaScript prints it.
func jsNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// uniqueKey encodes a value so that two values get the same key exactly when
// tv4's recursiveCompare finds them equal: numbers by value (0 equals -0),
// objects whatever their member order.
func uniqueKey(v *Value, b *strings.Builder) {
	switch v.Kind {
	case NullValue:
		b.WriteString("n")
	case BoolValue:
		b.WriteString(strconv.FormatBool(v.Bool))
	case NumberValue:
		b.WriteString("#" + strconv.FormatFloat(v.Num+0, 'g', -1, 64)) // +0 turns -0 into 0
	case StringValue:
		b.WriteString(strconv.Quote(v.Str))
	case ArrayValue:
		b.WriteByte('[')
		for _, it := range v.Items {
			uniqueKey(it, b)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case ObjectValue:
		members := slices.Clone(v.Members)
		slices.SortFunc(members, func(x, y *Member) int { return strings.Compare(x.Key, y.Key) })
		b.WriteByte('{')
		for _, m := range members {
			b.WriteString(strconv.Quote(m.Key) + ":")
			uniqueKey(m.Value, b)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	}
}

// stringFormat returns "" when s passes the named format of the official
// validator, otherwise the message its format function returns.
func stringFormat(format, s string) string {
	switch format {
	case "semver":
		return failIf(!validSemver(s), "not a semver")
	case "uri":
		return failIf(!isURL(s), "Invalid URL")
	case "reverseDomain":
		return failIf(!isID(s), "Invalid id")
	case "email":
		return failIf(!isEmail(s), "Invalid email")
	case "cronpattern":
		return cronPatternError(s)
	case "byteString":
		return failIf(!isByteString(s), "Invalid size")
	}
	return ""
}

func failIf(bad bool, msg string) string {
	if bad {
		return msg
	}
	return ""
}

var requiredHints = map[string]string{
	"manifestVersion":  " (use 2)",
	"version":          ` (the package version, such as "1.0.0")`,
	"httpPort":         " (the port the app's HTTP server listens on)",
	"containerPort":    " (the port the app listens on inside the container)",
	"loginRedirectUri": ` (the path the OpenID provider redirects to after login, such as "/api/oidc/callback")`,
}

var formatHints = map[string]string{
	"semver":        `expected a semantic version such as "1.2.3"`,
	"uri":           `expected an http(s) URL with a top-level domain, such as "https://example.com"`,
	"reverseDomain": `expected a reverse-domain id such as "io.example.app": two or more dot-separated parts of lower-case letters, digits, - and _, each starting with a letter or digit`,
	"email":         `expected an email address such as "support@example.com"`,
	"cronpattern":   `expected five fields (minute hour day-of-month month day-of-week, no seconds) or one of @service @reboot @yearly @annually @monthly @weekly @daily @hourly`,
	"byteString":    `expected a number followed by kb, mb, gb or tb, such as "512MB"`,
}
