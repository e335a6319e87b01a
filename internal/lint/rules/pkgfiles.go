package rules

import (
	"bytes"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/lint"
	"cpk/internal/parse/dockerfile"
)

// This file holds what the NG, SV, SEC and DOC rules share: the list of a
// package's files, where the Dockerfile's final stage puts them in the image,
// its RUN commands and its start script. Each is computed once per pass
// (Pass.Memo).

const (
	maxPackageFiles = 2000    // files listed per package
	maxTextFile     = 1 << 20 // bytes: larger files are not scanned
)

// packageText returns a package file's content when it is text of a sane
// size (no NUL byte in its first 8 KiB), made a string once per pass.
func packageText(p *lint.Pass, rel string) (string, bool) {
	t := p.Memo("rules:text:"+rel, func() any {
		data, err := p.ReadFile(rel)
		if err != nil || len(data) > maxTextFile || bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0 {
			return text{}
		}
		return text{string(data), true}
	}).(text)
	return t.s, t.ok
}

type text struct {
	s  string
	ok bool
}

// fileScriptLines are the logical lines (scriptLines) of a package text
// file, split once per pass.
func fileScriptLines(p *lint.Pass, rel string) ([]scriptLine, bool) {
	t, ok := packageText(p, rel)
	if !ok {
		return nil, false
	}
	return p.Memo("rules:scriptlines:"+rel, func() any { return scriptLines(t) }).([]scriptLine), true
}

// copied is one package file that a COPY or ADD of the final stage puts at
// an image path.
type copied struct {
	src, dest string
	line      int    // of the COPY or ADD
	chmod     string // its --chmod
}

// runCommand is one RUN of the Dockerfile.
type runCommand struct {
	line    int
	text    string // the command line (heredoc bodies appended)
	workdir string // the WORKDIR it runs in
}

// imageLayout is what the final stage of the Dockerfile does with the
// package: the files it copies in, the RUN commands, the CMD and the start
// script it runs.
type imageLayout struct {
	copies  []copied
	byImage map[string]string   // image path → package file
	byFile  map[string][]string // package file → image paths
	// external are image paths filled from elsewhere (COPY --from, ADD of a
	// URL), where cpk cannot see which files land.
	external []string
	runs     []runCommand
	allRuns  []runCommand // RUN commands of every stage
	cmd      []string     // the exec-form CMD, or the shell form's words
	cmdLine  int
	// script is the package file of the start script CMD runs ("" when
	// unknown), and scriptImage its path in the image.
	script, scriptImage string
}

// layout returns the image layout of the package (empty without a
// Dockerfile that parses).
func layout(p *lint.Pass) *imageLayout {
	return p.Memo("files:layout", func() any {
		l := &imageLayout{byImage: map[string]string{}, byFile: map[string][]string{}}
		df := p.Dockerfile()
		if df == nil || df.File == nil {
			return l
		}
		for i := range df.File.Stages {
			final := i == len(df.File.Stages)-1
			workdir := "/"
			for _, c := range df.File.Stages[i].Commands {
				switch c := c.(type) {
				case *instructions.WorkdirCommand:
					workdir = path.Join(workdir, c.Path)
				case *instructions.RunCommand:
					text := strings.Join(c.CmdLine, " ")
					for _, f := range c.Files {
						text += "\n" + f.Data
					}
					r := runCommand{dockerfile.Line(c), text, workdir}
					l.allRuns = append(l.allRuns, r)
					if final {
						l.runs = append(l.runs, r)
					}
				case *instructions.CopyCommand:
					if final {
						l.addCopy(p, c.SourcesAndDest, workdir, dockerfile.Line(c), c.Chmod, c.From != "")
					}
				case *instructions.AddCommand:
					if final {
						l.addCopy(p, c.SourcesAndDest, workdir, dockerfile.Line(c), c.Chmod, false)
					}
				case *instructions.CmdCommand:
					if final {
						l.cmd, l.cmdLine = c.CmdLine, dockerfile.Line(c)
						if c.PrependShell && len(c.CmdLine) > 0 {
							l.cmd = commandWords(c.CmdLine[0])
						}
					}
				}
			}
		}
		if script := scriptOf(l.cmd); script != "" {
			l.scriptImage = script
			l.script = l.byImage[script]
		}
		return l
	}).(*imageLayout)
}

func (l *imageLayout) addCopy(p *lint.Pass, sd instructions.SourcesAndDest, workdir string, line int, chmod string, external bool) {
	dest := sd.DestPath
	if !path.IsAbs(dest) {
		dest = path.Join(workdir, dest)
	}
	intoDir := strings.HasSuffix(sd.DestPath, "/") || len(sd.SourcePaths) > 1
	dest = path.Clean(dest)
	files := p.Files()
	for _, src := range sd.SourcePaths {
		if external || strings.Contains(src, "://") {
			l.external = append(l.external, dest)
			continue
		}
		src = path.Clean(strings.TrimPrefix(src, "/"))
		glob := strings.ContainsAny(src, "*?[")
		for _, f := range files {
			target := ""
			if ok, _ := path.Match(src, f); ok {
				target = dest
				if intoDir || glob {
					target = path.Join(dest, path.Base(f))
				}
			} else {
				for dir := path.Dir(f); ; dir = path.Dir(dir) {
					if ok, _ := path.Match(src, dir); ok || src == "." {
						rel := f
						if dir != "." {
							rel = strings.TrimPrefix(f, dir+"/")
						}
						if src == "." {
							rel = f
						}
						target = path.Join(dest, rel)
						break
					}
					if dir == "." || dir == "/" {
						break
					}
				}
			}
			if target == "" {
				continue
			}
			l.copies = append(l.copies, copied{src: f, dest: target, line: line, chmod: chmod})
			l.byImage[target] = f
			l.byFile[f] = append(l.byFile[f], target)
		}
	}
}

// inImage reports whether an absolute image path is provided by the package
// (copied in, or below a folder filled from another stage or a URL).
func (l *imageLayout) inImage(file string) bool {
	if _, ok := l.byImage[file]; ok {
		return true
	}
	for _, dir := range l.external {
		if file == dir || strings.HasPrefix(file, strings.TrimSuffix(dir, "/")+"/") {
			return true
		}
	}
	return false
}

// underDir reports whether an image path is dir or below it.
func underDir(file, dir string) bool {
	return file == dir || strings.HasPrefix(file, dir+"/")
}

// commandWords splits a command line as a POSIX shell (and supervisor's
// shlex) does: blanks separate words, quotes group, a backslash escapes.
// Words stop at an unquoted "#" that starts a word, and at ;, && and || as
// separate words.
func commandWords(s string) []string {
	var words []string
	// A word is a slice of s until a quote or an escape changes its bytes;
	// from then on it is built in b.
	var b []byte
	start, built := -1, false // where the word began in s (-1: between words); whether it is in b
	keep := func(i int) {     // s[i] is part of the word as it is
		if start < 0 {
			start = i
		}
		if built {
			b = append(b, s[i])
		}
	}
	build := func(i int) { // the word goes on with bytes that are not s[i:]'s own
		if start < 0 {
			start = i
		}
		if !built {
			b, built = append(b[:0], s[start:i]...), true
		}
	}
	flush := func(i int) {
		switch {
		case start < 0:
		case built:
			words = append(words, string(b))
		default:
			words = append(words, s[start:i])
		}
		start, built = -1, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush(i)
		case c == '#' && start < 0:
			return words
		case c == '&' && (i > 0 && s[i-1] == '>' || i+1 < len(s) && s[i+1] == '>'):
			keep(i) // a redirection: 2>&1, &>file
		case c == ';' || c == '|' || c == '&':
			flush(i)
			n := 1
			if i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '&') && s[i+1] == c {
				n = 2
			}
			words = append(words, s[i:i+n])
			i += n - 1
		case c == '\\' && i+1 < len(s):
			if s[i+1] == '\n' {
				if start >= 0 {
					build(i) // a continued line: the word goes on after it
				}
				i++
				break
			}
			build(i)
			i++
			b = append(b, s[i])
		case c == '\'':
			build(i)
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b = append(b, s[i+1:]...)
				i = len(s)
				break
			}
			b = append(b, s[i+1:i+1+j]...)
			i += j + 1
		case c == '"':
			build(i)
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				b = append(b, s[i])
			}
		default:
			keep(i)
		}
	}
	flush(len(s))
	return words
}

// scriptLine is one logical line of a shell script (continuations joined).
type scriptLine struct {
	line   int // of its first physical line
	text   string
	starts []int // offset in text where each physical line begins
	lines  []int // the number of each physical line
}

// at returns the line and column (1-based, in characters) of an offset of
// the logical line's text.
func (s scriptLine) at(offset int) (int, int) {
	k := 0
	for k+1 < len(s.starts) && s.starts[k+1] <= offset {
		k++
	}
	if k >= len(s.lines) {
		return s.line, 0
	}
	return s.lines[k], utf8.RuneCountInString(s.text[s.starts[k]:offset]) + 1
}

// scriptLines reads a shell script into logical lines, without comment lines.
func scriptLines(text string) []scriptLine {
	var out []scriptLine
	var cur strings.Builder
	var starts, lines []int
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") || t == "" && cur.Len() == 0 {
			continue // comment lines, also inside a continued Dockerfile RUN
		}
		starts = append(starts, cur.Len())
		lines = append(lines, i+1)
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(l)
		out = append(out, scriptLine{lines[0], cur.String(), starts, lines})
		cur.Reset()
		starts, lines = nil, nil
	}
	if cur.Len() > 0 {
		out = append(out, scriptLine{lines[0], cur.String(), starts, lines})
	}
	return out
}

// launcherWords are words that run the command after them: privilege
// droppers, exec and env wrappers.
var launcherWords = map[string]bool{
	"exec": true, "env": true, "nohup": true, "setsid": true, "nice": true, "ionice": true,
	"gosu": true, "su-exec": true, "setpriv": true, "chpst": true, "s6-setuidgid": true,
	"runuser": true, "sudo": true, "tini": true, "dumb-init": true, "time": true,
}

// commandsIn splits words at ;, && and || and returns each simple command's
// words, launchers included.
func commandsIn(words []string) [][]string {
	var out [][]string
	var cur []string
	for _, w := range words {
		if w == ";" || w == "&&" || w == "||" || w == "|" || w == "&" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, w)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// programOf returns the index of the word that is the program a simple
// command runs, past launchers and their arguments (gosu USER, env A=B,
// setpriv --reuid=…), or -1.
func programOf(words []string) int {
	for i := 0; i < len(words); i++ {
		w := words[i]
		base := path.Base(w)
		switch {
		case strings.Contains(w, "=") && !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "/"):
			continue // VAR=value
		case base == "gosu" || base == "su-exec" || base == "s6-setuidgid":
			i++ // the user
			continue
		case base == "chpst" || base == "runuser" || base == "sudo" || base == "setpriv" || launcherWords[base]:
			for i+1 < len(words) && strings.HasPrefix(words[i+1], "-") {
				i++
				if (base == "chpst" || base == "runuser" || base == "sudo") && len(words[i]) == 2 && i+1 < len(words) {
					i++ // an option with a value: -u cloudron
				}
			}
			continue
		}
		return i
	}
	return -1
}

// dropsRoot reports whether a simple command drops root before running its
// program (gosu, su-exec, setpriv, chpst -u, runuser -u, sudo -u, su -c, s6-setuidgid).
func dropsRoot(words []string) bool {
	for i, w := range words {
		switch path.Base(w) {
		case "gosu", "su-exec", "s6-setuidgid", "setpriv", "chpst", "runuser", "sudo":
			return i+1 < len(words) && !strings.HasPrefix(words[i+1], "root")
		case "su":
			return slices.Contains(words[i+1:], "-c")
		}
	}
	return false
}
