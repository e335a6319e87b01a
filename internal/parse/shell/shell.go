// Package shell parses shell scripts (the bash dialect) with mvdan.cc/sh and
// keeps positions. It offers what checks of scripts need without knowing any
// check: every simple command with its words (resolved where their value is
// statically known), its redirections and here-documents, the conditions and
// loops around it, every variable reference, and the commands that end the
// script. It knows nothing of lint rules.
package shell

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Pos is a 1-based line and column (in bytes); zero when unknown.
type Pos struct{ Line, Col int }

// Word is one shell word.
type Word struct {
	Pos    Pos
	Text   string // the source text
	Value  string // the value, when Known
	Known  bool   // the value is statically known (literals and known variables only)
	Prefix string // the statically known leading part of the value (all of it when Known)
}

// Assign is a variable assignment: NAME=value alone, before a command, or in
// export/readonly/declare/local.
type Assign struct {
	Pos   Pos
	Name  string
	Value Word
}

// Redirect is one redirection of a command.
type Redirect struct {
	Pos     Pos
	Op      string // ">", ">>", "<", "&>", ">&", "<<", "<<-", "<<<", …
	FD      string // the explicit file descriptor ("2" in 2>x), or ""
	Target  Word   // the file (or descriptor, or here-doc delimiter)
	Heredoc *Heredoc
}

// Writes reports whether the redirection writes to its target file (not a
// descriptor duplication such as 2>&1).
func (r Redirect) Writes() bool {
	switch r.Op {
	case ">", ">>", ">|", "&>", "&>>", "<>":
		return true
	case ">&":
		// >&file is a write when the target is not a descriptor number or "-".
		t := r.Target.Value
		if !r.Target.Known || t == "-" {
			return false
		}
		for _, c := range t {
			if c < '0' || c > '9' {
				return true
			}
		}
	}
	return false
}

// Heredoc is a here-document body.
type Heredoc struct {
	Pos    Pos    // where the body starts
	Body   string // the body as written
	Quoted bool   // the delimiter is quoted, so nothing in the body is expanded
}

// VarRef is one reference to a variable: $X, ${X}, ${X:-default}, or a
// [[ -v X ]] test.
type VarRef struct {
	Pos     Pos
	Name    string
	Op      string // the expansion operator: "", ":-", "-", ":=", "=", ":+", "+", ":?", "?", "#", "%", "/", "-v"…
	Default bool   // the reference is safe when the variable is unset (:-, -, :=, =, :+, +, -v)
	Heredoc bool   // it is inside a here-document body
	Guards  []Guard
}

// Test is a unary test found in a condition: [[ ! -f /app/data/x ]] is
// {Op: "-f", Operand: /app/data/x, Not: true}.
type Test struct {
	Op      string
	Operand Word
	Not     bool
}

// Guard is a condition a command depends on: an if (or elif) condition, the
// left side of && or ||, or a case word.
type Guard struct {
	Pos   Pos
	Kind  string // "if", "&&", "||", "case"
	Text  string // the condition's source text
	Else  bool   // the command runs when the condition is false (else branch, ||)
	Tests []Test // unary tests in the condition
	Refs  []VarRef
}

// Loop is a while, until or for loop.
type Loop struct {
	Pos      Pos
	Kind     string // "while", "until", "for"
	Cond     string // the condition's source text (the header for for loops)
	Counted  bool   // bounded: a for loop, or arithmetic or a numeric comparison inside
	Commands []*Command
}

// Command is one simple command (or a compound command's redirections).
type Command struct {
	Pos        Pos
	Args       []Word   // the command name first; empty for a bare assignment or redirection
	Assigns    []Assign // NAME=value words before the command, or the assignments of a bare assignment
	Redirs     []Redirect
	Refs       []VarRef // variables read by its words, redirections and here-documents
	Guards     []Guard  // conditions around it, outermost first
	Loops      []*Loop  // loops around it, outermost first
	Func       string   // the function it is defined in, "" outside functions
	Background bool     // it (or a statement around it) runs in the background with &
	Job        *Job     // the background statement it belongs to, nil when it runs in the foreground
	Subst      bool     // inside a command or process substitution
	TopLevel   bool     // a statement of the script's top level
	Next       *Command // the command its output is piped into
	Compound   string   // for redirections of a compound command: "{", "(", "while", "if"…
}

// Name is the command name when it is known ("" otherwise).
func (c *Command) Name() string {
	if len(c.Args) == 0 || !c.Args[0].Known {
		return ""
	}
	return c.Args[0].Value
}

// ExecArgs returns the command that exec runs (the words after exec and its
// options), or nil when c is not exec or exec only sets up redirections.
func (c *Command) ExecArgs() []Word {
	if c.Name() != "exec" {
		return nil
	}
	args := c.Args[1:]
	for len(args) > 0 && args[0].Known && strings.HasPrefix(args[0].Value, "-") {
		opt := args[0].Value
		args = args[1:]
		if opt == "--" {
			break
		}
		if opt == "-a" && len(args) > 0 {
			args = args[1:]
		}
	}
	if len(args) == 0 {
		return nil
	}
	return args
}

// Job is a statement run in the background (with &, coproc or disown): a
// simple command, or a compound one such as ( … ) & whose commands all
// belong to the one job.
type Job struct {
	Pos      Pos
	Compound string // "" for a simple command, else "(", "{", "while", "for", "if"…
	Commands []*Command
}

// Script is a parsed shell script.
type Script struct {
	Shebang  string     // the first line when it starts with #!
	Commands []*Command // every simple command, in source order
	Refs     []VarRef   // every variable reference, in source order
	Loops    []*Loop
	Jobs     []*Job // background statements, in source order
	// Last lists the commands that can end the script: the last top-level
	// statement, or the last command of each branch when it is an if.
	// LastComplete is false when some path ends in something that is not a
	// simple command (a loop, an if without else…), LastPos is where the
	// last top-level statement starts.
	Last         []*Command
	LastComplete bool
	LastPos      Pos
	Stmts        int // the number of top-level statements

	funcs map[string]funcEndings // for FuncEndings
}

// funcEndings are the endings of a function's body; order is the place of
// its definition among the script's definitions (the last one counts).
type funcEndings struct {
	cmds     []*Command
	complete bool
	order    int
}

// FuncEndings returns the commands that can end the function name (its last
// statement, each branch of a final if or case), as Last does for the
// script; ok is false when the script defines no such function.
func (s *Script) FuncEndings(name string) (cmds []*Command, complete, ok bool) {
	if s == nil {
		return nil, false, false
	}
	f, ok := s.funcs[name]
	return f.cmds, f.complete, ok
}

// Error is a syntax error at a position.
type Error struct {
	Pos Pos
	Msg string
	// TooLarge: the script parses, but has more commands and variable
	// references than cpk keeps of one script (MaxRecords).
	TooLarge bool
}

func (e *Error) Error() string {
	if e.Pos.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Pos.Line, e.Msg)
	}
	return e.Msg
}

// Options adjust parsing.
type Options struct {
	// Vars are variables known before the script runs (such as a
	// Dockerfile's ARG and ENV values); they resolve words that use them.
	Vars map[string]string
}

// MaxRecords is how many commands and variable references cpk keeps of
// one script (some 15 MB at most): the largest start scripts of the
// catalog have a few hundred. A script with more still parses to its end,
// so that a syntax error is found, but yields an Error with TooLarge.
const MaxRecords = 20_000

// Parse parses a bash script.
func Parse(src []byte) (*Script, error) { return ParseWith(src, Options{}) }

// piece is how much of a script is read with one run of the parser when
// the script is longer: the syntax tree of one piece at a time is in
// memory, never the whole script's (nor one statement's, when a chain of
// && and || is long).
const piece = 192 << 10 // under the parser's count of lines (2^18) even when every byte is a newline

// ParseWith parses a bash script with options.
//
// A long script is read in pieces of about 192 KiB, each converted to the
// script's model and dropped before the next. A piece ends after a newline
// or before a && or || of the top level, and mvdan's parser is the judge of
// every cut: it is kept only when the text before it parses whole (a cut
// inside quotes, a here-document, $(…), a compound command or a line
// continuation does not) and nothing but blanks stands between the last
// statement and a cut before && or ||, so no comment is cut. A piece is
// shorter when it holds more than 5,000 ( { [ and ` (the parser recurses
// into each). Where no cut holds, the rest of the script is read statement
// by statement, if it is at most 256 KiB long and holds at most 5,000 of
// them; else, and for statements nested more than 1,000 deep, Parse gives
// an Error with TooLarge. A chain cut into pieces is walked as one chain:
// each command's guard is all the chain on its left.
func ParseWith(src []byte, opts Options) (*Script, error) { return parse(src, opts, piece) }

// parse parses with pieces of the given size (tests make them small).
func parse(src []byte, opts Options, piece int) (*Script, error) {
	return parseAt(src, 1, 1, opts, piece)
}

// parseAt parses a script that starts at a line and column of a file (a
// RUN command of a Dockerfile): positions are the file's.
func parseAt(src []byte, line, col int, opts Options, piece int) (s *Script, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, &Error{Msg: fmt.Sprintf("the shell parser failed: %v", r)}
		}
	}()
	s = &Script{}
	if line == 1 && col == 1 && bytes.HasPrefix(src, []byte("#!")) {
		line, _, _ := bytes.Cut(src, []byte("\n"))
		s.Shebang = strings.TrimRight(string(line), "\r")
	}
	w := &walker{full: string(src), s: s, vars: map[string]varState{}, stmtCmd: map[*syntax.Stmt]*Command{},
		funcs: map[string]funcEndings{}, line: max(line, 1), col: max(col, 1), piece: max(piece, 1),
		parser: syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(false))}
	for k, v := range opts.Vars {
		w.vars[k] = varState{v, true}
	}
	if err := w.script(); err != nil {
		return nil, err
	}
	if w.deep {
		return nil, &Error{Pos: w.deepPos, TooLarge: true, Msg: fmt.Sprintf("statements nested more than %d deep, more than cpk checks", maxDepth)}
	}
	if w.over {
		return nil, &Error{Pos: w.overPos, TooLarge: true,
			Msg: fmt.Sprintf("the script has more than %d commands and variable references, more than cpk checks in one script: split it", MaxRecords)}
	}
	if len(w.funcs) > 0 {
		s.funcs = w.funcs
	}
	return s, nil
}

// maxOpeners bounds the ( { [ and ` in the text the parser reads at once:
// the parser recurses into each, and a statement nested deep enough would
// exhaust the stack (a fatal error, not a panic). maxAlone bounds the text
// read at once when no cut holds (one long statement).
const (
	maxOpeners = 5000
	maxAlone   = 256 << 10
)

// window is where the text the parser reads next ends: a piece, shorter
// when it holds more than maxOpeners.
func (w *walker) window() int {
	end := min(w.off+w.piece, len(w.full))
	n := 0
	for i := w.off; i < end; i++ {
		switch w.full[i] {
		case '(', '{', '[', '`':
			if n++; n > maxOpeners {
				return i
			}
		}
	}
	return end
}

// script walks the whole script, piece by piece.
func (w *walker) script() error {
	for {
		end := w.window()
		if end == len(w.full) {
			return w.rest() // (also when nothing is left: a chain cut before its end is an error)
		}
		stmts, next, cont, ok := w.cut(end)
		if !ok {
			if len(w.full)-w.off > maxAlone || openers(w.full[w.off:]) > maxOpeners {
				return &Error{Pos: Pos{w.line, w.col}, TooLarge: true, Msg: fmt.Sprintf(
					"no statement ends within %d bytes from line %d: a statement that long or nested that deep is more than cpk checks (or a syntax error is in it: check it with bash -n)", end-w.off, w.line)}
			}
			return w.rest()
		}
		w.enter(w.off, next)
		for i, st := range stmts {
			if w.over {
				break // parsed: the syntax is checked
			}
			if i == 0 && w.chain != nil {
				w.chainOn(st)
				if w.chain.broken {
					break
				}
				if i < len(stmts)-1 || !cont {
					w.chainEnd()
				}
				continue
			}
			if i == len(stmts)-1 && cont {
				w.chainHead(st)
				continue
			}
			w.topStmt(st)
		}
		w.advance(next)
		if w.over {
			w.chain = nil
		}
		if w.chain != nil && w.chain.broken {
			return w.restart()
		}
	}
}

// cut parses the next piece: the statements before the cut, where the
// text after it starts (next), and whether a chain goes on after the cut
// (it was made before a && or ||, which then is w.op). ok is false when
// no cut holds.
func (w *walker) cut(end int) (stmts []*syntax.Stmt, next int, cont, ok bool) {
	tries := 0
	for i := end; i > w.off && tries < 8; i-- {
		c := w.full[i]
		var at, after int
		switch {
		case c == '\n' && w.full[i-1] != '\\' && i+1 < len(w.full) && !strings.ContainsRune(" \t\n", rune(w.full[i+1])):
			// (an indented line is likely inside a compound command)
			at, after = i+1, i+1
		case (c == '&' || c == '|') && i+1 < len(w.full) && w.full[i+1] == c && !strings.ContainsRune("&|<>\\", rune(w.full[i-1])) &&
			(i+2 >= len(w.full) || !strings.ContainsRune("&|", rune(w.full[i+2]))):
			at, after = i, i+2
		default:
			continue
		}
		tries++
		text := w.full[w.off:at]
		f, err := w.parser.Parse(strings.NewReader(text), "")
		if err != nil {
			continue
		}
		if w.chain != nil && len(f.Stmts) == 0 {
			continue // the chain's next operand is further on
		}
		if at == i { // before && or ||: the last statement ends the piece, but for blanks
			if len(f.Stmts) == 0 {
				continue
			}
			last := f.Stmts[len(f.Stmts)-1]
			if !plainStmt(last) || last.Semicolon.IsValid() || strings.Trim(text[last.End().Offset():], " \t") != "" || absorbs(last) {
				continue
			}
			w.nextOp = syntax.AndStmt
			if c == '|' {
				w.nextOp = syntax.OrStmt
			}
			return f.Stmts, after, true, true
		}
		return f.Stmts, after, false, true
	}
	return nil, 0, false, false
}

// absorbs reports whether a statement ends in a command whose own
// statement would take in a && or || that follows it (f() a && b is a
// function of a && b), so that a cut there would change the script.
func absorbs(st *syntax.Stmt) bool {
	for st != nil {
		switch c := st.Cmd.(type) {
		case *syntax.BinaryCmd:
			st = c.Y
		case *syntax.FuncDecl, *syntax.TimeClause, *syntax.CoprocClause:
			return true
		default:
			return false
		}
	}
	return false
}

// rest walks the rest of the script statement by statement.
func (w *walker) rest() error {
	w.enter(w.off, len(w.full))
	first := true
	walk := func(st *syntax.Stmt) {
		switch {
		case w.over: // parsed: the syntax is checked
		case first && w.chain != nil:
			w.chainOn(st)
			w.chainEnd()
		default:
			w.topStmt(st)
		}
		first = false
	}
	// Statements are walked once one starts on a later line: the parser
	// fills the here-documents of a statement ended by ; or & (cat <<EOF; x)
	// only at the end of its line.
	var pending []*syntax.Stmt
	walkPending := func() {
		for _, p := range pending {
			if w.chain != nil && w.chain.broken {
				break
			}
			walk(p)
		}
		pending = pending[:0]
	}
	for st, err := range w.parser.StmtsSeq(strings.NewReader(w.src)) {
		if err != nil {
			return w.parseErr(err)
		}
		if n := len(pending); n > 0 && st.Pos().Line() > pending[n-1].End().Line() {
			walkPending()
		}
		pending = append(pending, st)
		if w.chain != nil && w.chain.broken {
			break
		}
	}
	if w.chain == nil || !w.chain.broken {
		walkPending()
	}
	if w.chain != nil && w.chain.broken {
		return w.restart()
	}
	if first && w.chain != nil && !w.over { // the text after a cut before && or || has no command
		return &Error{Pos: w.chain.startPos, Msg: w.chain.op.String() + " must be followed by a statement"}
	}
	w.off = len(w.full)
	return nil
}

// restart goes back to the start of a chain cut into pieces that turned
// out to run in the background as a whole (a && b &): it forgets what the
// walk of the chain recorded and reads the rest of the script, from the
// chain on, statement by statement.
func (w *walker) restart() error {
	c := w.chain
	w.chain = nil
	w.nested--
	s := w.s
	s.Commands, s.Refs, s.Loops, s.Jobs = trim(s.Commands, c.snap.cmds), trim(s.Refs, c.snap.refs), trim(s.Loops, c.snap.loops), trim(s.Jobs, c.snap.jobs)
	s.Stmts, s.Last, s.LastComplete, s.LastPos = c.snap.stmts, c.snap.last, c.snap.lastComplete, c.snap.lastPos
	w.vars, w.funcs, w.funcOrder = c.snap.vars, c.snap.funcs, c.snap.funcOrder
	w.off, w.line, w.col = c.snap.off, c.snap.line, c.snap.col
	// The chain alone is read again, whole, then the script goes on after
	// it; where it does not parse alone (a here-document of its last line
	// follows it), the rest is read statement by statement.
	text := w.full[w.off:c.tailEnd]
	if len(text) > maxAlone || openers(text) > maxOpeners {
		return &Error{Pos: c.startPos, TooLarge: true, Msg: fmt.Sprintf(
			"a chain of && or || that runs in the background as a whole is %d bytes long, more than cpk reads at once", len(text))}
	}
	f, err := w.parser.Parse(strings.NewReader(text), "")
	if err != nil {
		if len(w.full)-w.off > maxAlone || openers(w.full[w.off:]) > maxOpeners {
			return &Error{Pos: c.startPos, TooLarge: true, Msg: fmt.Sprintf(
				"a chain of && or || that runs in the background as a whole, and what follows it, are more than cpk reads at once (%d bytes)", len(w.full)-w.off)}
		}
		return w.rest()
	}
	w.enter(w.off, c.tailEnd)
	for _, st := range f.Stmts {
		w.topStmt(st)
	}
	w.advance(c.tailEnd)
	return w.script()
}

// openers counts what the parser recurses into: ( { [ and `.
func openers(text string) int {
	return strings.Count(text, "(") + strings.Count(text, "{") + strings.Count(text, "[") + strings.Count(text, "`")
}

// trim keeps the first n elements of a list, as it was when it had n.
func trim[T any](list []T, n int) []T {
	if n == 0 {
		return nil
	}
	return list[:n]
}

func (w *walker) parseErr(err error) error {
	var pe syntax.ParseError
	if errors.As(err, &pe) {
		return &Error{Pos: w.pos(pe.Pos), Msg: pe.Text}
	}
	var le syntax.LangError
	if errors.As(err, &le) {
		return &Error{Pos: w.pos(le.Pos), Msg: le.Error()}
	}
	return &Error{Msg: err.Error()}
}

// enter makes the text from off to end the piece being walked: positions
// of the parser are relative to it.
func (w *walker) enter(off, end int) {
	w.src = w.full[off:end]
}

// forget drops the commands of statements already walked: the syntax trees
// of the statements of the top level are not kept.
func (w *walker) forget() {
	if len(w.stmtCmd) > 64 { // clear would cost the map's size each time
		w.stmtCmd = map[*syntax.Stmt]*Command{}
	} else {
		clear(w.stmtCmd)
	}
}

// advance moves the start of the next piece to off, keeping the line and
// column of it.
func (w *walker) advance(off int) {
	text := w.full[w.off:off]
	if n := strings.Count(text, "\n"); n > 0 {
		w.line += n
		w.col = len(text) - strings.LastIndexByte(text, '\n')
	} else {
		w.col += len(text)
	}
	w.off = off
}

// topStmt walks one statement of the script's top level.
func (w *walker) topStmt(st *syntax.Stmt) {
	w.forget()
	w.stmt(st, true)
	w.s.Stmts++
	w.s.LastPos = w.pos(st.Pos())
	w.s.Last, w.s.LastComplete = w.endings(st)
}

// chainHead starts a chain of the top level that goes on after this piece.
func (w *walker) chainHead(st *syntax.Stmt) {
	w.forget()
	s := w.s
	snap := snapshot{cmds: len(s.Commands), refs: len(s.Refs), loops: len(s.Loops), jobs: len(s.Jobs),
		stmts: s.Stmts, last: s.Last, lastComplete: s.LastComplete, lastPos: s.LastPos,
		vars: maps.Clone(w.vars), funcs: maps.Clone(w.funcs), funcOrder: w.funcOrder,
		off: w.off + int(st.Pos().Offset()), line: w.line, col: w.col}
	// the line and column of the chain's start
	head := w.full[w.off:snap.off]
	if n := strings.Count(head, "\n"); n > 0 {
		snap.line += n
		snap.col = len(head) - strings.LastIndexByte(head, '\n')
	} else {
		snap.col += len(head)
	}
	s.Stmts++
	s.LastPos = w.pos(st.Pos())
	w.nested++
	operands, ops := stmtOperands(st)
	c := w.chainStart(operands[0], true)
	for i, op := range ops {
		w.chainNext(c, op, operands[i+1])
	}
	c.snap, c.op = snap, w.nextOp
	w.chain = c
}

// chainOn walks the first statement of a piece as the operands that go on
// the chain cut before it.
func (w *walker) chainOn(st *syntax.Stmt) {
	c := w.chain
	if st.Background || st.Coprocess || st.Disown {
		c.broken = true // a && b &: the whole chain is in the background
		c.tailEnd = w.abs(st.End())
		return
	}
	operands, ops := stmtOperands(st)
	w.chainNext(c, c.op, operands[0])
	for i, op := range ops {
		w.chainNext(c, op, operands[i+1])
	}
	c.op = w.nextOp
	w.s.Last, w.s.LastComplete = w.endings(st)
}

// chainEnd ends a chain cut into pieces.
func (w *walker) chainEnd() {
	if w.chain == nil || w.chain.broken {
		return
	}
	w.chain = nil
	w.nested--
}

type varState struct {
	value string
	known bool
}

type walker struct {
	full    string // the script; substrings share it: a node's text costs no copy
	src     string // the piece being walked (positions of the parser are relative to it)
	off     int    // where the piece starts in full
	line    int    // its line
	col     int    // and column
	parser  *syntax.Parser
	piece   int // the size of a piece
	s       *Script
	vars    map[string]varState
	guards  []Guard
	loops   []*Loop
	fn      string
	bg      int
	job     *Job // the outermost background statement being walked
	subst   int
	nested  int // inside a block, subshell, if, loop… (assignments there are not certain)
	heredoc int
	dry     int        // resolving again a word already walked: record nothing
	cmds    []*Command // commands whose words are being walked
	stmtCmd map[*syntax.Stmt]*Command
	funcs   map[string]funcEndings
	// funcOrder counts function definitions
	funcOrder int
	chain     *chainRun             // a chain of the top level cut into pieces
	nextOp    syntax.BinCmdOperator // the operator a piece was cut before
	over      bool                  // the model is full (MaxRecords)
	overPos   Pos
	depth     int  // statements around the one walked
	deep      bool // some are nested deeper than maxDepth
	deepPos   Pos
}

// maxDepth bounds the nesting of statements the walk follows (each level
// copies the conditions around it to its commands).
const maxDepth = 1000

// snapshot is what the walk had recorded before a chain cut into pieces.
type snapshot struct {
	cmds, refs, loops, jobs, stmts int
	last                           []*Command
	lastComplete                   bool
	lastPos                        Pos
	vars                           map[string]varState
	funcs                          map[string]funcEndings
	funcOrder                      int
	off, line, col                 int
}

// recording reports whether the model has room for one more record; once
// it has not, the walk records nothing more.
func (w *walker) recording() bool {
	if !w.over && len(w.s.Commands)+len(w.s.Refs) >= MaxRecords {
		w.over = true
		if n := len(w.s.Commands); n > 0 {
			w.overPos = w.s.Commands[n-1].Pos
		}
	}
	return !w.over
}

// pos converts a position of the parser in the piece being walked.
func (w *walker) pos(p syntax.Pos) Pos {
	if !p.IsValid() {
		return Pos{}
	}
	line, col := int(p.Line()), int(p.Col())
	if line == 0 { // past the parser's count of lines
		return Pos{0, col}
	}
	if line == 1 && col > 0 {
		col += w.col - 1
	}
	return Pos{line + w.line - 1, col}
}

// abs is the offset of a position of the piece in the script.
func (w *walker) abs(p syntax.Pos) int { return w.off + int(p.Offset()) }

func (w *walker) text(n syntax.Node) string {
	if n == nil || !n.Pos().IsValid() || !n.End().IsValid() {
		return ""
	}
	a, b := int(n.Pos().Offset()), int(n.End().Offset())
	if a < 0 || b > len(w.src) || a > b {
		return ""
	}
	return w.src[a:b]
}

func (w *walker) stmts(list []*syntax.Stmt, top bool) {
	for _, st := range list {
		w.stmt(st, top)
	}
}

func (w *walker) stmt(st *syntax.Stmt, top bool) {
	if st == nil {
		return
	}
	if w.depth >= maxDepth {
		if !w.deep {
			w.deep, w.deepPos = true, w.pos(st.Pos())
		}
		return
	}
	w.depth++
	defer func() { w.depth-- }()
	bg := st.Background || st.Coprocess || st.Disown
	if bg {
		w.bg++
		defer func() { w.bg-- }()
		if w.job == nil {
			job := &Job{Pos: w.pos(st.Pos()), Compound: compoundName(st.Cmd)}
			if _, simple := st.Cmd.(*syntax.CallExpr); simple || st.Cmd == nil {
				job.Compound = ""
			}
			if w.recording() {
				w.s.Jobs = append(w.s.Jobs, job)
			}
			w.job = job
			defer func() { w.job = nil }()
		}
	}
	switch c := st.Cmd.(type) {
	case nil:
		cmd := w.newCommand(st, top)
		w.redirs(cmd, st.Redirs)
		w.done(cmd)
	case *syntax.CallExpr:
		w.call(st, c, top)
	case *syntax.DeclClause:
		w.decl(st, c, top)
	default:
		if len(st.Redirs) > 0 {
			cmd := w.newCommand(st, top)
			cmd.Compound = compoundName(st.Cmd)
			w.redirs(cmd, st.Redirs)
			w.done(cmd)
		}
		w.nested++
		w.compound(st.Cmd)
		w.nested--
	}
}

func compoundName(c syntax.Command) string {
	switch c := c.(type) {
	case *syntax.Block:
		return "{"
	case *syntax.Subshell:
		return "("
	case *syntax.IfClause:
		return "if"
	case *syntax.WhileClause:
		if c.Until {
			return "until"
		}
		return "while"
	case *syntax.ForClause:
		return "for"
	case *syntax.CaseClause:
		return "case"
	}
	return "compound"
}

func (w *walker) newCommand(st *syntax.Stmt, top bool) *Command {
	c := &Command{
		Pos:        w.pos(st.Pos()),
		Guards:     append([]Guard(nil), w.guards...),
		Loops:      append([]*Loop(nil), w.loops...),
		Func:       w.fn,
		Background: w.bg > 0,
		Job:        w.job,
		Subst:      w.subst > 0,
		TopLevel:   top,
	}
	if w.recording() {
		w.s.Commands = append(w.s.Commands, c)
		if w.job != nil {
			w.job.Commands = append(w.job.Commands, c)
		}
		for _, l := range w.loops {
			l.Commands = append(l.Commands, c)
		}
	}
	w.stmtCmd[st] = c
	w.cmds = append(w.cmds, c)
	return c
}

// done ends the walk of a command's words.
func (w *walker) done(*Command) { w.cmds = w.cmds[:len(w.cmds)-1] }

func (w *walker) call(st *syntax.Stmt, c *syntax.CallExpr, top bool) {
	cmd := w.newCommand(st, top)
	if len(c.Assigns) > 0 {
		cmd.Pos = w.pos(c.Pos())
	}
	for _, a := range c.Assigns {
		cmd.Assigns = append(cmd.Assigns, w.assign(a))
	}
	if len(c.Args) > 0 {
		cmd.Args = make([]Word, 0, len(c.Args))
	}
	for _, arg := range c.Args {
		cmd.Args = append(cmd.Args, w.word(arg))
	}
	w.redirs(cmd, st.Redirs)
	w.done(cmd)
	if len(c.Args) == 0 {
		for _, a := range cmd.Assigns {
			w.set(a.Name, a.Value)
		}
	}
	w.countArgs(cmd)
}

// countArgs marks the loops around a [ or test command with a numeric
// comparison as counted.
func (w *walker) countArgs(cmd *Command) {
	if n := cmd.Name(); len(w.loops) == 0 || (n != "[" && n != "test") {
		return
	}
	for _, a := range cmd.Args[1:] {
		switch a.Value {
		case "-lt", "-le", "-gt", "-ge", "-eq", "-ne":
			w.counted()
		}
	}
}

func (w *walker) counted() {
	for _, l := range w.loops {
		l.Counted = true
	}
}

func (w *walker) decl(st *syntax.Stmt, d *syntax.DeclClause, top bool) {
	cmd := w.newCommand(st, top)
	cmd.Args = append(cmd.Args, Word{Pos: w.pos(d.Variant.Pos()), Text: d.Variant.Value, Value: d.Variant.Value, Known: true, Prefix: d.Variant.Value})
	var sets []Assign
	for _, a := range d.Args {
		if a.Name == nil {
			if a.Value != nil {
				cmd.Args = append(cmd.Args, w.word(a.Value))
			}
			continue
		}
		if a.Naked {
			cmd.Args = append(cmd.Args, Word{Pos: w.pos(a.Pos()), Text: a.Name.Value, Value: a.Name.Value, Known: true, Prefix: a.Name.Value})
			continue
		}
		as := w.assign(a)
		cmd.Assigns = append(cmd.Assigns, as)
		sets = append(sets, as)
	}
	w.redirs(cmd, st.Redirs)
	w.done(cmd)
	for _, a := range sets {
		w.set(a.Name, a.Value)
	}
}

func (w *walker) assign(a *syntax.Assign) Assign {
	out := Assign{Pos: w.pos(a.Pos())}
	if a.Name != nil {
		out.Name = a.Name.Value
	}
	if a.Index != nil {
		w.arith(a.Index)
	}
	switch {
	case a.Value != nil:
		out.Value = w.word(a.Value)
		if a.Append {
			out.Value.Known = false
		}
	case a.Array != nil:
		for _, el := range a.Array.Elems {
			if el.Value != nil {
				w.word(el.Value)
			}
		}
		out.Value = Word{Pos: w.pos(a.Array.Pos()), Text: w.text(a.Array)}
	default:
		out.Value = Word{Pos: out.Pos, Known: true}
	}
	return out
}

// set records an assignment: its value is known from here on only when it
// is made unconditionally at the top level.
func (w *walker) set(name string, v Word) {
	if name == "" {
		return
	}
	certain := w.nested == 0 && w.fn == "" && w.bg == 0 && w.subst == 0 && len(w.guards) == 0 && len(w.loops) == 0
	w.vars[name] = varState{v.Value, certain && v.Known}
}

func (w *walker) redirs(cmd *Command, rs []*syntax.Redirect) {
	for _, r := range rs {
		out := Redirect{Pos: w.pos(r.Pos()), Op: r.Op.String()}
		if r.N != nil {
			out.FD = r.N.Value
		}
		if r.Word != nil {
			out.Target = w.word(r.Word)
		}
		if r.Hdoc != nil {
			quoted := r.Word != nil && !isPlain(r.Word)
			h := &Heredoc{Pos: w.pos(r.Hdoc.Pos()), Body: w.text(r.Hdoc), Quoted: quoted}
			if len(r.Hdoc.Parts) == 0 {
				h.Pos = Pos{}
			}
			w.heredoc++
			w.word(r.Hdoc)
			w.heredoc--
			out.Heredoc = h
		}
		cmd.Redirs = append(cmd.Redirs, out)
	}
}

// isPlain reports whether a here-document delimiter is unquoted.
func isPlain(wd *syntax.Word) bool {
	for _, p := range wd.Parts {
		l, ok := p.(*syntax.Lit)
		if !ok || strings.Contains(l.Value, `\`) {
			return false
		}
	}
	return true
}

// word walks a word: it records the variable references and the commands of
// substitutions, and resolves the value where it is statically known.
func (w *walker) word(wd *syntax.Word) Word {
	if wd == nil || len(wd.Parts) == 0 {
		return Word{Known: true}
	}
	out := Word{Pos: w.pos(wd.Pos()), Text: w.text(wd), Known: true}
	if l, ok := wd.Parts[0].(*syntax.Lit); ok && len(wd.Parts) == 1 && l.Value == out.Text &&
		!strings.Contains(l.Value, `\`) && (w.heredoc > 0 || !strings.HasPrefix(l.Value, "~")) {
		out.Value, out.Prefix = out.Text, out.Text // a plain word: its value is its text, no copy
		return out
	}
	var b strings.Builder
	w.parts(wd.Parts, false, &b, &out)
	if out.Known {
		out.Value = b.String()
		out.Prefix = out.Value
	}
	return out
}

// parts appends the known value of parts to b; once a part is unknown,
// out.Known turns false and out.Prefix keeps what was known before it.
func (w *walker) parts(parts []syntax.WordPart, quoted bool, b *strings.Builder, out *Word) {
	unknown := func() {
		if out.Known {
			out.Known = false
			out.Prefix = b.String()
		}
	}
	for i, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			if !quoted && i == 0 && strings.HasPrefix(p.Value, "~") && w.heredoc == 0 {
				unknown()
				continue
			}
			if out.Known {
				b.WriteString(unescape(p.Value, quoted || w.heredoc > 0))
			}
		case *syntax.SglQuoted:
			if p.Dollar && strings.Contains(p.Value, `\`) {
				unknown()
				continue
			}
			if out.Known {
				b.WriteString(p.Value)
			}
		case *syntax.DblQuoted:
			w.parts(p.Parts, true, b, out)
		case *syntax.ParamExp:
			v, ok := w.param(p)
			if !ok {
				unknown()
			} else if out.Known {
				b.WriteString(v)
			}
		case *syntax.CmdSubst:
			unknown()
			w.substStmts(p.Stmts)
		case *syntax.ProcSubst:
			unknown()
			w.substStmts(p.Stmts)
		case *syntax.ArithmExp:
			unknown()
			if w.dry == 0 {
				w.arith(p.X)
				w.counted()
			}
		default:
			unknown()
		}
	}
}

// unescape removes the backslashes of a literal: every backslash outside
// quotes, and inside double quotes (or here-documents) those before $ ` " \
// and a newline.
func unescape(s string, quoted bool) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		if quoted && !strings.ContainsRune("$`\"\\\n", rune(n)) {
			b.WriteByte(c)
			continue
		}
		i++
		if n != '\n' {
			b.WriteByte(n)
		}
	}
	return b.String()
}

// param records a parameter expansion and returns its value when known.
func (w *walker) param(p *syntax.ParamExp) (string, bool) {
	ref := VarRef{Pos: w.pos(p.Pos()), Heredoc: w.heredoc > 0, Guards: append([]Guard(nil), w.guards...)}
	if p.Param != nil {
		ref.Name = p.Param.Value
	}
	switch {
	case p.Exp != nil:
		ref.Op = p.Exp.Op.String()
		switch p.Exp.Op {
		case syntax.DefaultUnset, syntax.DefaultUnsetOrNull, syntax.AssignUnset, syntax.AssignUnsetOrNull,
			syntax.AlternateUnset, syntax.AlternateUnsetOrNull:
			ref.Default = true
		}
	case p.Length:
		ref.Op = "#"
	case p.Excl:
		ref.Op = "!"
	case p.Repl != nil:
		ref.Op = "/"
	case p.Slice != nil:
		ref.Op = ":"
	}
	w.ref(ref)
	if w.dry == 0 {
		if p.Index != nil {
			w.arith(p.Index)
		}
		if p.Exp != nil && p.Exp.Word != nil {
			w.word(p.Exp.Word)
		}
		if p.Repl != nil {
			w.word(p.Repl.Orig)
			w.word(p.Repl.With)
		}
		if p.Slice != nil {
			w.arith(p.Slice.Offset)
			w.arith(p.Slice.Length)
		}
	}
	if p.Param == nil || p.Index != nil || p.Length || p.Excl || p.Repl != nil || p.Slice != nil || p.Names != 0 {
		return "", false
	}
	v, ok := w.vars[ref.Name]
	if !ok || !v.known {
		return "", false
	}
	if p.Exp == nil {
		return v.value, true
	}
	switch p.Exp.Op {
	case syntax.DefaultUnsetOrNull, syntax.DefaultUnset, syntax.AssignUnsetOrNull, syntax.AssignUnset:
		if v.value != "" {
			return v.value, true
		}
	}
	return "", false
}

// substStmts walks the statements of a command or process substitution.
func (w *walker) substStmts(list []*syntax.Stmt) {
	if w.dry > 0 {
		return
	}
	w.subst++
	w.nested++
	w.stmts(list, false)
	w.nested--
	w.subst--
}

func (w *walker) ref(r VarRef) {
	if w.dry > 0 {
		return
	}
	if !w.recording() {
		return
	}
	w.s.Refs = append(w.s.Refs, r)
	for _, c := range w.cmds {
		c.Refs = append(c.Refs, r)
	}
}

// arith walks an arithmetic expression for its variable references.
func (w *walker) arith(x syntax.ArithmExpr) {
	if x == nil {
		return
	}
	syntax.Walk(x, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ParamExp:
			w.param(n)
			return false
		case *syntax.CmdSubst:
			w.substStmts(n.Stmts)
			return false
		}
		return true
	})
}

func (w *walker) compound(c syntax.Command) {
	switch c := c.(type) {
	case *syntax.Block:
		w.stmts(c.Stmts, false)
	case *syntax.Subshell:
		w.stmts(c.Stmts, false)
	case *syntax.IfClause:
		w.ifClause(c)
	case *syntax.WhileClause:
		kind := "while"
		if c.Until {
			kind = "until"
		}
		l := &Loop{Pos: w.pos(c.Pos()), Kind: kind, Cond: w.stmtsText(c.Cond)}
		if w.recording() {
			w.s.Loops = append(w.s.Loops, l)
		}
		w.loops = append(w.loops, l)
		w.stmts(c.Cond, false)
		w.stmts(c.Do, false)
		w.loops = w.loops[:len(w.loops)-1]
	case *syntax.ForClause:
		l := &Loop{Pos: w.pos(c.Pos()), Kind: "for", Counted: true}
		if c.Loop != nil {
			l.Cond = w.text(c.Loop)
		}
		if w.recording() {
			w.s.Loops = append(w.s.Loops, l)
		}
		switch lp := c.Loop.(type) {
		case *syntax.WordIter:
			for _, it := range lp.Items {
				w.word(it)
			}
			if lp.Name != nil {
				w.vars[lp.Name.Value] = varState{}
			}
		case *syntax.CStyleLoop:
			w.arith(lp.Init)
			w.arith(lp.Cond)
			w.arith(lp.Post)
		}
		w.loops = append(w.loops, l)
		w.stmts(c.Do, false)
		w.loops = w.loops[:len(w.loops)-1]
	case *syntax.CaseClause:
		word := w.word(c.Word)
		for _, it := range c.Items {
			var pats []string
			for _, p := range it.Patterns {
				pats = append(pats, w.text(p))
			}
			g := Guard{Pos: w.pos(it.Pos()), Kind: "case", Text: word.Text + " in " + strings.Join(pats, "|")}
			w.guards = append(w.guards, g)
			w.stmts(it.Stmts, false)
			w.guards = w.guards[:len(w.guards)-1]
		}
	case *syntax.BinaryCmd:
		w.binary(c)
	case *syntax.FuncDecl:
		name := ""
		if c.Name != nil {
			name = c.Name.Value
		}
		w.funcOrder++
		order := w.funcOrder
		saved := w.fn
		w.fn = name
		w.stmt(c.Body, false)
		w.fn = saved
		if old, ok := w.funcs[name]; !ok || order > old.order { // the last definition counts
			cmds, complete := w.endings(c.Body)
			w.funcs[name] = funcEndings{cmds, complete, order}
		}
	case *syntax.ArithmCmd:
		w.arith(c.X)
		w.counted()
	case *syntax.LetClause:
		for _, x := range c.Exprs {
			w.arith(x)
		}
		w.counted()
	case *syntax.TestClause:
		w.test(c.X)
	case *syntax.TimeClause:
		w.stmt(c.Stmt, false)
	case *syntax.CoprocClause:
		w.bg++
		w.stmt(c.Stmt, false)
		w.bg--
	}
}

func (w *walker) stmtsText(list []*syntax.Stmt) string {
	if len(list) == 0 {
		return ""
	}
	a, b := list[0].Pos(), list[len(list)-1].End()
	if !a.IsValid() || !b.IsValid() || int(b.Offset()) > len(w.src) || a.Offset() > b.Offset() {
		return ""
	}
	return strings.TrimRight(w.src[a.Offset():b.Offset()], ";& \t")
}

// test walks a [[ ]] expression for references.
func (w *walker) test(x syntax.TestExpr) {
	switch x := x.(type) {
	case *syntax.Word:
		w.word(x)
	case *syntax.UnaryTest:
		if x.Op == syntax.TsVarSet {
			if wd, ok := x.X.(*syntax.Word); ok {
				name := w.word(wd)
				if name.Known {
					w.ref(VarRef{Pos: name.Pos, Name: name.Value, Op: "-v", Default: true, Guards: append([]Guard(nil), w.guards...)})
				}
				return
			}
		}
		w.test(x.X)
	case *syntax.BinaryTest:
		switch x.Op {
		case syntax.TsEql, syntax.TsNeq, syntax.TsLeq, syntax.TsGeq, syntax.TsLss, syntax.TsGtr:
			w.counted()
		}
		w.test(x.X)
		w.test(x.Y)
	case *syntax.ParenTest:
		w.test(x.X)
	}
}

func (w *walker) ifClause(c *syntax.IfClause) {
	start := len(w.s.Refs)
	w.stmts(c.Cond, false)
	g := Guard{Pos: w.pos(c.Pos()), Kind: "if", Text: w.stmtsText(c.Cond), Tests: w.tests(c.Cond),
		Refs: append([]VarRef(nil), w.s.Refs[start:]...)}
	w.guards = append(w.guards, g)
	w.stmts(c.Then, false)
	w.guards = w.guards[:len(w.guards)-1]
	if c.Else == nil {
		return
	}
	g.Else = true
	w.guards = append(w.guards, g)
	if len(c.Else.Cond) > 0 {
		w.ifClause(c.Else)
	} else {
		w.stmts(c.Else.Then, false)
	}
	w.guards = w.guards[:len(w.guards)-1]
}

func (w *walker) binary(c *syntax.BinaryCmd) {
	switch c.Op {
	case syntax.AndStmt, syntax.OrStmt:
		w.andOr(c)
	default: // pipes
		w.stmt(c.X, false)
		w.stmt(c.Y, false)
		if from, to := w.lastCall(c.X), w.firstCall(c.Y); from != nil && to != nil {
			from.Next = to
		}
	}
}

// chainRun is a chain of && and || being walked: a && b || c parses as
// ((a && b) || c), and each operand runs under the guard of everything on
// its left. The chain is flattened rather than recursed into, and each
// guard shares its text, tests and references with the next, so a long
// chain costs linear time and no stack.
type chainRun struct {
	top       bool // of the script's top level
	startOff  int  // where the chain starts in the script
	startPos  Pos
	refs      int                   // the first reference of the chain in Script.Refs
	tests     []Test                // of the operands on the left, as the condition of a chain tests them
	leftEnd   int                   // where the last operand walked ends in the script
	leftTests []Test                // its tests
	oneTests  []Test                // the tests of the first operand alone (its own negation counts)
	n         int                   // operands walked
	op        syntax.BinCmdOperator // the operator the chain goes on with after a cut
	broken    bool                  // the chain cut into pieces runs in the background as a whole
	tailEnd   int                   // where it ends then
	snap      snapshot
}

// andOr walks a chain of && and || that is not cut into pieces.
func (w *walker) andOr(c *syntax.BinaryCmd) {
	operands, ops := flatten(c)
	run := w.chainStart(operands[0], false)
	for i, op := range ops {
		w.chainNext(run, op, operands[i+1])
	}
}

// flatten lists the operands of a chain and the operators between them.
func flatten(c *syntax.BinaryCmd) (operands []*syntax.Stmt, ops []syntax.BinCmdOperator) {
	for {
		operands = append(operands, c.Y)
		ops = append(ops, c.Op)
		x := c.X
		if b, ok := x.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.AndStmt || b.Op == syntax.OrStmt) && plainStmt(x) {
			c = b
			continue
		}
		operands = append(operands, x)
		break
	}
	slices.Reverse(operands) // operands[0] op[0] operands[1] op[1] …
	slices.Reverse(ops)
	return operands, ops
}

// stmtOperands lists the operands of a statement that may be a chain.
func stmtOperands(st *syntax.Stmt) ([]*syntax.Stmt, []syntax.BinCmdOperator) {
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.AndStmt || b.Op == syntax.OrStmt) && plainStmt(st) {
		return flatten(b)
	}
	return []*syntax.Stmt{st}, nil
}

// chainStart walks the first operand of a chain.
func (w *walker) chainStart(first *syntax.Stmt, top bool) *chainRun {
	c := &chainRun{top: top, startOff: w.abs(first.Pos()), startPos: w.pos(first.Pos()), refs: len(w.s.Refs)}
	w.stmt(first, false)
	c.oneTests = w.tests([]*syntax.Stmt{first})
	w.operandDone(c, first)
	return c
}

// operandDone notes what the next operands' guard needs of one just
// walked (while its piece is the one being walked).
func (w *walker) operandDone(c *chainRun, st *syntax.Stmt) {
	c.leftEnd = w.abs(st.End())
	c.leftTests = w.stmtTests(st, false)
	c.n++
}

// chainNext walks the next operand of a chain, after op.
func (w *walker) chainNext(c *chainRun, op syntax.BinCmdOperator, operand *syntax.Stmt) {
	c.tests = append(c.tests, c.leftTests...)
	condTests := c.tests[:len(c.tests):len(c.tests)]
	if c.n == 1 {
		condTests = c.oneTests
	}
	if c.top { // what was recorded for the operands on the left is no longer needed
		w.forget()
	}
	kind := "&&"
	if op == syntax.OrStmt {
		kind = "||"
	}
	refs := w.s.Refs[c.refs:len(w.s.Refs):len(w.s.Refs)]
	g := Guard{Pos: c.startPos, Kind: kind, Text: w.full[c.startOff:c.leftEnd], Else: op == syntax.OrStmt, Tests: condTests, Refs: refs}
	w.guards = append(w.guards, g)
	w.stmt(operand, false)
	w.guards = w.guards[:len(w.guards)-1]
	w.operandDone(c, operand)
}

// plainStmt reports whether a statement is only its command: not negated,
// not in the background, without redirections.
func plainStmt(st *syntax.Stmt) bool {
	return !st.Negated && !st.Background && !st.Coprocess && !st.Disown && len(st.Redirs) == 0
}

func (w *walker) lastCall(st *syntax.Stmt) *Command {
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
		return w.lastCall(b.Y)
	}
	return w.stmtCmd[st]
}

func (w *walker) firstCall(st *syntax.Stmt) *Command {
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
		return w.firstCall(b.X)
	}
	return w.stmtCmd[st]
}

// tests collects the unary tests of a condition: [[ … ]], [ … ] and test.
func (w *walker) tests(cond []*syntax.Stmt) []Test {
	var out []Test
	for _, st := range cond {
		out = append(out, w.stmtTests(st, st.Negated)...)
	}
	return out
}

func (w *walker) stmtTests(st *syntax.Stmt, not bool) []Test {
	switch c := st.Cmd.(type) {
	case *syntax.TestClause:
		return w.testExpr(c.X, not)
	case *syntax.CallExpr:
		cmd := w.stmtCmd[st]
		if cmd == nil || (cmd.Name() != "[" && cmd.Name() != "test") {
			return nil
		}
		args := cmd.Args[1:]
		if cmd.Name() == "[" && len(args) > 0 && args[len(args)-1].Value == "]" {
			args = args[:len(args)-1]
		}
		if len(args) > 0 && args[0].Known && args[0].Value == "!" {
			not, args = !not, args[1:]
		}
		if len(args) == 2 && args[0].Known && len(args[0].Value) == 2 && args[0].Value[0] == '-' {
			return []Test{{Op: args[0].Value, Operand: args[1], Not: not}}
		}
	case *syntax.BinaryCmd:
		if c.Op == syntax.AndStmt || c.Op == syntax.OrStmt {
			return append(w.stmtTests(c.X, not), w.stmtTests(c.Y, not)...)
		}
	case *syntax.Block:
		var out []Test
		for _, s := range c.Stmts {
			out = append(out, w.stmtTests(s, not != s.Negated)...)
		}
		return out
	}
	return nil
}

func (w *walker) testExpr(x syntax.TestExpr, not bool) []Test {
	switch x := x.(type) {
	case *syntax.UnaryTest:
		if x.Op == syntax.TsNot {
			return w.testExpr(x.X, !not)
		}
		wd, ok := x.X.(*syntax.Word)
		if !ok {
			return nil
		}
		return []Test{{Op: x.Op.String(), Operand: w.quiet(wd), Not: not}}
	case *syntax.BinaryTest:
		if x.Op == syntax.AndTest || x.Op == syntax.OrTest {
			return append(w.testExpr(x.X, not), w.testExpr(x.Y, not)...)
		}
	case *syntax.ParenTest:
		return w.testExpr(x.X, not)
	}
	return nil
}

// quiet resolves a word already walked, without recording anything again.
func (w *walker) quiet(wd *syntax.Word) Word {
	w.dry++
	defer func() { w.dry-- }()
	return w.word(wd)
}

// endings returns the simple commands that end a statement on each path.
func (w *walker) endings(st *syntax.Stmt) ([]*Command, bool) {
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr, *syntax.DeclClause:
		if cmd := w.stmtCmd[st]; cmd != nil {
			return []*Command{cmd}, true
		}
	case *syntax.Block:
		if len(c.Stmts) > 0 {
			return w.endings(c.Stmts[len(c.Stmts)-1])
		}
	case *syntax.Subshell:
		if len(c.Stmts) > 0 {
			return w.endings(c.Stmts[len(c.Stmts)-1])
		}
	case *syntax.BinaryCmd:
		return w.endings(c.Y)
	case *syntax.CaseClause:
		var out []*Command
		complete, catchAll := true, false
		for _, item := range c.Items {
			for _, pat := range item.Patterns {
				if lit := pat.Lit(); lit == "*" {
					catchAll = true
				}
			}
			if len(item.Stmts) == 0 {
				complete = false
				continue
			}
			cmds, ok := w.endings(item.Stmts[len(item.Stmts)-1])
			out = append(out, cmds...)
			complete = complete && ok
		}
		return out, complete && catchAll
	case *syntax.IfClause:
		var out []*Command
		complete := true
		for cl := c; cl != nil; cl = cl.Else {
			if len(cl.Then) == 0 {
				complete = false
			} else {
				cmds, ok := w.endings(cl.Then[len(cl.Then)-1])
				out = append(out, cmds...)
				complete = complete && ok
			}
			if cl.Else == nil && len(cl.Cond) > 0 {
				complete = false // no else: the condition may be false
			}
		}
		return out, complete
	}
	return nil, false
}
