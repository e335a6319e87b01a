package rules

import (
	"path"
	"regexp"
	"strings"

	"cpk/internal/cpk"
	"cpk/internal/lint"
)

// sessionSecretRule is SEC010: a literal secret that signs sessions, cookies
// or OIDC logins in the application code the image runs.
var sessionSecretRule = &lint.Rule{
	Code: "SEC010", Title: "no literal session, cookie or OIDC secret in application code", Severity: cpk.Error,
	Doc: `A session or cookie secret signs every login of the app. Written as a
literal in the code the image runs, it is the same on every installation and
public with the package: anyone can forge a session cookie and log in as any
user. The same goes for an OIDC client secret. Generate the secret on first
start into /app/data (or take it from the platform, CLOUDRON_OIDC_CLIENT_SECRET)
and read it from the environment.

The rule decides from the files that reach the image (CI, tests, fixtures
and docs are not read): a quoted literal given to session middleware
(express-session's or koa-session's secret:, cookie-session's keys:,
cookie-parser, gorilla's NewCookieStore), Flask's app.secret_key or
SECRET_KEY, Django's SECRET_KEY, Rails' secret_key_base, and the keys
SESSION_SECRET, COOKIE_SECRET, APP_SECRET, SECRET_KEY_BASE and
OIDC/OAuth client secrets in code, .env and configuration files. Values that
refer to something else (process.env.X, os.environ.get(…), ${VAR},
ENV.fetch), template markers (##SECRET##) and obvious placeholders
(changeme, your-secret-here) are not reported.

Bad:

    app.use(session({ secret: 'keyboard cat', resave: false }))
    app.secret_key = "9f8e7d6c5b4a"

Good:

    app.use(session({ secret: process.env.SESSION_SECRET, resave: false }))
    app.secret_key = open("/app/data/.secret_key").read().strip()`,
	Run: checkSessionSecrets,
}

var (
	// sessionKeyed matches NAME = "literal" (or : / =>) for the names that
	// always hold a session, cookie or OIDC secret.
	sessionKeyed = regexp.MustCompile(`(?i)(?:^|[^A-Za-z0-9_])((?:app\.)?(?:session[_-]?secret|cookie[_-]?secret|secret[_-]?key[_-]?base|app[_-]?secret|(?:oidc|oauth|openid)[_-]?(?:rp[_-]?)?client[_-]?secret|client[_-]?secret|clientsecret|secret[_-]?key|secret_key))["']?\]?\s*(?:=>|=|:)\s*(?:b|r|f)?(["'` + "`" + `])([^"'` + "`" + `]*)["'` + "`" + `]`)
	// sessionKeyedBare is sessionKeyed with an unquoted value, in .env,
	// YAML, INI and properties files.
	sessionKeyedBare = regexp.MustCompile(`(?i)^\s*(?:export\s+)?((?:session[_-]?secret|cookie[_-]?secret|secret[_-]?key[_-]?base|app[_-]?secret|(?:oidc|oauth|openid)[_-]?(?:rp[_-]?)?client[_-]?secret|client[_-]?secret|secret[_-]?key))\s*(?:=|:)\s*([^\s#;'"<>{}$%]+)\s*$`)
	// sessionCall matches a literal given straight to session middleware.
	sessionCall = regexp.MustCompile(`(?:cookieParser|NewCookieStore\(\s*\[\]byte)\(\s*(["'` + "`" + `])([^"'` + "`" + `]+)["'` + "`" + `]`)
	// middlewareSecret matches secret: "…" or keys: ["…"] of a session
	// middleware's options, in files that use one.
	middlewareSecret  = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.])(secret|keys)\s*:\s*\[?\s*(["'` + "`" + `])([^"'` + "`" + `]*)["'` + "`" + `]`)
	sessionMiddleware = regexp.MustCompile(`express-session|cookie-session|cookieSession|koa-session|@fastify/session|@fastify/secure-session|fastify-session|iron-session|\bsession\(\{|\bsession\(\s*\{|session\.Middleware`)
)

// sessionSecretFile reports whether a file is application code or
// configuration that may carry a session secret.
func sessionSecretFile(rel string) bool {
	base := strings.ToLower(path.Base(rel))
	if strings.HasPrefix(base, ".env") || strings.HasSuffix(base, ".env") {
		return true
	}
	switch path.Ext(base) {
	case ".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx", ".py", ".rb", ".php", ".go", ".java", ".kt", ".groovy",
		".yml", ".yaml", ".json", ".toml", ".ini", ".cfg", ".conf", ".properties", ".exs", ".ex":
		return true
	}
	return false
}

// sessionSecretAt returns the key and the column (1-based) of a literal
// session secret on a line of rel, or ok false.
func sessionSecretAt(rel, text, line string) (key string, col int, ok bool) {
	literal := func(v string) bool {
		return len(v) >= 6 && !referenceValue(v) && !placeholderValue(v)
	}
	if m := sessionKeyed.FindStringSubmatchIndex(line); m != nil && literal(line[m[6]:m[7]]) && !storageKey(line[m[2]:m[3]]) {
		return line[m[2]:m[3]], runeCol(line, m[2]), true
	}
	if ext := path.Ext(rel); !codeExt[ext] || ext == ".sh" {
		if m := sessionKeyedBare.FindStringSubmatchIndex(line); m != nil && literal(line[m[4]:m[5]]) {
			return line[m[2]:m[3]], runeCol(line, m[2]), true
		}
	}
	if m := sessionCall.FindStringSubmatchIndex(line); m != nil && literal(line[m[4]:m[5]]) {
		return "the session middleware's arguments", runeCol(line, m[0]), true
	}
	if ext := path.Ext(rel); ext == ".js" || ext == ".mjs" || ext == ".cjs" || ext == ".ts" || ext == ".jsx" || ext == ".tsx" {
		if m := middlewareSecret.FindStringSubmatchIndex(line); m != nil && literal(line[m[6]:m[7]]) && sessionMiddleware.MatchString(text) {
			return "the session middleware's " + line[m[2]:m[3]] + ":", runeCol(line, m[2]), true
		}
	}
	return "", 0, false
}

// storageKey reports whether a key is the camelCase secretKey of an object
// store or captcha client (S3, MinIO, reCAPTCHA): a credential of another
// service, which SEC004 judges, not a session secret.
func storageKey(key string) bool {
	return key == "secretKey" || key == "SecretKey"
}

func checkSessionSecrets(p *lint.Pass) {
	for _, rel := range p.Files() {
		if !sessionSecretFile(rel) || rel == lint.ManifestFile || !inImage(p, rel) || isDockerfile(p, rel) {
			continue
		}
		text, ok := packageText(p, rel)
		if !ok || !strings.Contains(strings.ToLower(text), "secret") && !strings.Contains(text, "keys") {
			continue
		}
		for i, line := range strings.Split(text, "\n") {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") || strings.HasPrefix(t, "*") {
				continue
			}
			if key, col, ok := sessionSecretAt(rel, text, line); ok {
				if strings.Contains(strings.ToLower(key), "client") {
					p.Reportf(rel, i+1, col, "literal OIDC client secret in %s, the same on every installation and public with the package: read the platform's CLOUDRON_OIDC_CLIENT_SECRET from the environment", key)
					continue
				}
				p.Reportf(rel, i+1, col, "literal session secret in %s, the same on every installation and public with the package: anyone can sign session cookies with it; generate it on first start into /app/data and read it from the environment", key)
			}
		}
	}
}
