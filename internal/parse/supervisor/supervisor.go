// Package supervisor parses supervisord configuration files (the INI dialect
// of Python's configparser as supervisor 4 configures it) and keeps the
// position of every section and key. It knows nothing of lint rules.
//
// The dialect: sections "[name]"; "key = value" or "key: value" with the key
// lower-cased; lines indented deeper than their key continue its value
// (joined with "\n", blank lines inside kept); whole-line comments start
// with ";" or "#"; inline comments start with ";" or "#" after a blank
// (supervisor 4 on Python 3 sets inline_comment_prefixes to both); a repeated
// section or key is merged, the last value winning (strict=False).
// Expansions such as %(ENV_HOME)s and %(here)s are left as they are written.
package supervisor

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// File is a parsed configuration.
type File struct {
	Sections []*Section
}

// Section is one [name] section, merged with its repetitions.
type Section struct {
	Name string
	Line int // of the first header
	Keys []*Key
}

// Key is one option with its value.
type Key struct {
	Name      string // lower-cased
	Value     string // inline comments removed, continuation lines joined with "\n"
	Line, Col int    // of the key
	// ValueLine and ValueCol locate the first character of the value (the
	// end of the line when the value is empty).
	ValueLine, ValueCol int
}

// Error is a syntax problem at a line.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Errors are every problem of a file, in line order.
type Errors []*Error

func (e Errors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Parse parses a configuration. It always returns the file; lines it cannot
// read are skipped and reported in the error (an Errors value), as
// configparser collects them before it raises.
func Parse(data []byte) (*File, error) {
	f := &File{}
	var errs Errors
	var (
		sec          *Section
		key          *Key
		keyIndent    int
		pendingBlank int             // blank lines seen inside a value, kept if it continues
		cont         strings.Builder // key's value, once it continues
	)
	// Sections and keys are found by name through maps, and a continued
	// value is built once: time stays linear in the file's size.
	sections := map[string]*Section{}
	keys := map[*Section]map[string]int{}
	endValue := func() {
		if key != nil && cont.Len() > 0 {
			key.Value = cont.String()
		}
		cont = strings.Builder{}
	}
	for n, rest, more := 1, string(data), true; more; n++ {
		var raw string
		raw, rest, more = strings.Cut(rest, "\n")
		line := strings.TrimSuffix(raw, "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		stripped := strings.TrimSpace(line)
		if strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";") {
			continue // a whole-line comment does not end a value
		}
		value, commentAt := stripInline(line)
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		content := strings.TrimSpace(value)
		if content == "" {
			if key != nil && commentAt < 0 {
				pendingBlank++ // kept if the value continues after it
			}
			continue
		}
		if key != nil && indent > keyIndent {
			if cont.Len() == 0 {
				cont.WriteString(key.Value)
			}
			for range pendingBlank + 1 {
				cont.WriteByte('\n')
			}
			cont.WriteString(content)
			pendingBlank = 0
			continue
		}
		pendingBlank = 0
		endValue()
		key = nil
		if strings.HasPrefix(content, "[") {
			end := strings.LastIndex(content, "]")
			name := ""
			if end > 0 {
				name = content[1:end]
			}
			if name == "" {
				errs = append(errs, &Error{n, fmt.Sprintf("bad section header %q: write [name]", content)})
				continue
			}
			sec = sections[name]
			if sec == nil {
				sec = &Section{Name: name, Line: n}
				f.Sections = append(f.Sections, sec)
				sections[name] = sec
				keys[sec] = map[string]int{}
			}
			continue
		}
		if sec == nil {
			errs = append(errs, &Error{n, fmt.Sprintf("%q comes before any [section] header", content)})
			continue
		}
		d := strings.IndexAny(content, "=:")
		if d <= 0 {
			msg := fmt.Sprintf("%q is not a key = value line", content)
			if d == 0 {
				msg = fmt.Sprintf("%q has no key before %q", content, content[0])
			}
			errs = append(errs, &Error{n, msg})
			continue
		}
		name := strings.ToLower(strings.TrimSpace(content[:d]))
		val := strings.TrimSpace(content[d+1:])
		keyCol := utf8.RuneCountInString(line[:indent]) + 1
		k := &Key{Name: name, Value: val, Line: n, Col: keyCol, ValueLine: n}
		// The value starts after the delimiter and its blanks.
		off := strings.Index(line, content) + d + 1
		for off < len(value) && (value[off] == ' ' || value[off] == '\t') {
			off++
		}
		k.ValueCol = utf8.RuneCountInString(line[:min(off, len(line))]) + 1
		if i, ok := keys[sec][k.Name]; ok { // a repeated key: the last value wins
			sec.Keys[i] = k
		} else {
			keys[sec][k.Name] = len(sec.Keys)
			sec.Keys = append(sec.Keys, k)
		}
		key, keyIndent = k, indent
	}
	endValue()
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// stripInline removes an inline comment: ";" or "#" preceded by a blank.
// It returns the rest and the comment's offset (-1 without one).
func stripInline(line string) (string, int) {
	for i := 1; i < len(line); i++ {
		if (line[i] == ';' || line[i] == '#') && (line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i], i
		}
	}
	return line, -1
}

// Section returns the section with this name, or nil.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Programs returns the [program:x] sections, in order.
func (f *File) Programs() []*Section {
	var out []*Section
	for _, s := range f.Sections {
		if kind, _ := s.Kind(); kind == "program" {
			out = append(out, s)
		}
	}
	return out
}

// Kind splits a section name: "program:web" is ("program", "web"),
// "supervisord" is ("supervisord", "").
func (s *Section) Kind() (kind, name string) {
	kind, name, _ = strings.Cut(s.Name, ":")
	return strings.TrimSpace(kind), strings.TrimSpace(name)
}

// Get returns the key with this (lower-case) name, or nil.
func (s *Section) Get(name string) *Key {
	if s == nil {
		return nil
	}
	for _, k := range s.Keys {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Value returns the value of a key, and whether it is set.
func (s *Section) Value(name string) (string, bool) {
	k := s.Get(name)
	if k == nil {
		return "", false
	}
	return k.Value, true
}
