package rules

import (
	"errors"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing/fstest" // an in-memory fs.FS of the standard library (it does not import package testing)

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/parse/nginx"
)

var nginxRules = []*lint.Rule{
	{
		Code: "NG001", Title: "nginx configuration files parse", Severity: cpk.Error,
		Doc: `An nginx configuration that the package copies into the image must parse:
nginx refuses to start on a syntax error, and the app never becomes healthy.

Bad:

    server {
        listen 8000
        location / { proxy_pass http://127.0.0.1:3000; }

Good:

    server {
        listen 8000;
        location / { proxy_pass http://127.0.0.1:3000; }
    }`,
		Run: checkNginxSyntax,
	},
	{
		Code: "NG002", Title: "nginx listens on the manifest's httpPort", Severity: cpk.Error,
		Doc: `The platform sends every request, and the health check, to the manifest's
httpPort. When nginx is the front of the app, one of its servers must listen
on that port (when the app itself listens on httpPort and nginx sits behind
it, the rule is quiet).

Bad:

    "httpPort": 8000
    server { listen 80; … }

Good:

    "httpPort": 8000
    server { listen 8000; … }`,
		Run: checkNginxListen,
	},
	{
		Code: "NG003", Title: "nginx temp paths are under /run", Severity: cpk.Error,
		Doc: `The root filesystem is read-only. nginx creates its temp folders at start-up,
by default under /var/lib/nginx, and fails when it cannot. Set all five temp
paths to /run (or relink /var/lib/nginx to /run in the Dockerfile).

Bad:

    server { listen 8000; … }          # no temp paths: /var/lib/nginx/body …

Good:

    client_body_temp_path /run/nginx/client_body;
    proxy_temp_path       /run/nginx/proxy_temp;
    fastcgi_temp_path     /run/nginx/fastcgi_temp;
    scgi_temp_path        /run/nginx/scgi_temp;
    uwsgi_temp_path       /run/nginx/uwsgi_temp;`,
		Run: checkNginxTempPaths,
	},
	{
		Code: "NG004", Title: "the nginx pid file is under /run", Severity: cpk.Error,
		Doc: `nginx writes its pid file at start-up; outside /run it hits the read-only
filesystem and nginx does not start. The pid may be set in the configuration
or on the command line with -g.

Bad:

    command=/usr/sbin/nginx -g "daemon off; pid /var/lib/nginx/nginx.pid;"

Good:

    command=/usr/sbin/nginx -g "daemon off; pid /run/nginx/nginx.pid;"`,
		Run: checkNginxPid,
	},
	{
		Code: "NG005", Title: "nginx logs go to stdout, stderr or /run", Severity: cpk.Error,
		Doc: `Cloudron collects the app's stdout and stderr. nginx log files elsewhere are
on the read-only filesystem (nginx cannot open them and does not start) or
invisible to the log viewer. The stock nginx.conf logs to /var/log/nginx, so a
package that ships only a site must relink that folder (or its files).

Bad:

    access_log /var/log/nginx/app.log;

Good:

    access_log /dev/stdout;
    error_log /dev/stderr;
    # or, in the Dockerfile: RUN rm -rf /var/log/nginx && ln -s /run/nginx /var/log/nginx`,
		Run: checkNginxLogs,
	},
	{
		Code: "NG006", Title: "the health check reaches the app, not an nginx stub", Severity: cpk.Warning,
		Doc: `The platform polls healthCheckPath to know whether the app works. When nginx
answers that path itself with "return 200", the app behind it may be down
while Cloudron reports it healthy. Proxy the path to the app (or to the
app's own health endpoint).

Bad:

    location = /healthcheck { return 200 "OK"; }
    location / { proxy_pass http://127.0.0.1:3000; }

Good:

    location / { proxy_pass http://127.0.0.1:3000; }    # /healthcheck reaches the app`,
		Run: checkNginxHealth,
	},
	{
		Code: "NG007", Title: "nginx stays in the foreground when supervised", Severity: cpk.Error,
		Doc: `nginx daemonizes by default: its starting process exits at once. Under
supervisor that looks like a crash (supervisor restarts it again and again,
then gives up); as the final exec of the start script it ends the container.
Run it with daemon off.

Bad:

    [program:nginx]
    command=/usr/sbin/nginx

Good:

    [program:nginx]
    command=/usr/sbin/nginx -g "daemon off;"`,
		Run: checkNginxForeground,
	},
	{
		Code: "NG008", Title: "nginx workers do not run as root", Severity: cpk.Error,
		Doc: `The nginx master runs as root by design; the workers that serve requests
must not. "user root" (or "master_process off", which serves requests from the
root master) gives every request root rights in the container.

Bad:

    user root;

Good:

    user www-data;      # or leave the stock user`,
		Run: checkNginxUser,
	},
	{
		Code: "NG009", Title: "proxied servers pass websocket upgrades", Severity: cpk.Info,
		Doc: `Many web apps use websockets (live updates, collaboration). nginx does not
pass the Upgrade handshake to the app unless told to, so those features break
silently behind it.

Bad:

    location / { proxy_pass http://127.0.0.1:3000; }

Good:

    location / {
        proxy_pass http://127.0.0.1:3000;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }`,
		Run: checkNginxWebsocket,
	},
	{
		Code: "NG010", Title: "nginx sets client_max_body_size", Severity: cpk.Info,
		Doc: `nginx accepts request bodies of 1 MB by default and answers bigger uploads
with "413 Request Entity Too Large". Set the limit the app needs.

Bad:

    server { listen 8000; location / { proxy_pass http://127.0.0.1:3000; } }

Good:

    server { listen 8000; client_max_body_size 100m; … }`,
		Run: checkNginxBodySize,
	},
	{
		Code: "NG011", Title: "the nginx site is where nginx loads it", Severity: cpk.Warning,
		Doc: `The stock nginx.conf includes /etc/nginx/conf.d/*.conf and
/etc/nginx/sites-enabled/*. A site copied into sites-available without a link
in sites-enabled, or into conf.d without the .conf suffix, is never loaded.

Bad:

    COPY nginx.conf /etc/nginx/sites-available/app

Good:

    COPY nginx.conf /etc/nginx/sites-enabled/app.conf`,
		Run: checkNginxLoaded,
	},
}

// nginxSetup is the package's nginx configuration: the roots (main
// configurations and sites) with their includes resolved against the image.
type nginxSetup struct {
	roots []*nginxRoot
	errs  []*nginx.Error
	// files maps a directive's File ("/etc/nginx/…") to its package file.
	files map[string]string
	// main is true when the package ships a main configuration (http or
	// events at the top level) rather than sites for the stock nginx.conf.
	main bool
	// relinked image folders: /var/lib/nginx (temp) and /var/log/nginx (or
	// the stock nginx.conf edited by a RUN to log elsewhere).
	tempRelinked, logsRelinked bool
	// runSets are directives a RUN writes into the stock configuration
	// (echo "daemon off;" >> /etc/nginx/nginx.conf, sed …).
	runSets map[string]bool
}

type nginxRoot struct {
	rel  string // package file
	dirs []*nginx.Directive
	main bool
}

var (
	nginxSniff      = regexp.MustCompile(`(?m)^[ \t]*(server|http)[ \t]*\{`)
	supervisorSniff = regexp.MustCompile(`(?m)^[ \t]*\[(program:|supervisord\]|eventlistener:|inet_http_server\]|unix_http_server\]|supervisorctl\])`)
)

// sniffable reports whether a package file may be a configuration file
// (by its name): not documentation, scripts or code.
func sniffable(rel string) bool {
	base := path.Base(rel)
	switch path.Ext(base) {
	case "", ".conf", ".cnf", ".nginx", ".template", ".tmpl", ".tpl", ".j2", ".in", ".inc", ".site", ".vhost", ".ini", ".default":
	default:
		return false
	}
	switch strings.ToLower(base) {
	case "dockerfile", "changelog", "license", "readme", "makefile", "notes", "copying", "authors":
		return false
	}
	return !strings.HasPrefix(base, "Dockerfile")
}

// nginxConfigPath reports whether an image path holds nginx configuration:
// *.conf below /etc/nginx, the stock files, and what lies in the folders of
// sites and snippets (not password files, keys or certificates).
func nginxConfigPath(dest string) bool {
	if !underDir(dest, "/etc/nginx") {
		return false
	}
	switch path.Base(path.Dir(dest)) {
	case "sites-enabled", "sites-available", "conf.d", "snippets":
		return !strings.HasPrefix(path.Base(dest), ".")
	}
	switch path.Base(dest) {
	case "mime.types", "fastcgi_params", "proxy_params", "scgi_params", "uwsgi_params":
		return true
	}
	return path.Ext(dest) == ".conf"
}

func isTemplate(rel string) bool {
	switch path.Ext(rel) {
	case ".template", ".tmpl", ".tpl", ".j2", ".in":
		return true
	}
	return false
}

// configKind classifies a package file as "nginx", "supervisor" or "".
func configKind(p *lint.Pass, rel string) string {
	kinds := p.Memo("files:kinds", func() any {
		out := map[string]string{}
		l := layout(p)
		for _, f := range p.Files() {
			var nginxDest, supervisorDest bool
			for _, dest := range l.byFile[f] {
				nginxDest = nginxDest || nginxConfigPath(dest)
				supervisorDest = supervisorDest || underDir(dest, "/etc/supervisor")
			}
			switch {
			case supervisorDest:
				out[f] = "supervisor"
			case nginxDest:
				out[f] = "nginx"
			case !sniffable(f):
			default:
				text, ok := packageText(p, f)
				switch {
				case !ok:
				case supervisorSniff.MatchString(text):
					out[f] = "supervisor"
				case nginxSniff.MatchString(text):
					out[f] = "nginx"
				}
			}
		}
		return out
	}).(map[string]string)
	return kinds[rel]
}

// nginxConfig returns the package's nginx setup (no roots when it has none).
func nginxConfig(p *lint.Pass) *nginxSetup {
	return p.Memo("nginx:setup", func() any {
		s := &nginxSetup{files: map[string]string{}}
		l := layout(p)
		s.runSets = map[string]bool{}
		for _, r := range l.runs {
			s.tempRelinked = s.tempRelinked || relinks(r.text, "/var/lib/nginx")
			s.logsRelinked = s.logsRelinked || relinks(r.text, "/var/log/nginx") || editsStockLogs(r.text)
			for _, name := range append(slices.Clone(nginxTempPaths), "daemon off") {
				if strings.Contains(r.text, name) {
					s.runSets[name] = true
				}
			}
		}
		fsys := fstest.MapFS{}
		var candidates []string
		for _, f := range p.Files() {
			if configKind(p, f) != "nginx" {
				continue
			}
			data, ok := packageText(p, f)
			if !ok {
				continue
			}
			candidates = append(candidates, f)
			dests := l.byFile[f]
			if len(dests) == 0 {
				dests = []string{"/cpk-package/" + f}
			}
			for _, d := range dests {
				fsys[strings.TrimPrefix(d, "/")] = &fstest.MapFile{Data: []byte(data)}
				s.files[d] = f
			}
		}
		if len(candidates) == 0 {
			return s
		}
		// Main configurations first: the sites they include are not roots.
		covered := map[string]bool{}
		load := func(f string, wantMain bool) {
			if covered[f] {
				return
			}
			name := "cpk-package/" + f
			if dests := l.byFile[f]; len(dests) > 0 {
				name = strings.TrimPrefix(dests[0], "/")
			}
			top, _ := nginx.Parse("", fsys[name].Data)
			main := len(nginx.Find(top.Directives, "http")) > 0 || len(nginx.Find(top.Directives, "events")) > 0
			if main != wantMain {
				return
			}
			cfg, err := nginx.Load(fsys, name, nginx.Options{})
			if cfg == nil {
				return
			}
			s.main = s.main || main
			for _, file := range cfg.Files {
				covered[s.files["/"+file]] = true
			}
			s.roots = append(s.roots, &nginxRoot{rel: f, dirs: cfg.File.Directives, main: main})
			s.addErrors(err)
		}
		for _, f := range candidates {
			load(f, true)
		}
		for _, f := range candidates {
			load(f, false)
		}
		return s
	}).(*nginxSetup)
}

func (s *nginxSetup) addErrors(err error) {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else if err != nil {
		list = []error{err}
	}
	for _, e := range list {
		var ne *nginx.Error
		if errors.As(e, &ne) && !slices.ContainsFunc(s.errs, func(o *nginx.Error) bool { return *o == *ne }) {
			s.errs = append(s.errs, ne)
		}
	}
}

// relinks reports whether a RUN command replaces an image folder with a
// link into /run or /tmp (ln -s /run/nginx /var/log/nginx), or links the
// files in it to the container's output (ln -sf /dev/stdout /var/log/nginx/access.log).
func relinks(run, dir string) bool {
	for _, cmd := range commandsIn(commandWords(run)) {
		if len(cmd) < 3 || path.Base(cmd[0]) != "ln" {
			continue
		}
		var args []string
		symbolic := false
		for _, w := range cmd[1:] {
			if strings.HasPrefix(w, "-") {
				symbolic = symbolic || strings.Contains(w, "s") && !strings.HasPrefix(w, "--")
				continue
			}
			args = append(args, w)
		}
		if !symbolic || len(args) != 2 {
			continue
		}
		target, link := args[0], strings.TrimSuffix(args[1], "/")
		if underDir(link, dir) && (underDir(target, "/run") || underDir(target, "/tmp") || strings.HasPrefix(target, "/dev/std")) {
			return true
		}
	}
	return false
}

// editsStockLogs reports whether a RUN rewrites the stock nginx.conf's log
// paths to the container's output or /run (sed -i 's|/var/log/nginx/access.log|/dev/stdout|' …).
func editsStockLogs(run string) bool {
	run = strings.ReplaceAll(run, `\/`, "/")
	return strings.Contains(run, "/etc/nginx/nginx.conf") && strings.Contains(run, "/var/log/nginx") &&
		(strings.Contains(run, "/dev/std") || strings.Contains(run, "/run/") || strings.Contains(run, "/tmp/"))
}

// reportAt reports a finding at a directive (argument i, or the name when i < 0).
func (s *nginxSetup) reportAt(p *lint.Pass, d *nginx.Directive, i int, format string, args ...any) {
	pos := d.Pos
	if i >= 0 {
		pos = d.ArgPosition(i)
	}
	file := s.files[d.File]
	if file == "" {
		file = strings.TrimPrefix(d.File, "/cpk-package/")
	}
	p.Reportf(file, pos.Line, pos.Col, format, args...)
}

// walk visits every directive of every root.
func (s *nginxSetup) walk(fn func(d *nginx.Directive, parents []*nginx.Directive, root *nginxRoot)) {
	for _, r := range s.roots {
		nginx.Walk(r.dirs, func(d *nginx.Directive, parents []*nginx.Directive) bool {
			fn(d, parents, r)
			return true
		})
	}
}

// servers returns the http server blocks (not those of stream or mail).
func (s *nginxSetup) servers() []*nginx.Directive {
	var out []*nginx.Directive
	s.walk(func(d *nginx.Directive, parents []*nginx.Directive, _ *nginxRoot) {
		if d.Name != "server" || !d.IsBlock {
			return
		}
		for _, par := range parents {
			if par.Name == "stream" || par.Name == "mail" || par.Name == "server" {
				return
			}
		}
		out = append(out, d)
	})
	return out
}

// first returns the first directive named name in any root, or nil.
func (s *nginxSetup) first(names ...string) *nginx.Directive {
	var found *nginx.Directive
	s.walk(func(d *nginx.Directive, _ []*nginx.Directive, _ *nginxRoot) {
		if found == nil && slices.Contains(names, d.Name) {
			found = d
		}
	})
	return found
}

// anchor is where a package-wide nginx finding goes: the http block of a
// main configuration, else the first server, else the first directive.
func (s *nginxSetup) anchor() *nginx.Directive {
	if d := s.first("http"); d != nil {
		return d
	}
	if d := s.first("server"); d != nil {
		return d
	}
	for _, r := range s.roots {
		if len(r.dirs) > 0 {
			return r.dirs[0]
		}
	}
	return nil
}

func checkNginxSyntax(p *lint.Pass) {
	s := nginxConfig(p)
	for _, e := range s.errs {
		file := s.files[e.File]
		if file == "" {
			continue
		}
		if len(layout(p).byFile[file]) == 0 || isTemplate(file) {
			continue // a template rendered at start may use its own syntax
		}
		p.Reportf(file, e.Pos.Line, e.Pos.Col, "nginx cannot parse this file: %s", e.Msg)
	}
}

// listenPort returns the port of a listen argument; ok is false when it is
// not known (a unix socket, a variable).
func listenPort(arg string) (port int, ok bool) {
	if strings.HasPrefix(arg, "unix:") || strings.ContainsAny(arg, "${}") {
		return 0, false
	}
	hostPort := arg
	if strings.HasPrefix(arg, "[") {
		end := strings.Index(arg, "]")
		if end < 0 {
			return 0, false
		}
		hostPort = arg[end+1:]
		if hostPort == "" {
			return 80, true
		}
		hostPort = strings.TrimPrefix(hostPort, ":")
	} else if i := strings.LastIndex(arg, ":"); i >= 0 {
		hostPort = arg[i+1:]
	}
	n, err := strconv.Atoi(hostPort)
	if err != nil {
		if strings.Contains(arg, ":") || strings.ContainsAny(arg, "0123456789") && !strings.Contains(arg, ".") {
			return 0, false
		}
		return 80, true // an address without a port
	}
	return n, n > 0 && n < 65536
}

// serverPorts returns the ports a server listens on; known is false when a
// listen cannot be read.
func serverPorts(server *nginx.Directive) (ports []int, listens []*nginx.Directive, known bool) {
	known = true
	listens = nginx.Find(server.Block, "listen")
	for _, l := range listens {
		port, ok := listenPort(l.Arg(0))
		if !ok {
			known = false
			continue
		}
		ports = append(ports, port)
	}
	if len(listens) == 0 {
		ports = append(ports, 80) // nginx's default when it starts as root
	}
	return ports, listens, known
}

var proxyPort = regexp.MustCompile(`^https?://(?:[^/:]+|\[[^\]]+\]):(\d+)`)

// proxiedPorts returns the local ports the configuration proxies to.
func (s *nginxSetup) proxiedPorts() []int {
	var out []int
	s.walk(func(d *nginx.Directive, _ []*nginx.Directive, _ *nginxRoot) {
		if d.Name == "proxy_pass" || d.Name == "server" && !d.IsBlock {
			arg := d.Arg(0)
			if d.Name == "server" {
				arg = "http://" + arg
			}
			if m := proxyPort.FindStringSubmatch(arg); m != nil {
				n, _ := strconv.Atoi(m[1])
				out = append(out, n)
			}
		}
	})
	return out
}

func checkNginxListen(p *lint.Pass) {
	m := p.Manifest()
	if m == nil || m.Doc == nil {
		return
	}
	httpPort := typedManifest(p).HTTPPort
	s := nginxConfig(p)
	servers := s.servers()
	if httpPort <= 0 || len(servers) == 0 {
		return
	}
	var all []int
	var firstListen *nginx.Directive
	for _, srv := range servers {
		ports, listens, known := serverPorts(srv)
		if !known {
			return // a port set at start from the environment
		}
		all = append(all, ports...)
		if firstListen == nil && len(listens) > 0 {
			firstListen = listens[0]
		}
	}
	if slices.Contains(all, httpPort) || slices.Contains(s.proxiedPorts(), httpPort) || appListensOn(p, httpPort) {
		return
	}
	slices.Sort(all)
	all = slices.Compact(all)
	var ports []string
	for _, n := range all {
		ports = append(ports, strconv.Itoa(n))
	}
	if firstListen != nil {
		s.reportAt(p, firstListen, 0, "nginx listens on %s, but the manifest's httpPort is %d, where the platform sends every request: listen %d (or change httpPort)", strings.Join(ports, ", "), httpPort, httpPort)
		return
	}
	s.reportAt(p, servers[0], -1, "this server has no listen directive, so nginx listens on port 80, but the manifest's httpPort is %d: add listen %d", httpPort, httpPort)
}

// appListensOn reports whether a process other than nginx is configured to
// listen on port (a supervisor program's command or environment, or the
// start script outside nginx's lines): then nginx is not the front.
func appListensOn(p *lint.Pass, port int) bool {
	re := regexp.MustCompile(`(^|[^0-9.])` + strconv.Itoa(port) + `($|[^0-9])`)
	for _, prog := range supervisorPrograms(p) {
		cmd, _ := prog.section.Value("command")
		env, _ := prog.section.Value("environment")
		if !strings.Contains(cmd, "nginx") && (re.MatchString(cmd) || re.MatchString(env)) {
			return true
		}
	}
	if lines, ok := startScriptLines(p); ok {
		for _, l := range lines {
			if !strings.Contains(l.text, "nginx") && re.MatchString(l.text) {
				return true
			}
		}
	}
	return false
}

// startScriptLines are the logical lines of the start script the CMD runs.
func startScriptLines(p *lint.Pass) ([]scriptLine, bool) {
	l := layout(p)
	if l.script == "" {
		return nil, false
	}
	return fileScriptLines(p, l.script)
}

var nginxTempPaths = []string{"client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "scgi_temp_path", "uwsgi_temp_path"}

// writablePath reports whether an image path is on a writable volume.
func writablePath(file string) bool {
	return underDir(file, "/run") || underDir(file, "/var/run") || underDir(file, "/tmp")
}

func checkNginxTempPaths(p *lint.Pass) {
	s := nginxConfig(p)
	if len(s.roots) == 0 {
		return
	}
	set := map[string]bool{}
	s.walk(func(d *nginx.Directive, _ []*nginx.Directive, _ *nginxRoot) {
		if !slices.Contains(nginxTempPaths, d.Name) {
			return
		}
		set[d.Name] = true
		if arg := d.Arg(0); !strings.Contains(arg, "$") && !writablePath(arg) && !(s.tempRelinked && underDir(arg, "/var/lib/nginx")) {
			s.reportAt(p, d, 0, "%s %s is on the read-only filesystem: put it under /run (e.g. /run/nginx/%s)", d.Name, arg, strings.TrimSuffix(d.Name, "_path"))
		}
	})
	var missing []string
	for _, name := range nginxTempPaths {
		if !set[name] && !s.runSets[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 || s.tempRelinked || len(s.servers()) == 0 && !s.main {
		return
	}
	if a := s.anchor(); a != nil {
		s.reportAt(p, a, -1, "%s not set: nginx creates them under /var/lib/nginx, which is read-only, and does not start; set each to a folder under /run (e.g. %s /run/nginx/%s;)",
			strings.Join(missing, ", "), missing[0], strings.TrimSuffix(missing[0], "_path"))
	}
}

// nginxLaunch is one place that starts nginx: a supervisor program, a line
// of the start script, or the CMD.
type nginxLaunch struct {
	file      string
	line, col int
	args      []string // the words after the nginx program
	exec      bool     // the start script's final exec (or the CMD itself)
	where     string   // "supervisor", "script" or "cmd"
}

// nginxLaunches finds where the package starts nginx.
func nginxLaunches(p *lint.Pass) []nginxLaunch {
	return p.Memo("nginx:launches", func() any {
		var out []nginxLaunch
		add := func(words []string, file string, line, col int, where string) {
			for _, cmd := range commandsIn(words) {
				i := programOf(cmd)
				if i < 0 || path.Base(cmd[i]) != "nginx" {
					continue
				}
				args := cmd[i+1:]
				if slices.ContainsFunc(args, func(a string) bool {
					return a == "-t" || a == "-T" || a == "-s" || a == "-v" || a == "-V" || a == "-h" || a == "-?"
				}) {
					continue // a test, a signal or a version query
				}
				out = append(out, nginxLaunch{file: file, line: line, col: col, args: args, where: where, exec: where == "cmd" || cmd[0] == "exec"})
			}
		}
		for _, prog := range supervisorPrograms(p) {
			if k := prog.section.Get("command"); k != nil {
				add(commandWords(k.Value), prog.file, k.ValueLine, k.ValueCol, "supervisor")
			}
		}
		l := layout(p)
		if lines, ok := startScriptLines(p); ok {
			for _, sl := range lines {
				line, col := sl.line, 0
				if i := strings.Index(sl.text, "nginx"); i >= 0 {
					line, col = sl.at(i)
				}
				add(commandWords(sl.text), l.script, line, col, "script")
			}
		}
		if df := p.Dockerfile(); df != nil && len(l.cmd) > 0 {
			add(l.cmd, df.Name, l.cmdLine, 0, "cmd")
		}
		return out
	}).([]nginxLaunch)
}

// globalDirectives returns the -g argument of an nginx command line.
func globalDirectives(args []string) string {
	var out []string
	for i, a := range args {
		if a == "-g" && i+1 < len(args) {
			out = append(out, args[i+1])
		}
	}
	return strings.Join(out, " ")
}

// mainConfigOf returns the root of the configuration an nginx command line
// uses (-c, else /etc/nginx/nginx.conf) when the package ships it.
func mainConfigOf(p *lint.Pass, s *nginxSetup, args []string) *nginxRoot {
	conf := "/etc/nginx/nginx.conf"
	for i, a := range args {
		if a == "-c" && i+1 < len(args) {
			conf = args[i+1]
		}
	}
	rel := layout(p).byImage[conf]
	for _, r := range s.roots {
		if r.rel == rel && r.main {
			return r
		}
	}
	return nil
}

var pidInGlobal = regexp.MustCompile(`(?:^|;)\s*pid\s+([^;\s]+)`)

func checkNginxPid(p *lint.Pass) {
	s := nginxConfig(p)
	s.walk(func(d *nginx.Directive, parents []*nginx.Directive, _ *nginxRoot) {
		if d.Name == "pid" && len(parents) == 0 && !writablePath(d.Arg(0)) && !strings.Contains(d.Arg(0), "$") {
			s.reportAt(p, d, 0, "nginx writes its pid file %s on the read-only filesystem and does not start: use pid /run/nginx/nginx.pid;", d.Arg(0))
		}
	})
	for _, l := range nginxLaunches(p) {
		m := pidInGlobal.FindStringSubmatch(globalDirectives(l.args))
		if m != nil && !writablePath(m[1]) {
			p.Reportf(l.file, l.line, l.col, "nginx -g sets the pid file %s on the read-only filesystem, so nginx does not start: use pid /run/nginx/nginx.pid;", m[1])
		}
	}
}

// logOK reports whether a log destination is fine on Cloudron.
func logOK(dest string, relinked bool) bool {
	switch {
	case dest == "off" || dest == "stderr" || strings.HasPrefix(dest, "syslog:") || strings.HasPrefix(dest, "memory:"),
		strings.HasPrefix(dest, "/dev/std"), strings.HasPrefix(dest, "/dev/fd/"), strings.HasPrefix(dest, "/proc/self/fd/"),
		writablePath(dest), strings.Contains(dest, "$"):
		return true
	}
	return relinked && underDir(dest, "/var/log/nginx")
}

func checkNginxLogs(p *lint.Pass) {
	s := nginxConfig(p)
	if len(s.roots) == 0 {
		return
	}
	s.walk(func(d *nginx.Directive, _ []*nginx.Directive, _ *nginxRoot) {
		if d.Name != "access_log" && d.Name != "error_log" {
			return
		}
		if dest := d.Arg(0); !logOK(dest, s.logsRelinked) {
			s.reportAt(p, d, 0, "%s writes to %s, on the read-only filesystem and out of Cloudron's log view: log to %s", d.Name, dest,
				map[bool]string{true: "/dev/stdout", false: "/dev/stderr"}[d.Name == "access_log"])
		}
	})
	if s.main || s.logsRelinked || len(s.servers()) == 0 {
		return
	}
	// The stock nginx.conf opens /var/log/nginx/access.log and error.log at
	// start-up, even when every server logs elsewhere.
	if a := s.anchor(); a != nil {
		s.reportAt(p, a, -1, "the stock nginx.conf logs to /var/log/nginx, which is read-only, so nginx does not start: relink it in the Dockerfile (RUN rm -rf /var/log/nginx && ln -s /run/nginx /var/log/nginx) and create /run/nginx in the start script")
	}
}

// location is a parsed location block.
type location struct {
	d        *nginx.Directive
	modifier string // "", "=", "^~", "~", "~*"
	pattern  string
}

func parseLocation(d *nginx.Directive) (location, bool) {
	loc := location{d: d}
	switch {
	case len(d.Args) >= 2 && slices.Contains([]string{"=", "^~", "~", "~*"}, d.Args[0]):
		loc.modifier, loc.pattern = d.Args[0], d.Args[1]
	case len(d.Args) == 1:
		loc.pattern = d.Args[0]
		for _, mod := range []string{"^~", "~*", "~", "="} {
			if rest, ok := strings.CutPrefix(loc.pattern, mod); ok && rest != "" {
				loc.modifier, loc.pattern = mod, rest
				break
			}
		}
	default:
		return loc, false
	}
	return loc, !strings.HasPrefix(loc.pattern, "@")
}

// matchLocation picks the location nginx uses for uri among the location
// blocks of a block: an exact match, else the longest prefix unless it is
// "^~" and a regex matches first.
func matchLocation(block []*nginx.Directive, uri string) *nginx.Directive {
	var prefix *location
	var regexes []location
	for _, d := range nginx.Find(block, "location") {
		loc, ok := parseLocation(d)
		if !ok || !d.IsBlock {
			continue
		}
		switch loc.modifier {
		case "=":
			if loc.pattern == uri {
				return d
			}
		case "~", "~*":
			regexes = append(regexes, loc)
		default:
			if strings.HasPrefix(uri, loc.pattern) && (prefix == nil || len(loc.pattern) > len(prefix.pattern)) {
				l := loc
				prefix = &l
			}
		}
	}
	if prefix != nil && prefix.modifier == "^~" {
		return prefix.d
	}
	for _, loc := range regexes {
		expr := loc.pattern
		if loc.modifier == "~*" {
			expr = "(?i)" + expr
		}
		if re, err := regexp.Compile(expr); err == nil && re.MatchString(uri) {
			return loc.d
		}
	}
	if prefix != nil {
		return prefix.d
	}
	return nil
}

// proxies reports whether a block passes requests to an application.
func proxies(block []*nginx.Directive) bool {
	found := false
	nginx.Walk(block, func(d *nginx.Directive, _ []*nginx.Directive) bool {
		switch d.Name {
		case "proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass":
			found = true
		}
		return !found
	})
	return found
}

func checkNginxHealth(p *lint.Pass) {
	m := p.Manifest()
	if m == nil || m.Doc == nil {
		return
	}
	mf := *typedManifest(p)
	hc := mf.HealthCheckPath
	if !strings.HasPrefix(hc, "/") {
		return
	}
	uri, _, _ := strings.Cut(hc, "?")
	s := nginxConfig(p)
	servers := s.servers()
	var front []*nginx.Directive
	for _, srv := range servers {
		if ports, _, _ := serverPorts(srv); slices.Contains(ports, mf.HTTPPort) {
			front = append(front, srv)
		}
	}
	if len(front) == 0 {
		front = servers
	}
	for _, srv := range front {
		if len(nginx.Find(srv.Block, "return")) > 0 || !proxies(srv.Block) {
			continue // the server answers everything itself, or nginx is the app
		}
		loc := matchLocation(srv.Block, uri)
		for loc != nil {
			if inner := matchLocation(loc.Block, uri); inner != nil {
				loc = inner
				continue
			}
			break
		}
		if loc == nil {
			continue
		}
		for _, ret := range nginx.Find(loc.Block, "return") {
			if code, err := strconv.Atoi(ret.Arg(0)); err == nil && code >= 200 && code < 300 {
				s.reportAt(p, ret, -1, "nginx answers the health check %s itself (return %d), so Cloudron sees the app healthy even when the app behind nginx is down: proxy %s to the app", hc, code, hc)
			}
		}
	}
}

var daemonOff = regexp.MustCompile(`(?:^|;)\s*daemon\s+off\s*(;|$)`)

func checkNginxForeground(p *lint.Pass) {
	s := nginxConfig(p)
	for _, l := range nginxLaunches(p) {
		if l.where != "supervisor" && !l.exec {
			continue // started in the background on purpose
		}
		if daemonOff.MatchString(globalDirectives(l.args)) {
			continue
		}
		if root := mainConfigOf(p, s, l.args); root != nil {
			if d := nginx.Find(root.dirs, "daemon"); len(d) > 0 && d[len(d)-1].Arg(0) == "off" {
				continue
			}
		} else if s.runSets["daemon off"] {
			continue // the Dockerfile writes it into the stock nginx.conf
		}
		what := "supervisor sees it exit, restarts it and finally gives up"
		if l.where != "supervisor" {
			what = "the container's main process exits and the app stops"
		}
		p.Reportf(l.file, l.line, l.col, "nginx is started without daemon off, so it forks into the background and %s: run nginx -g \"daemon off;\"", what)
	}
}

func checkNginxUser(p *lint.Pass) {
	s := nginxConfig(p)
	s.walk(func(d *nginx.Directive, parents []*nginx.Directive, _ *nginxRoot) {
		if len(parents) > 0 {
			return
		}
		switch {
		case d.Name == "user" && (d.Arg(0) == "root" || d.Arg(0) == "0"):
			s.reportAt(p, d, 0, "nginx workers run as root and serve every request with root rights: remove the user directive or use user www-data;")
		case d.Name == "master_process" && d.Arg(0) == "off":
			s.reportAt(p, d, 0, "master_process off serves requests from the root master process: remove it")
		}
	})
}

// proxyHeaders returns the proxy_set_header names in effect in a location:
// its own, else those of the nearest enclosing block that sets any.
func proxyHeaders(loc *nginx.Directive, parents []*nginx.Directive) map[string]string {
	chain := append(slices.Clone(parents), loc)
	for i := len(chain) - 1; i >= 0; i-- {
		set := nginx.Find(chain[i].Block, "proxy_set_header")
		if len(set) == 0 {
			continue
		}
		out := map[string]string{}
		for _, h := range set {
			out[strings.ToLower(h.Arg(0))] = h.Arg(1)
		}
		return out
	}
	return nil
}

func checkNginxWebsocket(p *lint.Pass) {
	s := nginxConfig(p)
	type srvState struct {
		first *nginx.Directive
		ok    bool
	}
	var order []*nginx.Directive
	state := map[*nginx.Directive]*srvState{}
	s.walk(func(d *nginx.Directive, parents []*nginx.Directive, _ *nginxRoot) {
		if d.Name != "proxy_pass" || len(parents) == 0 {
			return
		}
		var srv *nginx.Directive
		for _, par := range parents {
			if par.Name == "server" {
				srv = par
			}
		}
		if srv == nil {
			return
		}
		st := state[srv]
		if st == nil {
			st = &srvState{first: d}
			state[srv] = st
			order = append(order, srv)
		}
		h := proxyHeaders(parents[len(parents)-1], parents[:len(parents)-1])
		if strings.Contains(strings.ToLower(h["upgrade"]), "upgrade") {
			st.ok = true
		}
	})
	for _, srv := range order {
		if st := state[srv]; !st.ok {
			s.reportAt(p, st.first, -1, "this server proxies to the app but never passes websocket upgrades: if the app uses websockets, add proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";")
		}
	}
}

func checkNginxBodySize(p *lint.Pass) {
	s := nginxConfig(p)
	servers := s.servers()
	if len(servers) == 0 || s.first("client_max_body_size") != nil {
		return
	}
	s.reportAt(p, servers[0], -1, "no client_max_body_size: nginx rejects request bodies over 1 MB (413), so uploads fail; set the size the app needs, e.g. client_max_body_size 100m;")
}

func checkNginxLoaded(p *lint.Pass) {
	s := nginxConfig(p)
	if s.main {
		return // the package's own nginx.conf decides what it includes
	}
	l := layout(p)
	linked := false // a RUN links a site into sites-enabled
	for _, r := range l.runs {
		for _, cmd := range commandsIn(commandWords(r.text)) {
			if path.Base(cmd[0]) == "ln" && slices.ContainsFunc(cmd, func(w string) bool { return strings.Contains(w, "/etc/nginx/sites-enabled") }) {
				linked = true
			}
		}
	}
	df := p.Dockerfile()
	for _, c := range l.copies {
		if configKind(p, c.src) != "nginx" {
			continue
		}
		dir, base := path.Dir(c.dest), path.Base(c.dest)
		switch {
		case dir == "/etc/nginx/sites-available" && !linked:
			p.Reportf(df.Name, c.line, 0, "%s is copied to %s, which the stock nginx.conf does not load, and nothing links it into sites-enabled: copy it to /etc/nginx/sites-enabled/%s", c.src, c.dest, base)
		case dir == "/etc/nginx/conf.d" && !strings.HasSuffix(base, ".conf"):
			p.Reportf(df.Name, c.line, 0, "%s is copied to %s, but the stock nginx.conf loads only conf.d/*.conf: name it %s.conf", c.src, c.dest, base)
		}
	}
}
