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
)

var docRules = []*lint.Rule{
	{
		Code: "DOC001", Title: "the build notes mention every addon", Severity: cpk.Warning,
		Doc: `NOTES.md tells the next packager how the package is put together. Each
addon the manifest declares should appear there with what the app uses it for,
so nobody removes one that looks unused or wonders why it is there.

Bad:

    "addons": { "postgresql": {}, "redis": {} }      # NOTES.md never says redis

Good:

    ## Addons
    - postgresql: the database
    - redis: sessions and the job queue`,
		Run: checkNotesAddons,
	},
	{
		Code: "DOC002", Title: "the build notes mention the ports", Severity: cpk.Warning,
		Doc: `The notes should say which port the app (or nginx) listens on — the
manifest's httpPort — and what each tcpPorts/udpPorts/httpPorts entry is for.

Bad:

    "httpPort": 8000                                  # NOTES.md has no port

Good:

    nginx listens on 8000 (httpPort) and proxies to the app on 3000.`,
		Run: checkNotesPorts,
	},
	{
		Code: "DOC003", Title: "the build notes describe the first login", Severity: cpk.Warning,
		Doc: `How does the first user get in: the Cloudron login, an admin account created
on first start, a sign-up page? The notes must say it, so that testers and
the next packager can log in.

Bad:

    # Notes
    Built from the release tarball.

Good:

    ## First login
    The first user to sign up becomes the administrator.`,
		Run: checkNotesLogin,
	},
	{
		Code: "DOC004", Title: "the description lives in DESCRIPTION.md", Severity: cpk.Warning,
		Doc: `Packages keep their long texts beside the manifest (file://DESCRIPTION.md,
file://CHANGELOG, file://POSTINSTALL.md), which is what the Cloudron CLI
scaffolds. When the manifest uses file:// references, its description should
come from a DESCRIPTION.md with content.

Bad:

    "changelog": "file://CHANGELOG"        # and no description

Good:

    "description": "file://DESCRIPTION.md",
    "changelog": "file://CHANGELOG"`,
		Run: checkDescriptionFile,
	},
	{
		Code: "DOC005", Title: "the package has a .dockerignore", Severity: cpk.Info,
		Doc: `Without .dockerignore, the whole folder (.git, node_modules, notes, local
test data) is sent to the builder and may end up in the image through COPY . .
The Cloudron CLI scaffolds one.

Bad:

    (no .dockerignore)

Good:

    .git
    .gitignore
    .dockerignore
    node_modules`,
		Run: checkDockerignore,
	},
}

// catalogFile marks a package of cpk's own catalog.
const catalogFile = "cpk.yaml"

// notes returns the build notes, or false when there are none (PK006): the
// text of NOTES.md, or, for a package outside the catalog (no cpk.yaml),
// its substantial build documentation in README, BUILDING or docs/.
func notes(p *lint.Pass) (string, bool) {
	_, text, ok := buildDocs(p)
	return text, ok
}

// notesFile is the file DOC findings point at: NOTES.md, or the package's
// own build documentation.
func notesFile(p *lint.Pass) string {
	if file, _, ok := buildDocs(p); ok {
		return file
	}
	return lint.NotesFile
}

// minDocWords is how many words of prose make build documentation
// substantial.
const minDocWords = 80

// buildDocs returns the package's build documentation: NOTES.md when it has
// content; for a package outside the catalog also the first of README*,
// BUILDING* and docs/*.md that has at least minDocWords words of prose and
// speaks of the build (the Dockerfile, the image, building).
func buildDocs(p *lint.Pass) (file, text string, ok bool) {
	type found struct {
		file, text string
		ok         bool
	}
	f := p.Memo("docs:build", func() any {
		if text, ok := packageText(p, lint.NotesFile); ok && strings.TrimSpace(text) != "" {
			return found{lint.NotesFile, text, true}
		}
		if p.Exists(catalogFile) {
			return found{}
		}
		var cands []string
		for _, rel := range p.Files() {
			base := strings.ToUpper(path.Base(rel))
			top := !strings.Contains(rel, "/")
			switch {
			case top && (strings.HasPrefix(base, "README") || strings.HasPrefix(base, "BUILDING")),
				strings.HasPrefix(rel, "docs/") && strings.HasSuffix(base, ".MD"):
				cands = append(cands, rel)
			}
		}
		for _, rel := range cands {
			if text, ok := packageText(p, rel); ok && substantialBuildDocs(text) {
				return found{rel, text, true}
			}
		}
		return found{}
	}).(found)
	return f.file, f.text, f.ok
}

// hasProse reports whether a Markdown text has a line that is not a heading.
func hasProse(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

var buildWords = regexp.MustCompile(`(?i)\b(dockerfile|image|build|built|building)\b`)

// substantialBuildDocs reports whether a document has minDocWords words of
// prose (outside code blocks and headings) and speaks of the build.
func substantialBuildDocs(text string) bool {
	words, code := 0, false
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			code = !code
			continue
		}
		if code || strings.HasPrefix(t, "#") {
			continue
		}
		words += len(strings.Fields(t))
	}
	return words >= minDocWords && buildWords.MatchString(text)
}

// notesAnchor returns the line of the first heading of the notes that
// matches topic, else 1.
func notesAnchor(text string, topic *regexp.Regexp) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") && topic.MatchString(l) {
			return i + 1
		}
	}
	return 1
}

// mentions reports whether text has one of the words (case-insensitive, not
// inside a longer word).
func mentions(text string, words ...string) bool {
	lower := strings.ToLower(text)
	alnum := func(i int) bool {
		c := lower[i]
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	for _, w := range words {
		w = strings.ToLower(w)
		for off := 0; off < len(lower); {
			i := strings.Index(lower[off:], w)
			if i < 0 {
				break
			}
			i += off
			end := i + len(w)
			if (i == 0 || !alnum(i-1)) && (end == len(lower) || !alnum(end)) {
				return true
			}
			off = i + 1
		}
	}
	return false
}

// addonWords are the words that count as mentioning an addon.
var addonWords = map[string][]string{
	"postgresql":   {"postgres"},
	"mongodb":      {"mongo"},
	"mysql":        {"mariadb"},
	"localstorage": {"local storage", "/app/data"},
	"sendmail":     {"smtp", "outgoing mail", "outgoing e-mail"},
	"recvmail":     {"imap", "incoming mail", "incoming e-mail"},
	"proxyAuth":    {"proxy auth", "proxyauth"},
	"scheduler":    {"cron", "scheduled"},
	"oidc":         {"openid"},
	"tls":          {"certificate"},
	"turn":         {"coturn", "stun"},
}

var addonHeading = regexp.MustCompile(`(?i)addon|service|database`)

func checkNotesAddons(p *lint.Pass) {
	m, _ := manifestDoc(p)
	text, ok := notes(p)
	if m == nil || !ok {
		return
	}
	addons := m.Doc.Lookup("/addons")
	if addons == nil {
		return
	}
	for _, a := range addons.Members {
		words := append([]string{a.Key, "CLOUDRON_" + strings.ToUpper(a.Key)}, addonWords[a.Key]...)
		if !mentions(text, words...) {
			p.Reportf(notesFile(p), notesAnchor(text, addonHeading), 1, "the notes never mention the %s addon: say what the app uses it for", a.Key)
		}
	}
}

var portHeading = regexp.MustCompile(`(?i)port|layout|network|architecture`)

func checkNotesPorts(p *lint.Pass) {
	m, mf := manifestDoc(p)
	text, ok := notes(p)
	if m == nil || !ok {
		return
	}
	anchor := notesAnchor(text, portHeading)
	if mf.HTTPPort > 0 && !mentions(text, strconv.Itoa(mf.HTTPPort)) {
		p.Reportf(notesFile(p), anchor, 1, "the notes never mention port %d, the manifest's httpPort: say what listens there", mf.HTTPPort)
	}
	type entry struct {
		group, key string
		numbers    []int
	}
	var entries []entry
	for _, group := range []string{"tcpPorts", "udpPorts"} {
		ports := mf.TCPPorts
		if group == "udpPorts" {
			ports = mf.UDPPorts
		}
		for _, k := range sortedKeys(ports) {
			entries = append(entries, entry{group, k, []int{ports[k].ContainerPort, ports[k].DefaultValue}})
		}
	}
	for _, k := range sortedKeys(mf.HTTPPorts) {
		entries = append(entries, entry{"httpPorts", k, []int{mf.HTTPPorts[k].ContainerPort}})
	}
	for _, e := range entries {
		words := []string{e.key}
		for _, n := range e.numbers {
			if n > 0 && !slices.Contains(words, strconv.Itoa(n)) {
				words = append(words, strconv.Itoa(n))
			}
		}
		if !mentions(text, words...) {
			p.Reportf(notesFile(p), anchor, 1, "the notes never mention %s.%s (%s): say which service listens there", e.group, e.key, strings.Join(words[1:], ", "))
		}
	}
}

var loginWords = regexp.MustCompile(`(?i)\b(log[- ]?in|logging in|sign[- ]?(in|up)|first[- ](user|account|login|run|start)|admin\w*|credentials?|passwords?|setup wizard|onboarding)\b`)

// loginHints are in every match of loginWords.
var loginHints = []string{"log", "sign", "first", "admin", "credential", "password", "setup", "onboarding"}

// mentionsLogin reports whether loginWords matches the text. No match
// spans lines, so each line is matched on its own, and only when it has
// one of the hints.
func mentionsLogin(text string) bool {
	for line := range strings.Lines(text) {
		if mayContainFold(line, loginHints) && loginWords.MatchString(line) {
			return true
		}
	}
	return false
}

func checkNotesLogin(p *lint.Pass) {
	if m, _ := manifestDoc(p); m == nil {
		return
	}
	text, ok := notes(p)
	if !ok || mentionsLogin(text) {
		return
	}
	p.Reportf(notesFile(p), 1, 1, "the notes do not say how the first user logs in: add a \"First login\" section (Cloudron login, generated admin account, or sign-up)")
}

func checkDescriptionFile(p *lint.Pass) {
	m, mf := manifestDoc(p)
	if m == nil {
		return
	}
	if rel, ok := fileRef(mf.Description); ok {
		data, err := p.ReadFile(rel)
		if err == nil && strings.TrimSpace(string(data)) == "" {
			line, col := pos(m, "/description")
			p.Reportf(lint.ManifestFile, line, col, "description names %s, which is empty: describe the app there (it is shown in the dashboard and the store)", rel)
		}
		return
	}
	if m.Doc.Lookup("/description") != nil {
		return
	}
	var refs []string
	for _, f := range []struct{ name, value string }{{"changelog", mf.Changelog}, {"postInstallMessage", mf.PostInstallMessage}} {
		if _, ok := fileRef(f.value); ok {
			refs = append(refs, f.name)
		}
	}
	if len(refs) == 0 {
		return
	}
	line, col := pos(m, "")
	p.Reportf(lint.ManifestFile, line, col, "%s", fmt.Sprintf("the manifest keeps %s in files but has no description: write DESCRIPTION.md and add \"description\": \"file://DESCRIPTION.md\"", strings.Join(refs, " and ")))
}

func checkDockerignore(p *lint.Pass) {
	df := p.Dockerfile()
	if df == nil || p.Exists(".dockerignore") || copiesWholePackage(df) {
		return // without a Dockerfile PK001 reports; a COPY . . without .dockerignore, DF019
	}
	p.Reportf(".dockerignore", 0, 0, "no .dockerignore: the whole folder (.git, node_modules, notes) goes to the builder; add one listing .git, .gitignore, .dockerignore and node_modules")
}

// copiesWholePackage reports whether the final stage copies the package
// folder itself (COPY . …).
func copiesWholePackage(df *lint.Dockerfile) bool {
	if df.File == nil {
		return false
	}
	for _, c := range df.File.Final().Commands {
		var srcs []string
		switch c := c.(type) {
		case *instructions.CopyCommand:
			if c.From == "" {
				srcs = c.SourcePaths
			}
		case *instructions.AddCommand:
			srcs = c.SourcePaths
		}
		for _, s := range srcs {
			if path.Clean(s) == "." {
				return true
			}
		}
	}
	return false
}
