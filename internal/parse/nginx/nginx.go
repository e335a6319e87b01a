// Package nginx parses nginx configuration files and keeps the position of
// every directive and argument. It knows nothing of lint rules.
//
// It is a small parser of nginx's block/directive grammar, written here
// rather than taken from a library: the crossplane port
// (github.com/nginxinc/nginx-go-crossplane) is not available through the Go
// module proxy cpk builds with, and gonginx has no tagged release, validates
// directive names against its own list and resolves include against the
// operating system's file system, whereas cpk resolves it against the image a
// package would build, which it is given as an fs.FS.
//
// The grammar follows ngx_conf_read_token: words are separated by blanks; a
// directive ends with ";" or opens a block with "{"; "}" closes a block;
// "#" at the start of a word comments out the rest of the line; words may be
// quoted with " or ' (with backslash escapes); "\" escapes the next character
// of an unquoted word; "${" does not open a block; "}" inside a word belongs
// to the word.
package nginx

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"
)

// Pos is a 1-based line and column (the column counts characters).
type Pos struct {
	Line, Col int
}

// Directive is one directive, with its block when it has one.
type Directive struct {
	Name   string
	Args   []string // unquoted, escapes resolved
	Quoted []bool   // whether each argument was quoted
	Pos    Pos      // of the name
	ArgPos []Pos    // of each argument
	File   string   // the file the directive comes from
	// Block holds the directives between { and }; IsBlock tells an empty
	// block from no block.
	Block   []*Directive
	IsBlock bool
	// Included holds the directives of the files an include directive names,
	// when the configuration was loaded with Load.
	Included []*Directive
}

// Arg returns argument i, or "".
func (d *Directive) Arg(i int) string {
	if i < 0 || i >= len(d.Args) {
		return ""
	}
	return d.Args[i]
}

// ArgPosition returns the position of argument i, or of the name.
func (d *Directive) ArgPosition(i int) Pos {
	if i < 0 || i >= len(d.ArgPos) {
		return d.Pos
	}
	return d.ArgPos[i]
}

// Error is a syntax error at a position of a file.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
	}
	return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

// File is one parsed file.
type File struct {
	Name       string
	Directives []*Directive
}

// Parse parses one file. name is recorded in the directives and errors. On a
// syntax error it returns the directives read so far and the error.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{lx: lexer{src: data, line: 1, col: 1}, name: name}
	dirs, err := p.block(0, Pos{})
	return &File{Name: name, Directives: dirs}, err
}

// maxDepth bounds block nesting (nginx has no limit, but no real
// configuration comes near it) so that hostile input cannot exhaust the stack.
const maxDepth = 100

type parser struct {
	lx   lexer
	name string
	// the arguments of the directives being read, as a stack: a directive
	// gets them in slices of its own, of their exact size, once complete
	args   []string
	quoted []bool
	pos    []Pos
}

// endArgs gives d the arguments read since base and drops them from the
// stack.
func (p *parser) endArgs(d *Directive, base int) {
	if len(p.args) > base {
		d.Args = append([]string(nil), p.args[base:]...)
		d.Quoted = append([]bool(nil), p.quoted[base:]...)
		d.ArgPos = append([]Pos(nil), p.pos[base:]...)
	}
	p.args, p.quoted, p.pos = p.args[:base], p.quoted[:base], p.pos[:base]
}

// block reads directives up to the "}" that closes a block opened at open
// (depth > 0), or to the end of the file (depth 0).
func (p *parser) block(depth int, open Pos) ([]*Directive, error) {
	var dirs []*Directive
	for {
		t, err := p.lx.next()
		if err != nil {
			return dirs, p.errorf(err.pos, "%s", err.msg)
		}
		switch {
		case t.eof:
			if depth > 0 {
				return dirs, p.errorf(t.pos, "unexpected end of file: the block opened at line %d is not closed with }", open.Line)
			}
			return dirs, nil
		case t.special == '}':
			if depth == 0 {
				return dirs, p.errorf(t.pos, "unexpected }: no block is open")
			}
			return dirs, nil
		case t.special != 0:
			return dirs, p.errorf(t.pos, "unexpected %q: a directive needs a name first", t.special)
		}
		d := &Directive{Name: t.text, Pos: t.pos, File: p.name}
		dirs = append(dirs, d)
		base := len(p.args)
		for {
			a, err := p.lx.next()
			if err != nil {
				p.endArgs(d, base)
				return dirs, p.errorf(err.pos, "%s", err.msg)
			}
			if a.special != 0 || a.eof {
				p.endArgs(d, base)
			}
			if a.eof {
				return dirs, p.errorf(a.pos, "unexpected end of file: directive %q is not terminated by ; or {", d.Name)
			}
			if a.special == ';' {
				break
			}
			if a.special == '}' {
				return dirs, p.errorf(a.pos, "unexpected }: directive %q is not terminated by ;", d.Name)
			}
			if a.special == '{' {
				if depth+1 > maxDepth {
					return dirs, p.errorf(a.pos, "blocks nested more than %d deep", maxDepth)
				}
				d.IsBlock = true
				var err error
				d.Block, err = p.block(depth+1, a.pos)
				if err != nil {
					return dirs, err
				}
				break
			}
			p.args = append(p.args, a.text)
			p.quoted = append(p.quoted, a.quoted)
			p.pos = append(p.pos, a.pos)
		}
	}
}

func (p *parser) errorf(pos Pos, format string, args ...any) error {
	return &Error{File: p.name, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

type token struct {
	text    string
	quoted  bool
	special byte // ';', '{' or '}' when the token is one of them
	eof     bool
	pos     Pos
}

type lexError struct {
	pos Pos
	msg string
}

type lexer struct {
	src       []byte
	off       int
	line, col int
}

func (l *lexer) peek() byte {
	if l.off < len(l.src) {
		return l.src[l.off]
	}
	return 0
}

func (l *lexer) advance() {
	if l.off >= len(l.src) {
		return
	}
	c := l.src[l.off]
	_, size := utf8.DecodeRune(l.src[l.off:])
	l.off += size
	if c == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (l *lexer) next() (token, *lexError) {
	for {
		for l.off < len(l.src) && isSpace(l.src[l.off]) {
			l.advance()
		}
		if l.peek() != '#' {
			break
		}
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance()
		}
	}
	pos := Pos{l.line, l.col}
	if l.off >= len(l.src) {
		return token{eof: true, pos: pos}, nil
	}
	switch c := l.peek(); c {
	case ';', '{', '}':
		l.advance()
		return token{special: c, pos: pos}, nil
	case '"', '\'':
		return l.quoted(c, pos)
	}
	// The word is cut from the source as written; only one with an escape
	// is built anew.
	var b strings.Builder
	variable, escaped, first := false, false, l.off
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c == '{' && variable {
			if escaped {
				b.WriteByte(c)
			}
			l.advance()
			variable = false
			continue
		}
		variable = false
		if isSpace(c) || c == ';' || c == '{' {
			break
		}
		if c == '\\' && l.off+1 < len(l.src) {
			if !escaped {
				b.Write(l.src[first:l.off])
				escaped = true
			}
			l.escape(&b)
			continue
		}
		if c == '$' {
			variable = true
		}
		start := l.off
		l.advance()
		if escaped {
			b.Write(l.src[start:l.off])
		}
	}
	if !escaped {
		return token{text: string(l.src[first:l.off]), pos: pos}, nil
	}
	return token{text: b.String(), pos: pos}, nil
}

// escape reads a backslash and the character after it: nginx turns \" \'
// \\ \t \r \n into the characters they stand for and keeps any other
// backslash (in quoted and unquoted words alike).
func (l *lexer) escape(b *strings.Builder) {
	l.advance()
	switch e := l.src[l.off]; e {
	case '"', '\'', '\\':
		b.WriteByte(e)
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'n':
		b.WriteByte('\n')
	default:
		b.WriteByte('\\')
		start := l.off
		l.advance()
		b.Write(l.src[start:l.off])
		return
	}
	l.advance()
}

// quoted reads a quoted word.
func (l *lexer) quoted(q byte, pos Pos) (token, *lexError) {
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{}, &lexError{pos, fmt.Sprintf("unexpected end of file: the string opened with %c is not closed", q)}
		}
		c := l.src[l.off]
		if c == q {
			l.advance()
			break
		}
		if c == '\\' && l.off+1 < len(l.src) {
			l.escape(&b)
			continue
		}
		start := l.off
		l.advance()
		b.Write(l.src[start:l.off])
	}
	if c := l.peek(); l.off < len(l.src) && !isSpace(c) && c != ';' && c != '{' && c != ')' {
		return token{}, &lexError{Pos{l.line, l.col}, fmt.Sprintf("unexpected %q after a quoted string", c)}
	}
	return token{text: b.String(), quoted: true, pos: pos}, nil
}

// Config is a configuration loaded with its includes.
type Config struct {
	File *File
	// Files lists every file read, the main one first.
	Files []string
	// Unresolved lists include directives whose pattern matched no file of
	// the file system (files the base image provides, such as mime.types).
	Unresolved []*Directive
}

// Options tune Load.
type Options struct {
	// Prefix is the directory relative include paths are resolved against:
	// nginx's configuration prefix, /etc/nginx by default.
	Prefix string
	// MaxFiles bounds the files read through include (64 by default).
	MaxFiles int
}

// Load parses the file name of fsys and, recursively, the files its include
// directives name, whose directives end up in Directive.Included. Paths in
// the configuration are absolute image paths ("/etc/nginx/conf.d/*.conf");
// fsys holds the image without the leading slash (fs.FS paths). Glob
// patterns are expanded as nginx does (sorted). Syntax errors of every file
// read are joined in the error; what parsed is kept.
func Load(fsys fs.FS, name string, opts Options) (*Config, error) {
	if opts.Prefix == "" {
		opts.Prefix = "/etc/nginx"
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = 64
	}
	l := &loader{fsys: fsys, opts: opts, active: map[string]bool{}}
	f, err := l.file(name)
	if f == nil {
		return nil, err
	}
	return &Config{File: f, Files: l.files, Unresolved: l.unresolved}, errors.Join(append([]error{err}, l.errs...)...)
}

type loader struct {
	fsys       fs.FS
	opts       Options
	files      []string
	unresolved []*Directive
	errs       []error
	active     map[string]bool // files being expanded: include cycles stop here
}

func (l *loader) file(name string) (*File, error) {
	data, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		return nil, err
	}
	l.files = append(l.files, name)
	f, perr := Parse("/"+name, data)
	l.active[name] = true
	l.expand(f.Directives)
	delete(l.active, name)
	return f, perr
}

func (l *loader) expand(dirs []*Directive) {
	for _, d := range dirs {
		if d.IsBlock {
			l.expand(d.Block)
			continue
		}
		if d.Name != "include" || len(d.Args) != 1 {
			continue
		}
		pattern := d.Args[0]
		if !path.IsAbs(pattern) {
			pattern = path.Join(l.opts.Prefix, pattern)
		}
		pattern = strings.TrimPrefix(path.Clean(pattern), "/")
		matches, err := fs.Glob(l.fsys, pattern)
		if err != nil || len(matches) == 0 {
			l.unresolved = append(l.unresolved, d)
			continue
		}
		for _, m := range matches {
			if l.active[m] {
				l.errs = append(l.errs, &Error{File: d.File, Pos: d.Pos, Msg: fmt.Sprintf("include %s includes itself", d.Args[0])})
				continue
			}
			if len(l.files) >= l.opts.MaxFiles {
				l.errs = append(l.errs, &Error{File: d.File, Pos: d.Pos, Msg: fmt.Sprintf("more than %d included files", l.opts.MaxFiles)})
				return
			}
			if st, err := fs.Stat(l.fsys, m); err != nil || st.IsDir() {
				continue
			}
			f, err := l.file(m)
			if err != nil {
				l.errs = append(l.errs, err)
			}
			if f != nil {
				d.Included = append(d.Included, f.Directives...)
			}
		}
	}
}

// Walk calls fn for every directive in document order, descending into
// blocks and into included files as if their directives stood in place of
// the include. parents are the enclosing block directives, outermost first.
// fn returns false to skip a block's content.
func Walk(dirs []*Directive, fn func(d *Directive, parents []*Directive) bool) {
	walk(dirs, nil, fn)
}

func walk(dirs []*Directive, parents []*Directive, fn func(*Directive, []*Directive) bool) {
	for _, d := range dirs {
		if !fn(d, parents) {
			continue
		}
		if len(d.Included) > 0 {
			walk(d.Included, parents, fn)
		}
		if d.IsBlock {
			walk(d.Block, append(parents[:len(parents):len(parents)], d), fn)
		}
	}
}

// Find returns the directives named name directly in dirs (including those
// pulled in by include at this level), in order.
func Find(dirs []*Directive, name string) []*Directive {
	var out []*Directive
	for _, d := range dirs {
		if d.Name == name {
			out = append(out, d)
		}
		if len(d.Included) > 0 {
			out = append(out, Find(d.Included, name)...)
		}
	}
	return out
}
