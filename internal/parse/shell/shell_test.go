package shell

import (
	"strings"
	"testing"

	"cpk/internal/parse/dockerfile"
)

func mustParse(t *testing.T, src string) *Script {
	t.Helper()
	s, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func find(s *Script, name string) *Command {
	for _, c := range s.Commands {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

func TestWordsResolveKnownVariables(t *testing.T) {
	s := mustParse(t, `#!/bin/bash
DATA=/app/data
if [[ -n "${X:-}" ]]; then OTHER=/x; fi
mkdir -p "${DATA}/uploads" $OTHER/y "$HOME/z" '/run/a b' /run/\ c
`)
	if s.Shebang != "#!/bin/bash" {
		t.Errorf("shebang %q", s.Shebang)
	}
	mk := find(s, "mkdir")
	if mk == nil || len(mk.Args) != 7 {
		t.Fatalf("mkdir = %+v", mk)
	}
	want := []struct {
		value, prefix string
		known         bool
	}{
		{"-p", "-p", true},
		{"/app/data/uploads", "/app/data/uploads", true},
		{"", "", false}, // OTHER was set inside an if
		{"", "", false},
		{"/run/a b", "/run/a b", true},
		{"/run/ c", "/run/ c", true},
	}
	for i, w := range want {
		a := mk.Args[i+1]
		if a.Value != w.value || a.Known != w.known || a.Prefix != w.prefix {
			t.Errorf("arg %d = %+v, want %+v", i+1, a, w)
		}
	}
	if mk.Pos != (Pos{4, 1}) || mk.Args[2].Pos != (Pos{4, 10}) {
		t.Errorf("positions %v %v", mk.Pos, mk.Args[2].Pos)
	}
}

func TestRefsDefaultsAndHeredocs(t *testing.T) {
	s := mustParse(t, `set -eu
echo "${CLOUDRON_LDAP_URL:-}" $CLOUDRON_MAIL_FROM ${#LEN}
[[ -v CLOUDRON_OIDC_ISSUER ]] && echo yes
cat > /run/app/config.json <<EOF
{ "db": "${CLOUDRON_POSTGRESQL_URL}" }
EOF
cat > /run/app/raw <<'EOF'
$NOT_A_REF
EOF
`)
	got := map[string]VarRef{}
	for _, r := range s.Refs {
		got[r.Name] = r
	}
	if r := got["CLOUDRON_LDAP_URL"]; !r.Default || r.Op != ":-" {
		t.Errorf("LDAP ref %+v", r)
	}
	if r := got["CLOUDRON_MAIL_FROM"]; r.Default || r.Pos != (Pos{2, 31}) {
		t.Errorf("MAIL_FROM ref %+v", r)
	}
	if r := got["CLOUDRON_OIDC_ISSUER"]; !r.Default || r.Op != "-v" {
		t.Errorf("-v ref %+v", r)
	}
	if r := got["CLOUDRON_POSTGRESQL_URL"]; !r.Heredoc || r.Pos.Line != 5 {
		t.Errorf("heredoc ref %+v", r)
	}
	if _, ok := got["NOT_A_REF"]; ok {
		t.Error("a quoted here-document expands nothing")
	}
	cat := find(s, "cat")
	if len(cat.Redirs) != 2 || !cat.Redirs[0].Writes() || cat.Redirs[0].Target.Value != "/run/app/config.json" {
		t.Fatalf("redirs %+v", cat.Redirs)
	}
	if h := cat.Redirs[1].Heredoc; h == nil || h.Quoted || !strings.Contains(h.Body, "CLOUDRON_POSTGRESQL_URL") {
		t.Errorf("heredoc %+v", h)
	}
	if len(cat.Refs) != 1 || cat.Refs[0].Name != "CLOUDRON_POSTGRESQL_URL" {
		t.Errorf("command refs %+v", cat.Refs)
	}
}

func TestGuards(t *testing.T) {
	s := mustParse(t, `if [[ ! -f /app/data/.initialized ]]; then
    cp -r /app/pkg/defaults/. /app/data/
elif [ -d /run/x ]; then
    a
else
    b
fi
[ -f /app/data/config ] || touch /app/data/config
`)
	cp := find(s, "cp")
	if len(cp.Guards) != 1 {
		t.Fatalf("cp guards %+v", cp.Guards)
	}
	g := cp.Guards[0]
	if g.Kind != "if" || g.Else || len(g.Tests) != 1 || g.Tests[0] != (Test{Op: "-f", Operand: g.Tests[0].Operand, Not: true}) ||
		g.Tests[0].Operand.Value != "/app/data/.initialized" {
		t.Errorf("guard %+v", g)
	}
	a := find(s, "a")
	if len(a.Guards) != 2 || !a.Guards[0].Else || a.Guards[1].Else || a.Guards[1].Tests[0].Op != "-d" {
		t.Errorf("elif guards %+v", a.Guards)
	}
	b := find(s, "b")
	if len(b.Guards) != 2 || !b.Guards[1].Else {
		t.Errorf("else guards %+v", b.Guards)
	}
	touch := find(s, "touch")
	if len(touch.Guards) != 1 || touch.Guards[0].Kind != "||" || !touch.Guards[0].Else || touch.Guards[0].Tests[0].Not {
		t.Errorf("|| guard %+v", touch.Guards)
	}
	if find(s, "[").TopLevel != false || !touch.Guards[0].Else {
		t.Error("top level")
	}
}

func TestLastCommandsAndExec(t *testing.T) {
	s := mustParse(t, `set -e
if [[ "${1:-}" == worker ]]; then
    exec gosu cloudron:cloudron /app/code/worker
else
    exec -a app gosu cloudron:cloudron /app/code/server
fi
`)
	if !s.LastComplete || len(s.Last) != 2 || s.LastPos != (Pos{2, 1}) {
		t.Fatalf("last %+v %v", s.Last, s.LastComplete)
	}
	if args := s.Last[1].ExecArgs(); len(args) != 3 || args[0].Value != "gosu" {
		t.Errorf("exec args %+v", args)
	}
	s = mustParse(t, "exec 2>&1\nwhile true; do sleep 1; done\n")
	if s.LastComplete || s.Commands[0].ExecArgs() != nil {
		t.Errorf("a loop does not end a script with a command")
	}
	s = mustParse(t, "if [ -f x ]; then exec a; fi\n")
	if s.LastComplete {
		t.Error("an if without else may fall through")
	}
}

func TestLoopsPipesBackground(t *testing.T) {
	s := mustParse(t, `until pg_isready -h "$H"; do sleep 1; done
for i in $(seq 1 30); do nc -z db 5432 && break; sleep 1; done
n=0; while ! curl -s localhost; do n=$((n+1)); [ $n -gt 30 ] && exit 1; sleep 1; done
curl -fsSL https://x/install.sh | bash
node worker.js &
`)
	if len(s.Loops) != 3 || s.Loops[0].Counted || s.Loops[0].Kind != "until" || !s.Loops[1].Counted || !s.Loops[2].Counted {
		t.Errorf("loops %+v %+v %+v", s.Loops[0], s.Loops[1], s.Loops[2])
	}
	if s.Loops[0].Cond != `pg_isready -h "$H"` || len(s.Loops[0].Commands) != 2 {
		t.Errorf("loop 0 %+v", s.Loops[0])
	}
	curl := s.Commands[len(s.Commands)-3]
	if curl.Name() != "curl" || curl.Next == nil || curl.Next.Name() != "bash" {
		t.Errorf("pipe %+v", curl)
	}
	if node := find(s, "node"); !node.Background {
		t.Error("background")
	}
}

func TestDeclAndCompoundRedirects(t *testing.T) {
	s := mustParse(t, `export DIR=/run/app
{ echo a; echo b; } > "$DIR/out"
> /app/code/truncated
`)
	var compound, bare *Command
	for _, c := range s.Commands {
		if c.Compound == "{" {
			compound = c
		}
		if len(c.Args) == 0 && len(c.Redirs) == 1 && c.Compound == "" {
			bare = c
		}
	}
	if compound == nil || compound.Redirs[0].Target.Value != "/run/app/out" {
		t.Errorf("compound %+v", compound)
	}
	if bare == nil || bare.Redirs[0].Target.Value != "/app/code/truncated" {
		t.Errorf("bare %+v", bare)
	}
	if e := find(s, "export"); e == nil || len(e.Assigns) != 1 || e.Assigns[0].Name != "DIR" {
		t.Errorf("export %+v", e)
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := Parse([]byte("echo ok\nif then fi\n"))
	e, ok := err.(*Error)
	if !ok || e.Pos.Line != 2 {
		t.Fatalf("err = %#v", err)
	}
}

func TestDockerfileRuns(t *testing.T) {
	src := "FROM cloudron/base:5.0.0\nARG VERSION=1.2.3\nENV DATA=/app/data\n" +
		"RUN --mount=type=cache,target=/root/.npm curl -fsSL -o /tmp/x.tgz https://e.com/x-${VERSION}.tgz \\\n" +
		"    # a comment BuildKit drops\n\n" +
		"    && mkdir -p $DATA/x\n" +
		"RUN <<EOF\nset -e\necho $V > /app/data/y\nEOF\n" +
		"RUN [\"touch\", \"/app/data/z\"]\n"
	f, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	runs := Runs([]byte(src), f)
	if len(runs) != 3 {
		t.Fatalf("runs %d", len(runs))
	}
	for _, r := range runs {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	curl := find(runs[0].Script, "curl")
	if curl == nil || curl.Pos != (Pos{4, 42}) || curl.Args[4].Value != "https://e.com/x-1.2.3.tgz" {
		t.Errorf("curl %+v", curl)
	}
	mk := find(runs[0].Script, "mkdir")
	if mk == nil || mk.Pos.Line != 7 || mk.Args[2].Value != "/app/data/x" {
		t.Errorf("mkdir %+v", mk)
	}
	echo := find(runs[1].Script, "echo")
	if echo == nil || echo.Pos.Line != 10 || echo.Redirs[0].Target.Value != "/app/data/y" {
		t.Errorf("heredoc RUN %+v", echo)
	}
	touch := find(runs[2].Script, "touch")
	if touch == nil || touch.Pos.Line != 12 || touch.Args[1].Value != "/app/data/z" {
		t.Errorf("exec-form RUN %+v", touch)
	}
}

// TestDockerfileRunsExpandArgs: ARG and ENV values that refer to earlier
// ones are known too (the UPSTREAM_URL convention); what only the build
// knows stays unknown.
func TestDockerfileRunsExpandArgs(t *testing.T) {
	src := "ARG BASE=https://e.com\nFROM cloudron/base:5.0.0\nARG BASE\nARG VERSION=1.2.3\n" +
		"ARG URL=${BASE}/v${VERSION}/x-$VERSION.tgz\nARG LATER\nARG OTHER=${LATER}/y\nARG DEF=${NOPE:-z}\nENV HOME_URL=$URL\n" +
		"RUN curl -o /tmp/x \"${URL}\" && curl \"$OTHER\" && echo \"$DEF\" && echo \"$HOME_URL\"\n"
	f, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	runs := Runs([]byte(src), f)
	want := map[string]string{"BASE": "https://e.com", "VERSION": "1.2.3", "URL": "https://e.com/v1.2.3/x-1.2.3.tgz", "HOME_URL": "https://e.com/v1.2.3/x-1.2.3.tgz"}
	for k, v := range want {
		if runs[0].Vars[k] != v {
			t.Errorf("%s = %q, want %q", k, runs[0].Vars[k], v)
		}
	}
	for _, k := range []string{"LATER", "OTHER", "DEF"} {
		if v, ok := runs[0].Vars[k]; ok {
			t.Errorf("%s is known (%q): only the build knows it", k, v)
		}
	}
	if c := find(runs[0].Script, "curl"); c == nil || !c.Args[3].Known || c.Args[3].Value != want["URL"] {
		t.Errorf("curl %+v", c)
	}
}

// TestLongChain: a long && chain parses (no recursion that input can
// exhaust), and each command's guard is the whole chain on its left, also
// when the chain is read in pieces. n commands and n references stay under
// MaxRecords.
func TestLongChain(t *testing.T) {
	n := 9000
	if testing.Short() {
		n = 2000
	}
	src := "#!/bin/sh\n" + strings.Repeat("test -n \"$A\" && ", n) + "echo done || exit 1\n"
	s, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var last *Command
	for _, c := range s.Commands {
		if c.Name() == "echo" {
			last = c
		}
	}
	if last == nil || len(last.Guards) != 1 {
		t.Fatalf("echo's guards: %+v", last)
	}
	g := last.Guards[0]
	if g.Kind != "&&" || len(g.Tests) != n || !strings.HasSuffix(g.Text, `test -n "$A"`) || strings.Count(g.Text, "&&") != n-1 {
		t.Errorf("guard: kind %s, %d tests, %d bytes of text", g.Kind, len(g.Tests), len(g.Text))
	}
	short := "#!/bin/sh\n" + strings.Repeat("test -n \"$A\" && ", 300) + "echo done || exit 1\n"
	if d := samePieces([]byte(short), 100); d != "" { // (comparing guards costs the square of the length)
		t.Errorf("in pieces: %s", d)
	}
}
