package rules

import (
	"errors"
	"path"
	"regexp"
	"slices"
	"strings"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/parse/supervisor"
)

var supervisorRules = []*lint.Rule{
	{
		Code: "SV001", Title: "supervisor configuration files parse", Severity: cpk.Error,
		Doc: `supervisord refuses to start when a configuration file has a line it cannot
read: a key outside any [section], a line without "=", a broken header.

Bad:

    command=/app/code/server
    [program:app]

Good:

    [program:app]
    command=/app/code/server`,
		Run: checkSupervisorSyntax,
	},
	{
		Code: "SV002", Title: "supervisord logs to /run", Severity: cpk.Error,
		Doc: `The stock /etc/supervisor/supervisord.conf logs to
/var/log/supervisor/supervisord.log, on the read-only filesystem: supervisord
cannot open it and exits. A package that uses the stock file must rewrite the
logfile line in the Dockerfile; one that ships its own [supervisord] section
must set logfile under /run. cpk decides from where supervisord is started
(its -c and --logfile), the package's [supervisord] section and the
Dockerfile's RUN commands; a -c file without [supervisord] is RT011's.

Bad:

    COPY app.conf /etc/supervisor/conf.d/
    # (the stock logfile=/var/log/supervisor/supervisord.log stays)

Good:

    RUN sed -e 's,^logfile=.*$,logfile=/run/supervisord.log,' -i /etc/supervisor/supervisord.conf
    COPY app.conf /etc/supervisor/conf.d/`,
		Run: checkSupervisordLogfile,
	},
	{
		Code: "SV003", Title: "supervisord's pid file is under /run", Severity: cpk.Warning,
		Doc: `supervisord writes its pid file at start-up; outside /run it is on the
read-only filesystem and supervisord runs without one (supervisorctl and
signals by pid file break). Without a pidfile line, supervisord writes
supervisord.pid in its working directory.

Bad:

    [supervisord]
    pidfile=/var/lib/supervisord.pid

Good:

    [supervisord]
    pidfile=/run/supervisord.pid`,
		Run: checkSupervisordPidfile,
	},
	{
		Code: "SV004", Title: "supervisor programs log to stdout and stderr", Severity: cpk.Error,
		Doc: `Cloudron shows and rotates what the app writes to stdout and stderr. A
program without stdout_logfile and stderr_logfile logs into files in
supervisor's child log folder, on the read-only filesystem or out of sight.

Bad:

    [program:app]
    command=/app/code/server

Good:

    [program:app]
    command=/app/code/server
    stdout_logfile=/dev/stdout
    stdout_logfile_maxbytes=0
    stderr_logfile=/dev/stderr
    stderr_logfile_maxbytes=0`,
		Run: checkSupervisorProgramLogs,
	},
	{
		Code: "SV005", Title: "logs to a device have logfile_maxbytes=0", Severity: cpk.Error,
		Doc: `supervisor rotates log files when they reach *_logfile_maxbytes (50 MB by
default). /dev/stdout cannot be rotated: supervisor fails with "Illegal seek".
Set the limit to 0 for every log that goes to a device.

Bad:

    stdout_logfile=/dev/stdout

Good:

    stdout_logfile=/dev/stdout
    stdout_logfile_maxbytes=0`,
		Run: checkSupervisorMaxbytes,
	},
	{
		Code: "SV006", Title: "supervisor program commands exist in the image", Severity: cpk.Error,
		Doc: `A program whose command is not in the image fails to spawn ("can't find
command"). An absolute command must be a file the package copies in, one its
Dockerfile installs or builds, or one the Cloudron base image has. cpk knows
the base image's usual binaries (gosu, supervisord, nginx, apache2, php-fpm,
python3, node, psql, mysql, redis-cli, ffmpeg, the coreutils…).

Bad:

    command=/app/code/bin/sever

Good:

    command=/usr/local/bin/gosu cloudron:cloudron /app/code/bin/server`,
		Run: checkSupervisorCommandExists,
	},
	{
		Code: "SV007", Title: "supervisor programs do not run the app as root", Severity: cpk.Error,
		Doc: `supervisord runs as root, and so do its programs unless told otherwise.
Processes that serve requests or run application code must drop root (gosu,
or user=). The masters of nginx, php-fpm and Apache are the exception: they
run as root by design and drop privileges for their workers.

Bad:

    [program:app]
    command=node /app/code/server.js

Good:

    [program:app]
    command=/usr/local/bin/gosu cloudron:cloudron node /app/code/server.js`,
		Run: checkSupervisorUser,
	},
	{
		Code: "SV008", Title: "supervisor programs set autorestart", Severity: cpk.Warning,
		Doc: `supervisor's default, autorestart=unexpected, does not restart a program
that exits with status 0: a server that stops cleanly stays down while the
container keeps running. Say what you want.

Bad:

    [program:app]
    command=/app/code/server

Good:

    [program:app]
    command=/app/code/server
    autorestart=true`,
		Run: checkSupervisorAutorestart,
	},
	{
		Code: "SV009", Title: "supervisor's HTTP server is not open to the network", Severity: cpk.Warning,
		Doc: `[inet_http_server] on all interfaces lets anything that reaches the container
stop, start and read the logs of every program. Use the unix socket, or bind
to 127.0.0.1.

Bad:

    [inet_http_server]
    port=*:9001

Good:

    [inet_http_server]
    port=127.0.0.1:9001`,
		Run: checkSupervisorInetServer,
	},
	{
		Code: "SV010", Title: "supervisord runs in the foreground", Severity: cpk.Error,
		Doc: `The stock supervisord.conf does not set nodaemon, so supervisord forks into
the background and the start script's process ends: the container stops.
Run it with --nodaemon (or nodaemon=true in [supervisord]).

Bad:

    exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf

Good:

    exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon`,
		Run: checkSupervisordForeground,
	},
	{
		Code: "SV012", Title: "supervisor programs are where supervisord loads them", Severity: cpk.Warning,
		Doc: `The stock supervisord.conf includes /etc/supervisor/conf.d/*.conf only: a
program file copied there without the .conf suffix is never loaded, and its
program never starts.

Bad:

    COPY supervisor/app /etc/supervisor/conf.d/app

Good:

    COPY supervisor/app.conf /etc/supervisor/conf.d/app.conf`,
		Run: checkSupervisorLoaded,
	},
	{
		Code: "SV011", Title: "supervisord's control socket is under /run", Severity: cpk.Error,
		Doc: `supervisord creates the socket of [unix_http_server] at start-up and stops
when it cannot: outside /run (or /tmp) the filesystem is read-only.

Bad:

    [unix_http_server]
    file=/var/supervisor.sock

Good:

    [unix_http_server]
    file=/run/supervisor.sock`,
		Run: checkSupervisordSocket,
	},
}

// supervisorConfig is one parsed supervisor configuration file of the package.
type supervisorConfig struct {
	rel  string
	file *supervisor.File
	err  error
}

// supervisorProgram is a [program:x] section and the package file it is in.
type supervisorProgram struct {
	file    string
	section *supervisor.Section
}

func supervisorConfigs(p *lint.Pass) []*supervisorConfig {
	return p.Memo("supervisor:configs", func() any {
		var out []*supervisorConfig
		for _, f := range p.Files() {
			if configKind(p, f) != "supervisor" {
				continue
			}
			text, ok := packageText(p, f)
			if !ok {
				continue
			}
			file, err := supervisor.Parse([]byte(text))
			out = append(out, &supervisorConfig{rel: f, file: file, err: err})
		}
		return out
	}).([]*supervisorConfig)
}

func supervisorPrograms(p *lint.Pass) []supervisorProgram {
	var out []supervisorProgram
	for _, c := range supervisorConfigs(p) {
		for _, s := range c.file.Programs() {
			out = append(out, supervisorProgram{c.rel, s})
		}
	}
	return out
}

// supervisordSection returns the package's own [supervisord] section.
func supervisordSection(p *lint.Pass) (string, *supervisor.Section) {
	for _, c := range supervisorConfigs(p) {
		if s := c.file.Section("supervisord"); s != nil {
			return c.rel, s
		}
	}
	return "", nil
}

// supervisordLaunch is a place that starts supervisord.
type supervisordLaunch struct {
	file      string
	line, col int
	args      []string
	exec      bool // exec'd by the start script, or the CMD itself
	last      bool // the script's last command
}

func supervisordLaunches(p *lint.Pass) []supervisordLaunch {
	return p.Memo("supervisor:launches", func() any {
		var out []supervisordLaunch
		add := func(words []string, file string, line, col int, exec, last bool) {
			cmds := commandsIn(words)
			for n, cmd := range cmds {
				i := programOf(cmd)
				if i < 0 || path.Base(cmd[i]) != "supervisord" {
					continue
				}
				out = append(out, supervisordLaunch{file: file, line: line, col: col, args: cmd[i+1:],
					exec: exec || cmd[0] == "exec", last: last && n == len(cmds)-1})
			}
		}
		l := layout(p)
		if lines, ok := startScriptLines(p); ok {
			for i, sl := range lines {
				line, col := sl.line, 0
				if j := strings.Index(sl.text, "supervisord"); j >= 0 {
					line, col = sl.at(j)
				}
				add(commandWords(sl.text), l.script, line, col, false, i == len(lines)-1)
			}
		}
		if df := p.Dockerfile(); df != nil && len(l.cmd) > 0 {
			add(l.cmd, df.Name, l.cmdLine, 0, true, true)
		}
		return out
	}).([]supervisordLaunch)
}

// usesSupervisor reports whether the package runs supervisord.
func usesSupervisor(p *lint.Pass) bool {
	return len(supervisorPrograms(p)) > 0 || len(supervisordLaunches(p)) > 0
}

// flagValue returns the value of a command-line option (-x v, --long v, --long=v).
func flagValue(args []string, short, long string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, long+"="); ok {
			return v, true
		}
		if (a == short || a == long) && i+1 < len(args) {
			return args[i+1], true
		}
		if short != "" && strings.HasPrefix(a, short) && len(a) > len(short) && !strings.HasPrefix(a, "--") {
			return a[len(short):], true
		}
	}
	return "", false
}

func checkSupervisorSyntax(p *lint.Pass) {
	for _, c := range supervisorConfigs(p) {
		var errs supervisor.Errors
		if !errors.As(c.err, &errs) {
			continue
		}
		for _, e := range errs {
			p.Reportf(c.rel, e.Line, 1, "supervisord cannot read this line: %s", e.Msg)
		}
	}
}

// deviceLog reports whether a log destination is the container's output.
func deviceLog(dest string) bool {
	switch dest {
	case "/dev/stdout", "/dev/stderr", "/dev/fd/1", "/dev/fd/2", "/proc/self/fd/1", "/proc/self/fd/2", "/proc/1/fd/1", "/proc/1/fd/2":
		return true
	}
	return false
}

// sedRewritesLogfile reports whether a RUN command rewrites the logfile of
// the stock supervisord.conf to a writable place.
func sedRewritesLogfile(run string) bool {
	if !strings.Contains(run, "supervisord.conf") {
		return false
	}
	run = strings.ReplaceAll(run, `\/`, "/") // sed 's/^logfile=.*/logfile=\/run\/s.log/'
	return writableLogfile.MatchString(run)
}

var writableLogfile = regexp.MustCompile(`logfile(\s*=\s*|\s+)(/run|/var/run|/tmp|/dev/std)`)

// supervisordAnchor is where a package-wide supervisord finding goes: the
// launch in the start script, else the first supervisor file.
func supervisordAnchor(p *lint.Pass) (string, int, int) {
	if ls := supervisordLaunches(p); len(ls) > 0 {
		return ls[0].file, ls[0].line, ls[0].col
	}
	for _, c := range supervisorConfigs(p) {
		if len(c.file.Sections) > 0 {
			return c.rel, c.file.Sections[0].Line, 1
		}
	}
	return "", 0, 0
}

func checkSupervisordLogfile(p *lint.Pass) {
	if !usesSupervisor(p) {
		return
	}
	for _, l := range supervisordLaunches(p) {
		if v, ok := flagValue(l.args, "-l", "--logfile"); ok {
			if !writablePath(v) && !deviceLog(v) {
				p.Reportf(l.file, l.line, l.col, "supervisord --logfile %s is on the read-only filesystem: use /run/supervisord.log", v)
			}
			return
		}
		if v, ok := flagValue(l.args, "-c", "--configuration"); ok && v != "/etc/supervisor/supervisord.conf" {
			if _, s := supervisordSection(p); layout(p).byImage[v] == "" || s == nil {
				return // a configuration cpk cannot see, or one without [supervisord] (RT011)
			}
		}
	}
	if rel, s := supervisordSection(p); s != nil {
		k := s.Get("logfile")
		switch {
		case k == nil:
			p.Reportf(rel, s.Line, 1, "[supervisord] has no logfile, so supervisord writes supervisord.log in its working directory on the read-only filesystem: set logfile=/run/supervisord.log")
		case !writablePath(k.Value) && !deviceLog(k.Value) && k.Value != "/dev/null":
			p.Reportf(rel, k.ValueLine, k.ValueCol, "supervisord logs to %s, on the read-only filesystem, and exits: set logfile=/run/supervisord.log", k.Value)
		}
		return
	}
	for _, r := range layout(p).runs {
		if sedRewritesLogfile(r.text) || relinks(r.text, "/var/log/supervisor") {
			return
		}
	}
	if file, line, col := supervisordAnchor(p); file != "" {
		p.Reportf(file, line, col, "the stock supervisord.conf logs to /var/log/supervisor/supervisord.log on the read-only filesystem, so supervisord exits: rewrite it in the Dockerfile (RUN sed -e 's,^logfile=.*$,logfile=/run/supervisord.log,' -i /etc/supervisor/supervisord.conf)")
	}
}

func checkSupervisordPidfile(p *lint.Pass) {
	for _, l := range supervisordLaunches(p) {
		if v, ok := flagValue(l.args, "-j", "--pidfile"); ok && !writablePath(v) {
			p.Reportf(l.file, l.line, l.col, "supervisord --pidfile %s is on the read-only filesystem: use /run/supervisord.pid", v)
		}
	}
	rel, s := supervisordSection(p)
	if s != nil {
		switch k := s.Get("pidfile"); {
		case k == nil:
			p.Reportf(rel, s.Line, 1, "[supervisord] has no pidfile, so supervisord writes supervisord.pid in its working directory, on the read-only filesystem: set pidfile=/run/supervisord.pid")
		case !writablePath(k.Value):
			p.Reportf(rel, k.ValueLine, k.ValueCol, "the pid file %s is on the read-only filesystem: set pidfile=/run/supervisord.pid", k.Value)
		}
	}
}

func checkSupervisordSocket(p *lint.Pass) {
	for _, c := range supervisorConfigs(p) {
		if k := c.file.Section("unix_http_server").Get("file"); k != nil && !writablePath(k.Value) {
			p.Reportf(c.rel, k.ValueLine, k.ValueCol, "supervisord creates its socket %s on the read-only filesystem and does not start: use file=/run/supervisor.sock", k.Value)
		}
	}
}

// listedLogPath reports whether file is one of the manifest's logPaths.
func listedLogPath(p *lint.Pass, file string) bool {
	m := p.Manifest()
	if m == nil || m.Doc == nil {
		return false
	}
	for _, lp := range typedManifest(p).LogPaths {
		if ok, _ := path.Match(lp, file); ok || lp == file {
			return true
		}
	}
	return false
}

func checkSupervisorProgramLogs(p *lint.Pass) {
	for _, prog := range supervisorPrograms(p) {
		_, name := prog.section.Kind()
		redirect, _ := prog.section.Value("redirect_stderr")
		for _, stream := range []string{"stdout", "stderr"} {
			if stream == "stderr" && isTrue(redirect) {
				continue
			}
			k := prog.section.Get(stream + "_logfile")
			want := "/dev/" + stream
			switch {
			case k == nil:
				p.Reportf(prog.file, prog.section.Line, 1, "program %s has no %s_logfile, so supervisor keeps its %s in a file out of Cloudron's log view: add %s_logfile=%s and %s_logfile_maxbytes=0", name, stream, stream, stream, want, stream)
			case strings.EqualFold(k.Value, "none"):
				p.Reportf(prog.file, k.ValueLine, k.ValueCol, "program %s discards its %s: log to %s", name, stream, want)
			case deviceLog(k.Value), writablePath(k.Value) && listedLogPath(p, k.Value):
			default:
				p.Reportf(prog.file, k.ValueLine, k.ValueCol, "program %s logs its %s to %s, out of Cloudron's log view (or on the read-only filesystem): log to %s", name, stream, k.Value, want)
			}
		}
	}
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return true
	}
	return false
}

// zeroBytes reports whether a supervisor byte size is 0 ("0", "0MB"…).
func zeroBytes(v string) bool {
	v = strings.TrimRight(strings.ToUpper(strings.TrimSpace(v)), "KMGB")
	return v != "" && strings.Trim(v, "0") == ""
}

func checkSupervisorMaxbytes(p *lint.Pass) {
	check := func(file string, s *supervisor.Section, logKey, what string) {
		k := s.Get(logKey)
		if k == nil || !deviceLog(k.Value) {
			return
		}
		max := s.Get(logKey + "_maxbytes")
		switch {
		case max == nil:
			p.Reportf(file, k.Line, k.Col, "%s goes to %s without %s_maxbytes=0: supervisor tries to rotate the device at 50 MB and fails (Illegal seek); add %s_maxbytes=0", what, k.Value, logKey, logKey)
		case !zeroBytes(max.Value):
			p.Reportf(file, max.ValueLine, max.ValueCol, "%s goes to %s, which cannot be rotated: set %s_maxbytes=0", what, k.Value, logKey)
		}
	}
	for _, prog := range supervisorPrograms(p) {
		_, name := prog.section.Kind()
		check(prog.file, prog.section, "stdout_logfile", "the stdout of program "+name)
		if redirect, _ := prog.section.Value("redirect_stderr"); !isTrue(redirect) {
			check(prog.file, prog.section, "stderr_logfile", "the stderr of program "+name)
		}
	}
	if rel, s := supervisordSection(p); s != nil {
		check(rel, s, "logfile", "supervisord's own log")
	}
}

// baseImageBinaries are the absolute commands the Cloudron base images
// provide (cloudron/base 4.x–6.x, node-base, php-base), after the reference's
// §5.2 inventory and the tools the packaging docs rely on: the base system
// (coreutils, shells, util-linux), gosu, supervisor, the web servers and
// language runtimes the images ship, and the addon clients. A command that is
// not listed, not copied by the package and not mentioned by its Dockerfile
// is reported; extend the list when a base image gains a binary.
var baseImageBinaries = map[string]bool{}

func init() {
	for _, dir := range []string{"/bin/", "/usr/bin/"} {
		for _, b := range []string{
			"sh", "bash", "dash", "env", "true", "false", "sleep", "cat", "echo", "ls", "cp", "mv", "rm",
			"mkdir", "chown", "chmod", "ln", "tail", "head", "sed", "awk", "grep", "find", "xargs", "tee",
			"kill", "timeout", "nice", "nohup", "setsid", "setpriv", "runuser", "su", "sudo", "flock", "date",
			"python3", "perl", "node", "npm", "npx", "php", "curl", "wget", "git", "openssl", "tar", "gzip",
			"unzip", "jq", "yq", "psql", "pg_dump", "pg_isready", "mysql", "mysqldump", "mysqladmin",
			"redis-cli", "mongosh", "mongo", "mongodump", "sqlite3", "ldapsearch", "swaks", "ffmpeg", "ffprobe",
			"convert", "identify", "supervisord", "supervisorctl", "pidproxy", "crontab", "rsync", "logrotate",
			"gunicorn", "uwsgi", "composer",
		} {
			baseImageBinaries[dir+b] = true
		}
	}
	for _, b := range []string{
		"/usr/sbin/nginx", "/usr/sbin/apache2", "/usr/sbin/apache2ctl", "/usr/sbin/apachectl", "/usr/sbin/cron",
		"/usr/sbin/php-fpm8.1", "/usr/sbin/php-fpm8.2", "/usr/sbin/php-fpm8.3", "/usr/sbin/php-fpm8.4", "/usr/sbin/php-fpm8.5",
		"/usr/sbin/runuser", "/sbin/runuser", "/usr/sbin/sshd",
		"/usr/local/bin/gosu", "/usr/local/bin/node", "/usr/local/bin/npm", "/usr/local/bin/yq",
		"/usr/local/node/bin/node", "/usr/local/node/bin/npm", "/usr/local/node/bin/npx",
	} {
		baseImageBinaries[b] = true
	}
}

// knownBinary reports whether an absolute command is in a base image.
func knownBinary(cmd string) bool {
	if baseImageBinaries[cmd] {
		return true
	}
	// Node versions live in /usr/local/node-<version>/bin on cloudron/base.
	return strings.HasPrefix(cmd, "/usr/local/node-") && strings.Contains(cmd, "/bin/")
}

// genericDirs are folders whose mention in a Dockerfile says nothing about
// a particular binary.
var genericDirs = map[string]bool{"/": true, "/app": true, "/usr": true, "/usr/bin": true, "/usr/sbin": true,
	"/usr/local": true, "/usr/local/bin": true, "/usr/local/sbin": true, "/bin": true, "/sbin": true, "/opt": true,
	"/app/data": true, "/run": true, "/tmp": true, "/etc": true}

// builtByDockerfile reports whether a RUN command plausibly creates file:
// it names the file, its program name, or a folder it lies in, or runs in
// that folder (WORKDIR /app/code + RUN npm ci).
func builtByDockerfile(l *imageLayout, file string) bool {
	base := path.Base(file)
	for _, r := range l.allRuns {
		if strings.Contains(r.text, file) || hasWord(r.text, base, ".-", "-") || !genericDirs[r.workdir] && underDir(file, r.workdir) {
			return true
		}
		for dir := path.Dir(file); !genericDirs[dir]; dir = path.Dir(dir) {
			if strings.Contains(r.text, dir) {
				return true
			}
		}
	}
	return false
}

func checkSupervisorCommandExists(p *lint.Pass) {
	l := layout(p)
	for _, prog := range supervisorPrograms(p) {
		k := prog.section.Get("command")
		if k == nil {
			_, name := prog.section.Kind()
			p.Reportf(prog.file, prog.section.Line, 1, "program %s has no command: supervisord refuses the file; add command=…", name)
			continue
		}
		for _, cmd := range commandsIn(commandWords(k.Value)) {
			for i, w := range cmd {
				if i > programOf(cmd) && programOf(cmd) >= 0 {
					break
				}
				if !path.IsAbs(w) || strings.ContainsAny(w, "$%*") {
					continue
				}
				w = path.Clean(w)
				if knownBinary(w) || l.inImage(w) || builtByDockerfile(l, w) {
					continue
				}
				p.Reportf(prog.file, k.ValueLine, k.ValueCol, "%s is not in the image: the package does not copy it, the Dockerfile does not create it and the base image does not have it; fix the path or install it", w)
			}
		}
	}
}

// rootMasters are programs whose master process runs as root by design and
// drops privileges for the processes that serve requests.
func rootMaster(program string) bool {
	base := path.Base(program)
	switch base {
	case "nginx", "apache2", "apache2ctl", "apachectl", "httpd", "cron", "crond", "sshd", "haproxy", "pidproxy":
		return true
	}
	return strings.HasPrefix(base, "php-fpm")
}

func checkSupervisorUser(p *lint.Pass) {
	l := layout(p)
	for _, prog := range supervisorPrograms(p) {
		_, name := prog.section.Kind()
		if u := prog.section.Get("user"); u != nil {
			if u.Value == "root" || u.Value == "0" {
				p.Reportf(prog.file, u.ValueLine, u.ValueCol, "program %s runs as root: set user=cloudron (or start it with gosu cloudron:cloudron)", name)
			}
			continue
		}
		k := prog.section.Get("command")
		if k == nil {
			continue
		}
		asRoot := false
		for _, cmd := range commandsIn(commandWords(k.Value)) {
			i := programOf(cmd)
			if i < 0 || dropsRoot(cmd) || rootMaster(cmd[i]) {
				continue
			}
			if shell := path.Base(cmd[i]); (shell == "sh" || shell == "bash") && scriptDropsRoot(p, l, cmd[i+1:]) {
				continue
			}
			if src := l.byImage[path.Clean(cmd[i])]; src != "" && textDropsRoot(p, src) {
				continue
			}
			asRoot = true
		}
		if asRoot {
			p.Reportf(prog.file, k.ValueLine, k.ValueCol, "program %s runs as root and serves or runs the app with root rights: start it with /usr/local/bin/gosu cloudron:cloudron … or set user=cloudron", name)
		}
	}
}

var rootDropper = regexp.MustCompile(`\b(gosu|su-exec|setpriv|chpst|runuser|s6-setuidgid)\b|\bsudo\s+-u\b|\bsu\s+.*-c\b`)

// scriptDropsRoot reports whether "sh -c '…'" or "sh script" drops root.
func scriptDropsRoot(p *lint.Pass, l *imageLayout, args []string) bool {
	for i, a := range args {
		if a == "-c" && i+1 < len(args) {
			return rootDropper.MatchString(args[i+1])
		}
		if !strings.HasPrefix(a, "-") {
			src := l.byImage[path.Clean(a)]
			return src != "" && textDropsRoot(p, src)
		}
	}
	return false
}

func textDropsRoot(p *lint.Pass, rel string) bool {
	text, ok := packageText(p, rel)
	return ok && rootDropper.MatchString(text)
}

func checkSupervisorAutorestart(p *lint.Pass) {
	for _, prog := range supervisorPrograms(p) {
		if prog.section.Get("autorestart") == nil {
			_, name := prog.section.Kind()
			p.Reportf(prog.file, prog.section.Line, 1, "program %s has no autorestart: supervisor's default (unexpected) leaves it down after a clean exit; add autorestart=true", name)
		}
	}
}

func checkSupervisorInetServer(p *lint.Pass) {
	for _, c := range supervisorConfigs(p) {
		s := c.file.Section("inet_http_server")
		k := s.Get("port")
		if k == nil {
			continue
		}
		// port=9001, port=:9001 and port=*:9001 all listen on every interface.
		host, port := "", k.Value
		if i := strings.LastIndex(k.Value, ":"); i >= 0 {
			host, port = k.Value[:i], k.Value[i+1:]
		}
		if !slices.Contains([]string{"", "*", "0.0.0.0", "[::]", "::"}, host) {
			continue
		}
		extra := ""
		if _, ok := s.Value("password"); !ok {
			extra = ", without a password"
		}
		p.Reportf(c.rel, k.ValueLine, k.ValueCol, "supervisor's HTTP server listens on all interfaces%s: anyone who reaches the container can control its programs; use port=127.0.0.1:%s or the unix socket", extra, port)
	}
}

func checkSupervisordForeground(p *lint.Pass) {
	if _, s := supervisordSection(p); s != nil {
		if v, _ := s.Value("nodaemon"); isTrue(v) {
			return
		}
	}
	for _, l := range supervisordLaunches(p) {
		if !l.exec && !l.last {
			continue
		}
		if !slices.ContainsFunc(l.args, nodaemonFlag) {
			p.Reportf(l.file, l.line, l.col, "supervisord is started without --nodaemon and no nodaemon=true: it forks into the background, the start script ends and the container stops; add --nodaemon")
		}
	}
}

// nodaemonFlag reports whether a supervisord argument is -n, --nodaemon, or
// a cluster of short flags with n among them (-kn); flags that take a value
// (-c FILE…) end a cluster.
func nodaemonFlag(a string) bool {
	if a == "--nodaemon" {
		return true
	}
	if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
		return false
	}
	for _, c := range a[1:] {
		if c == 'n' {
			return true
		}
		if !strings.ContainsRune("hktv", c) {
			return false
		}
	}
	return false
}

func checkSupervisorLoaded(p *lint.Pass) {
	if _, s := supervisordSection(p); s != nil {
		return // the package's own supervisord.conf decides what it includes
	}
	df := p.Dockerfile()
	for _, c := range layout(p).copies {
		if path.Dir(c.dest) == "/etc/supervisor/conf.d" && !strings.HasSuffix(c.dest, ".conf") && configKind(p, c.src) == "supervisor" {
			p.Reportf(df.Name, c.line, 0, "%s is copied to %s, but the stock supervisord.conf loads only conf.d/*.conf: name it %s.conf", c.src, c.dest, path.Base(c.dest))
		}
	}
}
