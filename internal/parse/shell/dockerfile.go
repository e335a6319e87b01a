package shell

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/parse/dockerfile"
)

// Run is one RUN instruction of a Dockerfile read as a shell script.
type Run struct {
	Stage   int // index of its stage
	Command *instructions.RunCommand
	Script  *Script // nil when the command does not parse (Err says why)
	Err     error
	// Vars are the ARG and ENV values the stage knows before the RUN.
	Vars map[string]string
}

var escapeDirective = regexp.MustCompile("(?im)^#\\s*escape\\s*=\\s*`")

// Runs parses every RUN instruction of a parsed Dockerfile as bash. src is
// the Dockerfile's text: the script is cut from it, so positions (line and
// column) are the Dockerfile's own, line continuations included. A RUN whose
// command is only a here-document (RUN <<EOF …) is read from the body.
// Known ARG defaults and ENV values resolve the words that use them.
func Runs(src []byte, f *dockerfile.File) []Run {
	if f == nil {
		return nil
	}
	lines := bytes.Split(src, []byte("\n"))
	backtick := escapeDirective.Match(firstLines(src))
	meta := MetaVars(f)
	var out []Run
	for si := range f.Stages {
		vars, env := map[string]string{}, map[string]string{}
		for _, c := range f.Stages[si].Commands {
			if r, ok := c.(*instructions.RunCommand); ok {
				run := Run{Stage: si, Command: r, Vars: copyVars(vars)}
				run.Script, run.Err = parseRun(lines, r, backtick, run.Vars)
				out = append(out, run)
				continue
			}
			StepVars(c, meta, vars, env)
		}
	}
	return out
}

// MetaVars are the known values of the ARGs declared before the first FROM.
func MetaVars(f *dockerfile.File) map[string]string {
	meta := map[string]string{}
	if f == nil {
		return meta
	}
	for _, a := range f.MetaArgs {
		for _, kv := range a.Args {
			if kv.Value == nil {
				continue
			}
			if v, ok := expandKnown(*kv.Value, meta); ok {
				meta[kv.Key] = v
			}
		}
	}
	return meta
}

// StepVars applies one instruction of a stage to what the build knows: an
// ARG or ENV sets vars (every variable a RUN sees), an ENV also sets env
// (what the container sees at run time; ARG values do not last). A value
// that depends on something unknown removes the name. meta are the values
// of the ARGs before the first FROM. This is the one resolution of ARG and
// ENV values the linter uses.
func StepVars(c instructions.Command, meta, vars, env map[string]string) {
	switch c := c.(type) {
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			switch v, ok := "", false; {
			case kv.Value != nil:
				if v, ok = expandKnown(*kv.Value, vars); ok {
					vars[kv.Key] = v
				} else {
					delete(vars, kv.Key)
				}
			case meta[kv.Key] != "":
				vars[kv.Key] = meta[kv.Key]
			default:
				delete(vars, kv.Key)
			}
		}
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			if v, ok := expandKnown(kv.Value, vars); ok {
				vars[kv.Key], env[kv.Key] = v, v
			} else {
				delete(vars, kv.Key)
				delete(env, kv.Key)
			}
		}
	}
}

// StageEnv returns the known ENV values a stage's containers start with (its
// own ENV instructions and those of the stages it is built FROM are not
// merged: base is what the parent stage left, or nil).
func StageEnv(f *dockerfile.File, stage int, base map[string]string) map[string]string {
	meta := MetaVars(f)
	vars, env := copyVars(base), copyVars(base)
	if f == nil || stage < 0 || stage >= len(f.Stages) {
		return env
	}
	for _, c := range f.Stages[stage].Commands {
		StepVars(c, meta, vars, env)
	}
	return env
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expandKnown resolves $NAME and ${NAME} in an ARG or ENV value from the
// values known before it (ARG URL=https://…/v${VERSION}/…). ok is false
// when anything is left that only the build knows: an unknown variable, or
// another form of expansion (${NAME:-x}, $(…)).
func expandKnown(value string, known map[string]string) (string, bool) {
	ok := true
	out := varRef.ReplaceAllStringFunc(value, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		v, found := known[sub[1]+sub[2]]
		if !found {
			ok = false
		}
		return v
	})
	return out, ok && !strings.Contains(out, "$")
}

func copyVars(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// firstLines is the head of a Dockerfile, where parser directives live.
func firstLines(src []byte) []byte {
	if len(src) > 512 {
		return src[:512]
	}
	return src
}

var runKeyword = regexp.MustCompile(`(?i)^\s*run\s+`)

func parseRun(lines [][]byte, c *instructions.RunCommand, backtick bool, vars map[string]string) (*Script, error) {
	opts := Options{Vars: vars}
	loc := c.Location()
	start, end := 0, 0
	if len(loc) > 0 {
		start, end = loc[0].Start.Line, loc[len(loc)-1].End.Line
	}
	if !c.PrependShell { // exec form: the words as one command
		var b strings.Builder
		for i, a := range c.CmdLine {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(quote(a))
		}
		return parseAt([]byte(b.String()), start, 1, opts, piece)
	}
	if len(c.Files) > 0 && len(c.CmdLine) == 1 && strings.HasPrefix(strings.TrimSpace(c.CmdLine[0]), "<<") && len(c.Files) == 1 {
		return parseAt([]byte(c.Files[0].Data), start+1, 1, opts, piece) // RUN <<EOF: the body is the script
	}
	if backtick || start < 1 || end > len(lines) || start > end {
		return parseAt([]byte(strings.Join(c.CmdLine, " ")), start, 1, opts, piece)
	}
	first := lines[start-1]
	m := runKeyword.FindIndex(first)
	if m == nil {
		return parseAt([]byte(strings.Join(c.CmdLine, " ")), start, 1, opts, piece)
	}
	col := m[1]
	rest := first[col:]
	for len(c.FlagsUsed) > 0 && bytes.HasPrefix(rest, []byte("--")) { // --mount=… --network=…
		i := bytes.IndexAny(rest, " \t")
		if i < 0 {
			return parseAt([]byte(strings.Join(c.CmdLine, " ")), start, 1, opts, piece)
		}
		j := i
		for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t') {
			j++
		}
		col += j
		rest = rest[j:]
	}
	var b bytes.Buffer
	b.Write(rest)
	for i := start; i < end; i++ {
		b.WriteByte('\n')
		l := lines[i]
		if t := bytes.TrimSpace(l); len(c.Files) == 0 && (len(t) == 0 || t[0] == '#') {
			b.WriteByte('\\') // BuildKit drops comments and empty lines inside a continuation
			continue
		}
		b.Write(bytes.TrimRight(l, "\r"))
	}
	s, err := parseAt(b.Bytes(), start, col+1, opts, piece)
	if err != nil {
		// Fall back on BuildKit's joined command line.
		if s2, err2 := parseAt([]byte(strings.Join(c.CmdLine, " ")), start, 1, opts, piece); err2 == nil {
			return s2, nil
		}
	}
	return s, err
}

// quote quotes a word for the shell when it needs it.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`|&;<>(){}*?[]#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
