package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/manifest"
	"cpk/internal/parse/dockerfile"
	"cpk/internal/parse/nginx"
	"cpk/internal/parse/shell"
)

// The RT family judges what the package does at run time, reading its files
// together: the start script and every script it sources or runs (and those
// supervisor programs run), the Dockerfile's final stage, the process
// configurations and the manifest, against the read-only root and what the
// platform provides.
var runtimeRules = []*lint.Rule{
	{
		Code: "RT001", Title: "scripts the start script runs write only where the app may write", Severity: cpk.Error,
		Doc: `SH007 checks the start script itself; the scripts it sources (source, .)
or runs (by path, through bash or sh, gosu or exec), the scripts
supervisor programs and the manifest's scheduler tasks run, and the scripts
given inline to bash -c, sh -c or
su -c face the same read-only root. cpk follows them
through the Dockerfile's COPY and ADD to the package's files and reads every
write: redirections and here-documents, mkdir, touch, cp, mv, install, ln,
tee, sed -i, chmod, chown, tar -C, curl -o… Paths resolve through the
script's own assignments and through the links the image creates (a
Dockerfile "ln -s /app/data/x /app/code/x" makes /app/code/x writable).
Writable are /app/data (with localstorage), /run, /tmp and the manifest's
runtimeDirs and persistentDirs.

Bad:

    # start.sh
    source /app/pkg/env.sh
    # env.sh
    echo "APP_URL=${CLOUDRON_APP_ORIGIN}" > /app/code/.env

Good:

    # Dockerfile: RUN ln -s /run/app/env /app/code/.env
    # env.sh
    echo "APP_URL=${CLOUDRON_APP_ORIGIN}" > /run/app/env`,
		Run: checkHelperWrites,
	},
	{
		Code: "RT002", Title: "servers do not keep their stock log and temp paths", Severity: cpk.Error,
		Doc: `The stock configurations of Debian's servers write below /var, which is
read-only at run time, and the servers stop when they cannot open those
files: nginx's temp folders (/var/lib/nginx) and logs (/var/log/nginx),
Apache's ErrorLog (/var/log/apache2), php-fpm's error_log
(/var/log/php*-fpm.log). cpk decides from where the package starts the
server (start script, supervisor program, CMD) and whether the package
replaces the stock configuration: its own configuration files, a RUN that
rewrites the settings or relinks the folders into /run, or a configuration
the start script writes and passes with -c. (With the package's own nginx
configuration, NG003 and NG005 check the paths.)

Bad:

    RUN apt-get install -y php8.1-fpm
    # supervisor: command=/usr/sbin/php-fpm8.1 -F

Good:

    RUN sed -e 's,^error_log.*,error_log = /dev/stderr,' -i /etc/php/8.1/fpm/php-fpm.conf
    # supervisor: command=/usr/sbin/php-fpm8.1 -F`,
		Run: checkStockServers,
	},
	{
		Code: "RT003", Title: "memory flags fit the manifest's memoryLimit", Severity: cpk.Error,
		Doc: `The platform gives the app memoryLimit bytes (default and floor 256 MB), RAM
and swap together, and kills it when it uses more. A Java heap (-Xmx, -Xms)
or a Node heap (--max-old-space-size) set above that limit is never
available: the app is killed once the heap grows, typically under load.
cpk reads the flags in the start script and the scripts it runs, supervisor
programs (command and environment) and the Dockerfile's ENV and CMD, and
compares each with memoryLimit.

Bad:

    "memoryLimit": 536870912
    exec gosu cloudron:cloudron java -Xmx2g -jar /app/code/app.jar

Good:

    "memoryLimit": 2684354560
    exec gosu cloudron:cloudron java -Xmx2g -jar /app/code/app.jar`,
		Run: checkMemoryFlags,
	},
	{
		Code: "RT004", Title: "programs run as users that can be switched to", Severity: cpk.Error,
		Doc: `A program can run as another user only when that user exists in the image
and the process that switches is root. supervisord started as a non-root
user (gosu cloudron supervisord, or [supervisord] user=cloudron) cannot
start a program as anyone else ("Can't drop privilege as nonroot user"),
and gosu, su-exec, runuser or supervisor's user= fail for a user the image
never creates. cpk knows the Cloudron base image's users (root, cloudron,
www-data, nobody and Debian's system users) and counts a user as created
when the Dockerfile names it in a RUN (useradd, adduser, or a package that
creates it); numeric ids always work.

Bad:

    [program:worker]
    command=/app/code/worker
    user=app            # no RUN creates "app"

Good:

    [program:worker]
    command=/app/code/worker
    user=cloudron`,
		Run: checkSwitchUsers,
	},
	{
		Code: "RT005", Title: "the app listens where the platform or nginx sends requests", Severity: cpk.Error,
		Doc: `The platform sends every request and the health check to httpPort. When no
web server of the package sits in front (NG002 checks nginx), the app
itself must listen there. cpk reads the listen settings the package gives
the app (--port, --bind host:port, --listen, PORT=… in the start script,
supervisor programs, ENV and CMD) and reports when they all name another
port and httpPort appears nowhere in the package's files. With nginx in
front, the local ports it proxies to (proxy_pass http://127.0.0.1:PORT) are
held against the same listen settings.

Bad:

    "httpPort": 8000
    exec gosu cloudron:cloudron gunicorn --bind 0.0.0.0:5000 app:app

Good:

    "httpPort": 8000
    exec gosu cloudron:cloudron gunicorn --bind 0.0.0.0:8000 app:app`,
		Run: checkAppPort,
	},
	{
		Code: "RT006", Title: "files the scripts use are in the image", Severity: cpk.Error,
		Doc: `A start script (or a script it runs) that sources, runs, copies or reads a
file below /app that the image never receives fails at run time. cpk takes
the absolute paths below /app (not /app/data) that the scripts name, and
reports those that no COPY or ADD of the final stage brings, no RUN
creates or names (nor a folder they lie in, nor its WORKDIR), no link of the
image provides, and the scripts neither create nor test for first.

Bad:

    COPY start.sh /app/pkg/
    # start.sh: cp /app/pkg/config.yml.default /app/data/config.yml

Good:

    COPY start.sh config.yml.default /app/pkg/`,
		Run: checkMissingFiles,
	},
	{
		Code: "RT007", Title: "CMD and ENTRYPOINT run the start script the package ships", Severity: cpk.Error,
		Doc: `A package that copies a start.sh into the image means it to run: it hands
/app/data to the app user and writes the configuration from the platform's
variables. A CMD that starts something else, or an ENTRYPOINT that receives
the start script only as its arguments, skips all of it. cpk decides from
the final stage's CMD and ENTRYPOINT, the start.sh files it copies, and
whether a wrapper the CMD runs (a package script, or a supervisor program)
calls the start script; tini and dumb-init as ENTRYPOINT pass it on.

Bad:

    COPY start.sh /app/pkg/
    CMD [ "node", "/app/code/server.js" ]

Good:

    COPY start.sh /app/pkg/
    CMD [ "/app/pkg/start.sh" ]`,
		Run: checkCmdBypass,
	},
	{
		Code: "RT008", Title: "scripts under set -u read only variables the manifest provides", Severity: cpk.Error,
		Doc: `Under set -u (set -eu, set -o nounset) reading an unset variable stops the
script with "unbound variable", and the app does not start. Some addon
variables exist only with an addon option (CLOUDRON_MAIL_FROM_DISPLAY_NAME
needs supportsDisplayName, CLOUDRON_MYSQL_URL is gone with
multipleDatabases, CLOUDRON_ALIAS_DOMAINS needs multiDomain), and some may
be absent (optional sendmail, recvmail, ldap or oidc under optionalSso, a
tcpPorts variable the user disabled). cpk reads the start script and the
scripts it sources or runs, and reports bare reads of such variables under
set -u that no default (${X:-}) or test of the variable guards. (Variables
of an addon the manifest does not declare at all are XF002's.)

Bad:

    set -eu
    export MAIL_FROM_NAME="${CLOUDRON_MAIL_FROM_DISPLAY_NAME}"   ("sendmail": {})

Good:

    set -eu
    export MAIL_FROM_NAME="${CLOUDRON_MAIL_FROM_DISPLAY_NAME:-App}"`,
		Run: checkNounsetVars,
	},
	{
		Code: "RT009", Title: "no default admin credentials in the image's ENV", Severity: cpk.Error,
		Doc: `An admin password set with ENV in the image is the same on every
installation and readable by anyone who pulls the image: each new install
starts with a known login. cpk reads the ENV instructions of the final
stage (and the stages it is built from) for admin, root, superuser, owner,
initial or default passwords, secrets and tokens with a literal value, a
placeholder such as changeme included. (Other literal secrets are SEC003's.)
Generate the password on first start and keep it in /app/data, or use the
platform's login (oidc, ldap).

Bad:

    ENV ADMIN_USER=admin ADMIN_PASSWORD=changeme

Good:

    # start.sh, first run:
    openssl rand -hex 16 > /app/data/admin-password`,
		Run: checkAdminEnv,
	},
	{
		Code: "RT010", Title: "files under /run/cloudron are ones the package creates", Severity: cpk.Error,
		Doc: `The platform creates nothing below /run/cloudron: /run is an empty volume on
every start. A path there that the package's scripts do not create (with
mkdir, a redirection, cp…) does not exist at run time. cpk reads the files
that reach the image (scripts, configurations, the Dockerfile) for such
paths and the run-time scripts for what creates them. The platform's
values come as environment variables (CLOUDRON_*), its certificates as
/etc/certs/tls_*.pem (tls addon).

Bad:

    DB_PASSWORD=$(cat /run/cloudron/postgresql_password)

Good:

    DB_PASSWORD="${CLOUDRON_POSTGRESQL_PASSWORD}"`,
		Run: checkRunCloudron,
	},
	{
		Code: "RT011", Title: "the configuration supervisord starts with has a [supervisord] section", Severity: cpk.Error,
		Doc: `supervisord refuses to start (".ini file does not include supervisord
section") when the file given with -c (--configuration) has no
[supervisord] section, which is also where its log and pid file are moved
to /run. cpk reads the -c file the package ships; one that includes
others ([include]) or is written at start (under /run or /tmp) is not
judged. Without -c, supervisord uses the stock /etc/supervisor/supervisord.conf
(SV002 checks its log).

Bad:

    exec /usr/bin/supervisord --nodaemon -c /app/pkg/supervisor.conf
    # supervisor.conf: only [program:app]

Good:

    # supervisor.conf
    [supervisord]
    nodaemon=true
    logfile=/run/supervisord.log
    pidfile=/run/supervisord.pid

    [program:app]
    …`,
		Run: checkSupervisordSectionShipped,
	},
	{
		Code: "RT012", Title: "worker counts fit the manifest's memoryLimit", Severity: cpk.Warning,
		Doc: `Each worker of a pre-forking server holds its own copy of the app: a Python
or Ruby web worker rarely needs less than 64 MB. Workers × 64 MB above
memoryLimit (RAM and swap together) get the app killed under load. cpk reads
the worker counts given to gunicorn, uvicorn and puma (--workers, -w) and
WEB_CONCURRENCY in the start script and the scripts it runs, supervisor
programs and the Dockerfile's ENV and CMD; counts computed at start are not
judged.

Bad:

    "memoryLimit": 268435456
    exec gosu cloudron:cloudron gunicorn --workers 8 app.wsgi

Good:

    "memoryLimit": 1073741824
    exec gosu cloudron:cloudron gunicorn --workers 8 app.wsgi`,
		Run: checkWorkerCounts,
	},
}

// runScript is a shell script that runs in the app container: the start
// script, a script it sources or runs, or one a supervisor program runs.
type runScript struct {
	rel, image string
	script     *shell.Script
	via        string // how it is reached: "" for the start script
	sourced    bool   // sourced into the start script (it shares its options)
	parent     *runScript
}

const maxRunScripts = 32

// runScripts returns the start script and the package scripts that run at
// run time, in the order they are found.
func runScripts(p *lint.Pass) []*runScript {
	return p.Memo("rt:scripts", func() any {
		start := parsedStart(p)
		if start == nil {
			return []*runScript(nil)
		}
		l := layout(p)
		out := []*runScript{{rel: start.Rel, image: start.Image, script: start.Script}}
		seen := map[string]bool{start.Rel: true}
		add := func(image, via string, sourced bool, parent *runScript) {
			rel := l.byImage[path.Clean(image)]
			if rel == "" || seen[rel] || len(out) >= maxRunScripts {
				return
			}
			data, err := p.ReadFile(rel)
			if err != nil || len(data) > maxScanned || !isShellFile(rel, data) {
				return
			}
			sc := parsedShellFile(p, rel)
			if sc == nil {
				return
			}
			seen[rel] = true
			out = append(out, &runScript{rel: rel, image: path.Clean(image), script: sc, via: via, sourced: sourced, parent: parent})
		}
		for i := 0; i < len(out); i++ {
			rs := out[i]
			for _, c := range rs.script.Commands {
				if w, sourced, ok := calledScript(c); ok {
					verb := "run by "
					if sourced {
						verb = "sourced by "
					}
					add(w.Value, verb+path.Base(rs.rel), sourced, rs)
				}
			}
			if i == 0 {
				for _, job := range scheduledCommands(p) {
					for _, cmd := range commandsIn(commandWords(job[1])) {
						if s := scriptWord(cmd); s != "" {
							add(s, "run by the scheduler task "+job[0], false, nil)
						}
					}
				}
				for _, prog := range supervisorPrograms(p) {
					k := prog.section.Get("command")
					if k == nil {
						continue
					}
					_, name := prog.section.Kind()
					for _, cmd := range commandsIn(commandWords(k.Value)) {
						if s := scriptWord(cmd); s != "" {
							add(s, "run by the supervisor program "+name, false, nil)
						}
					}
				}
			}
		}
		return out
	}).([]*runScript)
}

// scheduledCommands returns the manifest's scheduler tasks (name, command):
// they run in containers of the app's image, on the same read-only root.
func scheduledCommands(p *lint.Pass) [][2]string {
	m, _ := manifestDoc(p)
	if m == nil {
		return nil
	}
	sched := m.Doc.Lookup("/addons/scheduler")
	if sched == nil || sched.Kind != manifest.ObjectValue {
		return nil
	}
	var out [][2]string
	for _, mem := range sched.Members {
		if c := mem.Value.Get("command"); c != nil && c.Kind == manifest.StringValue {
			out = append(out, [2]string{mem.Key, c.Str})
		}
	}
	return out
}

// calledScript returns the absolute script a command sources or runs.
func calledScript(c *shell.Command) (shell.Word, bool, bool) {
	args := realCommand(c.Args)
	if len(args) == 0 || !args[0].Known {
		return shell.Word{}, false, false
	}
	name := path.Base(args[0].Value)
	switch name {
	case "source", ".":
		if len(args) > 1 && args[1].Known && path.IsAbs(args[1].Value) {
			return args[1], true, true
		}
		return shell.Word{}, false, false
	case "bash", "sh", "dash":
		for _, a := range args[1:] {
			if !a.Known || a.Value == "-c" {
				return shell.Word{}, false, false
			}
			if !strings.HasPrefix(a.Value, "-") {
				return a, false, path.IsAbs(a.Value)
			}
		}
		return shell.Word{}, false, false
	}
	return args[0], false, path.IsAbs(args[0].Value)
}

// scriptWord returns the absolute script a supervisor command runs ("" when none).
func scriptWord(cmd []string) string {
	i := programOf(cmd)
	if i < 0 {
		return ""
	}
	prog := cmd[i]
	if b := path.Base(prog); b == "bash" || b == "sh" || b == "dash" {
		for _, a := range cmd[i+1:] {
			if a == "-c" {
				return ""
			}
			if !strings.HasPrefix(a, "-") {
				prog = a
				break
			}
		}
	}
	if !path.IsAbs(prog) {
		return ""
	}
	return prog
}

func checkHelperWrites(p *lint.Pass) {
	for _, rs := range runScripts(p) {
		if rs.via != "" { // the start script itself is SH007's
			reportRuntimeWrites(p, rs.rel, rs.script, " ("+rs.via+")", nil)
		}
		for _, c := range rs.script.Commands {
			w, ok := inlineScript(c)
			if !ok {
				continue
			}
			inner, err := shell.ParseWith([]byte(w.Value), shell.Options{Vars: imageEnv(p)})
			if err != nil {
				continue
			}
			pos := w.Pos
			reportRuntimeWrites(p, rs.rel, inner, " (in the -c script of "+c.Args[0].Text+")", &pos)
		}
	}
}

// inlineScript returns the script string a command runs with -c: bash -c,
// sh -c, su … -c (behind exec, gosu, env…).
func inlineScript(c *shell.Command) (shell.Word, bool) {
	shellSeen := false
	for i, a := range c.Args {
		if !a.Known {
			return shell.Word{}, false
		}
		switch path.Base(a.Value) {
		case "bash", "sh", "dash", "su":
			shellSeen = true
		case "-c":
			if shellSeen && i+1 < len(c.Args) && c.Args[i+1].Known {
				return c.Args[i+1], true
			}
			return shell.Word{}, false
		}
	}
	return shell.Word{}, false
}

// --- RT002: stock server configurations -------------------------------

// serverLaunch is a place that starts a program: a line of a run-time
// script, a supervisor program or the CMD.
type serverLaunch struct {
	file      string
	line, col int
	prog      string   // the program's base name
	args      []string // the words after it
	before    []string // the words before it (exec gosu cloudron …)
}

// serverLaunches finds where the package starts programs whose base name
// matches re.
func serverLaunches(p *lint.Pass, re *regexp.Regexp) []serverLaunch {
	var out []serverLaunch
	for _, l := range allLaunches(p) {
		if re.MatchString(l.prog) {
			out = append(out, l)
		}
	}
	return out
}

// allLaunches lists every simple command of the run-time scripts,
// supervisor programs and the CMD, with the program it runs (computed once
// per pass).
func allLaunches(p *lint.Pass) []serverLaunch {
	return p.Memo("rt:launches", func() any {
		var out []serverLaunch
		add := func(words []string, file string, line, col int) {
			for _, cmd := range commandsIn(words) {
				if i := programOf(cmd); i >= 0 {
					out = append(out, serverLaunch{file, line, col, path.Base(cmd[i]), cmd[i+1:], cmd[:i]})
				}
			}
		}
		for _, rs := range runScripts(p) {
			for _, c := range rs.script.Commands {
				if c.Subst || len(c.Args) == 0 {
					continue
				}
				words := make([]string, len(c.Args))
				for i, a := range c.Args {
					words[i] = a.Value
				}
				add(words, rs.rel, c.Pos.Line, c.Pos.Col)
			}
		}
		for _, prog := range supervisorPrograms(p) {
			if k := prog.section.Get("command"); k != nil {
				add(commandWords(k.Value), prog.file, k.ValueLine, k.ValueCol)
			}
		}
		l := layout(p)
		if df := p.Dockerfile(); df != nil && len(l.cmd) > 0 {
			add(l.cmd, df.Name, l.cmdLine, 0)
		}
		return out
	}).([]serverLaunch)
}

var (
	nginxProgram       = regexp.MustCompile(`^nginx$`)
	apacheProgram      = regexp.MustCompile(`^(apache2|apache2ctl|apachectl|httpd)$`)
	fpmProgram         = regexp.MustCompile(`^php-fpm[0-9.]*$`)
	supervisordProgram = regexp.MustCompile(`^supervisord$`)
)

// runText is the text of the RUN commands of every stage, and of the
// run-time scripts.
func runTexts(p *lint.Pass) (runs, scripts string) {
	t := p.Memo("rt:texts", func() any {
		r, s := joinRunTexts(p)
		return [2]string{r, s}
	}).([2]string)
	return t[0], t[1]
}

func joinRunTexts(p *lint.Pass) (runs, scripts string) {
	var b strings.Builder
	for _, r := range layout(p).allRuns {
		b.WriteString(r.text)
		b.WriteByte('\n')
	}
	var s strings.Builder
	for _, rs := range runScripts(p) {
		if text, ok := packageText(p, rs.rel); ok {
			s.WriteString(text)
			s.WriteByte('\n')
		}
	}
	return b.String(), s.String()
}

// generatedConfig reports whether a -c (or -y) argument names a file the
// image does not hold from the package: a configuration written at start.
func configArg(args []string, flags ...string) (string, bool) {
	for i, a := range args {
		for _, f := range flags {
			if a == f && i+1 < len(args) {
				return args[i+1], true
			}
			if v, ok := strings.CutPrefix(a, f+"="); ok && strings.HasPrefix(f, "--") {
				return v, true
			}
		}
	}
	return "", false
}

func checkStockServers(p *lint.Pass) {
	l := layout(p)
	runs, scripts := runTexts(p)
	reported := map[string]bool{}
	report := func(s serverLaunch, format string, args ...any) {
		if reported[s.prog] {
			return
		}
		reported[s.prog] = true
		p.Reportf(s.file, s.line, s.col, format, args...)
	}
	// nginx on the stock configuration.
	ng := nginxConfig(p)
	if len(ng.roots) == 0 && !ng.tempRelinked && len(ng.runSets) == 0 && !strings.Contains(scripts, "_temp_path") {
		for _, s := range serverLaunches(p, nginxProgram) {
			if slices.ContainsFunc(s.args, func(a string) bool { return a == "-t" || a == "-T" || a == "-s" || a == "-v" || a == "-V" }) {
				continue
			}
			if c, ok := configArg(s.args, "-c"); ok && c != "/etc/nginx/nginx.conf" {
				continue // a configuration written at start, or one cpk cannot see
			}
			report(s, "nginx runs on the stock configuration: its temp folders (/var/lib/nginx) and logs (/var/log/nginx) are on the read-only filesystem, so nginx does not start, and it serves the default site on port 80; ship a site with temp paths under /run (client_body_temp_path /run/nginx/client_body; …) and logs to /dev/stdout")
		}
	}
	// Apache's stock ErrorLog.
	apacheOwn := false
	for img := range l.byImage {
		if img == "/etc/apache2/apache2.conf" || img == "/etc/apache2/envvars" {
			apacheOwn = true
		}
	}
	if launches := serverLaunches(p, apacheProgram); len(launches) > 0 && !apacheOwn && !strings.Contains(runs, "ErrorLog") && !strings.Contains(runs, "APACHE_LOG_DIR") && !relinks(runs, "/var/log/apache2") &&
		!strings.Contains(scripts, "APACHE_LOG_DIR") && !imageEnvSets(p, "APACHE_LOG_DIR") && !imageTextMatches(p, goodErrorLog) {
		for _, s := range launches {
			if c, ok := configArg(s.args, "-f"); ok && c != "/etc/apache2/apache2.conf" {
				continue
			}
			if slices.ContainsFunc(s.args, func(a string) bool { return a == "-t" || a == "-v" || a == "-V" || a == "configtest" }) {
				continue
			}
			report(s, "Apache runs with the stock ErrorLog ${APACHE_LOG_DIR}/error.log, on the read-only filesystem, so it does not start: rewrite it in the Dockerfile (RUN sed -e 's,^ErrorLog.*,ErrorLog \"|/bin/cat\",' -i /etc/apache2/apache2.conf)")
		}
	}
	// php-fpm's stock error_log.
	fpmOwn := false
	for img := range l.byImage {
		if strings.HasPrefix(img, "/etc/php/") && strings.HasSuffix(img, "/fpm/php-fpm.conf") {
			fpmOwn = true
		}
	}
	if launches := serverLaunches(p, fpmProgram); len(launches) > 0 && !fpmOwn && !strings.Contains(runs, "error_log") && !relinks(runs, "/var/log") && !strings.Contains(scripts, "error_log") && !imageTextMatches(p, goodFpmLog) {
		for _, s := range launches {
			if _, ok := configArg(s.args, "-y", "--fpm-config"); ok {
				continue
			}
			if slices.ContainsFunc(s.args, func(a string) bool { return a == "-t" || a == "-v" || a == "-i" || a == "-m" }) {
				continue
			}
			report(s, "%s runs with the stock error_log in /var/log, on the read-only filesystem, so it does not start: set error_log = /dev/stderr in php-fpm.conf (RUN sed -e 's,^error_log.*,error_log = /dev/stderr,' -i /etc/php/*/fpm/php-fpm.conf)", s.prog)
		}
	}
}

var (
	goodErrorLog = regexp.MustCompile(`(?mi)^\s*ErrorLog\s+["']?(\||/dev/std|/proc/self/fd/|/run/|/tmp/|syslog)`)
	goodFpmLog   = regexp.MustCompile(`(?m)^\s*(?:php_admin_value\[)?error_log\]?\s*=\s*["']?(/dev/std|/proc/self/fd/|/run/|/tmp/|syslog)`)
)

// imageTextMatches reports whether a text file of the package that reaches
// the image matches re.
func imageTextMatches(p *lint.Pass, re *regexp.Regexp) bool {
	for _, rel := range p.Files() {
		if !inImage(p, rel) || isDockerfile(p, rel) || rel == lint.ManifestFile {
			continue
		}
		if text, ok := packageText(p, rel); ok && re.MatchString(text) {
			return true
		}
	}
	return false
}

// imageEnvSets reports whether an ENV of the final stage sets name.
func imageEnvSets(p *lint.Pass, name string) bool {
	_, ok := envLines(p)[name]
	return ok
}

// envLines returns the line of the last ENV instruction that sets each name
// in the final stage and the stages it is built from (the values are
// imageEnv's).
func envLines(p *lint.Pass) map[string]int {
	return p.Memo("rt:env-lines", func() any {
		out := map[string]int{}
		_, f := dockerFile(p)
		if f == nil {
			return out
		}
		stages := ancestry(f)
		for i := range f.Stages {
			if !stages[i] {
				continue
			}
			for _, c := range f.Stages[i].Commands {
				if e, ok := c.(*instructions.EnvCommand); ok {
					for _, kv := range e.Env {
						out[kv.Key] = dockerfile.Line(e)
					}
				}
			}
		}
		return out
	}).(map[string]int)
}

// envValues returns the image's ENV values (imageEnv) with the line that
// sets each, in name order.
func envValues(p *lint.Pass) []envValue {
	env, lines := imageEnv(p), envLines(p)
	var out []envValue
	for _, name := range sortedKeys(env) {
		out = append(out, envValue{name, env[name], lines[name]})
	}
	return out
}

type envValue struct {
	name, value string
	line        int
}

// --- RT003: memory flags ------------------------------------------------

var memoryFlag = regexp.MustCompile(`(?:^|[\s"'=,])(-Xm[xs](\d+)([kKmMgGtT]?)|--max[-_]old[-_]space[-_]size[= ](\d+))(?:$|[\s"',;])`)

// memoryLimitBytes returns the manifest's memoryLimit in bytes (256 MB when
// unset or below the floor); ok is false without a manifest or when the
// limit is unlimited or unreadable.
func memoryLimitBytes(p *lint.Pass) (float64, bool) {
	_, mf := manifestDoc(p)
	if mf == nil {
		return 0, false
	}
	switch v := mf.MemoryLimit.(type) {
	case nil:
		return minMemory, true
	case float64:
		if v < 0 {
			return 0, false
		}
		return max(v, minMemory), true
	case string:
		mm := memoryString.FindStringSubmatch(strings.TrimSpace(v))
		if mm == nil {
			return 0, false
		}
		n, _ := strconv.ParseFloat(mm[1], 64)
		unit := map[string]float64{"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}[strings.ToLower(mm[2])]
		return max(n*unit, minMemory), true
	}
	return 0, false
}

// flagBytes returns the bytes a memory flag asks for.
func flagBytes(m []string) float64 {
	if m[4] != "" { // --max-old-space-size, in MB
		n, _ := strconv.ParseFloat(m[4], 64)
		return n * (1 << 20)
	}
	n, _ := strconv.ParseFloat(m[2], 64)
	switch strings.ToLower(m[3]) {
	case "k":
		n *= 1 << 10
	case "m":
		n *= 1 << 20
	case "g":
		n *= 1 << 30
	case "t":
		n *= 1 << 40
	}
	return n
}

func mb(b float64) string { return strconv.FormatFloat(b/(1<<20), 'f', 0, 64) + " MB" }

func checkMemoryFlags(p *lint.Pass) {
	limit, ok := memoryLimitBytes(p)
	if !ok {
		return
	}
	scan := func(file string, line, col int, text string) {
		if !strings.Contains(text, "-Xm") && !strings.Contains(text, "old") {
			return
		}
		for _, m := range memoryFlag.FindAllStringSubmatchIndex(text, -1) {
			sub := make([]string, 5)
			for i := range sub {
				if m[2*i] >= 0 {
					sub[i] = text[m[2*i]:m[2*i+1]]
				}
			}
			if n := flagBytes(sub); n > limit {
				c := col
				if c > 0 {
					c += m[2]
				}
				p.Reportf(file, line, c, "%s asks for %s of heap, but the manifest's memoryLimit gives the app %s (RAM and swap together), so it is killed once the heap grows: lower the flag below the limit, or raise memoryLimit", sub[1], mb(n), mb(limit))
			}
		}
	}
	for _, rs := range runScripts(p) {
		text, ok := packageText(p, rs.rel)
		if !ok {
			continue
		}
		if !strings.Contains(text, "-Xm") && !strings.Contains(text, "old") {
			continue
		}
		lines, _ := fileScriptLines(p, rs.rel)
		for _, sl := range lines {
			for _, m := range memoryFlag.FindAllStringIndex(sl.text, -1) {
				line, col := sl.at(m[0])
				scan(rs.rel, line, col, sl.text[m[0]:m[1]])
			}
		}
	}
	for _, prog := range supervisorPrograms(p) {
		for _, key := range []string{"command", "environment"} {
			if k := prog.section.Get(key); k != nil {
				scan(prog.file, k.ValueLine, k.ValueCol, k.Value)
			}
		}
	}
	df := p.Dockerfile()
	if df == nil {
		return
	}
	for _, e := range envValues(p) {
		scan(df.Name, e.line, 0, e.value)
	}
	if l := layout(p); len(l.cmd) > 0 {
		scan(df.Name, l.cmdLine, 0, strings.Join(l.cmd, " "))
	}
}

// --- RT004: users a program switches to ---------------------------------

// imageUsers are the users and groups of the Cloudron base image.
var imageUsers = map[string]bool{}

func init() {
	for _, u := range strings.Fields(`root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc
		gnats nobody nogroup _apt cloudron messagebus syslog systemd-network systemd-resolve systemd-timesync
		adm tty disk kmem dialout fax voice cdrom floppy tape sudo audio dip operator src shadow utmp video sasl
		plugdev staff users input render netdev crontab ssl-cert`) {
		imageUsers[u] = true
	}
}

// createdUser reports whether the image has a user (or group): a base image
// user, a numeric id, or a name a RUN of the Dockerfile mentions.
func createdUser(p *lint.Pass, name string) bool {
	if name == "" || imageUsers[name] || strings.Trim(name, "0123456789") == "" || strings.ContainsAny(name, "$%{") {
		return true
	}
	if layout(p).inImage("/etc/passwd") {
		return true
	}
	runs, _ := runTexts(p)
	return containsWord(runs, name)
}

// containsWord reports whether word stands in text between characters that
// are not letters, digits or _.
func containsWord(text, word string) bool { return hasWord(text, word, "", "") }

// hasWord reports whether word stands in text with no name character right
// before it (a letter, a digit, _ or a byte of before) nor right after it
// (the same, with after). It works on any bytes: a name from hostile input
// need not be valid UTF-8, which a regular expression refuses.
func hasWord(text, word, before, after string) bool {
	for i := 0; word != ""; {
		k := strings.Index(text[i:], word)
		if k < 0 {
			return false
		}
		start, end := i+k, i+k+len(word)
		if (start == 0 || !isNameByte(text[start-1]) && strings.IndexByte(before, text[start-1]) < 0) &&
			(end == len(text) || !isNameByte(text[end]) && strings.IndexByte(after, text[end]) < 0) {
			return true
		}
		i = start + 1
	}
	return false
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// switchUser returns the user[:group] a command's words switch to ("" when none).
func switchUser(words []string) string {
	for i, w := range words {
		switch path.Base(w) {
		case "gosu", "su-exec", "s6-setuidgid", "setuidgid":
			if i+1 < len(words) {
				return words[i+1]
			}
		case "chpst", "runuser", "sudo":
			if v, ok := flagValue(words[i+1:], "-u", "--user"); ok {
				return v
			}
		case "setpriv":
			u, _ := flagValue(words[i+1:], "", "--reuid")
			g, _ := flagValue(words[i+1:], "", "--regid")
			if u != "" && g != "" {
				return u + ":" + g
			}
			return u
		}
	}
	return ""
}

func checkSwitchUsers(p *lint.Pass) {
	type use struct {
		file      string
		line, col int
		user      string
		what      string
	}
	var uses []use
	for _, rs := range runScripts(p) {
		for _, c := range rs.script.Commands {
			words := make([]string, 0, len(c.Args))
			for _, a := range c.Args {
				if !a.Known {
					break
				}
				words = append(words, a.Value)
			}
			if u := switchUser(words); u != "" {
				uses = append(uses, use{rs.rel, c.Pos.Line, c.Pos.Col, u, words[0]})
			}
		}
	}
	// supervisord run as a non-root user cannot switch its programs.
	superUser := ""
	var superAt use
	for _, l := range serverLaunches(p, supervisordProgram) {
		if u := switchUser(l.before); u != "" {
			superUser, superAt = u, use{file: l.file, line: l.line, col: l.col}
		}
	}
	if rel, s := supervisordSection(p); s != nil {
		if k := s.Get("user"); k != nil {
			superUser, superAt = k.Value, use{file: rel, line: k.ValueLine, col: k.ValueCol}
		}
	}
	superUser, _, _ = strings.Cut(superUser, ":")
	for _, prog := range supervisorPrograms(p) {
		_, name := prog.section.Kind()
		if k := prog.section.Get("user"); k != nil {
			if superUser != "" && superUser != "root" && superUser != "0" && k.Value != superUser {
				p.Reportf(prog.file, k.ValueLine, k.ValueCol, "program %s asks for user %s, but supervisord runs as %s (%s:%d) and cannot switch users: start supervisord as root and let user= drop privileges", name, k.Value, superUser, superAt.file, superAt.line)
				continue
			}
			uses = append(uses, use{prog.file, k.ValueLine, k.ValueCol, k.Value, "program " + name + " (user=)"})
		}
		if k := prog.section.Get("command"); k != nil {
			for _, cmd := range commandsIn(commandWords(k.Value)) {
				if u := switchUser(cmd); u != "" {
					uses = append(uses, use{prog.file, k.ValueLine, k.ValueCol, u, "program " + name})
				}
			}
		}
	}
	for _, u := range uses {
		user, group, _ := strings.Cut(u.user, ":")
		for _, n := range []string{user, group} {
			if !createdUser(p, n) {
				p.Reportf(u.file, u.line, u.col, "%s switches to %s, but the image has no user or group %q: the Cloudron base image has cloudron and www-data; create it in the Dockerfile (RUN useradd --system %s) or use cloudron", u.what, u.user, n, n)
				break
			}
		}
	}
}

// --- RT005: the port the app listens on ---------------------------------

var (
	listenFlag = regexp.MustCompile(`(?:^|\s)(?:--port|--http-port|--listen-port|--server-port|--server\.port|-Dserver\.port|--httpPort)(?:=|\s+)["']?(\d{2,5})\b`)
	bindFlag   = regexp.MustCompile(`(?:^|\s)(?:--bind|--listen|-b|--address|--addr|--http-addr|--host-port)(?:=|\s+)["']?(?:[A-Za-z0-9.*\[\]:-]*):(\d{2,5})\b`)
	portAssign = regexp.MustCompile(`(?:^|[\s,"'])(?:PORT|HTTP_PORT|APP_PORT|SERVER_PORT|LISTEN_PORT|WEB_PORT)\s*=\s*["']?(\d{2,5})\b`)
)

// listenPorts finds the ports a text gives the app: the offset of each
// match and its port.
func listenPorts(text string) [][2]int {
	if !mayListen(text) {
		return nil // no flag, no assignment: skip the regular expressions
	}
	var out [][2]int
	for _, re := range []*regexp.Regexp{listenFlag, bindFlag, portAssign} {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			n, _ := strconv.Atoi(text[m[2]:m[3]])
			out = append(out, [2]int{m[2], n})
		}
	}
	return out
}

// mayListen reports whether a text may hold a listen setting.
func mayListen(text string) bool {
	for _, w := range []string{"port", "PORT", "Port", "bind", "listen", "addr", "-b"} {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

func checkAppPort(p *lint.Pass) {
	_, mf := manifestDoc(p)
	if mf == nil || mf.HTTPPort <= 0 {
		return
	}
	type at struct {
		file      string
		line, col int
		port      int
	}
	var found []at
	for _, rs := range runScripts(p) {
		text, ok := packageText(p, rs.rel)
		if !ok || !mayListen(text) {
			continue
		}
		lines, _ := fileScriptLines(p, rs.rel)
		for _, sl := range lines {
			for _, m := range listenPorts(sl.text) {
				line, col := sl.at(m[0])
				found = append(found, at{rs.rel, line, col, m[1]})
			}
		}
	}
	for _, prog := range supervisorPrograms(p) {
		for _, key := range []string{"command", "environment"} {
			if k := prog.section.Get(key); k != nil {
				for _, m := range listenPorts(k.Value) {
					found = append(found, at{prog.file, k.ValueLine, k.ValueCol, m[1]})
				}
			}
		}
	}
	df := p.Dockerfile()
	if df != nil {
		for _, e := range envValues(p) {
			for _, m := range listenPorts(e.name + "=" + e.value) {
				found = append(found, at{df.Name, e.line, 0, m[1]})
			}
		}
		if l := layout(p); len(l.cmd) > 0 {
			for _, m := range listenPorts(strings.Join(l.cmd, " ")) {
				found = append(found, at{df.Name, l.cmdLine, 0, m[1]})
			}
		}
	}
	if len(found) == 0 {
		return
	}
	var ports []string
	for _, f := range found {
		ports = append(ports, strconv.Itoa(f.port))
	}
	slices.Sort(ports)
	ports = slices.Compact(ports)
	listened := func(port int) bool {
		return slices.ContainsFunc(found, func(f at) bool { return f.port == port })
	}
	ng := nginxConfig(p)
	if len(ng.roots) > 0 {
		// nginx in front (NG002 checks its listen): the local ports it
		// proxies to must be ones the app listens on.
		ng.walk(func(d *nginx.Directive, _ []*nginx.Directive, _ *nginxRoot) {
			if d.Name != "proxy_pass" {
				return
			}
			m := localProxy.FindStringSubmatch(d.Arg(0))
			if m == nil {
				return
			}
			port, _ := strconv.Atoi(m[1])
			if port == mf.HTTPPort || listened(port) || portNamed(p, port, true) {
				return
			}
			ng.reportAt(p, d, 0, "nginx proxies to port %d, but the app is told to listen on %s and no other file of the package names %d: requests fail with 502; proxy to the app's port (or make the app listen on %d)", port, strings.Join(ports, ", "), port, port)
		})
		return
	}
	if listened(mf.HTTPPort) || portNamed(p, mf.HTTPPort, false) {
		return
	}
	f := found[0]
	p.Reportf(f.file, f.line, f.col, "the app is told to listen on %s, but the manifest's httpPort is %d, where the platform sends every request and the health check, and no file of the package names %d: listen on %d (or change httpPort)", strings.Join(ports, ", "), mf.HTTPPort, mf.HTTPPort, mf.HTTPPort)
}

var localProxy = regexp.MustCompile(`^https?://(?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0):(\d+)(?:/|$)`)

// portNamed reports whether a port number appears in what reaches the image
// (a proxy, a configuration the app reads): something may listen there.
// The manifest, documents and tests do not count, nor nginx's files when
// skipNginx is set.
func portNamed(p *lint.Pass, port int, skipNginx bool) bool {
	num := regexp.MustCompile(`(^|[^0-9.])` + strconv.Itoa(port) + `($|[^0-9])`)
	for _, rel := range p.Files() {
		if rel == lint.ManifestFile || strings.HasSuffix(rel, ".md") || strings.HasPrefix(rel, "test/") || !scannedFile(rel) && !isShellName(p, rel) && !sniffable(rel) {
			continue
		}
		if skipNginx && configKind(p, rel) == "nginx" {
			continue
		}
		if text, ok := packageText(p, rel); ok && num.MatchString(text) {
			return true
		}
	}
	return false
}

func isShellName(p *lint.Pass, rel string) bool {
	data, err := p.ReadFile(rel)
	return err == nil && isShellFile(rel, data)
}

// --- RT006: files the scripts use ----------------------------------------

// appPath reports whether an image path is one the package must provide:
// below /app, outside /app/data.
func appPath(v string) bool {
	return strings.HasPrefix(v, "/app/") && !pathUnder(v, "/app/data") && !strings.ContainsAny(v, "*?[{$`")
}

func checkMissingFiles(p *lint.Pass) {
	scripts := runScripts(p)
	if len(scripts) == 0 {
		return
	}
	l := layout(p)
	links := dockerSymlinks(p)
	m := manifestFacts(p)
	var writable []string
	if m != nil {
		writable = append(append(writable, m.RuntimeDirs...), m.PersistentDirs...)
	}
	// What the scripts create or test for.
	made := map[string]bool{}
	var madeDirs []string
	for _, rs := range scripts {
		for _, c := range rs.script.Commands {
			for _, t := range writeTargets(c) {
				if t.Known {
					made[path.Clean(t.Value)] = true
					madeDirs = append(madeDirs, path.Clean(t.Value))
				}
			}
			for _, g := range c.Guards {
				for _, t := range g.Tests {
					if t.Operand.Known {
						made[path.Clean(t.Operand.Value)] = true
					}
				}
			}
		}
	}
	// Folders of the image: every parent of a copied file.
	dirs := p.Memo("rt:image-dirs", func() any {
		out := map[string]bool{}
		for img := range l.byImage {
			for d := path.Dir(img); d != "/" && !out[d]; d = path.Dir(d) {
				out[d] = true
			}
		}
		return out
	}).(map[string]bool)
	// The top folders below /app that the image fills from the package: a
	// file of a folder filled in a way cpk cannot see (no COPY into it) is
	// not judged.
	filled := func(v string) bool {
		parts := strings.SplitN(v, "/", 4) // "", "app", top, rest
		if len(parts) < 3 {
			return false
		}
		top := "/app/" + parts[2]
		for img := range l.byImage {
			if pathUnder(img, top) {
				return true
			}
		}
		return false
	}
	provided := func(v string) bool {
		if !filled(v) || made[v] || dirs[v] || l.inImage(v) || underAny(v, writable) || underAny(v, madeDirs) {
			return true
		}
		for link := range links {
			if pathUnder(v, link) {
				return true
			}
		}
		return builtInImage(p, v)
	}
	reported := map[string]bool{}
	for _, rs := range scripts {
		for _, c := range rs.script.Commands {
			var prog shell.Pos
			if args := realCommand(c.Args); len(args) > 0 {
				prog = args[0].Pos
			}
			var words []shell.Word
			words = append(words, c.Args...)
			for _, r := range c.Redirs {
				if r.Op == "<" {
					words = append(words, r.Target)
				}
			}
			for _, w := range words {
				if !w.Known {
					continue
				}
				v := w.Value
				if i := strings.Index(v, "="); i > 0 && strings.HasPrefix(v, "-") {
					v = v[i+1:]
				}
				if !appPath(v) || w.Pos == prog && pathUnder(v, "/app/code") {
					continue // the app's own programs come in ways cpk does not always see
				}
				v = path.Clean(v)
				if reported[v] || provided(v) {
					continue
				}
				reported[v] = true
				p.Reportf(rs.rel, w.Pos.Line, w.Pos.Col, "%s uses %s, but the image never receives it: no COPY or ADD of the final stage brings it, no RUN creates it and no script writes it first; copy it in (or fix the path)", path.Base(rs.rel), v)
			}
		}
	}
}

// --- RT007: CMD and ENTRYPOINT bypass the start script ------------------

func checkCmdBypass(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	l := layout(p)
	var starts []string // image paths of the package's start.sh (beside the Dockerfile)
	for _, c := range l.copies {
		if path.Base(c.src) == "start.sh" && path.Dir(c.src) == path.Dir(df.Name) {
			starts = append(starts, c.dest)
		}
	}
	if len(starts) == 0 {
		return
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	runsStart := func(words []string) bool {
		for _, w := range words {
			for _, s := range starts {
				if path.Clean(w) == s || strings.Contains(w, s) {
					return true // run directly, or in a sh -c string
				}
			}
		}
		// a package script that runs it (or passes on its arguments)
		for _, w := range words {
			if !path.IsAbs(w) {
				continue
			}
			rel := l.byImage[path.Clean(w)]
			if rel == "" {
				continue
			}
			if text, ok := packageText(p, rel); ok {
				for _, s := range starts {
					if strings.Contains(text, s) || strings.Contains(text, path.Base(s)) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, prog := range supervisorPrograms(p) {
		if k := prog.section.Get("command"); k != nil && runsStart(commandWords(k.Value)) {
			return
		}
	}
	stages := ancestry(f)
	var entry *instructions.EntrypointCommand
	for i := range f.Stages {
		if !stages[i] {
			continue
		}
		for _, c := range f.Stages[i].Commands {
			if e, ok := c.(*instructions.EntrypointCommand); ok {
				entry = e
			}
		}
	}
	if entry != nil && len(entry.CmdLine) > 0 {
		words := entry.CmdLine
		if entry.PrependShell {
			words = commandWords(entry.CmdLine[0])
		}
		i := programOf(words)
		passes := false
		switch path.Base(words[0]) {
		case "tini", "tini-static", "dumb-init", "catatonit":
			passes = true
		}
		if i >= 0 {
			if rel := l.byImage[path.Clean(words[i])]; rel != "" {
				if text, ok := packageText(p, rel); ok && (strings.Contains(text, `"$@"`) || strings.Contains(text, `$@`)) {
					passes = true
				}
			}
		}
		if !passes && !runsStart(words) && len(l.cmd) > 0 {
			line := dockerfile.Line(entry)
			p.Reportf(df.Name, line, colOf(p, line, "ENTRYPOINT"), "ENTRYPOINT runs %s, which gets the CMD only as its arguments, so the package's start script (%s) does not run as the container's process: remove the ENTRYPOINT", strings.Join(words, " "), starts[0])
			return
		}
	}
	if len(l.cmd) == 0 || runsStart(l.cmd) {
		return // PK002 reports a missing CMD
	}
	p.Reportf(df.Name, l.cmdLine, colOf(p, l.cmdLine, "CMD"), "CMD runs %s, so the start script the package copies to %s never runs (nothing hands /app/data to the app user or writes the configuration): CMD [ \"%s\" ]", strings.Join(l.cmd, " "), starts[0], starts[0])
}

// --- RT008: set -u and variables the manifest may not provide -----------

// nounsetLines returns the line from which set -u is in effect in a script
// (0 when never), and the line it is turned off again (0 when never).
func nounsetFrom(sc *shell.Script) (on, off int) {
	if _, args := shebangProgram(sc.Shebang); hasShortFlag(args, 'u', '-') {
		on = 1
	}
	for _, c := range sc.Commands {
		if c.Name() != "set" || c.Func != "" || len(c.Guards) > 0 {
			continue
		}
		args := wordValues(c.Args[1:])
		for i, a := range args {
			switch {
			case a == "-o" && i+1 < len(args) && args[i+1] == "nounset", hasShortFlag([]string{a}, 'u', '-'):
				if on == 0 {
					on = c.Pos.Line
				}
			case a == "+o" && i+1 < len(args) && args[i+1] == "nounset", hasShortFlag([]string{a}, 'u', '+'):
				if on != 0 && off == 0 {
					off = c.Pos.Line
				}
			}
		}
	}
	return on, off
}

func hasShortFlag(args []string, c rune, sign byte) bool {
	for _, a := range args {
		if len(a) > 1 && a[0] == sign && a[1] != sign && strings.ContainsRune(a[1:], c) {
			return true
		}
	}
	return false
}

// unsetReads returns the positions of the reads RT008 reports, with why.
func unsetReads(p *lint.Pass) map[string]string {
	return p.Memo("rt:unset-reads", func() any {
		out := map[string]string{}
		m := manifestFacts(p)
		rep := p.Manifest()
		if m == nil || rep == nil || rep.Doc == nil {
			return out
		}
		_, mf := manifestDoc(p)
		if mf == nil {
			return out
		}
		ports := map[string]bool{}
		for k := range mf.TCPPorts {
			ports[k] = true
		}
		for k := range mf.UDPPorts {
			ports[k] = true
		}
		defined := loadEnvFacts(p).Defined
		startOn := 0
		for _, rs := range runScripts(p) {
			on, off := nounsetFrom(rs.script)
			if rs.via == "" {
				startOn = on
			}
			if rs.sourced && on == 0 && startOn != 0 {
				on = 1 // sourced after set -u: the option holds
			}
			if on == 0 {
				continue
			}
			for _, r := range rs.script.Refs {
				if r.Default || r.Pos.Line < on || off != 0 && r.Pos.Line >= off || defined[r.Name] || guardedRef(r) {
					continue
				}
				if g := optionalGroup(m, ports, r.Name); g != "" && (guardedBy(r, m, ports, g) ||
					afterEarlyExit(rs.script, r, func(name string) bool { return optionalGroup(m, ports, name) == g })) {
					continue // inside a test of another variable of its group, or past an exit when it is empty
				}
				why := ""
				if v, ok := platformEnv[r.Name]; ok {
					switch {
					case v.Addon == "" && v.Option == "multiDomain" && !m.MultiDomain:
						why = "it is set only with \"multiDomain\": true"
					case v.Addon != "" && v.Option != "" && m.has(v.Addon) && !addonOption(m.Addons[v.Addon], v.Option):
						why = fmt.Sprintf("it is set only with the %s addon's option %q", v.Addon, v.Option)
					case v.NotWith != "" && m.has(v.Addon) && addonOption(m.Addons[v.Addon], v.NotWith):
						why = fmt.Sprintf("the %s addon with %q does not set it", v.Addon, v.NotWith)
					}
				}
				if why == "" && (platformEnvHas(r.Name) || ports[r.Name] || ports[strings.TrimSuffix(r.Name, "_COUNT")]) {
					switch g := optionalGroup(m, ports, r.Name); {
					case g == "sendmail":
						why = "sendmail is optional, so the variable is absent when the admin turns mail off"
					case g == "recvmail":
						why = "the admin can disable recvmail, which removes the variable"
					case g == "ldap" || g == "oidc":
						why = "with optionalSso the app can be installed without SSO, without the " + g + " variables"
					case strings.HasPrefix(g, "port:"):
						why = "the user can disable the port, which removes the variable"
					}
				}
				if why != "" {
					out[fmt.Sprintf("%s:%d:%d", rs.rel, r.Pos.Line, r.Pos.Col)] = r.Name + "\x00" + why
				}
			}
		}
		return out
	}).(map[string]string)
}

func platformEnvHas(name string) bool { _, ok := platformEnv[name]; return ok }

// guardedRef reports whether a reference sits in a condition that reads the
// same variable ([[ -n "${X:-}" ]] && use "$X").
func guardedRef(r shell.VarRef) bool {
	for _, g := range r.Guards {
		for _, gr := range g.Refs {
			if gr.Name == r.Name {
				return true
			}
		}
	}
	return false
}

// unsetReadAt reports whether RT008 reports the read at a position (the
// warnings of XF004 and XF006 leave it to RT008 then).
func unsetReadAt(p *lint.Pass, file string, line, col int) bool {
	_, ok := unsetReads(p)[fmt.Sprintf("%s:%d:%d", file, line, col)]
	return ok
}

func checkNounsetVars(p *lint.Pass) {
	reads := unsetReads(p)
	for _, key := range sortedKeys(reads) {
		name, why, _ := strings.Cut(reads[key], "\x00")
		parts := strings.Split(key, ":")
		col, _ := strconv.Atoi(parts[len(parts)-1])
		line, _ := strconv.Atoi(parts[len(parts)-2])
		file := strings.Join(parts[:len(parts)-2], ":")
		p.Reportf(file, line, col, "$%s is read under set -u, but %s: the script stops with \"unbound variable\" and the app does not start; read it as ${%s:-} (or test it first)", name, why, name)
	}
}

// --- RT009: default admin credentials in ENV ----------------------------

var adminSecretName = regexp.MustCompile(`(?i)(^|_)(ADMIN|ADMINISTRATOR|ROOT|SUPERUSER|SUPER_USER|OWNER|INITIAL|INIT|DEFAULT|BOOTSTRAP|FIRST)(_[A-Z0-9]+)*_(PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN)$`)

func checkAdminEnv(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	stages := ancestry(f)
	for i := range f.Stages {
		if !stages[i] {
			continue
		}
		for _, c := range f.Stages[i].Commands {
			e, ok := c.(*instructions.EnvCommand)
			if !ok {
				continue
			}
			for _, kv := range e.Env {
				v := strings.Trim(strings.TrimSpace(kv.Value), `"'`)
				if !adminSecretName.MatchString(kv.Key) || v == "" || referenceValue(v) {
					continue
				}
				if sensitiveName.MatchString(kv.Key) && !placeholderValue(v) && len(v) >= 4 {
					continue // SEC003 reports the literal secret
				}
				line := dockerfile.Line(e)
				p.Reportf(df.Name, line, colOf(p, line, kv.Key), "ENV %s=%s gives every installation the same admin login, readable from the image: generate the password on first start (into /app/data) or use the platform's login (oidc, ldap)", kv.Key, v)
			}
		}
	}
}

// --- RT010: /run/cloudron -----------------------------------------------

var runCloudronPath = regexp.MustCompile(`/run/cloudron(?:/[A-Za-z0-9._/-]*)?(?:$|[^A-Za-z0-9._-])`)

func checkRunCloudron(p *lint.Pass) {
	// What the run-time scripts create there.
	var made []string
	for _, rs := range runScripts(p) {
		for _, c := range rs.script.Commands {
			for _, t := range writeTargets(c) {
				if t.Known && pathUnder(t.Value, "/run/cloudron") {
					made = append(made, path.Clean(t.Value))
				}
			}
		}
	}
	l := layout(p)
	files := []string{}
	if df := p.Dockerfile(); df != nil {
		files = append(files, df.Name)
	}
	for _, rs := range runScripts(p) {
		files = append(files, rs.rel)
	}
	for f := range l.byFile {
		files = append(files, f)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	for _, rel := range files {
		text, ok := packageText(p, rel)
		if !ok || !strings.Contains(text, "/run/cloudron") {
			continue
		}
		for n, line := range strings.Split(text, "\n") {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") || strings.HasPrefix(t, "//") {
				continue
			}
			if i := strings.Index(line, " # "); i >= 0 {
				line = line[:i] // a trailing comment
			}
			for _, loc := range runCloudronPath.FindAllStringIndex(line, -1) {
				v := strings.TrimRightFunc(line[loc[0]:loc[1]], func(r rune) bool { return !strings.ContainsRune("/._-", r) && !isIdentByte(byte(r)) })
				v = path.Clean(v)
				if v == "/run/cloudron" && len(made) > 0 || slices.ContainsFunc(made, func(m string) bool { return pathUnder(v, m) || pathUnder(m, v) }) {
					continue
				}
				p.Reportf(rel, n+1, runeCol(line, loc[0]), "%s: the platform creates nothing below /run/cloudron and no script of the package creates it, so it does not exist at run time; take the value from the platform's variables (CLOUDRON_*) or create the file at start", v)
			}
		}
	}
}

// builtInImage reports whether a RUN of the Dockerfile plausibly creates an
// image path below /app: it names the path, its file name or a folder it lies
// in below its top folder (/app/code, /app/pkg…); it runs in a WORKDIR inside
// that top folder; or a command other than mkdir, chown or chmod names the
// top folder (tar -C /app/code, git clone … /app/code, cp -r … /app/pkg).
func builtInImage(p *lint.Pass, v string) bool {
	parts := strings.SplitN(v, "/", 4)
	if len(parts) < 3 {
		return true
	}
	top := "/app/" + parts[2]
	l := layout(p)
	base := path.Base(v)
	for _, r := range l.allRuns {
		if strings.Contains(r.text, v) || hasWord(r.text, base, ".-", "-") || pathUnder(r.workdir, top) {
			return true
		}
		for dir := path.Dir(v); dir != top && pathUnder(dir, top); dir = path.Dir(dir) {
			if strings.Contains(r.text, dir) {
				return true
			}
		}
	}
	for _, r := range dockerRuns(p) {
		if r.Script == nil {
			continue
		}
		for _, c := range r.Script.Commands {
			switch path.Base(c.Name()) {
			case "mkdir", "chown", "chmod", "chgrp", "ln", "rm", "touch", "test", "[", "[[", "echo", "":
				continue
			}
			for _, a := range c.Args[1:] {
				if pathUnder(a.Prefix, top) || a.Known && pathUnder(a.Value, top) {
					return true
				}
			}
		}
	}
	return false
}

// --- RT011: the -c file of supervisord ----------------------------------

func checkSupervisordSectionShipped(p *lint.Pass) {
	l := layout(p)
	for _, launch := range serverLaunches(p, supervisordProgram) {
		conf, ok := flagValue(launch.args, "-c", "--configuration")
		if !ok || strings.ContainsAny(conf, "$%") {
			continue
		}
		rel := l.byImage[path.Clean(conf)]
		if rel == "" {
			continue // the stock file, one written at start, or one cpk cannot see
		}
		for _, c := range supervisorConfigs(p) {
			if c.rel != rel || c.file == nil {
				continue
			}
			if c.file.Section("supervisord") == nil && c.file.Section("include") == nil {
				p.Reportf(launch.file, launch.line, launch.col, "supervisord starts with %s (%s), which has no [supervisord] section: supervisord refuses to start (\".ini file does not include supervisord section\"); add [supervisord] with nodaemon=true, logfile=/run/supervisord.log and pidfile=/run/supervisord.pid", conf, rel)
			}
		}
	}
}

// --- RT012: worker counts -------------------------------------------------

const workerMemory = 64 << 20 // the least a Python or Ruby web worker needs

var (
	workerServer = regexp.MustCompile(`(?:^|[\s/])(gunicorn|uvicorn|puma|hypercorn)(?:$|\s)`)
	workerFlag   = regexp.MustCompile(`(?:^|\s)(?:--workers|-w)(?:=|\s+)["']?(\d+)\b`)
	concurrency  = regexp.MustCompile(`(?:^|[\s,"'])WEB_CONCURRENCY\s*=\s*["']?(\d+)\b`)
)

func checkWorkerCounts(p *lint.Pass) {
	limit, ok := memoryLimitBytes(p)
	if !ok {
		return
	}
	scan := func(file string, locate func(off int) (int, int), text string) {
		if !strings.Contains(text, "-w") && !strings.Contains(text, "WEB_CONCURRENCY") {
			return
		}
		var counts [][2]int
		if workerServer.MatchString(text) {
			for _, m := range workerFlag.FindAllStringSubmatchIndex(text, -1) {
				n, _ := strconv.Atoi(text[m[2]:m[3]])
				counts = append(counts, [2]int{m[2], n})
			}
		}
		for _, m := range concurrency.FindAllStringSubmatchIndex(text, -1) {
			n, _ := strconv.Atoi(text[m[2]:m[3]])
			counts = append(counts, [2]int{m[2], n})
		}
		for _, c := range counts {
			if need := float64(c[1]) * workerMemory; need > limit {
				line, col := locate(c[0])
				p.Reportf(file, line, col, "%d workers need at least %s (64 MB each), but the manifest's memoryLimit gives the app %s, so it is killed under load: use fewer workers or raise memoryLimit", c[1], mb(need), mb(limit))
			}
		}
	}
	for _, rs := range runScripts(p) {
		text, ok := packageText(p, rs.rel)
		if !ok {
			continue
		}
		if !strings.Contains(text, "-w") && !strings.Contains(text, "WEB_CONCURRENCY") {
			continue
		}
		lines, _ := fileScriptLines(p, rs.rel)
		for _, sl := range lines {
			scan(rs.rel, sl.at, sl.text)
		}
	}
	at := func(line, col int) func(int) (int, int) {
		return func(int) (int, int) { return line, col }
	}
	for _, prog := range supervisorPrograms(p) {
		for _, key := range []string{"command", "environment"} {
			if k := prog.section.Get(key); k != nil {
				scan(prog.file, at(k.ValueLine, k.ValueCol), k.Value)
			}
		}
	}
	df := p.Dockerfile()
	if df == nil {
		return
	}
	for _, e := range envValues(p) {
		scan(df.Name, at(e.line, 0), e.name+"="+e.value)
	}
	if l := layout(p); len(l.cmd) > 0 {
		scan(df.Name, at(l.cmdLine, 0), strings.Join(l.cmd, " "))
	}
}
