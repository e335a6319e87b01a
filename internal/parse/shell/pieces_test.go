package shell

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// trickyScripts are cuts a piece must not make: && and || inside quotes,
// comments, here-documents, substitutions, tests and arithmetic, line
// continuations, and chains that run in the background as a whole.
var trickyScripts = []string{
	"a && b && c <<EOF &\n$X && y\nEOF\nd && e\n",
	"#!/bin/bash\nset -eu\nA=1 && B=$A && echo \"$B && x\" || echo 'y || z' && echo $A\n",
	"a && b # c && d\ne && f\n",
	"cat <<EOF && echo after\nbody && more || less\nEOF\necho x && echo y\n",
	"x=$(a && b || c) && [[ -n $x && -f /y ]] && (( 1 && 2 )) && echo ${x:-a && b}\n",
	"echo a \\\n && echo b \\\n || echo c\necho a\\&& echo b\n",
	"a && b && c &\nd && e\n",
	"a && b && c & d && e\n",
	"! a && ! b || c\n{ a && b; } && ( c || d ) && if x; then y && z; fi\n",
	"f() { [ -z \"$X\" ] && exit 1; exec a; }\n[ -n \"$Y\" ] || f && g\nf\n",
	"case $1 in a) b && c;; *) d || e;; esac && echo done\n",
	"for i in 1 2; do a && b; done && while x && y; do z; done\n",
	"a &&\n\n  # comment && more\n  b ||\n  c\n",
	"a | b && c | d || e |& f\n",
	"coproc x && y\na && b &\n",
	"echo 'multi\nline && quote' && echo \"also\n&& this\"\n",
	"exec 2>&1 && a >> f && b &>/dev/null || c >| g\n",
	"if [[ ! -f /app/data/.init ]]; then\n  cp a b && touch c\nfi\n[ -f x ] && exec gosu cloudron:cloudron node a || exec node b\n",
	"a && \\\n\tb\n",
	"a && b ;\nc || d ;; \n",
	"a &&",
	"echo $(( 1 &&",
	"cat <<EOF > /run/f; chmod 600 /run/f\n$X\nEOF\na <<A & b <<B && c\n$Y\nA\n$Z\nB\n",
	"0() 0 && 0\ntime a && b\nx <<EOF & y & z\n$Q\nEOF\n",
}

// TestHeredocAfterSemicolon: the body of a here-document whose statement
// ends with ; or & belongs to it, though the parser reads it later.
func TestHeredocAfterSemicolon(t *testing.T) {
	s, err := Parse([]byte(trickyScripts[len(trickyScripts)-2]))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cat", "a", "b"} {
		c := find(s, name)
		if c == nil || len(c.Redirs) == 0 || c.Redirs[0].Heredoc == nil || len(c.Refs) != 1 {
			t.Errorf("%s: %+v", name, c)
		}
	}
}

// piecesCorpus is every shell script of the catalog and the tricky ones.
func piecesCorpus(t *testing.T) map[string][]byte {
	corpus := map[string][]byte{}
	for i, s := range trickyScripts {
		corpus[fmt.Sprintf("tricky%d", i)] = []byte(s)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "apps", "*", "*.sh"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "..", "apps", "*", "*", "*.sh"))
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		corpus[f] = data
	}
	return corpus
}

// samePieces parses src whole and in pieces of the given size, and
// describes how the two differ ("" when they do not).
func samePieces(src []byte, size int) string {
	whole, werr := parse(src, Options{Vars: map[string]string{"K": "v"}}, len(src)+1)
	cut, cerr := parse(src, Options{Vars: map[string]string{"K": "v"}}, size)
	if (werr == nil) != (cerr == nil) {
		return fmt.Sprintf("whole: %v, in pieces: %v", werr, cerr)
	}
	if werr != nil {
		return ""
	}
	if reflect.DeepEqual(whole, cut) {
		return ""
	}
	if len(whole.Commands) != len(cut.Commands) {
		return fmt.Sprintf("%d commands whole, %d in pieces", len(whole.Commands), len(cut.Commands))
	}
	for i := range whole.Commands {
		if !reflect.DeepEqual(whole.Commands[i], cut.Commands[i]) {
			return fmt.Sprintf("command %d:\nwhole     %+v\nin pieces %+v", i, *whole.Commands[i], *cut.Commands[i])
		}
	}
	return fmt.Sprintf("whole %+v\nin pieces %+v", *whole, *cut)
}

// TestPiecesSameModel: a script read in pieces has the very model it has
// read whole, whatever the size of the pieces.
func TestPiecesSameModel(t *testing.T) {
	for name, src := range piecesCorpus(t) {
		for _, size := range []int{1, 7, 16, 33, 64, 200, 1000} {
			if d := samePieces(src, size); d != "" {
				t.Errorf("%s, pieces of %d bytes: %s", name, size, d)
			}
		}
	}
}

// TestTooLarge: a script with more commands than cpk keeps still parses to
// its end (a syntax error is found), else it is reported as too large.
func TestTooLarge(t *testing.T) {
	big := strings.Repeat("echo a && ", MaxRecords) + "true\n"
	_, err := Parse([]byte(big))
	if e, ok := err.(*Error); !ok || !e.TooLarge || e.Pos.Line != 1 {
		t.Fatalf("err = %#v", err)
	}
	_, err = Parse([]byte(big + "if then\n"))
	if e, ok := err.(*Error); !ok || e.TooLarge || e.Pos.Line != 2 {
		t.Errorf("a syntax error after the limit: err = %#v", err)
	}
}

// TestDeepNesting: statements nested a million deep (the parser recurses
// into each level; a Go stack overflow is fatal, not a panic) are refused
// as too large, quickly, and a long pipeline or deep if stays linear.
func TestDeepNesting(t *testing.T) {
	for name, f := range map[string][2]string{
		"subst": {"$(", ")"}, "paren": {"(", ")"}, "arith": {"$((", "))"}, "brace": {"{ ", "; }"},
		"param": {"${x:-", "}"}, "if": {"if true; then ", "; fi"}, "while": {"while true; do ", "; done"},
		"for": {"for x do ", "; done"}, "time": {"time ", ""}, "pipe": {"a | ", ""},
	} {
		for _, size := range []int{100 << 10, 1 << 20} {
			n := size / (len(f[0]) + len(f[1]))
			src := strings.Repeat(f[0], n) + "x" + strings.Repeat(f[1], n) + "\n"
			_, err := Parse([]byte(src))
			if e, ok := err.(*Error); !ok || !e.TooLarge {
				t.Errorf("%s nested %d deep: %v", name, n, err)
			}
		}
	}
}
