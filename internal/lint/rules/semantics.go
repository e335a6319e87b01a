package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/manifest"
)

// semanticRules check what the manifest means, beyond the official schema.
var semanticRules = []*lint.Rule{
	{
		Code: "MF005", Title: "memoryLimit is at least 256 MB", Severity: cpk.Error,
		Doc: `memoryLimit is in bytes (or a string such as "512MB"). Cloudron never gives
an app less than 256 MB, so a smaller value is a mistake, most often megabytes
written as a number: "memoryLimit": 512 is 512 bytes.

Bad:

    "memoryLimit": 512

Good:

    "memoryLimit": 536870912`,
		Run: checkMemoryLimit,
	},
	{
		Code: "MF006", Title: "addon options are documented ones", Severity: cpk.Warning,
		Doc: `The official validator accepts any option inside an addon, so a misspelled
option passes and silently does nothing. Each addon knows a few options:
localstorage ftp/sqlite, mysql multipleDatabases, postgresql locale, mongodb
oplog, redis noPassword, sendmail optional/supportsDisplayName/
requiresValidCertificate, oidc loginRedirectUri/logoutRedirectUri/
tokenSignatureAlgorithm, proxyAuth path/basicAuth/supportsBearerAuth.

Bad:

    "mysql": { "multipleDatabase": true }

Good:

    "mysql": { "multipleDatabases": true }`,
		Run: checkAddonOptions,
	},
	{
		Code: "MF007", Title: "addon options have valid values", Severity: cpk.Warning,
		Doc: `Addon options are read by the platform with a fixed type: flags are
booleans, paths are strings starting with "/", tokenSignatureAlgorithm is
RS256 or EdDSA, localstorage.ftp needs uid and uname, and sqlite files live
in /app/data (the only place that is backed up).

Bad:

    "redis": { "noPassword": "true" },
    "localstorage": { "sqlite": { "paths": ["/app/code/db.sqlite"] } }

Good:

    "redis": { "noPassword": true },
    "localstorage": { "sqlite": { "paths": ["/app/data/db.sqlite"] } }`,
		Run: checkAddonValues,
	},
	{
		Code: "MF008", Title: "healthCheckPath is an absolute path", Severity: cpk.Error,
		Doc: `The platform requests http://<container>:<httpPort><healthCheckPath>: the
value is appended to the address, so it must start with "/" and must not be a
URL.

Bad:

    "healthCheckPath": "healthz"

Good:

    "healthCheckPath": "/healthz"`,
		Run: checkHealthPathForm,
	},
	{
		Code: "MF009", Title: "the manifest sets healthCheckPath", Severity: cpk.Warning,
		Doc: `Without healthCheckPath the platform cannot tell a working app from a broken
one: it is always "healthy", updates are not verified, and the App Store
requires the field.

Bad:

    { "manifestVersion": 2, "version": "1.0.0", "httpPort": 8000 }

Good:

    { "manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "healthCheckPath": "/healthz" }`,
		Run: checkHealthPathSet,
	},
	{
		Code: "MF010", Title: "httpPort is a usable port of its own", Severity: cpk.Error,
		Doc: `httpPort 0 passes the validator, but nothing can listen there; and the port
must not be one that tcpPorts, udpPorts or httpPorts also give to another
service inside the container.

Bad:

    "httpPort": 8000,
    "tcpPorts": { "SSH_PORT": { "title": "SSH", "description": "Git over SSH", "containerPort": 8000 } }

Good:

    "httpPort": 8000,
    "tcpPorts": { "SSH_PORT": { "title": "SSH", "description": "Git over SSH", "containerPort": 2222 } }`,
		Run: checkHTTPPort,
	},
	{
		Code: "MF011", Title: "the manifest has no placeholder values", Severity: cpk.Warning,
		Doc: `Scaffolds leave placeholders behind: TODO and FIXME markers, "changeme",
lorem ipsum, and example.com addresses in contactEmail or author. They end up
in the dashboard and the store.

Bad:

    "contactEmail": "you@example.com",
    "tagline": "TODO"

Good:

    "contactEmail": "apps@grist-packaging.org",
    "tagline": "Spreadsheets with a relational database"`,
		Run: checkPlaceholders,
	},
	{
		Code: "MF012", Title: "the changelog has a section for the current version", Severity: cpk.Warning,
		Doc: `A changelog file (file://CHANGELOG) must have a line exactly "[<version>]"
for the manifest's version, followed by its non-empty notes: the CLI and the
version catalog read the notes of the released version from there.

Bad:

    "version": "1.3.0"      # CHANGELOG ends at [1.2.0]

Good:

    [1.3.0]
    * Update Grist to 1.5.0`,
		Run: checkChangelog,
	},
	{
		Code: "MF013", Title: "manifestVersion is 2", Severity: cpk.Warning,
		Doc: `manifestVersion 1 is the legacy format: the platform then injects variables
without the CLOUDRON_ prefix (MYSQL_URL instead of CLOUDRON_MYSQL_URL). Every
current package uses 2.

Bad:

    "manifestVersion": 1

Good:

    "manifestVersion": 2`,
		Run: checkManifestVersion,
	},
	{
		Code: "MF014", Title: "no legacy oauth addon", Severity: cpk.Warning,
		Doc: `The oauth addon is gone from the current documentation; single sign-on is
done with the oidc addon (or ldap). cpk test still provides it (the old
OAuth 2.0 paths of the dashboard, /api/v1/oauth/dialog/authorize and
/api/v1/oauth/token, and /api/v1/profile), so that an old package can be
tested while it moves to oidc.

Bad:

    "addons": { "oauth": {} }

Good:

    "addons": { "oidc": { "loginRedirectUri": "/auth/callback" } }`,
		Run: checkOauthAddon,
	},
	{
		Code: "MF015", Title: "tcp/udp default ports are installable", Severity: cpk.Error,
		Doc: `A tcpPorts/udpPorts defaultValue is the host port offered at install time.
The platform refuses ports below 1024 and the ones it uses itself (22, 25,
53, 80, 143, 202, 222, 443, 465, 587, 993, 2003, 2004, 2020, 2514, 2525, 3000,
3001, 3002, 3306, 4190, 8000, 8417), so installing with the default fails.

Bad:

    "SSH_PORT": { "title": "SSH", "description": "Git over SSH", "defaultValue": 22 }

Good:

    "SSH_PORT": { "title": "SSH", "description": "Git over SSH", "defaultValue": 2222, "containerPort": 22 }`,
		Run: checkPortDefaults,
	},
	{
		Code: "MF016", Title: "postInstallMessage uses documented variables", Severity: cpk.Warning,
		Doc: `The post-install message may use $CLOUDRON-APP-LOCATION, -APP-DOMAIN,
-APP-FQDN, -APP-ORIGIN, -API-DOMAIN, -API-ORIGIN, -USERNAME and -APP-ID
(with hyphens). Anything else is shown to the user as written.

Bad:

    Open $CLOUDRON_APP_ORIGIN/admin

Good:

    Open $CLOUDRON-APP-ORIGIN/admin`,
		Run: checkPostInstallVariables,
	},
	{
		Code: "MF017", Title: "postInstallMessage sso sections are balanced", Severity: cpk.Warning,
		Doc: `<sso>…</sso> is shown when the app is installed with single sign-on and
<nosso>…</nosso> without it. An unclosed or nested section shows the wrong
text, tags included.

Bad:

    <sso>Log in with your Cloudron account.<nosso>Use admin / the password in /app/data.</nosso>

Good:

    <sso>Log in with your Cloudron account.</sso><nosso>The admin password is in /app/data/admin-password.</nosso>`,
		Run: checkPostInstallSSO,
	},
	{
		Code: "MF018", Title: "postInstallMessage gives no default password", Severity: cpk.Warning,
		Doc: `A default password that every installation shares is an open door until the
user changes it. Generate a password on first start (and say where it is), or
use the Cloudron login (oidc, ldap).

Bad:

    Log in as admin with the password changeme.

Good:

    Log in as admin; the password is in /app/data/admin-password (generated on first start).`,
		Run: checkPostInstallPasswords,
	},
	{
		Code: "MF019", Title: "runtimeDirs are below /app/code", Severity: cpk.Warning,
		Doc: `The validator lets runtimeDirs start with /app/code, /root or /home/cloudron,
but the documentation allows only folders below /app/code: others are not
guaranteed to be made writable.

Bad:

    "runtimeDirs": ["/root/.cache"]

Good:

    "runtimeDirs": ["/app/code/cache"]`,
		Run: checkRuntimeDirs,
	},
	{
		Code: "MF020", Title: "optionalSso comes with a login addon", Severity: cpk.Warning,
		Doc: `optionalSso lets the admin install the app without single sign-on, which
then leaves out the variables of the login addon. Without oidc, ldap or
proxyAuth it does nothing, and is likely a leftover.

Bad:

    "optionalSso": true, "addons": { "localstorage": {} }

Good:

    "optionalSso": true, "addons": { "localstorage": {}, "oidc": { "loginRedirectUri": "/callback" } }`,
		Run: checkOptionalSSO,
	},
}

// manifestDoc returns the decoded manifest and its typed view, or nil.
func manifestDoc(p *lint.Pass) (*manifest.Report, *manifest.Manifest) {
	m := p.Manifest()
	if m == nil || m.Doc == nil || m.Doc.Root == nil || m.Doc.Root.Kind != manifest.ObjectValue {
		return nil, nil
	}
	return m, typedManifest(p)
}

// typedManifest is the typed view of the pass's manifest (zero without
// one), made once per pass.
func typedManifest(p *lint.Pass) *manifest.Manifest {
	return p.Memo("manifest:typed", func() any {
		var mf manifest.Manifest
		if m := p.Manifest(); m != nil {
			mf = m.Doc.Manifest()
		}
		return &mf
	}).(*manifest.Manifest)
}

// keyPos returns the position of the key of a member of the object at
// pointer, or of the object.
func keyPos(m *manifest.Report, pointer, key string) (int, int) {
	if obj := m.Doc.Lookup(pointer); obj != nil && obj.Kind == manifest.ObjectValue {
		for _, mem := range obj.Members {
			if mem.Key == key {
				return mem.KeyLine, mem.KeyCol
			}
		}
	}
	return pos(m, pointer)
}

const minMemory = 256 << 20

var memoryString = regexp.MustCompile(`(?i)^([-+]?\d+(?:\.\d+)?) *(kb|mb|gb|tb)$`)

func checkMemoryLimit(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil {
		return
	}
	v := m.Doc.Lookup("/memoryLimit")
	if v == nil {
		return
	}
	line, col := pos(m, "/memoryLimit")
	switch v.Kind {
	case manifest.NumberValue:
		if v.Num >= minMemory {
			return
		}
		if v.Num >= 16 && v.Num <= 65536 {
			p.Reportf(lint.ManifestFile, line, col, "memoryLimit %s is in bytes, not megabytes: for %s MB write %.0f (or \"%sMB\"); Cloudron's floor is 256 MB", v.Raw, v.Raw, v.Num*(1<<20), v.Raw)
			return
		}
		p.Reportf(lint.ManifestFile, line, col, "memoryLimit %s bytes is below Cloudron's 256 MB floor (268435456 bytes): raise it or leave it out", v.Raw)
	case manifest.StringValue:
		mm := memoryString.FindStringSubmatch(strings.TrimSpace(v.Str))
		if mm == nil {
			return // MF003 reports it
		}
		n, _ := strconv.ParseFloat(mm[1], 64)
		unit := map[string]float64{"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}[strings.ToLower(mm[2])]
		if n*unit < minMemory {
			p.Reportf(lint.ManifestFile, line, col, "memoryLimit %q is below Cloudron's 256 MB floor: raise it (e.g. \"512MB\") or leave it out", v.Str)
		}
	}
}

// addonOptions are the documented options of each addon (§3.2 of the
// platform reference); scheduler tasks are checked by the schema.
var addonOptions = map[string][]string{
	"localstorage": {"ftp", "sqlite"},
	"mysql":        {"multipleDatabases"},
	"postgresql":   {"locale"},
	"mongodb":      {"oplog", "cacheSize"},
	"redis":        {"noPassword"},
	"sendmail":     {"optional", "supportsDisplayName", "requiresValidCertificate"},
	"oidc":         {"loginRedirectUri", "logoutRedirectUri", "tokenSignatureAlgorithm"},
	"proxyAuth":    {"path", "basicAuth", "supportsBearerAuth"},
	"ldap":         {}, "recvmail": {}, "email": {}, "tls": {}, "turn": {}, "docker": {}, "oauth": {},
}

func checkAddonOptions(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil {
		return
	}
	addons := m.Doc.Lookup("/addons")
	if addons == nil || addons.Kind != manifest.ObjectValue {
		return
	}
	for _, a := range addons.Members {
		known, ok := addonOptions[a.Key]
		if !ok || a.Value.Kind != manifest.ObjectValue {
			continue
		}
		for _, opt := range a.Value.Members {
			if slices.Contains(known, opt.Key) {
				continue
			}
			msg := fmt.Sprintf("%s has no option %q, so it does nothing", a.Key, opt.Key)
			switch s := cpk.Suggest(opt.Key, known); {
			case s != "":
				msg += fmt.Sprintf(": did you mean %q?", s)
			case len(known) == 0:
				msg += ": this addon takes no options"
			default:
				msg += ": its options are " + strings.Join(known, ", ")
			}
			p.Reportf(lint.ManifestFile, opt.KeyLine, opt.KeyCol, "%s", msg)
		}
	}
}

// addonFlags are the boolean addon options.
var addonFlags = map[string][]string{
	"mysql": {"multipleDatabases"}, "mongodb": {"oplog"}, "redis": {"noPassword"},
	"sendmail":  {"optional", "supportsDisplayName", "requiresValidCertificate"},
	"proxyAuth": {"basicAuth", "supportsBearerAuth"},
}

func checkAddonValues(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil {
		return
	}
	report := func(ptr, format string, args ...any) {
		line, col := pos(m, ptr)
		p.Reportf(lint.ManifestFile, line, col, format, args...)
	}
	for addon, flags := range addonFlags {
		for _, f := range flags {
			ptr := "/addons/" + addon + "/" + f
			if v := m.Doc.Lookup(ptr); v != nil && v.Kind != manifest.BoolValue {
				report(ptr, "%s.%s is a flag: write true or false, not %s", addon, f, describe(v))
			}
		}
	}
	for _, f := range []string{"postgresql/locale", "oidc/logoutRedirectUri", "proxyAuth/path", "oidc/tokenSignatureAlgorithm"} {
		if v := m.Doc.Lookup("/addons/" + f); v != nil && v.Kind != manifest.StringValue {
			report("/addons/"+f, "%s is a string, not %s", strings.Replace(f, "/", ".", 1), describe(v))
		}
	}
	if v := m.Doc.Lookup("/addons/oidc/tokenSignatureAlgorithm"); v != nil && v.Kind == manifest.StringValue && v.Str != "RS256" && v.Str != "EdDSA" {
		report("/addons/oidc/tokenSignatureAlgorithm", "tokenSignatureAlgorithm %q is not supported: use RS256 or EdDSA", v.Str)
	}
	for _, f := range []string{"loginRedirectUri", "logoutRedirectUri"} {
		v := m.Doc.Lookup("/addons/oidc/" + f)
		if v == nil || v.Kind != manifest.StringValue {
			continue
		}
		for _, uri := range strings.Split(v.Str, ",") {
			if uri = strings.TrimSpace(uri); !strings.HasPrefix(uri, "/") && !strings.Contains(uri, ":") {
				report("/addons/oidc/"+f, "oidc %s %q is appended to the app's origin: write a path starting with / (e.g. \"/%s\")", f, uri, uri)
			}
		}
	}
	if v := m.Doc.Lookup("/addons/proxyAuth/path"); v != nil && v.Kind == manifest.StringValue && !strings.HasPrefix(strings.TrimPrefix(v.Str, "!"), "/") {
		report("/addons/proxyAuth/path", "proxyAuth path %q must be a path prefix starting with / (or !/ to exempt it)", v.Str)
	}
	if ftp := m.Doc.Lookup("/addons/localstorage/ftp"); ftp != nil {
		uid, uname := ftp.Get("uid"), ftp.Get("uname")
		if ftp.Kind != manifest.ObjectValue || uid == nil || uid.Kind != manifest.NumberValue || uname == nil || uname.Kind != manifest.StringValue {
			report("/addons/localstorage/ftp", "localstorage.ftp names the owner of uploaded files: write { \"uid\": 1000, \"uname\": \"cloudron\" }")
		}
	}
	if paths := m.Doc.Lookup("/addons/localstorage/sqlite/paths"); paths != nil && paths.Kind == manifest.ArrayValue {
		for i, it := range paths.Items {
			if it.Kind == manifest.StringValue && !strings.HasPrefix(it.Str, "/app/data/") {
				report(fmt.Sprintf("/addons/localstorage/sqlite/paths/%d", i), "sqlite file %s is outside /app/data, which is what gets backed up: keep the database in /app/data", it.Str)
			}
		}
	}
}

func describe(v *manifest.Value) string {
	switch v.Kind {
	case manifest.StringValue:
		return strconv.Quote(v.Str)
	case manifest.NumberValue:
		return "the number " + v.Raw
	case manifest.NullValue:
		return "null"
	case manifest.ArrayValue:
		return "a list"
	case manifest.ObjectValue:
		return "an object"
	}
	return "a boolean"
}

func checkHealthPathForm(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil || mf.HealthCheckPath == "" || strings.HasPrefix(mf.HealthCheckPath, "/") {
		return
	}
	line, col := pos(m, "/healthCheckPath")
	hc := mf.HealthCheckPath
	if i := strings.Index(hc, "://"); i >= 0 {
		rest := hc[i+3:]
		path := "/"
		if j := strings.Index(rest, "/"); j >= 0 {
			path = rest[j:]
		}
		p.Reportf(lint.ManifestFile, line, col, "healthCheckPath %q is a URL; the platform appends it to the container's address: write the path %q", hc, path)
		return
	}
	p.Reportf(lint.ManifestFile, line, col, "healthCheckPath %q does not start with /, so the health check requests a broken URL and the app never becomes healthy: write %q", hc, "/"+hc)
}

func checkHealthPathSet(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil || m.Doc.Lookup("/healthCheckPath") != nil {
		return
	}
	line, col := pos(m, "")
	p.Reportf(lint.ManifestFile, line, col, "no healthCheckPath: the platform cannot tell whether the app works; add the path of a page that answers 200 without login (e.g. \"healthCheckPath\": \"/\")")
}

func checkHTTPPort(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil {
		return
	}
	v := m.Doc.Lookup("/httpPort")
	if v == nil || v.Kind != manifest.NumberValue {
		return
	}
	line, col := pos(m, "/httpPort")
	if v.Num == 0 {
		p.Reportf(lint.ManifestFile, line, col, "httpPort 0 passes the validator, but the app cannot listen there: set the port the app (or nginx) listens on, e.g. 8000")
		return
	}
	for _, group := range []struct {
		name  string
		ports map[string]manifest.Port
	}{{"tcpPorts", mf.TCPPorts}, {"udpPorts", mf.UDPPorts}} {
		for _, key := range sortedKeys(group.ports) {
			port := group.ports[key]
			inside := port.ContainerPort
			if inside == 0 {
				inside = port.DefaultValue // without containerPort the app listens on the host port
			}
			if inside == mf.HTTPPort && (group.name == "tcpPorts" || port.ContainerPort != 0) {
				l, c := pos(m, "/"+group.name+"/"+key)
				p.Reportf(lint.ManifestFile, l, c, "%s.%s uses port %d inside the container, which is httpPort: two services cannot listen on one port; give %s another containerPort", group.name, key, inside, key)
			}
		}
	}
	for _, key := range sortedKeys(mf.HTTPPorts) {
		if mf.HTTPPorts[key].ContainerPort == mf.HTTPPort {
			l, c := pos(m, "/httpPorts/"+key+"/containerPort")
			p.Reportf(lint.ManifestFile, l, c, "httpPorts.%s has containerPort %d, which is httpPort: each httpPorts entry needs its own port", key, mf.HTTPPort)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var (
	placeholderWords = regexp.MustCompile(`\b(TODO|FIXME|XXX|TBD)\b|(?i)\b(change[-_ ]?me|lorem ipsum|replace[-_ ]?me|your[-_ ](?:app|name|e-?mail|domain|company)|insert[-_ ]\w+[-_ ]here)\b`)
	// placeholderHints are in every match of placeholderWords.
	placeholderHints = []string{"todo", "fixme", "xxx", "tbd", "change", "lorem", "replace", "your", "insert"}
	markerWords      = regexp.MustCompile(`^(TODO|FIXME|XXX|TBD)$`)
	emailAddress     = regexp.MustCompile(`[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,}|localhost)`)
	placeholderHost  = regexp.MustCompile(`(?i)(^|\.)(example\.(com|org|net)|[a-z0-9-]+\.(example|test|invalid|localhost)|localhost|your-?domain\.[a-z]+|domain\.(com|tld))$`)
)

func checkPlaceholders(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil {
		return
	}
	var visit func(v *manifest.Value, ptr string)
	visit = func(v *manifest.Value, ptr string) {
		switch v.Kind {
		case manifest.ObjectValue:
			for _, mem := range v.Members {
				visit(mem.Value, ptr+"/"+strings.ReplaceAll(strings.ReplaceAll(mem.Key, "~", "~0"), "/", "~1"))
			}
		case manifest.ArrayValue:
			for i, it := range v.Items {
				visit(it, fmt.Sprintf("%s/%d", ptr, i))
			}
		case manifest.StringValue:
			if strings.HasPrefix(v.Str, "file://") {
				return
			}
			var w string
			if mayContainFold(v.Str, placeholderHints) {
				w = placeholderWords.FindString(v.Str)
			}
			if ptr == "/postInstallMessage" && !markerWords.MatchString(w) {
				w = "" // a password such as "changeme" there is MF018's
			}
			if w != "" {
				p.Reportf(lint.ManifestFile, v.Line, v.Col, "%s holds the placeholder %q: write the real text", strings.TrimPrefix(ptr, "/"), w)
				return
			}
			if ptr == "/contactEmail" || ptr == "/author" || ptr == "/packagerName" {
				for _, e := range emailAddress.FindAllStringSubmatch(v.Str, -1) {
					if placeholderHost.MatchString(e[1]) {
						p.Reportf(lint.ManifestFile, v.Line, v.Col, "%s has the placeholder address %s: give a mailbox that reaches the package's maintainers", strings.TrimPrefix(ptr, "/"), e[0])
						return
					}
				}
			}
		}
	}
	visit(m.Doc.Root, "")
}

// textField is a manifest text that may be inline or file://.
type textField struct {
	file      string // the package file holding the text ("" when inline)
	text      string
	line, col int // of the manifest value
}

// lineOf maps a byte offset of the text to a position for reporting: in
// the file, or at the manifest value when the text is inline.
func (t textField) lineOf(offset int) (string, int, int) {
	if t.file == "" {
		return lint.ManifestFile, t.line, t.col
	}
	before := t.text[:offset]
	line := strings.Count(before, "\n") + 1
	col := len([]rune(before[strings.LastIndex(before, "\n")+1:])) + 1
	return t.file, line, col
}

// manifestText returns a text field, reading file:// references; ok is false
// when the field is absent or its file cannot be read (PK005 reports it).
func manifestText(p *lint.Pass, m *manifest.Report, field string) (textField, bool) {
	v := m.Doc.Lookup("/" + field)
	if v == nil || v.Kind != manifest.StringValue {
		return textField{}, false
	}
	t := textField{text: v.Str, line: v.Line, col: v.Col}
	if rel, ok := fileRef(v.Str); ok {
		data, err := p.ReadFile(rel)
		if err != nil {
			return textField{}, false
		}
		t.file, t.text = rel, string(data)
	}
	return t, true
}

func checkChangelog(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil || mf.Version == "" {
		return
	}
	t, ok := manifestText(p, m, "changelog")
	if !ok || t.file == "" {
		return // an inline changelog is the text of this version itself
	}
	lines := strings.Split(t.text, "\n")
	want := "[" + mf.Version + "]"
	for i, l := range lines {
		if h := strings.TrimSpace(l); h != want && h != "["+strings.TrimPrefix(mf.Version, "v")+"]" {
			continue
		}
		for _, body := range lines[i+1:] {
			body = strings.TrimSpace(body)
			if strings.HasPrefix(body, "[") && strings.HasSuffix(body, "]") {
				break
			}
			if body != "" {
				return
			}
		}
		p.Reportf(t.file, i+1, 1, "the changelog section %s is empty: say what changed in this version", want)
		return
	}
	p.Reportf(lint.ManifestFile, t.line, t.col, "%s has no section %s for the manifest's version: add a line %s followed by what changed", t.file, want, want)
}

func checkManifestVersion(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil || mf.ManifestVersion != 1 {
		return
	}
	line, col := pos(m, "/manifestVersion")
	p.Reportf(lint.ManifestFile, line, col, "manifestVersion 1 is the legacy format (addon variables lose their CLOUDRON_ prefix): use 2 and the CLOUDRON_* variable names")
}

func checkOauthAddon(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil || m.Doc.Lookup("/addons/oauth") == nil {
		return
	}
	line, col := keyPos(m, "/addons", "oauth")
	p.Reportf(lint.ManifestFile, line, col, "the oauth addon is legacy and no longer documented: use oidc (with loginRedirectUri) for single sign-on")
}

// reservedPorts are the host ports the platform keeps for itself.
var reservedPorts = []int{22, 25, 53, 80, 143, 202, 222, 443, 465, 587, 993, 2003, 2004, 2020, 2514, 2525, 3000, 3001, 3002, 3306, 4190, 8000, 8417}

func checkPortDefaults(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil {
		return
	}
	for _, group := range []struct {
		name  string
		ports map[string]manifest.Port
	}{{"tcpPorts", mf.TCPPorts}, {"udpPorts", mf.UDPPorts}} {
		for _, key := range sortedKeys(group.ports) {
			ptr := "/" + group.name + "/" + key + "/defaultValue"
			v := m.Doc.Lookup(ptr)
			if v == nil || v.Kind != manifest.NumberValue {
				continue
			}
			n := group.ports[key].DefaultValue
			line, col := pos(m, ptr)
			switch {
			case n > 0 && n < 1024:
				suggest := n + 2000
				if slices.Contains(reservedPorts, suggest) {
					suggest = n + 10000
				}
				p.Reportf(lint.ManifestFile, line, col, "%s.%s defaultValue %d is below 1024, which the platform refuses as a host port: offer e.g. %d (containerPort keeps the port the app listens on)", group.name, key, n, suggest)
			case slices.Contains(reservedPorts, n):
				p.Reportf(lint.ManifestFile, line, col, "%s.%s defaultValue %d is a port the platform uses itself, so installing with the default fails: offer another port", group.name, key, n)
			}
		}
	}
}

var (
	postInstallVars = []string{"$CLOUDRON-APP-LOCATION", "$CLOUDRON-APP-DOMAIN", "$CLOUDRON-APP-FQDN", "$CLOUDRON-APP-ORIGIN",
		"$CLOUDRON-API-DOMAIN", "$CLOUDRON-API-ORIGIN", "$CLOUDRON-USERNAME", "$CLOUDRON-APP-ID"}
	postInstallVar = regexp.MustCompile(`\$\{?CLOUDRON[-_][A-Za-z0-9_-]*[A-Za-z0-9]`)
	ssoTag         = regexp.MustCompile(`</?(sso|nosso)>`)
)

func checkPostInstallVariables(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil {
		return
	}
	t, ok := manifestText(p, m, "postInstallMessage")
	if !ok {
		return
	}
	for _, loc := range postInstallVar.FindAllStringIndex(t.text, -1) {
		name := t.text[loc[0]:loc[1]]
		if slices.Contains(postInstallVars, name) {
			continue
		}
		file, line, col := t.lineOf(loc[0])
		want := "$" + strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(name, "$"), "{"), "_", "-"))
		if slices.Contains(postInstallVars, want) {
			p.Reportf(file, line, col, "%s is not replaced in the post-install message: write %s", name, want)
		} else {
			p.Reportf(file, line, col, "%s is not a post-install variable and is shown as written: use one of %s", name, strings.Join(postInstallVars, ", "))
		}
	}
}

func checkPostInstallSSO(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil {
		return
	}
	t, ok := manifestText(p, m, "postInstallMessage")
	if !ok {
		return
	}
	open, openAt := "", 0
	for _, loc := range ssoTag.FindAllStringSubmatchIndex(t.text, -1) {
		tag, name := t.text[loc[0]:loc[1]], t.text[loc[2]:loc[3]]
		closing := strings.HasPrefix(tag, "</")
		file, line, col := t.lineOf(loc[0])
		switch {
		case !closing && open != "":
			p.Reportf(file, line, col, "<%s> opens inside <%s>, which is not closed: close it with </%s> first", name, open, open)
			open, openAt = name, loc[0]
		case !closing:
			open, openAt = name, loc[0]
		case open == "":
			p.Reportf(file, line, col, "%s closes a section that is not open", tag)
		case open != name:
			p.Reportf(file, line, col, "%s closes <%s>: write </%s>", tag, open, open)
			open = ""
		default:
			open = ""
		}
	}
	if open != "" {
		file, line, col := t.lineOf(openAt)
		p.Reportf(file, line, col, "<%s> is never closed: add </%s>", open, open)
	}
}

var (
	quotedPassword = regexp.MustCompile("(?i)\\bpass(?:word|wd)?\\b[^\\n`'\"*]{0,24}?[`'\"*]+([^`'\"*\\s]{3,})[`'\"*]+")
	colonPassword  = regexp.MustCompile("(?i)\\bpass(?:word|wd)?\\s*[:=]\\s*([^\\s,;`'\"*]+)")
	namedPassword  = regexp.MustCompile(`(?i)\bpass(?:word)?\s+(?:is\s+)?(admin|password|changeme|change-me|secret|123456|12345678|admin123|pass|root|demo|test|cloudron|letmein)\b`)
	pairPassword   = regexp.MustCompile(`(?i)(?:^|[^/\w])(?:admin|administrator|root|user)\s*/\s*(admin|password|changeme|secret|123456|12345678|admin123|pass|root|demo|test|cloudron)\b`)
)

// literalSecret reports whether a word shown as a password is a literal
// rather than a pointer to one (a path, a variable, a placeholder).
func literalSecret(w string) bool {
	lw := strings.ToLower(strings.Trim(w, ".,;:!)("))
	switch {
	case lw == "", strings.HasPrefix(lw, "/"), strings.HasPrefix(lw, "$"), strings.HasPrefix(lw, "<"), strings.Contains(lw, "cloudron-"):
		return false
	}
	switch lw {
	case "is", "the", "a", "your", "see", "in", "from", "of", "was", "will", "generated", "random", "shown", "printed", "stored", "reset", "change", "set", "none", "empty":
		return false
	}
	return true
}

func checkPostInstallPasswords(p *lint.Pass) {
	m, _ := manifestDoc(p)
	if m == nil {
		return
	}
	t, ok := manifestText(p, m, "postInstallMessage")
	if !ok {
		return
	}
	seen := map[int]bool{}
	for _, re := range []*regexp.Regexp{quotedPassword, colonPassword, namedPassword, pairPassword} {
		for _, loc := range re.FindAllStringSubmatchIndex(t.text, -1) {
			pw := t.text[loc[2]:loc[3]]
			if !literalSecret(pw) {
				continue
			}
			file, line, col := t.lineOf(loc[0])
			if seen[line*100000+col] || t.file == "" && len(seen) > 0 {
				continue
			}
			seen[line*100000+col] = true
			p.Reportf(file, line, col, "the post-install message gives the default password %q, shared by every installation: generate one on first start (and say where it is) or use the Cloudron login", pw)
		}
	}
}

func checkRuntimeDirs(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil {
		return
	}
	for i, d := range mf.RuntimeDirs {
		if strings.HasPrefix(d, "/app/code/") || !strings.HasPrefix(d, "/root") && !strings.HasPrefix(d, "/home/cloudron") {
			continue // outside every allowed prefix: MF003 reports it
		}
		line, col := pos(m, fmt.Sprintf("/runtimeDirs/%d", i))
		p.Reportf(lint.ManifestFile, line, col, "runtimeDir %s is outside /app/code: the documentation supports only folders below /app/code; move it there (and point the app at it)", d)
	}
}

func checkOptionalSSO(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil || !mf.OptionalSso {
		return
	}
	for _, a := range []string{"oidc", "ldap", "proxyAuth", "oauth"} {
		if m.Doc.Lookup("/addons/"+a) != nil {
			return
		}
	}
	line, col := pos(m, "/optionalSso")
	p.Reportf(lint.ManifestFile, line, col, "optionalSso without oidc, ldap or proxyAuth does nothing: remove it, or add the login addon the app uses")
}
