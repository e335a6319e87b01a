// Package scaffold writes new Cloudron packages: cpk new renders a complete
// package for an archetype (web, api, worker, static) and a runtime from the
// templates embedded in the binary. The package is lint-clean as written and
// builds and runs with a placeholder app standing in for the upstream
// release, so that each archetype is tested end to end before the real app
// replaces the placeholder.
package scaffold

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"

	"cpk/internal/cpk"
)

// Archetype is the shape of a package: which processes it runs and what
// sits in front of them.
type Archetype string

const (
	// Web is an app with a user interface: nginx on the httpPort proxies to
	// the app, supervisor runs both.
	Web Archetype = "web"
	// API is a single HTTP service listening on the httpPort itself.
	API Archetype = "api"
	// Worker is a background worker with a small status server on the
	// httpPort whose health check follows the worker's heartbeat.
	Worker Archetype = "worker"
	// Static is a static site served by nginx alone.
	Static Archetype = "static"
)

// Archetypes lists every archetype.
var Archetypes = []Archetype{Web, API, Worker, Static}

// Runtime is what the app is written in, which decides how it is installed
// and started.
type Runtime string

const (
	Node   Runtime = "node"
	Python Runtime = "python"
	PHP    Runtime = "php"
	Java   Runtime = "java"
	Go     Runtime = "go"
	Binary Runtime = "binary" // a prebuilt executable from the release
	None   Runtime = ""       // static sites have no runtime
)

// Runtimes lists every runtime an app archetype may use.
var Runtimes = []Runtime{Node, Python, PHP, Java, Go, Binary}

// DefaultRuntime is the runtime of each archetype when none is given.
var DefaultRuntime = map[Archetype]Runtime{Web: Node, API: Python, Worker: Python, Static: None}

// Addons are the addons cpk new knows how to wire: the manifest entry, the
// variables start.sh passes to the app and a line of the build notes.
var Addons = []string{"ldap", "localstorage", "mongodb", "mysql", "oidc", "postgresql", "proxyAuth", "recvmail", "redis", "scheduler", "sendmail"}

// staticAddons are the addons a static site may declare: it has no app that
// could read the variables of the others.
var staticAddons = []string{"proxyAuth"}

// PlaceholderVersion is the "upstream version" of the placeholder app.
const PlaceholderVersion = "0.1.0"

// PackageVersion is the version of a new package.
const PackageVersion = "0.1.0"

// Options describe the package to write.
type Options struct {
	ID        string // the catalog id: the folder name under apps/
	Title     string // the app's name; default: the id
	Archetype Archetype
	Runtime   Runtime  // default: DefaultRuntime of the archetype
	Addons    []string // beyond localstorage, which every app archetype gets
	// ManifestID is the manifest's reverse-domain id; default io.cpk.<id>.
	ManifestID string
	// Website is the upstream project's page, when known (the catalog's
	// upstream link).
	Website string
	// Spec, when set, adds a cpk.yaml for an application the catalog does
	// not have yet.
	Spec *Spec
}

// Spec is the catalog entry written for a new application.
type Spec struct {
	Phase    int
	Category string
}

// File is one rendered file of the package, its path relative to the
// package folder (slash-separated).
type File struct {
	Path string
	Mode fs.FileMode
	Data []byte
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Normalize applies the defaults (runtime, localstorage, manifest id) and
// checks the options; Render does it too.
func Normalize(o Options) (Options, error) { return o.normalize() }

// normalize applies the defaults and checks the options.
func (o Options) normalize() (Options, error) {
	if !idPattern.MatchString(o.ID) {
		return o, fmt.Errorf("id %q: use lower-case letters, digits and dashes, starting with a letter or digit", o.ID)
	}
	if o.Title == "" {
		o.Title = o.ID
	}
	if strings.ContainsAny(o.Title, "\n\r") {
		return o, fmt.Errorf("the title must be one line")
	}
	if !slices.Contains(Archetypes, o.Archetype) {
		return o, fmt.Errorf("archetype %q: use one of %s%s", o.Archetype, joinArchetypes(), hint(string(o.Archetype), archetypeNames()))
	}
	if o.Runtime == None {
		o.Runtime = DefaultRuntime[o.Archetype]
	}
	switch {
	case o.Archetype == Static && o.Runtime != None:
		return o, fmt.Errorf("a static site has no runtime: leave out --runtime (nginx serves the files)")
	case o.Archetype != Static && !slices.Contains(Runtimes, o.Runtime):
		return o, fmt.Errorf("runtime %q: use one of %s%s", o.Runtime, joinRuntimes(), hint(string(o.Runtime), runtimeNames()))
	}
	seen := map[string]bool{}
	var addons []string
	if o.Archetype != Static {
		addons = append(addons, "localstorage")
		seen["localstorage"] = true
	}
	for _, a := range o.Addons {
		a = strings.TrimSpace(a)
		if a == "" || seen[a] {
			continue
		}
		if !slices.Contains(Addons, a) {
			return o, fmt.Errorf("addon %q: cpk new knows %s%s", a, strings.Join(Addons, ", "), hint(a, Addons))
		}
		if o.Archetype == Static && !slices.Contains(staticAddons, a) {
			return o, fmt.Errorf("addon %s: a static site has no app to use it (a static site may declare %s)", a, strings.Join(staticAddons, ", "))
		}
		seen[a] = true
		addons = append(addons, a)
	}
	sort.Strings(addons)
	o.Addons = addons
	if o.ManifestID == "" {
		o.ManifestID = "io.cpk." + o.ID
	}
	if o.Spec != nil && (o.Spec.Phase == 0 || o.Spec.Category == "") {
		return o, fmt.Errorf("a new catalog entry needs a phase and a category")
	}
	return o, nil
}

func hint(word string, known []string) string {
	if s := cpk.Suggest(word, known); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

func archetypeNames() []string {
	var out []string
	for _, a := range Archetypes {
		out = append(out, string(a))
	}
	return out
}

func runtimeNames() []string {
	var out []string
	for _, r := range Runtimes {
		out = append(out, string(r))
	}
	return out
}

func joinArchetypes() string { return strings.Join(archetypeNames(), ", ") }
func joinRuntimes() string   { return strings.Join(runtimeNames(), ", ") }

//go:embed templates
var templates embed.FS

// runtimeFacts says how each runtime is installed and started.
type runtimeFacts struct {
	// Base is the final stage's image: every runtime but node uses
	// cloudron/base and installs what it needs from the distribution.
	Base string
	// Placeholder is the placeholder app's template (under
	// templates/placeholder) and File its name in upstream/.
	Placeholder, File string
	// Cmd runs the placeholder app; the mode (serve, work, migrate,
	// housekeeping) is appended.
	Cmd string
	// Memory is the manifest's memoryLimit in bytes (0: the platform's
	// default of 256 MB).
	Memory int64
}

// The digest-pinned base images (cloudron/base 5.0.0 is what DF003 calls
// current; node-base carries Node on the PATH).
const (
	cloudronBase = "cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c"
	nodeBase     = "cloudron/node-base:24-20260920@sha256:d984683ec59bf2379130bf41cf3c2b6bc0453f327297d7183525cb05424e7b34"
)

var runtimes = map[Runtime]runtimeFacts{
	Node:   {Base: nodeBase, Placeholder: "server.js", File: "server.js", Cmd: "node /app/code/server.js"},
	Python: {Base: cloudronBase, Placeholder: "server.py", File: "server.py", Cmd: "python3 /app/code/server.py"},
	PHP:    {Base: cloudronBase, Placeholder: "index.php", File: "index.php", Cmd: "php /app/code/public/index.php"},
	Java:   {Base: cloudronBase, Placeholder: "Server.java", File: "Server.java", Cmd: "java -jar /app/code/app.jar", Memory: 512 << 20},
	Go:     {Base: cloudronBase, Placeholder: "main.go", File: "main.go", Cmd: "/app/code/app"},
	Binary: {Base: cloudronBase, Placeholder: "server.py", File: "app", Cmd: "/app/code/bin/app"},
	None:   {Base: cloudronBase, Placeholder: "index.html", File: "index.html"},
}

// addonEnv is one line of /run/app/env: the app's variable and the
// platform's value it takes.
type addonEnv struct{ Key, Value string }

// envFor lists the variables start.sh writes for an addon. Optional ones
// (absent when the admin turns the addon off or installs without SSO) are
// read with a default.
func envFor(addon string) []addonEnv {
	v := func(name string) string { return "${CLOUDRON_" + name + "}" }
	opt := func(name string) string { return "${CLOUDRON_" + name + ":-}" }
	switch addon {
	case "postgresql":
		return []addonEnv{{"POSTGRESQL_URL", v("POSTGRESQL_URL")}, {"POSTGRESQL_HOST", v("POSTGRESQL_HOST")}, {"POSTGRESQL_PORT", v("POSTGRESQL_PORT")},
			{"POSTGRESQL_DATABASE", v("POSTGRESQL_DATABASE")}, {"POSTGRESQL_USERNAME", v("POSTGRESQL_USERNAME")}, {"POSTGRESQL_PASSWORD", v("POSTGRESQL_PASSWORD")}}
	case "mysql":
		return []addonEnv{{"MYSQL_URL", v("MYSQL_URL")}, {"MYSQL_HOST", v("MYSQL_HOST")}, {"MYSQL_PORT", v("MYSQL_PORT")},
			{"MYSQL_DATABASE", v("MYSQL_DATABASE")}, {"MYSQL_USERNAME", v("MYSQL_USERNAME")}, {"MYSQL_PASSWORD", v("MYSQL_PASSWORD")}}
	case "mongodb":
		return []addonEnv{{"MONGODB_URL", v("MONGODB_URL")}}
	case "redis":
		return []addonEnv{{"REDIS_URL", v("REDIS_URL")}, {"REDIS_HOST", v("REDIS_HOST")}, {"REDIS_PORT", v("REDIS_PORT")}, {"REDIS_PASSWORD", v("REDIS_PASSWORD")}}
	case "sendmail":
		return []addonEnv{{"SMTP_HOST", v("MAIL_SMTP_SERVER")}, {"SMTP_PORT", v("MAIL_SMTP_PORT")}, {"SMTP_USERNAME", v("MAIL_SMTP_USERNAME")},
			{"SMTP_PASSWORD", v("MAIL_SMTP_PASSWORD")}, {"MAIL_FROM", v("MAIL_FROM")}}
	case "recvmail":
		return []addonEnv{{"IMAP_HOST", opt("MAIL_IMAP_SERVER")}, {"IMAP_PORT", opt("MAIL_IMAP_PORT")}, {"IMAP_USERNAME", opt("MAIL_IMAP_USERNAME")},
			{"IMAP_PASSWORD", opt("MAIL_IMAP_PASSWORD")}, {"MAIL_TO", opt("MAIL_TO")}}
	case "ldap":
		return []addonEnv{{"LDAP_URL", opt("LDAP_URL")}, {"LDAP_USERS_BASE_DN", opt("LDAP_USERS_BASE_DN")}, {"LDAP_GROUPS_BASE_DN", opt("LDAP_GROUPS_BASE_DN")},
			{"LDAP_BIND_DN", opt("LDAP_BIND_DN")}, {"LDAP_BIND_PASSWORD", opt("LDAP_BIND_PASSWORD")}}
	case "oidc":
		return []addonEnv{{"OIDC_ISSUER", opt("OIDC_ISSUER")}, {"OIDC_CLIENT_ID", opt("OIDC_CLIENT_ID")}, {"OIDC_CLIENT_SECRET", opt("OIDC_CLIENT_SECRET")},
			{"OIDC_REDIRECT_URI", "${CLOUDRON_APP_ORIGIN}" + oidcCallback}}
	}
	return nil
}

// oidcCallback is the login redirect path the manifest declares for oidc.
const oidcCallback = "/auth/oidc/callback"

// addonUse says what each addon is for, in the build notes.
var addonUse = map[string]string{
	"localstorage": "`/app/data`, the only persistent folder: the app's files, the secret made on first run, the schema version. Backed up.",
	"postgresql":   "the database; `start.sh` passes `CLOUDRON_POSTGRESQL_*` to the app as `POSTGRESQL_*` in `/run/app/env`.",
	"mysql":        "the database; `start.sh` passes `CLOUDRON_MYSQL_*` to the app as `MYSQL_*` in `/run/app/env`.",
	"mongodb":      "the database (`MONGODB_URL`). Note: no MongoDB in Debian, so `cpk test` cannot provide this addon locally.",
	"redis":        "cache and queues (`REDIS_URL`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD`).",
	"sendmail":     "outgoing e-mail (`SMTP_HOST`, `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `MAIL_FROM`; plain SMTP inside the platform).",
	"recvmail":     "incoming e-mail over IMAP (`IMAP_*`, `MAIL_TO`); the admin may turn it off, so every variable is read with a default.",
	"ldap":         "login with Cloudron users (`LDAP_*`); with `optionalSso` the variables are absent when installed without SSO.",
	"oidc":         "login with Cloudron users over OpenID Connect (`OIDC_*`, callback `" + oidcCallback + "`); with `optionalSso` the variables are absent when installed without SSO.",
	"scheduler":    "the `housekeeping` task every 30 minutes, run in a sibling container with the app's environment, `/run` and `/app/data`.",
	"proxyAuth":    "the Cloudron login in front of the whole site (no variables; the health check bypasses it).",
}

// data is what the templates see.
type data struct {
	Options
	Runtime                  Runtime
	R                        runtimeFacts
	Has                      map[string]bool
	App                      bool   // an app runs (every archetype but static)
	Compiled                 bool   // a build stage compiles the app (java, go)
	UpstreamDir              string // where the Dockerfile puts upstream/
	Installed                string // where the placeholder is installed
	HasData                  bool   // localstorage: /app/data exists
	Nginx                    bool   // nginx on the httpPort
	Supervisor               bool   // more than one process
	AppPort                  int    // where the app listens
	AppHost                  string // and on which address
	Env                      []addonEnv
	UpstreamSHA256           string
	UpstreamVersion, Version string
	SSO                      bool
	Health                   string
	Uses                     []string // the build notes' addon lines
}

// Render returns the files of the package; nothing is written.
func Render(o Options) ([]File, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	d := &data{Options: o, Runtime: o.Runtime, R: runtimes[o.Runtime], Has: map[string]bool{},
		UpstreamVersion: PlaceholderVersion, Version: PackageVersion, Health: "/healthz"}
	for _, a := range o.Addons {
		d.Has[a] = true
		d.Env = append(d.Env, envFor(a)...)
		d.Uses = append(d.Uses, fmt.Sprintf("- `%s`: %s", a, addonUse[a]))
	}
	d.HasData = d.Has["localstorage"]
	d.App = o.Archetype != Static
	d.Compiled = o.Runtime == Java || o.Runtime == Go
	d.UpstreamDir = "/app/pkg/upstream"
	if d.Compiled {
		d.UpstreamDir = "/src/upstream"
	}
	d.Installed = map[Runtime]string{Node: "/app/code/server.js", Python: "/app/code/server.py", PHP: "/app/code/public/index.php",
		Binary: "/app/code/bin/app", None: "/app/code/public/index.html"}[o.Runtime]
	d.SSO = d.Has["ldap"] || d.Has["oidc"] || d.Has["proxyAuth"]
	d.Nginx = o.Archetype == Web || o.Archetype == Static || o.Runtime == PHP
	d.Supervisor = o.Archetype == Web || o.Archetype == Worker || o.Runtime == PHP
	d.AppPort, d.AppHost = 8000, "0.0.0.0"
	if o.Archetype == Web {
		d.AppPort, d.AppHost = 3000, "127.0.0.1"
	}
	if o.Archetype == Static {
		d.Health = "/"
	}

	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	render := func(name string) ([]byte, error) {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, name, d); err != nil {
			return nil, fmt.Errorf("render %s: %w", name, err)
		}
		return tidy(b.Bytes()), nil
	}

	var files []File
	add := func(p string, mode fs.FileMode, b []byte) { files = append(files, File{Path: p, Mode: mode, Data: b}) }

	// The placeholder upstream first: the Dockerfile carries its checksum.
	up, err := render("placeholder/" + d.R.Placeholder)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(up)
	d.UpstreamSHA256 = hex.EncodeToString(sum[:])
	add("upstream/"+d.R.File, 0o644, up)

	for _, f := range []struct {
		name, path string
		mode       fs.FileMode
		when       bool
	}{
		{"Dockerfile", "Dockerfile", 0o644, true},
		{"start.sh", "start.sh", 0o755, true},
		{"nginx.conf", "nginx.conf", 0o644, d.Nginx},
		{"php-fpm.conf", "php-fpm.conf", 0o644, o.Runtime == PHP},
		{"supervisor/nginx.conf", "supervisor/nginx.conf", 0o644, d.Supervisor && d.Nginx},
		{"supervisor/php-fpm.conf", "supervisor/php-fpm.conf", 0o644, d.Supervisor && o.Runtime == PHP},
		{"supervisor/app.conf", "supervisor/" + o.ID + ".conf", 0o644, d.Supervisor && o.Runtime != PHP},
		{"supervisor/worker.conf", "supervisor/" + o.ID + "-worker.conf", 0o644, o.Archetype == Worker},
		{"NOTES.md", "NOTES.md", 0o644, true},
		{"DESCRIPTION.md", "DESCRIPTION.md", 0o644, true},
		{"CHANGELOG", "CHANGELOG", 0o644, true},
		{"dockerignore", ".dockerignore", 0o644, true},
		{"cpk.yaml", "cpk.yaml", 0o644, o.Spec != nil},
		{"test/checks.yaml", "test/checks.yaml", 0o644, true},
	} {
		if !f.when {
			continue
		}
		b, err := render(f.name)
		if err != nil {
			return nil, err
		}
		add(f.path, f.mode, b)
	}
	m, err := manifestJSON(d)
	if err != nil {
		return nil, err
	}
	add("CloudronManifest.json", 0o644, m)
	add("icon.png", 0o644, Icon(o.ID, o.Archetype))
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

var funcs = template.FuncMap{
	// heredoc quotes text for an unquoted here-document: $, ` and \ stay literal.
	"heredoc": func(s string) string {
		return strings.NewReplacer(`\`, `\\`, "$", `\$`, "`", "\\`").Replace(s)
	},
	// yaml quotes a string for cpk.yaml.
	"yaml": func(s string) string { b, _ := json.Marshal(s); return string(b) },
	"join": strings.Join,
}

func parseTemplates() (*template.Template, error) {
	t := template.New("").Funcs(funcs)
	err := fs.WalkDir(templates, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templates.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".tmpl")
		_, err = t.New(name).Parse(string(b))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the embedded templates: %w", err)
	}
	return t, nil
}

// tidy collapses the runs of blank lines that conditional template blocks
// leave behind and ends the file with one newline.
func tidy(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	var out []string
	blank := false
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			if blank || len(out) == 0 {
				continue
			}
			blank = true
			out = append(out, "")
			continue
		}
		blank = false
		out = append(out, strings.TrimRight(l, " \t"))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// Names lists the paths of files, for messages.
func Names(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, path.Clean(f.Path))
	}
	return out
}
