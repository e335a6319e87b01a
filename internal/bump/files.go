package bump

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"cpk/internal/manifest"
	"cpk/internal/parse/dockerfile"
)

// The package files and the names of the version ARGs: the convention cpk
// upstream reads and bump edits (see the README, section Upstream).
const (
	DockerfileName = "Dockerfile"
	ManifestName   = "CloudronManifest.json"
	// VersionArg holds the pinned upstream version: ARG UPSTREAM_VERSION=1.2.3
	VersionArg = "UPSTREAM_VERSION"
	// URLArg is the download address, usually built from the version:
	// ARG UPSTREAM_URL=https://…/v${UPSTREAM_VERSION}/app-${UPSTREAM_VERSION}.tar.gz
	URLArg = "UPSTREAM_URL"
	// SHA256Arg is the download's checksum, checked in the RUN that
	// downloads it: ARG UPSTREAM_SHA256=<64 hex digits>
	SHA256Arg = "UPSTREAM_SHA256"
	// provenanceMark starts the comment above SHA256Arg that says where the
	// checksum came from.
	provenanceMark = "# cpk: checksum "
	// emptyChecksumPragma starts the suppression a package written without
	// access to upstream carries above its empty UPSTREAM_SHA256.
	emptyChecksumPragma = "# cpk:ignore DF009"
)

// Pin is what a package pins of its upstream.
type Pin struct {
	Version string // "" when the package pins nothing
	From    string // the file and place it was read from
	// Mismatch is the manifest's upstreamVersion when it differs from the
	// Dockerfile's ARG: a sign of a half-done update.
	Mismatch string
}

// ReadPin reads the pinned upstream version of the package in dir: the
// Dockerfile's ARG UPSTREAM_VERSION default, else the manifest's
// upstreamVersion. A package without either pins nothing (no error).
func ReadPin(dir string) (Pin, error) {
	df, err := readOptional(filepath.Join(dir, DockerfileName))
	if err != nil {
		return Pin{}, err
	}
	var f *dockerfile.File
	if df != nil {
		f, _ = dockerfile.Parse(df) // a Dockerfile that does not parse pins nothing
	}
	mf, err := readOptional(filepath.Join(dir, ManifestName))
	if err != nil {
		return Pin{}, err
	}
	var doc *manifest.Document
	if mf != nil {
		doc, _ = manifest.Decode(mf)
	}
	return PinOf(f, doc), nil
}

// PinOf is ReadPin over what was read already: the parsed Dockerfile and
// the decoded manifest (each nil when there is none or it does not parse).
func PinOf(f *dockerfile.File, doc *manifest.Document) Pin {
	var p Pin
	if f != nil {
		if args := findArgs(f, VersionArg); len(args) > 0 && args[0].value != "" {
			p.Version, p.From = args[0].value, fmt.Sprintf("%s:%d ARG %s", DockerfileName, args[0].line, VersionArg)
		}
	}
	if doc != nil {
		if v := doc.Lookup("/upstreamVersion"); v != nil && v.Kind == manifest.StringValue && v.Str != "" {
			switch {
			case p.Version == "":
				p.Version, p.From = v.Str, ManifestName+" upstreamVersion"
			case v.Str != p.Version:
				p.Mismatch = v.Str
			}
		}
	}
	return p
}

func readOptional(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// argDecl is one declaration of an ARG with its value and lines.
type argDecl struct {
	value            string
	hasValue         bool
	line, start, end int // 1-based lines of the instruction
}

// findArgs returns every ARG instruction declaring name, in file order.
func findArgs(f *dockerfile.File, name string) []argDecl {
	var out []argDecl
	add := func(c *instructionsArg) {
		for _, kv := range c.Args {
			if kv.Key != name {
				continue
			}
			d := argDecl{hasValue: kv.Value != nil}
			if kv.Value != nil {
				d.value = unquote(*kv.Value)
			}
			if loc := c.Location(); len(loc) > 0 {
				d.start, d.end = loc[0].Start.Line, loc[len(loc)-1].End.Line
				d.line = d.start
			}
			out = append(out, d)
		}
	}
	for i := range f.MetaArgs {
		add(&f.MetaArgs[i])
	}
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			if a, ok := c.(*instructionsArg); ok {
				add(a)
			}
		}
	}
	return out
}

// argValues returns the first default of every ARG of the file, for the
// expansion of UPSTREAM_URL.
func argValues(f *dockerfile.File) map[string]string {
	vars := map[string]string{}
	add := func(c *instructionsArg) {
		for _, kv := range c.Args {
			if _, seen := vars[kv.Key]; !seen && kv.Value != nil {
				vars[kv.Key] = unquote(*kv.Value)
			}
		}
	}
	for i := range f.MetaArgs {
		add(&f.MetaArgs[i])
	}
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			if a, ok := c.(*instructionsArg); ok {
				add(a)
			}
		}
	}
	return vars
}

// unquote drops the quotes around an ARG value ("…" or '…'), which
// BuildKit keeps until the build expands them.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// setArg rewrites the value of name=… on the given lines (1-based,
// inclusive) of src, keeping the quoting. It fails when the lines hold no
// such assignment.
func setArg(src []byte, d argDecl, name, value string) ([]byte, error) {
	lines := strings.SplitAfter(string(src), "\n")
	re := regexp.MustCompile(`(\b` + regexp.QuoteMeta(name) + `=)("[^"]*"|'[^']*'|[^\s\\]*)`)
	done := false
	for i := d.start - 1; i < d.end && i < len(lines); i++ {
		if done || !re.MatchString(lines[i]) {
			continue
		}
		lines[i] = re.ReplaceAllStringFunc(lines[i], func(m string) string {
			old := m[len(name)+1:]
			q := ""
			if strings.HasPrefix(old, `"`) || strings.HasPrefix(old, `'`) {
				q = old[:1]
			}
			return name + "=" + q + value + q
		})
		done = true
	}
	if !done {
		return nil, fmt.Errorf("%s line %d: cannot find %s=… to edit", DockerfileName, d.start, name)
	}
	return []byte(strings.Join(lines, "")), nil
}

// setProvenance puts "# cpk: checksum …" on the line above the ARG at line
// (1-based), replacing an earlier such comment.
func setProvenance(src []byte, line int, text string) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	i := line - 1
	if i < 0 || i >= len(lines) {
		return src
	}
	indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
	comment := indent + provenanceMark + text + "\n"
	above := ""
	if i > 0 {
		above = strings.TrimSpace(lines[i-1])
	}
	// The comment replaces the one before it, and the suppression of DF009
	// (an empty checksum) that the filled checksum makes stale.
	if strings.HasPrefix(above, strings.TrimSpace(provenanceMark)) || strings.HasPrefix(above, emptyChecksumPragma) {
		lines[i-1] = comment
	} else {
		lines = append(lines[:i], append([]string{comment}, lines[i:]...)...)
	}
	return []byte(strings.Join(lines, ""))
}

var argRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand replaces ${NAME} and $NAME with the values of vars; anything it
// cannot expand is an error.
func expand(s string, vars map[string]string) (string, error) {
	var missing []string
	out := s
	for range 4 { // values may refer to other ARGs
		next := argRef.ReplaceAllStringFunc(out, func(m string) string {
			sub := argRef.FindStringSubmatch(m)
			if v, ok := vars[sub[1]+sub[2]]; ok {
				return v
			}
			return m
		})
		if next == out {
			break
		}
		out = next
	}
	out = argRef.ReplaceAllStringFunc(out, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := vars[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s %q uses %s, which has no value in the Dockerfile", URLArg, s, strings.Join(missing, ", "))
	}
	if strings.Contains(out, "$") {
		return "", fmt.Errorf("%s %q uses a form of expansion cpk does not evaluate: write ${NAME}", URLArg, s)
	}
	return out, nil
}

// setManifestString sets a top-level string member of a manifest, keeping
// every other byte; a missing member is added after the member named after
// (or first), on a line of its own with the same indentation.
func setManifestString(src []byte, doc *manifest.Document, key, value, after string) ([]byte, error) {
	enc, _ := json.Marshal(value)
	if v := doc.Lookup("/" + key); v != nil {
		if v.Kind != manifest.StringValue {
			return nil, fmt.Errorf("%s: %s is not a string", ManifestName, key)
		}
		return splice(src, v.Start, v.End, string(enc)), nil
	}
	root := doc.Root
	if root == nil || root.Kind != manifest.ObjectValue || len(root.Members) == 0 {
		return nil, fmt.Errorf("%s: not a JSON object with members", ManifestName)
	}
	anchor := root.Members[0]
	for _, m := range root.Members {
		if m.Key == after {
			anchor = m
		}
	}
	lineStart := strings.LastIndexByte(string(src[:anchor.KeyStart]), '\n') + 1
	indent := string(src[lineStart:anchor.KeyStart])
	if strings.TrimSpace(indent) != "" {
		indent = " " // a one-line object
	} else {
		indent = "\n" + indent
	}
	k, _ := json.Marshal(key)
	return splice(src, anchor.Value.End, anchor.Value.End, ","+indent+string(k)+": "+string(enc)), nil
}

func splice(src []byte, start, end int, with string) []byte {
	out := make([]byte, 0, len(src)+len(with))
	out = append(out, src[:start]...)
	out = append(out, with...)
	return append(out, src[end:]...)
}
