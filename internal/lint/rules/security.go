package rules

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/parse/dockerfile"
)

var securityRules = []*lint.Rule{
	sessionSecretRule,
	{
		Code: "SEC001", Title: "no private keys in the package", Severity: cpk.Error,
		Doc: `A private key committed with the package is public to everyone who can read
the repository or pull the image. Generate keys on first start into /app/data.

Bad:

    certs/server.key:  -----BEGIN RSA PRIVATE KEY-----

Good:

    # start.sh
    [[ -f /app/data/server.key ]] || openssl genrsa -out /app/data/server.key 4096`,
		Run: checkPrivateKeys,
	},
	{
		Code: "SEC002", Title: "no API tokens in the package", Severity: cpk.Error,
		Doc: `Cloud and forge tokens (AWS access keys, GitHub, GitLab, Slack, Stripe,
Google, npm, Docker Hub) committed with the package leak with it. Pass them at
build time as secrets, or let the user enter them in the app.

Bad:

    RUN git clone https://ghp_aBcD…@github.com/org/private.git

Good:

    RUN --mount=type=secret,id=github_token git clone https://$(cat /run/secrets/github_token)@github.com/org/private.git`,
		Run: checkTokens,
	},
	{
		Code: "SEC003", Title: "no literal secrets in Dockerfile ENV or ARG", Severity: cpk.Error,
		Doc: `ENV and ARG values are stored in the image's metadata: anyone who pulls the
image reads them with docker history. Secrets belong in the environment the
platform gives (CLOUDRON_*), or are generated on first start.

Bad:

    ENV ADMIN_PASSWORD=s3cr3t-Pa55

Good:

    # start.sh: generate once, keep in /app/data
    [[ -f /app/data/.admin_password ]] || openssl rand -hex 16 > /app/data/.admin_password`,
		Run: checkDockerfileSecrets,
	},
	{
		Code: "SEC004", Title: "no literal passwords in configuration files", Severity: cpk.Warning,
		Doc: `A password written into a configuration file of the package is the same for
every installation and public with the package. Write the configuration at
start from the platform's variables (CLOUDRON_*) or a secret generated on first
start. The rule decides from the files that reach the image (not CI, tests,
fixtures, docs, translations or stylesheets). References such as ${VAR},
%(ENV_X)s or {{ .x }}, template markers (##DB_PASSWORD##, __SECRET__),
identifiers (DB_PASSWORD, SECRET_TEMPLATE), placeholders (changeme,
…-here), text with blanks and the word "password" in other languages
(Passwort) are not reported.

Bad:

    [database]
    password = hunter2-prod

Good:

    [database]
    password = ${CLOUDRON_POSTGRESQL_PASSWORD}`,
		Run: checkConfigPasswords,
	},
	{
		Code: "SEC005", Title: "no world-writable permissions", Severity: cpk.Warning,
		Doc: `chmod 777 (or a+w, o+w) lets every process in the container change the
files, code included. Give the files to the user that needs them instead.
The rule decides from chmod commands in RUN instructions and the scripts
that reach the image (not tests or CI); the word inside a quoted string
(sed 's,^chmod=…,') is not one.

Bad:

    RUN chmod -R 777 /app/code/storage

Good:

    RUN chown -R cloudron:cloudron /app/code/storage`,
		Run: checkChmod777,
	},
	{
		Code: "SEC006", Title: "scripts do not pipe downloads into a shell", Severity: cpk.Warning,
		Doc: `curl … | sh in a script of the package (the start script, a setup or update
script) runs whatever the server sends, unpinned and unverified, every time
the script runs. Download a pinned release, check its checksum, then run it.
(In the Dockerfile, DF009 reports unverified downloads.)

The rule decides from the scripts that reach the image (not tests, CI or
the packager's tools).

Bad:

    # start.sh
    curl -fsSL https://get.example.org/install.sh | bash

Good:

    curl -fsSLo /tmp/install.sh https://get.example.org/v1.2.3/install.sh
    echo "<sha256>  /tmp/install.sh" | sha256sum -c - && bash /tmp/install.sh`,
		Run: checkPipeToShell,
	},
	{
		Code: "SEC007", Title: "TLS verification stays on", Severity: cpk.Warning,
		Doc: `--no-check-certificate, curl -k, GIT_SSL_NO_VERIFY, strict-ssl false or
NODE_TLS_REJECT_UNAUTHORIZED=0 accept any certificate, so a man in the middle
can replace what the image downloads or what the app talks to.

The rule decides from RUN and ENV instructions and the scripts that reach
the image (not tests, CI or the packager's tools).

Bad:

    RUN wget --no-check-certificate https://example.org/app.tar.gz

Good:

    RUN wget https://example.org/app.tar.gz`,
		Run: checkTLSVerification,
	},
	{
		Code: "SEC008", Title: "capabilities are used by the package", Severity: cpk.Warning,
		Doc: `Each capability in the manifest widens what the container may do:
net_admin (network configuration: ip, iptables, WireGuard), mlock (locking
memory), ping (raw sockets) and vaapi (/dev/dri, hardware video). Ask only
for what the package visibly uses.

Bad:

    "capabilities": ["net_admin"]      # and nothing runs ip, iptables or wg

Good:

    "capabilities": ["net_admin"]      # start.sh runs wg-quick up wg0`,
		Run: checkCapabilities,
	},
	{
		Code: "SEC009", Title: "COPY --chmod is not world-writable", Severity: cpk.Warning,
		Doc: `COPY --chmod=777 (or 666) makes the copied files writable by every process
in the container.

Bad:

    COPY --chmod=0777 start.sh /app/pkg/

Good:

    COPY --chmod=0755 start.sh /app/pkg/`,
		Run: checkCopyChmod,
	},
}

// docFile reports whether a package file is documentation (not shipped as
// configuration or code).
func docFile(rel string) bool {
	switch strings.ToLower(path.Ext(rel)) {
	case ".md", ".markdown", ".rst", ".txt", ".adoc", ".html", ".png", ".jpg", ".svg":
		return true
	}
	switch strings.ToUpper(path.Base(rel)) {
	case "CHANGELOG", "LICENSE", "COPYING", "AUTHORS", "README", "NOTICE", ".DOCKERIGNORE", ".GITIGNORE":
		return true
	}
	return false
}

// isDockerfile reports whether rel is the package's Dockerfile.
func isDockerfile(p *lint.Pass, rel string) bool {
	df := p.Dockerfile()
	return df != nil && df.Name == rel
}

// textLines calls fn for each physical line of every text file of the package
// selected by keep.
func textLines(p *lint.Pass, keep func(rel string) bool, fn func(rel string, n int, line string)) {
	for _, rel := range p.Files() {
		if !keep(rel) {
			continue
		}
		for i, l := range textFileLines(p, rel) {
			fn(rel, i+1, l)
		}
	}
}

// textFileLines is a text file's lines (nil for a file that is not text),
// split once per pass for every rule that reads them.
func textFileLines(p *lint.Pass, rel string) []string {
	return p.Memo("rules:lines:"+rel, func() any {
		text, ok := packageText(p, rel)
		if !ok {
			return []string(nil)
		}
		return strings.Split(text, "\n")
	}).([]string)
}

func runeCol(line string, offset int) int {
	return len([]rune(line[:offset])) + 1
}

var privateKey = regexp.MustCompile(`-----BEGIN ((?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----`)

func checkPrivateKeys(p *lint.Pass) {
	textLines(p, func(string) bool { return true }, func(rel string, n int, line string) {
		if !strings.Contains(line, "-----BEGIN") {
			return
		}
		if loc := privateKey.FindStringIndex(line); loc != nil {
			p.Reportf(rel, n, runeCol(line, loc[0]), "a private key is committed with the package, readable by anyone with the repository or the image: remove it (and revoke it), and generate keys on first start into /app/data")
		}
	})
}

var tokenPatterns = []struct {
	name  string
	hints []string // one of them is in every match: a cheap filter before the regexp
	re    *regexp.Regexp
}{
	{"an AWS access key", []string{"AKIA", "ASIA"}, regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", []string{"gh", "github_pat_"}, regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})\b`)},
	{"a GitLab token", []string{"glpat-"}, regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{"a Slack token", []string{"xox"}, regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{"a Slack webhook", []string{"hooks.slack.com"}, regexp.MustCompile(`https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{16,}`)},
	{"a Stripe live key", []string{"k_live_"}, regexp.MustCompile(`\b[rs]k_live_[0-9A-Za-z]{20,}`)},
	{"a Google API key", []string{"AIza"}, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"an npm token", []string{"npm_"}, regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"a Docker Hub token", []string{"dckr_pat_"}, regexp.MustCompile(`\bdckr_pat_[A-Za-z0-9_-]{20,}`)},
	{"an OpenAI key", []string{"sk-"}, regexp.MustCompile(`\bsk-(?:proj-)?[A-Za-z0-9_-]{40,}`)},
}

// mayContainFold reports whether s may contain one of the words (lower-case
// ASCII) in any case: a cheap, exact filter before a case-insensitive
// regular expression that needs one of them. Text with a byte beyond ASCII
// may: Unicode folds K (the Kelvin sign) to k and ſ to s.
func mayContainFold(s string, words []string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return true
		}
		c = lowerASCII(c)
		for _, w := range words {
			if w[0] == c && len(s)-i >= len(w) && strings.EqualFold(s[i+1:i+len(w)], w[1:]) {
				return true
			}
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// containsAny reports whether s contains one of the substrings.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func checkTokens(p *lint.Pass) {
	textLines(p, func(string) bool { return true }, func(rel string, n int, line string) {
		for _, t := range tokenPatterns {
			if !containsAny(line, t.hints) {
				continue
			}
			loc := t.re.FindStringIndex(line)
			if loc == nil {
				continue
			}
			if tok := strings.ToUpper(line[loc[0]:loc[1]]); strings.Contains(tok, "EXAMPLE") || strings.Contains(tok, "XXXXXXXX") || strings.Contains(tok, "00000000") {
				continue // documentation samples
			}
			p.Reportf(rel, n, runeCol(line, loc[0]), "%s is committed with the package: revoke it, remove it, and pass it as a build secret or let the user configure it", t.name)
			return
		}
	})
}

var sensitiveName = regexp.MustCompile(`(?i)(^|_|-)(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH_?KEY)$`)

// referenceValue reports whether a value refers to something else (a
// variable, a template, a function of the environment, a file) instead of
// being a literal.
func referenceValue(v string) bool {
	for _, s := range []string{"$", "%(", "{{", "{%", "<%", "@@", "getenv", "env(", "process.env", "os.environ", "ENV[", "%{", "secrets/"} {
		if strings.Contains(v, s) {
			return true
		}
	}
	return strings.HasPrefix(v, "/") || strings.HasPrefix(v, "file:") || strings.HasPrefix(v, "./")
}

// templateMarker matches a value that a start script or installer replaces:
// ##DB_PASSWORD##, __SECRET__, @SECRET@, %SECRET%, [[secret]].
var templateMarker = regexp.MustCompile(`^(?:##|__|@@?|%%?|\[\[)\s*[A-Za-z0-9_.-]+\s*(?:##|__|@@?|%%?|\]\])$`)

// identifierValue matches a value that names a variable or constant instead
// of holding one: DB_PASSWORD, SECRET_TEMPLATE (upper case with underscores).
var identifierValue = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$`)

// passwordWords are the words for "password" and "secret" in common
// languages: a value that is one of them is a label of a translation, not a
// secret.
var passwordWords = map[string]bool{
	"passwort": true, "kennwort": true, "geheimnis": true, "contraseña": true, "contrasena": true, "clave": true,
	"wachtwoord": true, "geheim": true, "hasło": true, "haslo": true, "пароль": true, "секрет": true, "パスワード": true,
	"密码": true, "密碼": true, "비밀번호": true, "senha": true, "segredo": true, "lösenord": true, "losenord": true,
	"salasana": true, "adgangskode": true, "kodeord": true, "passord": true, "heslo": true, "jelszó": true,
	"parola": true, "şifre": true, "sifre": true, "parolă": true, "κωδικός": true, "סיסמה": true, "كلمة المرور": true,
	"motdepasse": true, "secreto": true, "segreto": true, "sekret": true, "jeton": true,
}

// placeholderValue reports whether a value is a placeholder rather than a
// real secret: empty or masked values, template markers, identifiers, and
// obvious placeholders (changeme, your-…, …-here, example…).
func placeholderValue(v string) bool {
	tv := strings.TrimSpace(v)
	lv := strings.ToLower(tv)
	if lv == "" || strings.HasPrefix(lv, "<") && strings.HasSuffix(lv, ">") || strings.Trim(lv, "x*.-_#?0 ") == "" {
		return true
	}
	if templateMarker.MatchString(tv) || identifierValue.MatchString(tv) || strings.HasSuffix(lv, "-here") || strings.HasSuffix(lv, "_here") || strings.HasSuffix(lv, "_template") {
		return true
	}
	for _, s := range []string{"changeme", "change-me", "change_me", "changethis", "changeit", "change-it", "change_it", "notsosecret", "placeholder", "your-", "your_", "yourpass", "example", "dummy", "redacted", "replace", "todo", "fixme", "xxx", "secret-here", "insert"} {
		if strings.Contains(lv, s) {
			return true
		}
	}
	if passwordWords[lv] {
		return true // a label: the word "password" in some language
	}
	switch lv {
	case "secret", "password", "token", "none", "null", "nil", "undefined", "true", "false", "yes", "no", "on", "off",
		"required", "optional", "auto", "default", "empty", "unset", "disabled", "enabled", "string", "str":
		return true
	}
	return false
}

func checkDockerfileSecrets(p *lint.Pass) {
	df := p.Dockerfile()
	if df == nil || df.File == nil {
		return
	}
	raw, _ := packageText(p, df.Name)
	lines := strings.Split(raw, "\n")
	report := func(line int, key, value, kind string) {
		col := 0
		if line >= 1 && line <= len(lines) {
			if i := strings.Index(lines[line-1], key); i >= 0 {
				col = runeCol(lines[line-1], i)
			}
		}
		p.Reportf(df.Name, line, col, "%s %s has a literal value, kept in the image's metadata for anyone who pulls it: take it from the platform's variables at start, or generate it on first start into /app/data", kind, key)
	}
	check := func(line int, key, value, kind string) {
		if sensitiveName.MatchString(key) && !referenceValue(value) && !placeholderValue(value) && len(value) >= 4 {
			report(line, key, value, kind)
		}
	}
	for i := range df.File.MetaArgs {
		a := &df.File.MetaArgs[i]
		for _, kv := range a.Args {
			if kv.Value != nil {
				check(dockerfile.Line(a), kv.Key, *kv.Value, "ARG")
			}
		}
	}
	for _, st := range df.File.Stages {
		for _, c := range st.Commands {
			switch c := c.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					check(dockerfile.Line(c), kv.Key, kv.Value, "ENV")
				}
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					if kv.Value != nil {
						check(dockerfile.Line(c), kv.Key, *kv.Value, "ARG")
					}
				}
			}
		}
	}
}

var (
	configPassword = regexp.MustCompile(`(?i)^\s*(?:export\s+|set\s+|-\s+)?["']?([a-z0-9_.-]*?(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|auth[_-]?key))["']?\s*(=>|=|:)\s*(.*)$`)
	phpDefine      = regexp.MustCompile(`(?i)define\(\s*['"]([A-Z0-9_]*(?:PASSWORD|SECRET|KEY|TOKEN|SALT))['"]\s*,\s*(['"][^'"]*['"])`)
	codeExt        = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".py": true, ".php": true, ".rb": true, ".rake": true, ".ru": true, ".jsx": true, ".tsx": true, ".kt": true, ".groovy": true, ".pl": true, ".pm": true, ".rs": true, ".go": true, ".java": true, ".lua": true, ".sh": true, ".bash": true}
)

// literalOf returns the literal a configuration value holds: the quoted
// string, or the bare word up to a comment; ok is false for expressions in
// code files.
func literalOf(v string, code bool) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false
	}
	if v[0] == '!' || v[0] == '|' || v[0] == '>' || v[0] == '&' || v[0] == '*' {
		return "", false // YAML tags, block scalars, anchors and aliases
	}
	if q := v[0]; q == '"' || q == '\'' || q == '`' {
		end := strings.IndexByte(v[1:], q)
		if end < 0 {
			return "", false
		}
		return v[1 : end+1], true
	}
	if code {
		return "", false // a bare word in code is an expression
	}
	for _, c := range []string{" #", " ;", " //", "\t#"} {
		if i := strings.Index(v, c); i >= 0 {
			v = v[:i]
		}
	}
	return strings.TrimRight(strings.TrimSpace(v), ",;"), true
}

// secretWords are in every line checkConfigPasswords reads further.
var secretWords = []string{"pass", "secret", "token", "key"}

// hasSecretWord reports whether the lower-cased line has a secret word.
func hasSecretWord(line string) bool {
	if !mayContainFold(line, secretWords) {
		return false // the same answer as below, without the copy
	}
	return containsAny(strings.ToLower(line), secretWords)
}

func checkConfigPasswords(p *lint.Pass) {
	keep := func(rel string) bool { return !docFile(rel) && rel != lint.ManifestFile && inImage(p, rel) }
	textLines(p, keep, func(rel string, n int, line string) {
		if !hasSecretWord(line) {
			return
		}
		if sessionSecretFile(rel) {
			if _, _, ok := sessionSecretAt(rel, "", line); ok {
				return // SEC010 reports it
			}
		}
		key, value, col := "", "", 0
		ext := strings.ToLower(path.Ext(rel))
		if m := configPassword.FindStringSubmatchIndex(line); m != nil {
			if isDockerfile(p, rel) {
				return // SEC003 reads ENV and ARG
			}
			key = line[m[2]:m[3]]
			raw := line[m[6]:m[7]]
			code := codeExt[ext] && ext != ".sh" && ext != ".bash"
			lit, ok := literalOf(raw, code)
			if !ok || strings.HasPrefix(strings.TrimSpace(raw), "[") || strings.HasPrefix(strings.TrimSpace(raw), "{") {
				return
			}
			value, col = lit, runeCol(line, m[2])
		} else if m := phpDefine.FindStringSubmatchIndex(line); m != nil {
			key, value, col = line[m[2]:m[3]], strings.Trim(line[m[4]:m[5]], `'"`), runeCol(line, m[2])
		} else {
			return
		}
		if referenceValue(value) || placeholderValue(value) || len(value) < 4 || strings.ContainsAny(strings.TrimSpace(value), " \t") {
			return // a reference, a placeholder, or text (a label, a sentence)
		}
		for _, t := range tokenPatterns {
			if containsAny(value, t.hints) && t.re.MatchString(value) {
				return // SEC002 reports it
			}
		}
		p.Reportf(rel, n, col, "%s is set to a literal password or secret, the same for every installation and public with the package: write it at start from a CLOUDRON_* variable or a secret generated on first start", key)
	})
}

// commandLines are the logical command lines the package runs at build time
// and at start: the Dockerfile's RUN (and ENV) instructions and the lines of
// its shell scripts.
type commandLines struct {
	file  string
	lines []scriptLine
}

func packageCommands(p *lint.Pass) []commandLines {
	return p.Memo("sec:commands", func() any {
		var out []commandLines
		for _, rel := range p.Files() {
			if !inImage(p, rel) {
				continue // CI, tests and tools do not run in the image
			}
			text, ok := packageText(p, rel)
			if !ok {
				continue
			}
			if isDockerfile(p, rel) {
				var keep []scriptLine
				lines, _ := fileScriptLines(p, rel)
				for _, l := range lines {
					f := strings.Fields(l.text)
					if len(f) > 0 && (strings.EqualFold(f[0], "RUN") || strings.EqualFold(f[0], "ENV")) {
						keep = append(keep, l)
					}
				}
				out = append(out, commandLines{rel, keep})
				continue
			}
			ext := path.Ext(rel)
			firstLine, _, _ := strings.Cut(text, "\n")
			if ext == ".sh" || ext == ".bash" || strings.HasPrefix(firstLine, "#!") && strings.Contains(firstLine, "sh") {
				lines, _ := fileScriptLines(p, rel)
				out = append(out, commandLines{rel, lines})
			}
		}
		return out
	}).([]commandLines)
}

// worldWritable reports whether a chmod mode gives others write access.
func worldWritable(mode string) bool {
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil && len(mode) >= 3 {
		return n&0o002 != 0
	}
	for _, clause := range strings.Split(mode, ",") {
		i := strings.IndexAny(clause, "+=-")
		if i < 0 {
			continue
		}
		who, op, perms := clause[:i], clause[i], clause[i+1:]
		if op != '-' && (strings.ContainsAny(who, "oa")) && strings.Contains(perms, "w") {
			return true
		}
	}
	return false
}

var chmodWord = regexp.MustCompile(`\bchmod\b`)

// commandAt reports whether the word at text[start:end] stands where a
// command does: outside quotes, followed by a blank, and preceded by the
// start of the line, a blank or a shell operator.
func commandAt(text string, start, end int) bool {
	if end < len(text) && text[end] != ' ' && text[end] != '\t' {
		return false
	}
	if start > 0 && strings.IndexByte(" \t;&|(`", text[start-1]) < 0 {
		return false
	}
	single, double := false, false
	for i := 0; i < start; i++ {
		switch c := text[i]; {
		case c == '\\' && !single:
			i++
		case c == '\'' && !double:
			single = !single
		case c == '"' && !single:
			double = !double
		}
	}
	return !single && !double
}

func checkChmod777(p *lint.Pass) {
	for _, src := range packageCommands(p) {
		for _, l := range src.lines {
			if !strings.Contains(l.text, "chmod") {
				continue // chmodWord needs it: a cheap filter
			}
			for _, loc := range chmodWord.FindAllStringIndex(l.text, -1) {
				if !commandAt(l.text, loc[0], loc[1]) {
					continue // a word inside a quoted string or an expression (sed 's,^chmod=…,')
				}
				words := commandWords(l.text[loc[1]:])
				for _, w := range words {
					if w == ";" || w == "&&" || w == "||" || w == "|" || w == "&" {
						break
					}
					if strings.HasPrefix(w, "-") && !worldWritable(strings.TrimPrefix(w, "-")) || strings.HasPrefix(w, "--") {
						continue
					}
					if worldWritable(w) {
						line, col := l.at(loc[0])
						p.Reportf(src.file, line, col, "chmod %s makes files writable by every process in the container: give them to the user that needs them (chown cloudron:cloudron) and keep modes like 0755/0644", w)
					}
					break
				}
			}
		}
	}
}

var pipeToShell = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+\S+=\S+\s+)*(?:/\S*/)?(?:ba|z|da|k)?sh\b`),
	regexp.MustCompile(`\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:/\S*/)?(?:python3?|perl|ruby|node)\b\s*(?:-\s*)?(?:$|[;&|])`),
	regexp.MustCompile(`\b(?:ba|z|da)?sh\s+(?:-c\s+)?["']?\$\(\s*(?:curl|wget)\b`),
	regexp.MustCompile(`\b(?:ba|z|da)?sh\s+<\(\s*(?:curl|wget)\b`),
}

func checkPipeToShell(p *lint.Pass) {
	for _, src := range packageCommands(p) {
		if isDockerfile(p, src.file) {
			continue // DF009 reports unverified downloads of the Dockerfile
		}
		for _, l := range src.lines {
			if !strings.Contains(l.text, "curl") && !strings.Contains(l.text, "wget") {
				continue // every pattern needs one of them: a cheap filter
			}
			for _, re := range pipeToShell {
				if loc := re.FindStringIndex(l.text); loc != nil {
					line, col := l.at(loc[0])
					p.Reportf(src.file, line, col, "a downloaded script is run straight from the network, unpinned and unverified: download a pinned version, check its sha256, then run it")
					break
				}
			}
		}
	}
}

// insecureHints is in every line insecureTLS matches: a cheap filter.
var insecureHints = []string{"--no-check-certificate", "GIT_SSL_NO_VERIFY", "sslVerify", "sslverify", "SSLVERIFY", "strict-ssl", "NODE_TLS_REJECT_UNAUTHORIZED", "PYTHONHTTPSVERIFY", "--trusted-host"}

var insecureTLS = []struct {
	re  *regexp.Regexp
	msg string
}{
	{regexp.MustCompile(`--no-check-certificate\b`), "wget --no-check-certificate"},
	{regexp.MustCompile(`\bGIT_SSL_NO_VERIFY(?:\s*=\s*|\s+)["']?(?:1|true)\b`), "GIT_SSL_NO_VERIFY"},
	{regexp.MustCompile(`(?i)\bhttp\.sslVerify(?:\s*=\s*|\s+)["']?false\b`), "git http.sslVerify false"},
	{regexp.MustCompile(`\bstrict-ssl(?:\s*=\s*|\s+)["']?false\b`), "npm strict-ssl false"},
	{regexp.MustCompile(`\bNODE_TLS_REJECT_UNAUTHORIZED(?:\s*=\s*|\s+)["']?0`), "NODE_TLS_REJECT_UNAUTHORIZED=0"},
	{regexp.MustCompile(`\bPYTHONHTTPSVERIFY(?:\s*=\s*|\s+)["']?0`), "PYTHONHTTPSVERIFY=0"},
	{regexp.MustCompile(`--trusted-host\b`), "pip --trusted-host"},
}

var curlWord = regexp.MustCompile(`\bcurl\b`)

// curlArgLetters are curl's short options that take a value.
const curlArgLetters = "AbcCdDeEFHKmoPQrtTuUwxXyYz"

// curlInsecure returns the offset of an insecure curl option in a command
// line (-k, --insecure, or k in a cluster of short flags), or -1.
func curlInsecure(text string) int {
	if !strings.Contains(text, "curl") {
		return -1
	}
	for _, loc := range curlWord.FindAllStringIndex(text, -1) {
		for _, w := range commandWords(text[loc[1]:]) {
			if w == ";" || w == "&&" || w == "||" || w == "|" || w == "&" {
				break
			}
			if w == "--insecure" {
				return loc[0]
			}
			if !strings.HasPrefix(w, "-") || strings.HasPrefix(w, "--") {
				continue
			}
			for _, c := range w[1:] {
				if c == 'k' {
					return loc[0]
				}
				if strings.ContainsRune(curlArgLetters, c) {
					break
				}
			}
		}
	}
	return -1
}

func checkTLSVerification(p *lint.Pass) {
	for _, src := range packageCommands(p) {
		for _, l := range src.lines {
			if i := curlInsecure(l.text); i >= 0 {
				line, col := l.at(i)
				p.Reportf(src.file, line, col, "curl -k/--insecure accepts any certificate, so a man in the middle can replace the download: drop it (and pin a checksum)")
				continue
			}
			if !containsAny(l.text, insecureHints) && !strings.Contains(strings.ToLower(l.text), "sslverify") {
				continue
			}
			for _, t := range insecureTLS {
				if loc := t.re.FindStringIndex(l.text); loc != nil {
					line, col := l.at(loc[0])
					p.Reportf(src.file, line, col, "%s turns off certificate verification, so a man in the middle can replace what is downloaded: remove it", t.msg)
					break
				}
			}
		}
	}
}

// capabilityUse is the evidence, in the package's files, that a capability is used.
var capabilityUse = map[string]*regexp.Regexp{
	"net_admin": regexp.MustCompile(`(?i)\b(ip\s+(link|addr|address|route|rule|tuntap|netns)|iptables|ip6tables|nft|nftables|wg|wg-quick|wireguard|tc\s+qdisc|/dev/net/tun|openvpn|tailscaled?|headscale|netbird|NET_ADMIN|sysctl)\b`),
	"mlock":     regexp.MustCompile(`(?i)\b(mlock|mlockall|memlock|ipc_lock|disable_mlock|memory_lock|lock_memory)\b`),
	"ping":      regexp.MustCompile(`(?i)\b(ping|ping6|fping|icmp|net_raw|smokeping|traceroute|mtr)\b`),
	"vaapi":     regexp.MustCompile(`(?i)\b(ffmpeg|vaapi|libva\w*|/dev/dri|intel-media\w*|mesa-va\w*|va-driver\w*|hwaccel\w*|qsv|render(D|d)\d+)\b`),
}

func checkCapabilities(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil || len(mf.Capabilities) == 0 {
		return
	}
	keep := func(rel string) bool { return !docFile(rel) && rel != lint.ManifestFile }
	used := map[string]bool{}
	textLines(p, keep, func(rel string, n int, line string) {
		for cap, re := range capabilityUse {
			if !used[cap] && re.MatchString(line) {
				used[cap] = true
			}
		}
	})
	for i, c := range mf.Capabilities {
		if _, known := capabilityUse[c]; !known || used[c] {
			continue
		}
		line, col := pos(m, "/capabilities/"+strconv.Itoa(i))
		p.Reportf(lint.ManifestFile, line, col, "capability %s is requested, but no file of the package visibly uses it: drop it unless the app needs it (and say why in NOTES.md)", c)
	}
}

func checkCopyChmod(p *lint.Pass) {
	df := p.Dockerfile()
	if df == nil || df.File == nil {
		return
	}
	for _, st := range df.File.Stages {
		for _, c := range st.Commands {
			mode := ""
			switch c := c.(type) {
			case *instructions.CopyCommand:
				mode = c.Chmod
			case *instructions.AddCommand:
				mode = c.Chmod
			}
			if mode != "" && worldWritable(mode) {
				p.Reportf(df.Name, dockerfile.Line(c), 0, "--chmod=%s makes the copied files writable by every process in the container: use 0755 for programs, 0644 for other files", mode)
			}
		}
	}
}
