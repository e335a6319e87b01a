package rules

import (
	"bytes"
	"errors"
	"path"
	"regexp"
	"strings"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/parse/dockerfile"
	"cpk/internal/parse/shell"
)

var shellRules = []*lint.Rule{
	{
		Code: "SH001", Title: "the start script starts with a shebang", Severity: cpk.Error,
		Doc: `CMD [ "/app/pkg/start.sh" ] executes the file directly; without a #! line
the kernel cannot run it ("exec format error") and the app never starts.

Bad:

    set -eu
    exec gosu cloudron:cloudron node /app/code/server.js

Good:

    #!/bin/bash
    set -eu
    exec gosu cloudron:cloudron node /app/code/server.js`,
		Run: checkShebang,
	},
	{
		Code: "SH002", Title: "the start script runs with bash", Severity: cpk.Warning,
		Doc: `Cloudron's examples and tooling assume bash ([[ ]], arrays, pipefail).
Under /bin/sh (dash) those fail, often only on the first-run path.

Bad:

    #!/bin/sh

Good:

    #!/bin/bash`,
		Run: checkBash,
	},
	{
		Code: "SH003", Title: "the start script stops at the first error", Severity: cpk.Warning,
		Doc: `Without set -e a failed chown, migration or config write is ignored and the
app starts half-configured. Stop at the first error (set -eu, or
set -euo pipefail) so that the platform restarts the app and the log shows
the cause.

Bad:

    #!/bin/bash
    chown -R cloudron:cloudron /app/data

Good:

    #!/bin/bash
    set -eu
    chown -R cloudron:cloudron /app/data`,
		Run: checkSetE,
	},
	{
		Code: "SH004", Title: "the start script ends by exec-ing the app", Severity: cpk.Error,
		Doc: `bash does not pass SIGTERM to its children: when Cloudron stops or updates
the app, a server started without exec gets no chance to shut down and is
killed after 10 seconds. End the script with exec, so that the server
replaces the shell as PID 1.

The rule decides from the start script's endings: its last statement, each
branch of a final if or case, the ending of a function called last, and the
endings of a package script it execs last (a wrapper). An ending is fine
when it execs; a final wait in a script with a trap that passes signals on
(trap 'kill -TERM $pid' TERM; …; wait) is fine too, and so is exit.

Bad:

    gosu cloudron:cloudron node /app/code/server.js

Good:

    exec gosu cloudron:cloudron node /app/code/server.js`,
		Run: checkLastExec,
	},
	{
		Code: "SH005", Title: "the app does not run as root", Severity: cpk.Error,
		Doc: `start.sh runs as root; the app must not. Start it as the cloudron user (or
www-data) with gosu, or hand over to supervisord, nginx or apache, whose
masters drop privileges for the processes that do the work.

The rule decides from the commands the start script ends with (followed
through functions, case branches and the wrapper scripts it execs): gosu,
su-exec, setpriv --reuid, runuser -u, chpst -u, s6-setuidgid and sudo -u
drop root; supervisord, nginx, php-fpm and apache masters may start as root.

Bad:

    exec node /app/code/server.js

Good:

    exec gosu cloudron:cloudron node /app/code/server.js`,
		Run: checkRunsAsRoot,
	},
	{
		Code: "SH006", Title: "/app/data is handed to the app user before the app starts", Severity: cpk.Warning,
		Doc: `Ownership of /app/data is not guaranteed across backup, restore and update.
With localstorage, chown it to the user the app runs as on every start.

Bad:

    mkdir -p /app/data/uploads
    exec gosu cloudron:cloudron node /app/code/server.js

Good:

    mkdir -p /app/data/uploads
    chown -R cloudron:cloudron /app/data
    exec gosu cloudron:cloudron node /app/code/server.js`,
		Run: checkChownData,
	},
	{
		Code: "SH007", Title: "the start script writes only where the app may write", Severity: cpk.Error,
		Doc: `At runtime the filesystem is read-only except /app/data (with the
localstorage addon), /run, /tmp and the manifest's runtimeDirs and
persistentDirs. Writes elsewhere (redirections, mkdir, cp, sed -i, ln, chown…)
fail, and with set -e the app never starts. Generate files into /run and link
them from the image at build time. cpk resolves paths through the script's
own assignments, the image's ENV values and the links the Dockerfile's final
stage creates (ln -s); paths built from what it cannot resolve are not
checked. The scripts the start script sources or runs are RT001's.

Bad:

    sed -i "s/PORT/8000/" /etc/nginx/sites-enabled/app.conf
    echo "$CLOUDRON_APP_ORIGIN" > /app/code/origin.txt

Good:

    # Dockerfile: RUN ln -s /run/app/origin.txt /app/code/origin.txt
    mkdir -p /run/app
    echo "$CLOUDRON_APP_ORIGIN" > /run/app/origin.txt`,
		Run: checkRuntimeWrites,
	},
	{
		Code: "SH008", Title: "addon values are not frozen into /app/data on first run", Severity: cpk.Error,
		Doc: `Addon credentials, hosts and the app's domain can change on any restart,
restore or move. A config file written into /app/data only on first run keeps
the old values and the app breaks later. Write such values on every start
(into /run, or rewrite the file in /app/data each time).

Bad:

    if [[ ! -f /app/data/.initialized ]]; then
        echo "DB_PASSWORD=${CLOUDRON_MYSQL_PASSWORD}" > /app/data/env
        touch /app/data/.initialized
    fi

Good:

    echo "DB_PASSWORD=${CLOUDRON_MYSQL_PASSWORD}" > /run/app/env`,
		Run: checkFrozenCredentials,
	},
	{
		Code: "SH009", Title: "background processes are waited for", Severity: cpk.Warning,
		Doc: `A process started with & and never waited for is nobody's child once the
script execs the app: it gets no SIGTERM, and when it dies nothing restarts
it. Run several processes under supervisord, or wait for them.

The rule decides from the start script's background jobs: each statement run
with & is one finding however many commands it holds, unless a later wait
waits for it. A ( … ) & or { …; } & of several commands that execs nothing,
loops only a bounded number of times and waits in such a loop or ends with a
program that returns (curl, touch…) is a one-off task, not a daemon.

Bad:

    node /app/code/worker.js &
    exec gosu cloudron:cloudron node /app/code/server.js

Good:

    exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon`,
		Run: checkBackground,
	},
	{
		Code: "SH010", Title: "wait loops give up after a while", Severity: cpk.Info,
		Doc: `A loop that waits for a service without a limit hangs the start for ever
when the service never comes; the app stays "starting" with nothing in the
log. Count the attempts and exit with a message.

Bad:

    until pg_isready -h "${CLOUDRON_POSTGRESQL_HOST}"; do sleep 1; done

Good:

    for i in $(seq 1 60); do pg_isready -h "${CLOUDRON_POSTGRESQL_HOST}" && break; sleep 1; done`,
		Run: checkWaitLoops,
	},
	{
		Code: "SH011", Title: "defaults are copied into /app/data without overwriting", Severity: cpk.Warning,
		Doc: `/app/data holds the user's data. Copying defaults into it on every start
overwrites what users changed. Copy once (behind a first-run check) or
without overwriting (cp -n, rsync --ignore-existing).

Bad:

    cp -r /app/pkg/defaults/. /app/data/

Good:

    cp -rn /app/pkg/defaults/. /app/data/
    [[ -f /app/data/config.yml ]] || cp /app/pkg/config.yml /app/data/config.yml`,
		Run: checkCopyOverwrites,
	},
	{
		Code: "SH012", Title: "the start script has Unix line endings", Severity: cpk.Error,
		Doc: `With Windows line endings the shebang reads "/bin/bash\r", which does not
exist ("bad interpreter"), and every command gets a stray carriage return.

Bad:

    #!/bin/bash␍␊

Good:

    #!/bin/bash␊`,
		Run: checkCRLF,
	},
	{
		Code: "SH013", Title: "the start script parses", Severity: cpk.Error,
		Doc: `A syntax error in start.sh only shows when the container starts, as an app
that keeps restarting. cpk parses the script as bash and reports the first
error. A script with more than 20,000 commands and variable references is
reported too: cpk keeps no more of one script, so it cannot check the rest.

Bad:

    if [[ ! -f /app/data/.initialized ]] then

Good:

    if [[ ! -f /app/data/.initialized ]]; then`,
		Run: checkScriptParses,
	},
}

// startFile is the script the final CMD runs.
type startFile struct {
	Rel      string // path in the package
	Image    string // path in the image ("" when found without a Dockerfile)
	Via      string // the shebangProgram named before it in CMD ("" when executed directly)
	Src      []byte
	Script   *shell.Script
	Err      error
	Fallback bool // found as start.sh without a Dockerfile CMD
}

// loadStart finds and parses the start script, or returns nil.
func loadStart(p *lint.Pass) *startFile {
	return p.Memo("rules/start-script", func() any {
		s := findStart(p)
		if s == nil {
			return (*startFile)(nil)
		}
		data, err := p.ReadFile(s.Rel)
		if err != nil {
			return (*startFile)(nil)
		}
		s.Src = data
		clean := data
		if bytes.Contains(data, []byte("\r\n")) {
			clean = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		}
		s.Script, s.Err = shell.ParseWith(clean, shell.Options{Vars: imageEnv(p)})
		return s
	}).(*startFile)
}

func findStart(p *lint.Pass) *startFile {
	df := p.Dockerfile()
	if df == nil || df.File == nil {
		if p.Exists("start.sh") {
			return &startFile{Rel: "start.sh", Fallback: true}
		}
		return nil
	}
	final := df.File.Final()
	cmd := finalCmd(final)
	if cmd == nil || len(cmd.CmdLine) == 0 {
		return nil
	}
	words := cmd.CmdLine
	if cmd.PrependShell {
		words = strings.Fields(cmd.CmdLine[0])
	}
	script := scriptOf(words)
	if script == "" {
		return nil
	}
	src, found := copiedFrom(p, final, script)
	if !found || src == "" {
		return nil
	}
	via := ""
	if len(words) > 0 && isShellProgram(words[0]) {
		via = path.Base(words[0])
	}
	return &startFile{Rel: src, Image: script, Via: via}
}

// parsedStart returns the start script when it parsed.
func parsedStart(p *lint.Pass) *startFile {
	s := loadStart(p)
	if s == nil || s.Script == nil {
		return nil
	}
	return s
}

func checkScriptParses(p *lint.Pass) {
	s := loadStart(p)
	if s == nil || s.Err == nil {
		return
	}
	var e *shell.Error
	line, col := 1, 1
	if errors.As(s.Err, &e) && e.Pos.Line > 0 {
		line, col = e.Pos.Line, e.Pos.Col
	}
	if e != nil && e.TooLarge {
		p.Reportf(s.Rel, line, col, "the start script is too large to check: %v", cleanShellErr(s.Err))
		return
	}
	p.Reportf(s.Rel, line, col, "the start script does not parse as bash: %v", cleanShellErr(s.Err))
}

func cleanShellErr(err error) string {
	var e *shell.Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return err.Error()
}

func checkCRLF(p *lint.Pass) {
	s := loadStart(p)
	if s == nil {
		return
	}
	if i := bytes.Index(s.Src, []byte("\r\n")); i >= 0 {
		line := bytes.Count(s.Src[:i], []byte("\n")) + 1
		p.Reportf(s.Rel, line, 1, "the start script has Windows line endings (CR LF): convert it to LF (dos2unix %s), or the shebang names an interpreter that does not exist", path.Base(s.Rel))
	}
}

func checkShebang(p *lint.Pass) {
	s := loadStart(p)
	if s == nil || s.Via != "" || len(s.Src) == 0 {
		if s != nil && len(s.Src) == 0 && s.Via == "" {
			p.Reportf(s.Rel, 1, 1, "the start script is empty: start it with #!/bin/bash")
		}
		return
	}
	if !bytes.HasPrefix(s.Src, []byte("#!")) {
		p.Reportf(s.Rel, 1, 1, "the start script has no #! line, so it cannot be executed: make #!/bin/bash its first line")
	}
}

// shebangProgram returns the program a shebang names (through env).
func shebangProgram(shebang string) (prog string, args []string) {
	f := strings.Fields(strings.TrimPrefix(shebang, "#!"))
	if len(f) == 0 {
		return "", nil
	}
	if path.Base(f[0]) == "env" {
		f = f[1:]
		for len(f) > 0 && strings.HasPrefix(f[0], "-") {
			f = f[1:]
		}
		if len(f) == 0 {
			return "", nil
		}
	}
	return path.Base(f[0]), f[1:]
}

func checkBash(p *lint.Pass) {
	s := loadStart(p)
	if s == nil {
		return
	}
	prog := s.Via
	if prog == "" {
		if !bytes.HasPrefix(s.Src, []byte("#!")) {
			return // SH001
		}
		sb, _, _ := bytes.Cut(s.Src, []byte("\n"))
		prog, _ = shebangProgram(strings.TrimRight(string(sb), "\r"))
	}
	if prog != "" && prog != "bash" {
		where := "its #! line names " + prog
		if s.Via != "" {
			where = "CMD runs it with " + prog
		}
		p.Reportf(s.Rel, 1, 1, "the start script is not run by bash (%s): use #!/bin/bash", where)
	}
}

func checkSetE(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	if _, args := shebangProgram(s.Script.Shebang); hasErrexit(args) {
		return
	}
	for _, c := range s.Script.Commands {
		if c.Name() == "set" && c.Func == "" && hasErrexit(wordValues(c.Args[1:])) {
			return
		}
	}
	p.Reportf(s.Rel, 1, 1, "the start script goes on after a failed command: add set -eu after the #! line")
}

func wordValues(ws []shell.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Value
	}
	return out
}

// hasErrexit reports whether set-style options turn on errexit.
func hasErrexit(args []string) bool {
	for i, a := range args {
		if a == "-o" && i+1 < len(args) && args[i+1] == "errexit" {
			return true
		}
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.Contains(a, "e") {
			return true
		}
	}
	return false
}

// ending is a command that can end the start script, found by following
// the script's functions and the package's wrapper scripts it execs.
type ending struct {
	file   string
	script *shell.Script
	cmd    *shell.Command
}

// startEndings returns the commands that can end the start script: the last
// statement, each branch of a final if or case, what a function called last
// ends with, and what a package script that is exec'd last (a wrapper) ends
// with. complete is false when some path ends in something that is not a
// simple command (a loop, an if without else…), and incomplete names the
// file and position of the first such place.
func startEndings(p *lint.Pass) (ends []ending, complete bool, incomplete ending) {
	s := parsedStart(p)
	if s == nil {
		return nil, true, ending{}
	}
	complete = true
	seen := map[string]bool{}
	var follow func(file string, sc *shell.Script, cmds []*shell.Command, ok bool, at shell.Pos, depth int)
	follow = func(file string, sc *shell.Script, cmds []*shell.Command, ok bool, at shell.Pos, depth int) {
		if !ok && complete {
			complete = false
			incomplete = ending{file: file, script: sc, cmd: &shell.Command{Pos: at}}
		}
		for _, c := range cmds {
			if name := c.Name(); name != "" && depth < 8 && !seen[file+"\x00"+name] {
				if fc, fok, isFunc := sc.FuncEndings(name); isFunc {
					seen[file+"\x00"+name] = true
					follow(file, sc, fc, fok, c.Pos, depth+1)
					continue
				}
			}
			ends = append(ends, ending{file, sc, c})
			if c.ExecArgs() == nil || depth >= 8 {
				continue
			}
			if rel, wrapped := wrapperScript(p, c); wrapped && !seen[rel] {
				seen[rel] = true
				if ws := parsedShellFile(p, rel); ws != nil && (len(ws.Last) > 0 || !ws.LastComplete) {
					follow(rel, ws, ws.Last, ws.LastComplete, ws.LastPos, depth+1)
				}
			}
		}
	}
	follow(s.Rel, s.Script, s.Script.Last, s.Script.LastComplete, s.Script.LastPos, 0)
	return ends, complete, incomplete
}

// wrapperScript returns the package's shell script that an exec runs (exec
// /app/pkg/run.sh, exec bash /app/pkg/run.sh), when it runs without
// switching user first.
func wrapperScript(p *lint.Pass, c *shell.Command) (string, bool) {
	user, prog, known := launchUser(c.ExecArgs())
	if !known || user != "" || len(prog) == 0 {
		return "", false
	}
	if isShellProgram(prog[0].Value) && len(prog) > 1 && prog[1].Known {
		prog = prog[1:]
	}
	if !prog[0].Known || !path.IsAbs(prog[0].Value) {
		return "", false
	}
	rel, ok := layout(p).byImage[path.Clean(prog[0].Value)]
	if !ok {
		return "", false
	}
	data, err := p.ReadFile(rel)
	return rel, err == nil && isShellFile(rel, data)
}

// shellBuiltins are commands exec cannot run: "exec NAME" is no fix for them.
var shellBuiltins = map[string]bool{
	"echo": true, "printf": true, "true": true, "false": true, ":": true, "cd": true, "source": true, ".": true,
	"eval": true, "set": true, "export": true, "unset": true, "shift": true, "read": true, "test": true, "[": true,
	"[[": true, "trap": true, "local": true, "declare": true, "readonly": true, "wait": true, "pushd": true, "popd": true,
}

// trapWait reports whether a script ends by waiting for its children with a
// trap that passes signals on: trap '…' TERM and a final wait.
func trapWait(sc *shell.Script, c *shell.Command) bool {
	if c.Name() != "wait" {
		return false
	}
	for _, t := range sc.Commands {
		if t.Name() == "trap" && len(t.Args) > 2 {
			return true
		}
	}
	return false
}

func checkLastExec(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	sc := s.Script
	if sc.Stmts == 0 {
		p.Reportf(s.Rel, 1, 1, "the start script starts nothing: end it with exec gosu cloudron:cloudron <server>")
		return
	}
	ends, complete, incomplete := startEndings(p)
	if !complete && len(ends) == 0 {
		p.Reportf(incomplete.file, incomplete.cmd.Pos.Line, incomplete.cmd.Pos.Col, "the start script does not end with a command: end it with exec gosu cloudron:cloudron <server>, so that the server gets SIGTERM")
		return
	}
	for _, e := range ends {
		c := e.cmd
		if c.ExecArgs() != nil || trapWait(e.script, c) {
			continue
		}
		if n := c.Name(); n == "exit" || n == "return" {
			continue // a path that gives up (exit 1 after an error message)
		}
		what := "a command"
		if len(c.Args) > 0 {
			what = c.Args[0].Text
		}
		fix := "write exec " + strings.TrimSpace(wordsText(c))
		switch n := c.Name(); {
		case n == "wait":
			fix = "exec the app instead, or pass signals on to the children first (trap 'kill -TERM \"$pid\"' TERM INT before the wait)"
		case shellBuiltins[n] || len(c.Args) == 0 || !c.Args[0].Known:
			fix = "end it with exec gosu cloudron:cloudron <the server>" // exec cannot run a builtin or function
		}
		p.Reportf(e.file, c.Pos.Line, c.Pos.Col, "the start script ends with %s without exec: bash stays PID 1 and does not pass SIGTERM on; %s", what, fix)
	}
	if !complete {
		p.Reportf(incomplete.file, incomplete.cmd.Pos.Line, incomplete.cmd.Pos.Col, "the start script can end without starting the app (an if without else, or a loop): make every path end with exec")
	}
}

func wordsText(c *shell.Command) string {
	var b []string
	for _, a := range c.Args {
		b = append(b, a.Text)
	}
	return strings.Join(b, " ")
}

// processManagers run as root by design and drop privileges for the
// processes that do the work.
var processManagers = regexp.MustCompile(`^(supervisord|nginx|apache2|apache2ctl|apachectl|httpd|php-fpm[0-9.]*|s6-svscan|runsvdir|pm2-runtime|caddy|postfix|dovecot|sshd)$`)

// launchUser unwraps user switches and init shims around a command: it returns
// the user the program runs as ("" when none is named) and the program.
func launchUser(args []shell.Word) (user string, prog []shell.Word, known bool) {
	for len(args) > 0 {
		if !args[0].Known {
			return user, args, false
		}
		name := path.Base(args[0].Value)
		rest := args[1:]
		switch name {
		case "gosu", "su-exec", "s6-setuidgid":
			if len(rest) == 0 {
				return user, nil, false
			}
			user, args = rest[0].Value, rest[1:]
			if !rest[0].Known {
				return "", nil, false
			}
			continue
		case "su":
			// su [-] [options] USER -c "command": the command is a string.
			for _, a := range rest {
				if a.Known && !strings.HasPrefix(a.Value, "-") {
					return a.Value, nil, false
				}
			}
			return user, nil, false
		case "chpst", "runuser", "sudo", "setpriv", "setuidgid":
			u, r, ok := userOption(name, rest)
			if !ok {
				return user, nil, false
			}
			if u != "" {
				user = u
			}
			args = r
			continue
		case "tini", "dumb-init", "nice", "nohup", "ionice", "stdbuf", "env", "timeout", "chrt", "taskset", "setsid":
			args = skipOptions(name, rest)
			continue
		}
		return user, args, true
	}
	return user, nil, false
}

// userOption reads the user of sudo -u, runuser -u, chpst -u, setpriv
// --reuid and returns the command after the options.
func userOption(name string, args []shell.Word) (string, []shell.Word, bool) {
	user := ""
	for i := 0; i < len(args); i++ {
		v := args[i].Value
		switch {
		case v == "--":
			return user, args[i+1:], true
		case (v == "-u" || v == "--user" || v == "--reuid") && i+1 < len(args):
			i++
			user = strings.SplitN(args[i].Value, ":", 2)[0]
		case strings.HasPrefix(v, "--reuid="):
			user = strings.TrimPrefix(v, "--reuid=")
		case strings.HasPrefix(v, "--user="):
			user = strings.TrimPrefix(v, "--user=")
		case name == "setpriv" && strings.HasPrefix(v, "--"):
		case name == "setuidgid" && i == 0:
			user = v
		case strings.HasPrefix(v, "-"):
			if name == "sudo" && (v == "-g" || v == "-C" || v == "-D") {
				i++
			}
		default:
			return user, args[i:], true
		}
	}
	return user, nil, false
}

// skipOptions drops the options (and the duration of timeout, the
// assignments of env) in front of a wrapped command.
func skipOptions(name string, args []shell.Word) []shell.Word {
	for i := 0; i < len(args); i++ {
		v := args[i].Value
		switch {
		case v == "--":
			return args[i+1:]
		case name == "env" && strings.Contains(v, "=") && !strings.HasPrefix(v, "-"):
		case name == "env" && v == "-u":
			i++
		case (name == "nice" || name == "ionice") && (v == "-n" || v == "-c"):
			i++
		case strings.HasPrefix(v, "-"):
		case name == "timeout":
			return args[i+1:]
		case name == "chrt" || name == "taskset":
			return args[i+1:]
		default:
			return args[i:]
		}
	}
	return nil
}

// realCommand returns the command that really runs: the program after exec,
// user switches and wrappers such as env, nice or timeout.
func realCommand(args []shell.Word) []shell.Word {
	for len(args) > 0 && args[0].Known {
		switch path.Base(args[0].Value) {
		case "exec":
			args = args[1:]
			for len(args) > 0 && args[0].Known && strings.HasPrefix(args[0].Value, "-") {
				if args[0].Value == "-a" && len(args) > 1 {
					args = args[1:]
				}
				args = args[1:]
			}
			continue
		case "command", "builtin", "time", "xargs":
			args = args[1:]
			for len(args) > 0 && args[0].Known && strings.HasPrefix(args[0].Value, "-") {
				args = args[1:]
			}
			continue
		case "gosu", "su-exec", "s6-setuidgid", "chpst", "runuser", "sudo", "setpriv", "setuidgid",
			"tini", "dumb-init", "nice", "nohup", "ionice", "stdbuf", "env", "timeout", "chrt", "taskset", "setsid":
			_, prog, known := launchUser(args)
			if !known {
				return nil
			}
			return prog
		}
		return args
	}
	return args
}

func checkRunsAsRoot(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	ends, _, _ := startEndings(p)
	for _, e := range ends {
		c := e.cmd
		args := c.ExecArgs()
		if args == nil {
			continue
		}
		if _, wrapped := wrapperScript(p, c); wrapped {
			continue // the wrapper's own endings are judged
		}
		user, prog, known := launchUser(args)
		if !known || len(prog) == 0 {
			continue
		}
		name := path.Base(prog[0].Value)
		switch {
		case user == "root" || user == "0" || strings.HasPrefix(user, "root:") || strings.HasPrefix(user, "0:"):
			p.Reportf(e.file, c.Pos.Line, c.Pos.Col, "the app is started as %s: use gosu cloudron:cloudron (or www-data)", user)
		case user != "":
		case processManagers.MatchString(name):
		case name == "sleep" || name == "tail":
			p.Reportf(e.file, c.Pos.Line, c.Pos.Col, "the script ends with exec %s, which keeps the container alive without running the app in front: exec the app (through gosu) or supervisord", name)
		default:
			p.Reportf(e.file, c.Pos.Line, c.Pos.Col, "exec %s runs the app as root: write exec gosu cloudron:cloudron %s (or hand over to supervisord)", name, strings.TrimSpace(wordsText(&shell.Command{Args: prog})))
		}
	}
}

// manifestFacts returns the typed manifest, or nil without one.
func manifestFacts(p *lint.Pass) *manifestFactsView {
	return p.Memo("rules/manifest-view", func() any {
		m := p.Manifest()
		if m == nil || m.Doc == nil {
			return (*manifestFactsView)(nil)
		}
		mf := *typedManifest(p)
		return &manifestFactsView{mf.Addons, mf.RuntimeDirs, mf.PersistentDirs, mf.ManifestVersion, mf.OptionalSso, mf.MultiDomain}
	}).(*manifestFactsView)
}

// manifestFactsView is what the script and environment rules need of the manifest.
type manifestFactsView struct {
	Addons          map[string]map[string]any
	RuntimeDirs     []string
	PersistentDirs  []string
	ManifestVersion int
	OptionalSso     bool
	MultiDomain     bool
}

func (m *manifestFactsView) has(addon string) bool {
	if m == nil {
		return false
	}
	_, ok := m.Addons[addon]
	return ok
}

func checkChownData(p *lint.Pass) {
	s := parsedStart(p)
	m := manifestFacts(p)
	if s == nil || !m.has("localstorage") {
		return
	}
	for _, c := range s.Script.Commands {
		args := realCommand(c.Args)
		if len(args) == 0 {
			continue
		}
		switch path.Base(args[0].Value) {
		case "chown":
			recursive, owner := false, ""
			for _, a := range args[1:] {
				v := a.Value
				switch {
				case v == "-R" || v == "--recursive" || (len(v) > 1 && v[0] == '-' && v[1] != '-' && strings.Contains(v, "R")):
					recursive = true
				case strings.HasPrefix(v, "-"):
				case owner == "":
					owner = v
					if !a.Known {
						owner = "?"
					}
				case a.Known && pathUnder(v, "/app/data") && recursive && owner != "root" && !strings.HasPrefix(owner, "root:") && owner != "0":
					return
				}
			}
		case "find":
			for _, a := range args[1:] {
				if a.Known && pathUnder(a.Value, "/app/data") {
					for _, b := range args {
						if b.Value == "chown" {
							return
						}
					}
				}
			}
		}
	}
	line, col := 1, 1
	if len(s.Script.Last) > 0 {
		line, col = s.Script.Last[0].Pos.Line, s.Script.Last[0].Pos.Col
	}
	p.Reportf(s.Rel, line, col, "/app/data is not handed to the app user: add chown -R cloudron:cloudron /app/data (or the user the app runs as) before the app starts")
}

// writeTarget is a path a command writes.
type writeTarget struct {
	shell.Word
	Verb string
}

// valueOptions are the options that take a value, per command.
var valueOptions = map[string]string{
	"mkdir": "-m --mode", "touch": "-d -t -r --date --reference", "cp": "-t -S --target-directory --suffix",
	"mv": "-t -S --target-directory --suffix", "install": "-m -o -g -t -S --mode --owner --group --target-directory",
	"ln": "-t -S --target-directory --suffix", "sed": "-e -f -l --expression --file", "tee": "",
	"truncate": "-s -r --size --reference", "rm": "", "rmdir": "", "chmod": "", "chown": "", "chgrp": "",
	"rsync": "-e --exclude --include --filter -f --chown --chmod", "tar": "-C -f -X -T --directory --file --exclude",
	"unzip": "-d -x", "curl": "-o --output --output-dir -H -d -X -u -A -e -F -T -w --data --header --user --url --retry",
	"wget": "-O -P --output-document --directory-prefix -o -a --header -U", "git": "", "openssl": "-out -in", "perl": "-e",
}

// splitOperands splits a command's arguments into splitOperands and options with their values.
func splitOperands(name string, args []shell.Word) (ops []shell.Word, opts map[string]shell.Word) {
	takes := strings.Fields(valueOptions[name])
	opts = map[string]shell.Word{}
	dashdash := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		v := a.Value
		switch {
		case dashdash || !a.Known || !strings.HasPrefix(v, "-") || v == "-":
			ops = append(ops, a)
		case v == "--":
			dashdash = true
		case strings.HasPrefix(v, "--") && strings.Contains(v, "="):
			k, val, _ := strings.Cut(v, "=")
			w := a
			w.Value, w.Prefix = val, val
			opts[k] = w
		default:
			matched := false
			for _, t := range takes {
				if v == t && i+1 < len(args) {
					i++
					opts[t] = args[i]
					matched = true
					break
				}
				// a bundle of short options ending with one that takes a value: -fsSLo file
				if len(t) == 2 && !strings.HasPrefix(v, "--") && len(v) > 2 && strings.HasSuffix(v, t[1:]) && i+1 < len(args) {
					i++
					opts[t] = args[i]
					opts[v] = shell.Word{Known: true}
					matched = true
					break
				}
			}
			if !matched {
				opts[v] = shell.Word{Known: true, Value: ""}
			}
		}
	}
	return ops, opts
}

func hasOpt(opts map[string]shell.Word, names ...string) (shell.Word, bool) {
	for _, n := range names {
		if w, ok := opts[n]; ok {
			return w, true
		}
	}
	return shell.Word{}, false
}

// shortFlag reports whether a bundle of short options (-rf) contains c.
func shortFlag(opts map[string]shell.Word, c byte) bool {
	for k := range opts {
		if len(k) > 1 && k[0] == '-' && k[1] != '-' && strings.IndexByte(k[1:], c) >= 0 {
			return true
		}
	}
	return false
}

// writeTargets lists the paths a command writes: redirections and the
// splitOperands of mkdir, cp, mv, ln, rm, touch, tee, sed -i, chmod, chown,
// tar -x -C, unzip -d, curl -o, wget -O…
func writeTargets(c *shell.Command) []writeTarget {
	var out []writeTarget
	for _, r := range c.Redirs {
		if r.Writes() {
			out = append(out, writeTarget{r.Target, "the redirection " + r.Op + " " + r.Target.Text})
		}
	}
	args := realCommand(c.Args)
	if len(args) == 0 || !args[0].Known {
		return out
	}
	name := path.Base(args[0].Value)
	if _, ok := valueOptions[name]; !ok && name != "dd" {
		return out
	}
	ops, opts := splitOperands(name, args[1:])
	add := func(ws ...shell.Word) {
		for _, w := range ws {
			out = append(out, writeTarget{w, name})
		}
	}
	switch name {
	case "mkdir", "touch", "rm", "rmdir", "tee", "truncate":
		add(ops...)
	case "cp", "mv", "install", "rsync", "ln":
		if t, ok := hasOpt(opts, "-t", "--target-directory"); ok {
			add(t)
		} else if name == "install" && shortFlag(opts, 'd') {
			add(ops...)
		} else if len(ops) >= 2 {
			add(ops[len(ops)-1])
		}
	case "chmod", "chown", "chgrp":
		if _, ok := hasOpt(opts, "--reference"); ok {
			add(ops...)
		} else if len(ops) >= 2 {
			add(ops[1:]...)
		}
	case "sed", "perl":
		inPlace := false
		for k := range opts {
			if k == "--in-place" || (len(k) > 1 && k[0] == '-' && k[1] != '-' && strings.Contains(k, "i")) {
				inPlace = true
			}
		}
		if !inPlace {
			break
		}
		if _, ok := hasOpt(opts, "-e", "-f", "--expression", "--file"); ok {
			add(ops...)
		} else if len(ops) >= 2 {
			add(ops[1:]...)
		}
	case "tar":
		extract := false
		for k := range opts {
			if k == "--extract" || k == "--get" || (len(k) > 1 && k[0] == '-' && k[1] != '-' && strings.Contains(k, "x")) {
				extract = true
			}
		}
		if len(ops) > 0 && ops[0].Known && !strings.HasPrefix(ops[0].Value, "-") && strings.Contains(ops[0].Value, "x") && len(ops[0].Value) < 8 {
			extract = true
		}
		if d, ok := hasOpt(opts, "-C", "--directory"); ok && extract {
			add(d)
		}
	case "unzip":
		if d, ok := hasOpt(opts, "-d"); ok {
			add(d)
		}
	case "curl":
		if o, ok := hasOpt(opts, "-o", "--output"); ok && o.Value != "-" {
			add(o)
		}
		if d, ok := hasOpt(opts, "--output-dir"); ok {
			add(d)
		}
	case "wget":
		if o, ok := hasOpt(opts, "-O", "--output-document"); ok && o.Value != "-" {
			add(o)
		}
		if d, ok := hasOpt(opts, "-P", "--directory-prefix"); ok {
			add(d)
		}
	case "git":
		if len(ops) >= 3 && ops[0].Value == "clone" {
			add(ops[2])
		}
	case "openssl":
		if o, ok := hasOpt(opts, "-out"); ok {
			add(o)
		}
	case "dd":
		for _, o := range ops {
			if v, ok := strings.CutPrefix(o.Value, "of="); ok && o.Known {
				w := o
				w.Value, w.Prefix = v, v
				add(w)
			}
		}
	}
	return out
}

// alwaysWritable are the paths writable in every app container.
var alwaysWritable = []string{"/run", "/tmp", "/dev", "/proc/self", "/var/run", "/var/lock"}

// dockerSymlinks maps the links the final stage creates (ln -s TARGET LINK)
// to their targets, so that writes through them land where they point.
func dockerSymlinks(p *lint.Pass) map[string]string {
	return p.Memo("rules/dockerfile-symlinks", func() any {
		out := map[string]string{}
		_, f := dockerFile(p)
		if f == nil {
			return out
		}
		stages := ancestry(f)
		for _, r := range dockerRuns(p) {
			if !stages[r.Stage] || r.Script == nil {
				continue
			}
			wd := workdirAt(&f.Stages[r.Stage], dockerfile.Line(r.Command))
			for _, c := range r.Script.Commands {
				args := realCommand(c.Args)
				if len(args) < 3 || path.Base(args[0].Value) != "ln" {
					continue
				}
				ops, opts := splitOperands("ln", args[1:])
				if !shortFlag(opts, 's') && !hasOption(opts, "--symbolic") || len(ops) != 2 || !ops[0].Known || !ops[1].Known {
					continue
				}
				target, link := ops[0].Value, ops[1].Value
				if !path.IsAbs(link) {
					link = path.Join(wd, link)
				}
				if strings.HasSuffix(ops[1].Value, "/") {
					link = path.Join(link, path.Base(target))
				}
				if path.IsAbs(target) {
					out[path.Clean(link)] = path.Clean(target)
				}
			}
		}
		return out
	}).(map[string]string)
}

func hasOption(m map[string]shell.Word, k string) bool { _, ok := m[k]; return ok }

// resolveLinks follows the Dockerfile's symlinks in a path.
func resolveLinks(links map[string]string, p string) string {
	for range 8 {
		changed := false
		for link, target := range links {
			if pathUnder(p, link) {
				p = path.Join(target, strings.TrimPrefix(p, link))
				changed = true
				break
			}
		}
		if !changed {
			break
		}
	}
	return p
}

func checkRuntimeWrites(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	reportRuntimeWrites(p, s.Rel, s.Script, "", nil)
}

// reportRuntimeWrites reports the writes of a script that runs at run time
// outside the writable places; where says how the script is reached
// (appended to the message), and at, when set, is where the findings go
// (the word of a sh -c string that holds the script).
func reportRuntimeWrites(p *lint.Pass, rel string, script *shell.Script, where string, at *shell.Pos) {
	m := manifestFacts(p)
	writable := append([]string(nil), alwaysWritable...)
	if m != nil {
		writable = append(append(writable, m.RuntimeDirs...), m.PersistentDirs...)
	}
	links := dockerSymlinks(p)
	for _, c := range script.Commands {
		for _, t := range writeTargets(c) {
			if !t.Known || !path.IsAbs(t.Value) {
				continue // relative, or built from what the script cannot resolve
			}
			target := resolveLinks(links, path.Clean(t.Value))
			if underAny(target, writable) {
				continue
			}
			if at != nil {
				t.Pos = *at
			}
			if pathUnder(target, "/app/data") {
				// Without a manifest that reads, what it declares is unknown:
				// MF001 or the manifest's own errors say why (no cascade).
				if m != nil && !m.has("localstorage") {
					p.Reportf(rel, t.Pos.Line, t.Pos.Col, "%s writes %s%s, but /app/data is writable only with the localstorage addon: declare \"localstorage\": {} in the manifest", t.Verb, target, where)
				}
				continue
			}
			via := ""
			if target != path.Clean(t.Value) {
				via = " (through the link " + t.Value + ")"
			}
			p.Reportf(rel, t.Pos.Line, t.Pos.Col, "%s writes %s%s%s, but the filesystem is read-only at runtime except /app/data, /run, /tmp, runtimeDirs and persistentDirs: generate it under /run (linked from the image at build time) or /app/data", t.Verb, target, via, where)
		}
	}
}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if d != "" && pathUnder(p, d) {
			return true
		}
	}
	return false
}

// inFirstRunBlock reports whether a command runs only when a file under /app/data
// is missing: the first-run block of if [[ ! -f /app/data/.initialized ]].
func inFirstRunBlock(c *shell.Command) bool {
	for _, g := range c.Guards {
		for _, t := range g.Tests {
			switch t.Op {
			case "-f", "-e", "-d", "-s", "-a", "-L", "-h":
			default:
				continue
			}
			if t.Not != g.Else && t.Operand.Known && pathUnder(t.Operand.Value, "/app/data") {
				return true
			}
		}
	}
	return false
}

func checkFrozenCredentials(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	for _, c := range s.Script.Commands {
		if !inFirstRunBlock(c) {
			continue
		}
		intoData := ""
		for _, t := range writeTargets(c) {
			if t.Known && pathUnder(t.Value, "/app/data") {
				intoData = t.Value
			}
		}
		if intoData == "" {
			continue
		}
		reported := map[string]bool{}
		for _, r := range c.Refs {
			if !volatileVar(r.Name) || reported[r.Name] {
				continue
			}
			reported[r.Name] = true
			p.Reportf(s.Rel, r.Pos.Line, r.Pos.Col, "$%s is written into %s only on first run, but its value can change on any restart, restore or move: write it on every start (into /run, or regenerate the file each time)", r.Name, intoData)
		}
	}
}

func checkBackground(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	var waits []shell.Pos
	for _, c := range s.Script.Commands {
		if c.Name() == "wait" {
			waits = append(waits, c.Pos)
		}
	}
	for _, job := range s.Script.Jobs {
		if len(job.Commands) == 0 || endsByItself(job) {
			continue
		}
		waited := false
		for _, w := range waits {
			if w.Line > job.Pos.Line {
				waited = true
			}
		}
		if waited {
			continue
		}
		what := ""
		for _, c := range job.Commands { // the program it runs: not sleep, true or a test
			if len(c.Args) == 0 || c.Subst {
				continue
			}
			if n := path.Base(c.Name()); what == "" || what != "" && !oneShot[n] && n != "[" && n != "[[" && n != "test" && n != ":" && oneShot[path.Base(what)] {
				what = c.Args[0].Text
			}
		}
		if what == "" {
			what = "a command"
		}
		switch job.Compound {
		case "":
		case "(":
			what = "the ( … ) job running " + what
		default:
			what = "the " + job.Compound + " job running " + what
		}
		p.Reportf(s.Rel, job.Pos.Line, job.Pos.Col, "%s runs in the background and nothing waits for it: it gets no SIGTERM and is not restarted when it dies; run the processes under supervisord", what)
	}
}

// oneShot are programs that do one thing and return.
var oneShot = map[string]bool{
	"curl": true, "wget": true, "touch": true, "echo": true, "printf": true, "rm": true, "cp": true, "mv": true,
	"chown": true, "chmod": true, "ln": true, "sed": true, "mkdir": true, "psql": true, "mysql": true,
	"redis-cli": true, "sleep": true, "true": true, "kill": true, "logger": true,
}

// endsByItself reports whether a background job is a one-off task rather
// than a daemon: a subshell or group of several commands that execs nothing,
// whose loops are all bounded, and that waits in a bounded loop or ends with
// a program that returns (( wait for the server; create the admin ) &).
func endsByItself(job *shell.Job) bool {
	if job.Compound != "(" && job.Compound != "{" {
		return false
	}
	n, looped := 0, false
	var last *shell.Command
	for _, c := range job.Commands {
		if c.Subst || len(c.Args) == 0 {
			continue
		}
		if c.Name() == "exec" {
			return false
		}
		for _, l := range c.Loops {
			if l.Kind != "for" && !l.Counted {
				return false
			}
			looped = true
		}
		n++
		last = c
	}
	if n < 2 {
		return false
	}
	if looped {
		return true
	}
	return last != nil && oneShot[path.Base(last.Name())]
}

func checkWaitLoops(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	for _, l := range s.Script.Loops {
		if l.Kind == "for" || l.Counted {
			continue
		}
		sleeps, breaks, timeout := false, false, false
		for _, c := range l.Commands {
			switch c.Name() {
			case "sleep":
				sleeps = true
			case "break", "exit", "return":
				breaks = true
			case "timeout":
				timeout = true
			}
		}
		forever := l.Cond == "true" || l.Cond == ":" || l.Cond == ""
		if !sleeps || timeout || (forever && !breaks) {
			continue
		}
		p.Reportf(s.Rel, l.Pos.Line, l.Pos.Col, "this %s loop waits without a limit: count the attempts (for i in $(seq 1 60); do …; done) and exit with a message when the service never comes", l.Kind)
	}
}

func checkCopyOverwrites(p *lint.Pass) {
	s := parsedStart(p)
	if s == nil {
		return
	}
	for _, c := range s.Script.Commands {
		if len(c.Guards) > 0 || c.Func != "" {
			continue
		}
		args := realCommand(c.Args)
		if len(args) == 0 {
			continue
		}
		name := path.Base(args[0].Value)
		if name != "cp" && name != "rsync" {
			continue
		}
		ops, opts := splitOperands(name, args[1:])
		if hasOption(opts, "--no-clobber") || hasOption(opts, "--ignore-existing") || hasOption(opts, "--update") && opts["--update"].Value == "none" || (name == "cp" && shortFlag(opts, 'n')) {
			continue
		}
		targets := writeTargets(&shell.Command{Args: args})
		if len(targets) == 0 || !targets[0].Known || !pathUnder(targets[0].Value, "/app/data") {
			continue
		}
		fromData := true
		for _, o := range ops[:len(ops)-1] {
			if !o.Known || !pathUnder(o.Value, "/app/data") {
				fromData = false
			}
		}
		if fromData {
			continue
		}
		p.Reportf(s.Rel, c.Pos.Line, c.Pos.Col, "%s into %s on every start overwrites what users changed: copy only on first run, or without overwriting (cp -n, rsync --ignore-existing)", name, targets[0].Value)
	}
}
