package rules

import (
	"bytes"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/manifest"
	"cpk/internal/parse/shell"
)

// envVar is one variable the platform sets in the app container
// (reference §2.1, §2.2, §3.2).
type envVar struct {
	Addon      string // the addon that sets it, "" for the generic ones
	Option     string // set only with this addon option (or manifest field for generic ones)
	NotWith    string // absent when this addon option is set
	Legacy     string // why a package should not rely on it
	KeepPrefix bool   // named CLOUDRON_… even with manifestVersion 1
}

// platformEnv is every CLOUDRON_ variable the platform sets.
var platformEnv = func() map[string]envVar {
	env := map[string]envVar{
		"CLOUDRON_APP_ORIGIN":      {},
		"CLOUDRON_APP_DOMAIN":      {},
		"CLOUDRON_API_ORIGIN":      {},
		"CLOUDRON_WEBADMIN_ORIGIN": {},
		"CLOUDRON_PROXY_IP":        {KeepPrefix: true},
		"CLOUDRON_APP_HOSTNAME":    {KeepPrefix: true},
		"CLOUDRON_ALIAS_DOMAINS":   {Option: "multiDomain"},
		"CLOUDRON_ADMIN_EMAIL":     {KeepPrefix: true, Legacy: "only the 2019 platform set it; current docs do not list it"},
	}
	add := func(addon, prefix string, names ...string) {
		for _, n := range names {
			env[prefix+n] = envVar{Addon: addon}
		}
	}
	add("mysql", "CLOUDRON_MYSQL_", "URL", "USERNAME", "PASSWORD", "HOST", "PORT", "DATABASE")
	add("postgresql", "CLOUDRON_POSTGRESQL_", "URL", "USERNAME", "PASSWORD", "HOST", "PORT", "DATABASE")
	add("mongodb", "CLOUDRON_MONGODB_", "URL", "USERNAME", "PASSWORD", "HOST", "PORT", "DATABASE")
	add("redis", "CLOUDRON_REDIS_", "URL", "HOST", "PORT", "PASSWORD")
	add("ldap", "CLOUDRON_LDAP_", "SERVER", "HOST", "PORT", "URL", "USERS_BASE_DN", "GROUPS_BASE_DN", "BIND_DN", "BIND_PASSWORD")
	add("oidc", "CLOUDRON_OIDC_", "PROVIDER_NAME", "DISCOVERY_URL", "ISSUER", "AUTH_ENDPOINT", "TOKEN_ENDPOINT",
		"KEYS_ENDPOINT", "PROFILE_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET")
	add("sendmail", "CLOUDRON_MAIL_", "SMTP_SERVER", "SMTP_PORT", "SMTPS_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "FROM", "DOMAIN")
	add("recvmail", "CLOUDRON_MAIL_", "IMAP_SERVER", "IMAP_PORT", "IMAPS_PORT", "POP3_PORT", "POP3S_PORT",
		"IMAP_USERNAME", "IMAP_PASSWORD", "TO", "TO_DOMAIN")
	add("email", "CLOUDRON_EMAIL_", "SMTP_SERVER", "SMTP_PORT", "SMTPS_PORT", "STARTTLS_PORT", "IMAP_SERVER", "IMAP_PORT",
		"IMAPS_PORT", "SIEVE_SERVER", "SIEVE_PORT", "DOMAIN", "DOMAINS", "SERVER_HOST")
	add("turn", "CLOUDRON_TURN_", "SERVER", "PORT", "TLS_PORT", "SECRET")
	add("docker", "CLOUDRON_DOCKER_", "HOST")
	env["CLOUDRON_MAIL_FROM_DISPLAY_NAME"] = envVar{Addon: "sendmail", Option: "supportsDisplayName"}
	env["CLOUDRON_MONGODB_OPLOG_URL"] = envVar{Addon: "mongodb", Option: "oplog"}
	env["CLOUDRON_MYSQL_DATABASE_PREFIX"] = envVar{Addon: "mysql", Option: "multipleDatabases"}
	env["CLOUDRON_MYSQL_URL"] = envVar{Addon: "mysql", NotWith: "multipleDatabases"}
	env["CLOUDRON_MYSQL_DATABASE"] = envVar{Addon: "mysql", NotWith: "multipleDatabases"}
	for _, n := range []string{"CLIENT_ID", "CLIENT_SECRET", "ORIGIN"} {
		env["CLOUDRON_OAUTH_"+n] = envVar{Addon: "oauth", Legacy: "the oauth addon is legacy; use oidc (CLOUDRON_OIDC_*)"}
	}
	for _, n := range []string{"CLOUDRON_MAIL_SIEVE_SERVER", "CLOUDRON_MAIL_SIEVE_PORT", "CLOUDRON_MAIL_DOMAINS", "CLOUDRON_LDAP_MAILBOXES_BASE_DN"} {
		env[n] = envVar{Addon: "email", Legacy: "a 2019 name of the email addon; it now sets CLOUDRON_EMAIL_*"}
	}
	return env
}()

// volatileVar reports whether a variable's value can change between starts:
// every addon value, and the app's origin and domain (a move changes them).
func volatileVar(name string) bool {
	v, ok := platformEnv[name]
	return ok && (v.Addon != "" || name == "CLOUDRON_APP_ORIGIN" || name == "CLOUDRON_APP_DOMAIN" || name == "CLOUDRON_ALIAS_DOMAINS")
}

// envUse is one use of a CLOUDRON_ variable in a package file.
type envUse struct {
	Name      string
	File      string
	Line, Col int
	Ref       *shell.VarRef // the shell reference, nil for a use found in text
}

// envFacts is what the package's files say about variables.
type envFacts struct {
	Uses     []envUse
	Defined  map[string]bool // names the package sets itself (shell assignments, ENV, ARG)
	Text     map[string]string
	TLSFiles []envUse // references of /etc/certs/tls_*.pem
}

// textExts are the files scanned for variable names.
var textExts = map[string]bool{
	".sh": true, ".bash": true, ".conf": true, ".ini": true, ".json": true, ".yaml": true, ".yml": true, ".env": true,
	".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".py": true, ".php": true, ".rb": true, ".toml": true,
	".template": true, ".tmpl": true, ".tpl": true, ".j2": true, ".xml": true, ".properties": true, ".cfg": true,
	".cnf": true, ".lua": true, ".pl": true, ".groovy": true,
}

const maxScanned = 1 << 20

// isShellFile reports whether a package file is a shell script.
func isShellFile(rel string, data []byte) bool {
	if ext := path.Ext(rel); ext == ".sh" || ext == ".bash" {
		return true
	}
	if !bytes.HasPrefix(data, []byte("#!")) {
		return false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	prog, _ := shebangProgram(strings.TrimRight(string(line), "\r"))
	return prog == "bash" || prog == "sh" || prog == "dash"
}

// scannedFile reports whether a file is read for variable names.
func scannedFile(rel string) bool {
	base := path.Base(rel)
	if base == "want.txt" || strings.HasSuffix(base, ".md") {
		return false
	}
	for _, n := range lint.DockerfileNames {
		if rel == n {
			return true
		}
	}
	ext := path.Ext(base)
	if textExts[ext] {
		return true
	}
	// config.json.template, env.sh.example…
	return textExts[path.Ext(strings.TrimSuffix(base, ext))]
}

// parsedShell parses a package shell script once per pass.
func parsedShell(p *lint.Pass, rel string, data []byte) *shell.Script {
	if s := loadStart(p); s != nil && s.Rel == rel {
		return s.Script
	}
	return p.Memo("rules/shell:"+rel, func() any {
		s, _ := shell.ParseWith(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), shell.Options{Vars: imageEnv(p)})
		return s
	}).(*shell.Script)
}

func loadEnvFacts(p *lint.Pass) *envFacts {
	return p.Memo("rules/env-facts", func() any {
		facts := &envFacts{Defined: map[string]bool{}, Text: map[string]string{}}
		start := loadStart(p)
		for _, rel := range p.Files() {
			isStart := start != nil && start.Rel == rel
			if !isStart && (!scannedFile(rel) || !inImage(p, rel)) {
				continue // only what the image runs: not CI, tests, docs…
			}
			full, err := p.Path(rel)
			if err != nil {
				continue
			}
			if st, err := os.Stat(full); err != nil || st.Size() > maxScanned {
				continue
			}
			data, err := p.ReadFile(rel)
			if err != nil || bytes.IndexByte(data, 0) >= 0 {
				continue
			}
			facts.Text[rel] = string(data)
			refs := map[[2]int]bool{}
			if isStart || isShellFile(rel, data) {
				if s := parsedShell(p, rel, data); s != nil {
					for i := range s.Refs {
						r := &s.Refs[i]
						if strings.HasPrefix(r.Name, "CLOUDRON_") {
							facts.Uses = append(facts.Uses, envUse{Name: r.Name, File: rel, Line: r.Pos.Line, Col: r.Pos.Col, Ref: r})
							refs[[2]int{r.Pos.Line, nameLineKey(r.Name)}] = true
						}
					}
					for _, c := range s.Commands {
						for _, a := range c.Assigns {
							facts.Defined[a.Name] = true
						}
					}
				}
			}
			scanText(facts, rel, data, refs)
			if !isStart && !isShellFile(rel, data) {
				setNames(string(data), facts.Defined)
			}
		}
		if _, f := dockerFile(p); f != nil {
			for _, st := range f.Stages {
				for _, c := range st.Commands {
					for _, k := range envKeys(c) {
						facts.Defined[k] = true
					}
				}
			}
		}
		return facts
	}).(*envFacts)
}

// setNames adds to defined the CLOUDRON_ names that a file (not a shell
// script) sets rather than reads: an assignment in an environment file or
// supervisor's environment= (NAME=…), process.env.NAME = …,
// os.environ['NAME'] = …, os.environ.setdefault('NAME', …), ENV['NAME'] = …,
// putenv('NAME=…').
func setNames(text string, defined map[string]bool) {
	for off := 0; ; {
		i := strings.Index(text[off:], "CLOUDRON_")
		if i < 0 {
			return
		}
		a := off + i
		b := a + len("CLOUDRON_")
		for b < len(text) && (text[b] >= 'A' && text[b] <= 'Z' || text[b] >= '0' && text[b] <= '9' || text[b] == '_') {
			b++
		}
		off = b
		name := text[a:b]
		lineStart := strings.LastIndexByte(text[:a], '\n') + 1
		before := text[lineStart:a]
		after := strings.TrimLeft(text[b:], `'"] `)
		assigns := strings.HasPrefix(after, "=") && !strings.HasPrefix(after, "==")
		quoted := strings.TrimRight(before, `'"`)
		switch {
		case strings.HasSuffix(quoted, "setdefault("), strings.HasSuffix(strings.TrimSpace(quoted), "setdefault("):
			defined[name] = true
		case !assigns:
		case strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(before), "export")) == "",
			strings.HasSuffix(before, "process.env."),
			strings.HasSuffix(quoted, "environ["), strings.HasSuffix(quoted, "ENV["), strings.HasSuffix(quoted, "putenv("),
			strings.Contains(before, "environment") && strings.Contains(before, "="):
			defined[name] = true
		}
	}
}

// nameLineKey turns a name into a map key component.
func nameLineKey(name string) int {
	h := 0
	for _, c := range name {
		h = h*31 + int(c)
	}
	return h
}

// scanText finds CLOUDRON_ names in a file's text, skipping comment lines and
// the names a shell reference on the same line already accounts for.
func scanText(facts *envFacts, rel string, data []byte, refs map[[2]int]bool) {
	hashComments := true
	switch path.Ext(rel) {
	case ".js", ".mjs", ".cjs", ".ts", ".php", ".json", ".groovy":
		hashComments = false
	}
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "//") || strings.HasPrefix(t, ";") || (hashComments && strings.HasPrefix(t, "#")) {
			continue
		}
		if hashComments {
			if j := strings.Index(line, " #"); j >= 0 {
				line = line[:j]
			}
		}
		if rel == lint.ManifestFile && strings.Contains(line, `"file://`) {
			continue // a file reference (file://NAME), not a variable
		}
		if j := strings.Index(line, "/etc/certs/tls_"); j >= 0 {
			facts.TLSFiles = append(facts.TLSFiles, envUse{Name: "/etc/certs", File: rel, Line: i + 1, Col: j + 1})
		}
		for off := 0; ; {
			j := strings.Index(line[off:], "CLOUDRON_")
			if j < 0 {
				break
			}
			start := off + j
			end := start + len("CLOUDRON_")
			for end < len(line) && (line[end] >= 'A' && line[end] <= 'Z' || line[end] >= '0' && line[end] <= '9' || line[end] == '_') {
				end++
			}
			off = end
			if start > 0 {
				prev := line[start-1]
				if isIdentByte(prev) && !strings.HasSuffix(line[:start], "ENV_") {
					continue
				}
			}
			if end < len(line) && isIdentByte(line[end]) || line[end-1] == '_' {
				continue // a prefix (CLOUDRON_MAIL_*) or a longer identifier
			}
			name := line[start:end]
			if refs[[2]int{i + 1, nameLineKey(name)}] {
				continue
			}
			facts.Uses = append(facts.Uses, envUse{Name: name, File: rel, Line: i + 1, Col: start + 1})
		}
	}
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

var envRules = []*lint.Rule{
	{
		Code: "XF001", Title: "CLOUDRON_ variables are ones the platform sets", Severity: cpk.Error,
		Doc: `The platform sets a fixed list of CLOUDRON_ variables: the generic ones
(CLOUDRON_APP_ORIGIN, CLOUDRON_APP_DOMAIN…) and those of each addon. A name
outside that list is empty at runtime, usually a typo. The rule decides from
the files that reach the image: those a COPY or ADD of the final stage (or
of a stage it copies from) takes in, what they source, and the Dockerfile.
CI workflows, tests, fixtures, docs, development compose files, lockfiles,
translations and stylesheets are not read. Names the package sets itself
(ENV, ARG, shell assignments, NAME=… in environment files and supervisor's
environment=, process.env.NAME = …, os.environ['NAME'] = …) are not
platform variables, and a file://NAME value of the manifest names a file.
"Did you mean" is offered only for a name a small edit
away from a real variable.

Bad:

    DATABASE_URL="${CLOUDRON_POSTGRES_URL}"

Good:

    DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"`,
		Run: checkUnknownVars,
	},
	{
		Code: "XF002", Title: "the addons whose variables are used are declared", Severity: cpk.Error,
		Doc: `An addon's variables (and the tls addon's certificate files) exist only when
the manifest declares the addon; otherwise the app starts without a database,
mail server or directory.


The rule decides from the manifest and the files that reach the image (as
XF001 does: not CI, tests, docs, lockfiles, translations or stylesheets).

Bad:

    "addons": { "localstorage": {} }
    # start.sh: export REDIS_URL="${CLOUDRON_REDIS_URL}"

Good:

    "addons": { "localstorage": {}, "redis": {} }`,
		Run: checkAddonDeclared,
	},
	{
		Code: "XF003", Title: "declared addons are used", Severity: cpk.Warning,
		Doc: `An addon that sets variables but whose variables no package file reads is
provisioned (and backed up) for nothing, or the app is not connected to it:
pass its variables to the app.


The rule decides from the manifest and the files that reach the image (as
XF001 does: not CI, tests, docs, lockfiles, translations or stylesheets).

Bad:

    "addons": { "postgresql": {}, "localstorage": {} }   (nothing reads CLOUDRON_POSTGRESQL_*)

Good:

    export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"`,
		Run: checkAddonUsed,
	},
	{
		Code: "XF004", Title: "optional variables are read with a default", Severity: cpk.Warning,
		Doc: `Some variables may be absent: all sendmail variables with "optional": true,
recvmail's when the admin disables it, ldap and oidc when the app is
installed without SSO under optionalSso, and tcpPorts/udpPorts variables when
the user disables the port. Under set -u a bare $VAR stops the script; read
them as ${VAR:-} or test them first.

The rule decides from the shell scripts that reach the image. A read is
guarded, and not reported, when it has a default (${VAR:-}, ${VAR-x}), sits
inside a condition that tests a variable of the same group, or comes after
an early exit: an if [[ -z "${VAR:-}" ]] (or [[ -n … ]] ||) whose branch
exits, execs, or calls a function that ends in exec. An unguarded read in a
script under set -u is RT008's (an error: the script stops there).

Bad:

    export SMTP_HOST="${CLOUDRON_MAIL_SMTP_SERVER}"      ("sendmail": { "optional": true })

Good:

    if [[ -n "${CLOUDRON_MAIL_SMTP_SERVER:-}" ]]; then
        export SMTP_HOST="${CLOUDRON_MAIL_SMTP_SERVER}"
    fi`,
		Run: checkOptionalDefaults,
	},
	{
		Code: "XF005", Title: "manifestVersion 1 packages use unprefixed variables", Severity: cpk.Error,
		Doc: `With "manifestVersion": 1 the platform drops the CLOUDRON_ prefix from the
app and addon variables (MYSQL_URL, APP_ORIGIN…). A version 1 package that
reads CLOUDRON_MYSQL_URL reads nothing. Move to manifestVersion 2.

Bad:

    "manifestVersion": 1
    # start.sh: echo "${CLOUDRON_APP_ORIGIN}"

Good:

    "manifestVersion": 2
    # start.sh: echo "${CLOUDRON_APP_ORIGIN}"`,
		Run: checkPrefixV1,
	},
	{
		Code: "XF006", Title: "variables that need an addon option have it", Severity: cpk.Warning,
		Doc: `Some variables exist only with an addon option: CLOUDRON_MAIL_FROM_DISPLAY_NAME
with sendmail's supportsDisplayName, CLOUDRON_MONGODB_OPLOG_URL with oplog,
CLOUDRON_MYSQL_DATABASE_PREFIX with multipleDatabases (which removes
CLOUDRON_MYSQL_URL and CLOUDRON_MYSQL_DATABASE), CLOUDRON_ALIAS_DOMAINS with
multiDomain. cpk decides from the manifest's addons and their options and
the variables the package's files read; an unguarded read in a script under
set -u is RT008's (an error: the script stops there).


The rule decides from the manifest and the files that reach the image (as
XF001 does: not CI, tests, docs, lockfiles, translations or stylesheets).

Bad:

    "addons": { "sendmail": {} }
    # start.sh: FROM_NAME="${CLOUDRON_MAIL_FROM_DISPLAY_NAME}"

Good:

    "addons": { "sendmail": { "supportsDisplayName": true } }`,
		Run: checkVarOptions,
	},
	{
		Code: "XF007", Title: "no legacy variables", Severity: cpk.Warning,
		Doc: `Some variables were set by older platforms only: CLOUDRON_ADMIN_EMAIL, the
legacy oauth addon's CLOUDRON_OAUTH_*, and the 2019 names of the email addon
(CLOUDRON_MAIL_SIEVE_*, CLOUDRON_MAIL_DOMAINS). Current platforms may not set
them.


The rule decides from the manifest and the files that reach the image (as
XF001 does: not CI, tests, docs, lockfiles, translations or stylesheets).

Bad:

    ADMIN="${CLOUDRON_ADMIN_EMAIL}"

Good:

    (ask for the admin address in the app's setup, or use OIDC for logins)`,
		Run: checkLegacyVars,
	},
	{
		Code: "XF008", Title: "a port without containerPort is read from its variable", Severity: cpk.Warning,
		Doc: `A tcpPorts or udpPorts entry without containerPort is published on the port
the user chooses, inside the container too: the app must listen on $KEY. If
no package file reads the variable, the app listens somewhere else.


The rule decides from the manifest and the files that reach the image (as
XF001 does: not CI, tests, docs, lockfiles, translations or stylesheets).

Bad:

    "tcpPorts": { "SSH_PORT": { "title": "SSH", "description": "Git over SSH", "defaultValue": 2222 } }
    (nothing reads SSH_PORT)

Good:

    "tcpPorts": { "SSH_PORT": { "title": "SSH", "description": "Git over SSH", "defaultValue": 2222, "containerPort": 22 } }`,
		Run: checkPortVarsRead,
	},
}

func checkUnknownVars(p *lint.Pass) {
	facts := loadEnvFacts(p)
	var known []string
	for _, u := range facts.Uses {
		if _, ok := platformEnv[u.Name]; ok || facts.Defined[u.Name] {
			continue
		}
		if known == nil {
			for k := range platformEnv {
				known = append(known, k)
			}
		}
		hint := "use one of the variables the platform sets (see the Cloudron addon docs)"
		if s := cpk.Suggest(u.Name, known); s != "" {
			hint = "did you mean " + s + "?"
		} else if family := envFamily(u.Name); len(family) > 0 {
			hint = "the platform sets " + strings.Join(family, ", ")
		}
		p.Reportf(u.File, u.Line, u.Col, "%s is not set by the platform: %s", u.Name, hint)
	}
}

func checkAddonDeclared(p *lint.Pass) {
	m := manifestFacts(p)
	if m == nil {
		return
	}
	facts := loadEnvFacts(p)
	seen := map[string]bool{}
	for _, u := range facts.Uses {
		v, ok := platformEnv[u.Name]
		if !ok || v.Addon == "" || m.has(v.Addon) || facts.Defined[u.Name] || seen[u.File+"\x00"+v.Addon] {
			continue
		}
		seen[u.File+"\x00"+v.Addon] = true
		p.Reportf(u.File, u.Line, u.Col, "%s comes from the %s addon, which the manifest does not declare: add \"%s\": {} to addons", u.Name, v.Addon, v.Addon)
	}
	if !m.has("tls") {
		for _, u := range facts.TLSFiles {
			if seen[u.File+"\x00tls"] {
				continue
			}
			seen[u.File+"\x00tls"] = true
			p.Reportf(u.File, u.Line, u.Col, "/etc/certs/tls_*.pem exist only with the tls addon: add \"tls\": {} to addons")
		}
	}
}

// addonsWithVars are the addons whose use shows in variables.
var addonsWithVars = []string{"mysql", "postgresql", "mongodb", "redis", "ldap", "oidc", "sendmail", "recvmail", "email", "turn", "oauth"}

func checkAddonUsed(p *lint.Pass) {
	m := manifestFacts(p)
	rep := p.Manifest()
	if m == nil || rep == nil {
		return
	}
	facts := loadEnvFacts(p)
	used := map[string]bool{}
	for _, u := range facts.Uses {
		if v, ok := platformEnv[u.Name]; ok {
			used[v.Addon] = true
		}
	}
	for _, addon := range addonsWithVars {
		if !m.has(addon) || used[addon] {
			continue
		}
		if m.ManifestVersion == 1 && usedUnprefixed(facts, addon) {
			continue
		}
		if addon == "sendmail" && addonOption(m.Addons["sendmail"], "optional") {
			continue // the user may configure mail inside the app
		}
		line, col := pos(rep, "/addons/"+addon)
		p.Reportf(lint.ManifestFile, line, col, "the %s addon is declared but no package file reads its variables (%s): pass them to the app, or drop the addon", addon, addonPrefix(addon)+"*")
	}
}

func addonPrefix(addon string) string {
	switch addon {
	case "sendmail", "recvmail":
		return "CLOUDRON_MAIL_"
	}
	return "CLOUDRON_" + strings.ToUpper(addon) + "_"
}

// usedUnprefixed reports whether a manifestVersion 1 package names one of an
// addon's variables without the prefix.
func usedUnprefixed(facts *envFacts, addon string) bool {
	for name, v := range platformEnv {
		if v.Addon != addon {
			continue
		}
		bare := strings.TrimPrefix(name, "CLOUDRON_")
		for _, text := range facts.Text {
			if strings.Contains(text, bare) {
				return true
			}
		}
	}
	return false
}

func addonOption(opts map[string]any, key string) bool {
	b, _ := opts[key].(bool)
	return b
}

// optionalGroup returns the group of an optional variable ("" when it is
// always set): the addon, or the port key.
func optionalGroup(m *manifestFactsView, ports map[string]bool, name string) string {
	if v, ok := platformEnv[name]; ok {
		switch {
		case v.Addon == "sendmail" && addonOption(m.Addons["sendmail"], "optional"):
			return "sendmail"
		case v.Addon == "recvmail":
			return "recvmail"
		case (v.Addon == "ldap" || v.Addon == "oidc") && m.OptionalSso:
			return v.Addon
		}
		return ""
	}
	if ports[name] {
		return "port:" + name
	}
	if k, ok := strings.CutSuffix(name, "_COUNT"); ok && ports[k] {
		return "port:" + k
	}
	return ""
}

func checkOptionalDefaults(p *lint.Pass) {
	m := manifestFacts(p)
	rep := p.Manifest()
	if m == nil || rep == nil {
		return
	}
	mf := *typedManifest(p)
	ports := map[string]bool{}
	for k := range mf.TCPPorts {
		ports[k] = true
	}
	for k := range mf.UDPPorts {
		ports[k] = true
	}
	for _, rel := range shellFiles(p) {
		s := parsedShellFile(p, rel)
		if s == nil {
			continue
		}
		for _, r := range s.Refs {
			group := optionalGroup(m, ports, r.Name)
			if group == "" || r.Default || guardedBy(r, m, ports, group) || unsetReadAt(p, rel, r.Pos.Line, r.Pos.Col) ||
				afterEarlyExit(s, r, func(name string) bool { return optionalGroup(m, ports, name) == group }) {
				continue
			}
			why := map[string]string{
				"sendmail": "sendmail is optional, so all its variables may be absent",
				"recvmail": "the admin can disable recvmail, which removes its variables",
				"ldap":     "with optionalSso the app may be installed without SSO, without the ldap variables",
				"oidc":     "with optionalSso the app may be installed without SSO, without the oidc variables",
			}[group]
			if strings.HasPrefix(group, "port:") {
				why = "the user can disable the port, which removes the variable"
			}
			p.Reportf(rel, r.Pos.Line, r.Pos.Col, "$%s may be unset (%s): read it as ${%s:-} or inside if [[ -n \"${%s:-}\" ]]", r.Name, why, r.Name, r.Name)
		}
	}
}

// guardedBy reports whether a reference sits inside a condition that tests a
// variable of the same group.
func guardedBy(r shell.VarRef, m *manifestFactsView, ports map[string]bool, group string) bool {
	for _, g := range r.Guards {
		for _, gr := range g.Refs {
			if optionalGroup(m, ports, gr.Name) == group {
				return true
			}
		}
	}
	return false
}

// afterEarlyExit reports whether a reference comes after the script has
// stopped, or exec'd the app, when a variable of its group is empty:
//
//	if [[ -z "${CLOUDRON_OIDC_ISSUER:-}" ]]; then exec gosu cloudron node server.js; fi
//	[[ -n "${CLOUDRON_LDAP_SERVER:-}" ]] || exit 0
//
// in the same function (or both at the top level).
func afterEarlyExit(sc *shell.Script, r shell.VarRef, inGroup func(string) bool) bool {
	for _, c := range sc.Commands {
		if c.Pos.Line >= r.Pos.Line || !terminates(sc, c) {
			continue
		}
		for _, g := range c.Guards {
			if !emptyTest(g, inGroup) || hasGuard(r.Guards, g) {
				continue
			}
			return true
		}
	}
	return false
}

// terminates reports whether a command ends the script: exit, exec, or a
// function whose every ending is one of them.
func terminates(sc *shell.Script, c *shell.Command) bool {
	switch c.Name() {
	case "exit":
		return true
	case "exec":
		return c.ExecArgs() != nil
	case "":
		return false
	}
	ends, complete, ok := sc.FuncEndings(c.Name())
	if !ok || !complete || len(ends) == 0 {
		return false
	}
	for _, e := range ends {
		if n := e.Name(); n != "exit" && (n != "exec" || e.ExecArgs() == nil) {
			return false
		}
	}
	return true
}

// emptyTest reports whether a guard lets its command run only when a
// variable of the group is empty (-z in an if or before &&, -n before ||).
func emptyTest(g shell.Guard, inGroup func(string) bool) bool {
	named := false
	for _, r := range g.Refs {
		if inGroup(r.Name) {
			named = true
		}
	}
	if !named {
		return false
	}
	for _, t := range g.Tests {
		if (t.Op == "-z") != (t.Not != g.Else) && (t.Op == "-z" || t.Op == "-n") {
			return true
		}
	}
	return false
}

// hasGuard reports whether guards include g (the same condition).
func hasGuard(guards []shell.Guard, g shell.Guard) bool {
	for _, h := range guards {
		if h.Pos == g.Pos {
			return true
		}
	}
	return false
}

// shellFiles lists the package's shell scripts, the start script first.
func shellFiles(p *lint.Pass) []string {
	return p.Memo("rules/shell-files", func() any {
		var out []string
		start := loadStart(p)
		if start != nil {
			out = append(out, start.Rel)
		}
		for _, rel := range p.Files() {
			if start != nil && rel == start.Rel {
				continue
			}
			if ext := path.Ext(rel); (ext == ".sh" || ext == ".bash") && inImage(p, rel) {
				out = append(out, rel)
			}
		}
		return out
	}).([]string)
}

func parsedShellFile(p *lint.Pass, rel string) *shell.Script {
	data, err := p.ReadFile(rel)
	if err != nil || len(data) > maxScanned {
		return nil
	}
	return parsedShell(p, rel, data)
}

func checkPrefixV1(p *lint.Pass) {
	m := manifestFacts(p)
	if m == nil || m.ManifestVersion != 1 {
		return
	}
	for _, u := range loadEnvFacts(p).Uses {
		if v, ok := platformEnv[u.Name]; ok && !v.KeepPrefix {
			p.Reportf(u.File, u.Line, u.Col, "with manifestVersion 1 the platform sets %s, not %s: move the manifest to manifestVersion 2", strings.TrimPrefix(u.Name, "CLOUDRON_"), u.Name)
		}
	}
}

func checkVarOptions(p *lint.Pass) {
	m := manifestFacts(p)
	if m == nil {
		return
	}
	facts := loadEnvFacts(p)
	for _, u := range facts.Uses {
		v, ok := platformEnv[u.Name]
		if !ok || facts.Defined[u.Name] || unsetReadAt(p, u.File, u.Line, u.Col) {
			continue
		}
		switch {
		case v.Addon == "" && v.Option == "multiDomain" && !m.MultiDomain:
			p.Reportf(u.File, u.Line, u.Col, "%s is set only with \"multiDomain\": true in the manifest", u.Name)
		case v.Addon != "" && v.Option != "" && m.has(v.Addon) && !addonOption(m.Addons[v.Addon], v.Option):
			p.Reportf(u.File, u.Line, u.Col, "%s is set only with the %s addon's option %q: add \"%s\": { \"%s\": true }", u.Name, v.Addon, v.Option, v.Addon, v.Option)
		case v.NotWith != "" && m.has(v.Addon) && addonOption(m.Addons[v.Addon], v.NotWith):
			p.Reportf(u.File, u.Line, u.Col, "%s is not set when the %s addon has %q: use %s_DATABASE_PREFIX", u.Name, v.Addon, v.NotWith, strings.TrimSuffix(addonPrefix(v.Addon), "_"))
		}
	}
}

func checkLegacyVars(p *lint.Pass) {
	facts := loadEnvFacts(p)
	for _, u := range facts.Uses {
		if v, ok := platformEnv[u.Name]; ok && v.Legacy != "" && !facts.Defined[u.Name] {
			p.Reportf(u.File, u.Line, u.Col, "%s: %s", u.Name, v.Legacy)
		}
	}
}

func checkPortVarsRead(p *lint.Pass) {
	rep := p.Manifest()
	if rep == nil || rep.Doc == nil {
		return
	}
	mf := *typedManifest(p)
	facts := loadEnvFacts(p)
	for kind, ports := range map[string]map[string]manifest.Port{"tcpPorts": mf.TCPPorts, "udpPorts": mf.UDPPorts} {
		keys := make([]string, 0, len(ports))
		for k := range ports {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			if ports[key].ContainerPort != 0 || readsName(facts, key) {
				continue
			}
			line, col := pos(rep, "/"+kind+"/"+key)
			p.Reportf(lint.ManifestFile, line, col, "%s has no containerPort, so the app must listen on $%s, but no package file reads it: pass $%s to the app, or set containerPort", key, key, key)
		}
	}
}

// readsName reports whether a package file names a variable.
func readsName(facts *envFacts, name string) bool {
	for rel, text := range facts.Text {
		if rel == lint.ManifestFile {
			continue
		}
		for off := 0; ; {
			i := strings.Index(text[off:], name)
			if i < 0 {
				break
			}
			a, b := off+i, off+i+len(name)
			off = b
			if (a == 0 || !isIdentByte(text[a-1]) || strings.HasSuffix(text[:a], "ENV_")) && (b >= len(text) || !isIdentByte(text[b])) {
				return true
			}
		}
	}
	return false
}

// envKeys returns the names an ENV or ARG instruction sets.
func envKeys(c instructions.Command) []string {
	var out []string
	switch c := c.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			out = append(out, kv.Key)
		}
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			out = append(out, kv.Key)
		}
	}
	return out
}

// envFamily lists the known variables that share the longest prefix (up to
// an underscore) with name: CLOUDRON_MYSQL_HOSTNAME → the CLOUDRON_MYSQL_ ones.
func envFamily(name string) []string {
	for prefix := name; ; {
		i := strings.LastIndex(prefix, "_")
		if i <= len("CLOUDRON") {
			return nil
		}
		prefix = prefix[:i+1]
		var out []string
		for k := range platformEnv {
			if strings.HasPrefix(k, prefix) {
				out = append(out, k)
			}
		}
		if len(out) > 0 {
			sort.Strings(out)
			return out
		}
		prefix = prefix[:i]
	}
}
