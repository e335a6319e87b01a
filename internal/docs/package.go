package docs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"cpk/internal/bump"
	"cpk/internal/catalog"
	"cpk/internal/fsx"
	"cpk/internal/lint"
	"cpk/internal/manifest"
	"cpk/internal/parse/dockerfile"
)

// ReadmeFile is a package's generated README, beside its NOTES.md.
const ReadmeFile = "README.md"

// The markers around the generated part of a package README. Everything
// outside them is the packager's and is kept.
const (
	BeginMarker = "<!-- cpk:begin generated -->"
	EndMarker   = "<!-- cpk:end generated -->"
)

const packageNote = "<!-- Written by `cpk docs` from CloudronManifest.json, the Dockerfile, NOTES.md and cpk.yaml: edit those, not this part; text outside the cpk markers is kept. -->\n"

// PackageReadme returns the README.md the package should have: its
// current hand-written parts with the generated part (re)written between
// the markers. A README without markers keeps all its text below the
// generated part. ok is false for an application without package files,
// which gets no README.
func PackageReadme(a *catalog.App) (content []byte, ok bool, err error) {
	return packageReadme(a, disk(a))
}

func packageReadme(a *catalog.App, src source) (content []byte, ok bool, err error) {
	files := src.files
	if files == nil {
		if files, err = a.PackageFiles(); err != nil {
			return nil, false, err
		}
	}
	if len(withoutReadme(files)) == 0 {
		return nil, false, nil
	}
	gen, err := packageSection(a, files, src)
	if err != nil {
		return nil, false, err
	}
	path := filepath.Join(a.Dir, ReadmeFile)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	out, err := splice(old, gen)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return out, true, nil
}

// PackageCurrent reports whether the package's README.md is what cpk docs
// would write (false when it has no package files).
func PackageCurrent(a *catalog.App) (bool, error) { return packageCurrent(a, disk(a)) }

// PackageCurrentPass is PackageCurrent reading through a lint pass over the
// same package, whose files (PackageFiles) are known: the files and the
// Dockerfile its rules read and parsed are not read or parsed again.
func PackageCurrentPass(a *catalog.App, p *lint.Pass, files []string) (bool, error) {
	src := passSource(p)
	src.files = files
	return packageCurrent(a, src)
}

// source is where the generator reads a package's files from.
type source struct {
	read func(rel string) ([]byte, error) // a slash-separated path in the package
	// dockerfile is the package's parsed Dockerfile (nil when there is
	// none or it does not parse: it pins nothing then).
	dockerfile func() (*dockerfile.File, error)
	files      []string // the package's files; nil: list them (PackageFiles)
}

// disk reads the package's files from its folder.
func disk(a *catalog.App) source {
	return source{
		read: func(rel string) ([]byte, error) {
			return fsx.ReadPackageFile(a.Dir, filepath.Join(a.Dir, filepath.FromSlash(rel)), 0)
		},
		dockerfile: func() (*dockerfile.File, error) {
			data, err := fsx.ReadPackageFile(a.Dir, filepath.Join(a.Dir, bump.DockerfileName), 0)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			f, _ := dockerfile.Parse(data)
			return f, nil
		},
	}
}

// passSource reads through a lint pass, which keeps what it read.
func passSource(p *lint.Pass) source {
	return source{
		read: p.ReadFile,
		dockerfile: func() (*dockerfile.File, error) {
			if d := p.Dockerfile(); d != nil && d.Name == bump.DockerfileName {
				return d.File, nil // the pass tries the other names only when this one is missing
			}
			return nil, nil
		},
	}
}

func packageCurrent(a *catalog.App, src source) (bool, error) {
	want, ok, err := packageReadme(a, src)
	var ie *InputError
	if errors.As(err, &ie) {
		return false, nil // no README can be right until the input is fixed (lint says why)
	}
	if err != nil || !ok {
		return false, err
	}
	have, err := src.read(ReadmeFile)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return bytes.Equal(have, want), err
}

// SyncPackage writes (or with check, only compares) the package's README.
// changed is true when the file on disk differs from what it should be.
func SyncPackage(a *catalog.App, check bool) (changed bool, err error) {
	want, ok, err := PackageReadme(a)
	if err != nil || !ok {
		return false, err
	}
	stale, err := SyncFiles(map[string][]byte{filepath.Join(a.Dir, ReadmeFile): want}, check)
	return len(stale) > 0, err
}

func withoutReadme(files []string) []string {
	var out []string
	for _, f := range files {
		if f != ReadmeFile {
			out = append(out, f)
		}
	}
	return out
}

// splice puts the generated part into an existing README.
func splice(old, gen []byte) ([]byte, error) {
	block := append([]byte(BeginMarker+"\n"), gen...)
	block = append(block, EndMarker+"\n"...)
	if len(bytes.TrimSpace(old)) == 0 {
		return block, nil
	}
	lines := strings.SplitAfter(string(old), "\n")
	begin, end := -1, -1
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case BeginMarker:
			if begin >= 0 {
				return nil, errors.New("two " + BeginMarker + " markers: keep one generated part")
			}
			begin = i
		case EndMarker:
			if end >= 0 {
				return nil, errors.New("two " + EndMarker + " markers: keep one generated part")
			}
			end = i
		}
	}
	switch {
	case begin < 0 && end < 0:
		// Hand-written only so far: the generated part goes on top.
		return append(append(block, '\n'), old...), nil
	case begin < 0 || end < 0 || end < begin:
		return nil, fmt.Errorf("the markers %s and %s must both be there, in that order: fix them (or delete the file and run cpk docs)", BeginMarker, EndMarker)
	}
	var out bytes.Buffer
	out.WriteString(strings.Join(lines[:begin], ""))
	out.Write(block)
	out.WriteString(strings.Join(lines[end+1:], ""))
	return out.Bytes(), nil
}

// packageFacts are what the generated part says, read from the files.
type packageFacts struct {
	app      *catalog.App
	m        manifest.Manifest
	hasMF    bool
	pin      bump.Pin
	notes    string   // NOTES.md
	sections []string // NOTES.md headings
	desc     string   // the first paragraph of the description
	post     string   // the post-install message
	vars     []string // CLOUDRON_ variables the package's files read
}

// InputError is a package input that cpk docs cannot read or parse: no
// README is written from it.
type InputError struct {
	App, File string
	Err       error
}

func (e *InputError) Error() string {
	return fmt.Sprintf("apps/%s/%s: %v: no README is written from it (cpk lint %s says more)", e.App, e.File, e.Err, e.App)
}

func (e *InputError) Unwrap() error { return e.Err }

func packageSection(a *catalog.App, files []string, src source) ([]byte, error) {
	f := packageFacts{app: a}
	read := func(name string) (string, bool) {
		data, err := src.read(name)
		return string(data), err == nil
	}
	// A README written from inputs that cannot be read or parsed would
	// state false things ("declares no addons"): refuse, naming the input.
	for _, name := range []string{lint.ManifestFile, lint.NotesFile} {
		if _, err := src.read(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, &InputError{App: a.ID, File: name, Err: err}
		}
	}
	var mdoc *manifest.Document
	if data, ok := read(lint.ManifestFile); ok {
		doc, errs := manifest.Decode([]byte(data))
		if doc == nil || len(errs) > 0 {
			msg := "it does not parse"
			if len(errs) > 0 {
				msg = errs[0].Error()
			}
			return nil, &InputError{App: a.ID, File: lint.ManifestFile, Err: errors.New(msg)}
		}
		f.m, f.hasMF, mdoc = doc.Manifest(), true, doc
	}
	df, err := src.dockerfile()
	if err != nil {
		return nil, err
	}
	f.pin = bump.PinOf(df, mdoc)
	f.notes, _ = read(lint.NotesFile)
	for _, s := range headings(f.notes) {
		f.sections = append(f.sections, s.title)
	}
	f.desc = fileOrText(f.m.Description, read)
	f.post = fileOrText(f.m.PostInstallMessage, read)
	f.vars = variables(files, src)

	var b bytes.Buffer
	b.WriteString(packageNote)
	f.header(&b)
	f.addons(&b)
	f.ports(&b)
	f.firstLogin(&b)
	f.backup(&b)
	f.howTo(&b)
	f.buildNotes(&b)
	return b.Bytes(), nil
}

// fileOrText resolves a manifest text that may be file://NAME.
func fileOrText(v string, read func(string) (string, bool)) string {
	if name, ok := strings.CutPrefix(v, "file://"); ok {
		if clean := filepath.ToSlash(filepath.Clean(name)); !strings.HasPrefix(clean, "../") && !filepath.IsAbs(clean) {
			text, _ := read(clean)
			return strings.TrimSpace(text)
		}
		return ""
	}
	return strings.TrimSpace(v)
}

func (f *packageFacts) header(b *bytes.Buffer) {
	title := f.m.Title
	if title == "" {
		title = f.app.Name
	}
	fmt.Fprintf(b, "# %s\n\n", inline(title))
	if f.m.Tagline != "" {
		fmt.Fprintf(b, "%s\n\n", inline(f.m.Tagline))
	}
	if p := firstParagraph(f.desc); p != "" {
		fmt.Fprintf(b, "%s\n\n", p)
	}
	b.WriteString("| | |\n|---|---|\n")
	pkg := "`" + f.app.ID + "`"
	if f.m.Version != "" {
		pkg += " version " + cell(f.m.Version)
	}
	if f.m.ID != "" {
		pkg += " (manifest id `" + cell(f.m.ID) + "`)"
	}
	fmt.Fprintf(b, "| Package | %s |\n", pkg)
	up := "not declared (add an upstream: block to cpk.yaml)"
	if u := f.app.Upstream; u != nil {
		up = fmt.Sprintf("[%s](%s) (%s)", cell(strings.TrimPrefix(strings.TrimPrefix(u.Link(), "https://"), "http://")), u.Link(), u.Source)
	}
	fmt.Fprintf(b, "| Upstream | %s |\n", up)
	pinned := "none yet (`ARG UPSTREAM_VERSION` in the Dockerfile, or `upstreamVersion`)"
	if f.pin.Version != "" {
		pinned = "**" + cell(f.pin.Version) + "** (" + cell(f.pin.From) + ")"
	}
	fmt.Fprintf(b, "| Pinned version | %s |\n", pinned)
	fmt.Fprintf(b, "| Memory | %s |\n", memory(f.m.MemoryLimit))
	if f.m.HealthCheckPath != "" {
		fmt.Fprintf(b, "| Health check | `%s` |\n", cell(f.m.HealthCheckPath))
	}
	if f.m.MinBoxVersion != "" {
		fmt.Fprintf(b, "| Cloudron | %s or newer (minBoxVersion) |\n", cell(f.m.MinBoxVersion))
	}
	if f.m.Website != "" {
		fmt.Fprintf(b, "| Website | %s |\n", cell(f.m.Website))
	}
	if !f.hasMF {
		b.WriteString("| Manifest | missing or unreadable: `cpk lint " + f.app.ID + "` says why |\n")
	}
	b.WriteString("\n")
}

// memory formats the manifest's memoryLimit.
func memory(v any) string {
	const mb = 1 << 20
	switch n := v.(type) {
	case float64:
		if n >= mb && n == float64(int64(n)) && int64(n)%mb == 0 {
			if int64(n)%(1<<30) == 0 {
				return fmt.Sprintf("%d GB (memoryLimit %d)", int64(n)>>30, int64(n))
			}
			return fmt.Sprintf("%d MB (memoryLimit %d)", int64(n)/mb, int64(n))
		}
		return fmt.Sprintf("memoryLimit %v bytes", n)
	case string:
		return cell(n) + " (memoryLimit)"
	}
	return "256 MB (the platform's default: no memoryLimit)"
}

// addonPrefixes name the variables each addon sets.
var addonPrefixes = map[string][]string{
	"postgresql": {"CLOUDRON_POSTGRESQL_"}, "mysql": {"CLOUDRON_MYSQL_"}, "mongodb": {"CLOUDRON_MONGODB_"},
	"redis": {"CLOUDRON_REDIS_"}, "ldap": {"CLOUDRON_LDAP_"}, "oidc": {"CLOUDRON_OIDC_"}, "oauth": {"CLOUDRON_OAUTH_"},
	"sendmail": {"CLOUDRON_MAIL_SMTP", "CLOUDRON_MAIL_FROM", "CLOUDRON_MAIL_DOMAIN"},
	"recvmail": {"CLOUDRON_MAIL_IMAP", "CLOUDRON_MAIL_POP3", "CLOUDRON_MAIL_TO", "CLOUDRON_MAIL_SIEVE"},
	"email":    {"CLOUDRON_EMAIL_"}, "turn": {"CLOUDRON_TURN_"}, "docker": {"CLOUDRON_DOCKER_"},
}

func (f *packageFacts) addons(b *bytes.Buffer) {
	b.WriteString("## Addons and variables\n\n")
	names := make([]string, 0, len(f.m.Addons))
	for n := range f.m.Addons {
		names = append(names, n)
	}
	sort.Strings(names)
	used := map[string]bool{}
	if len(names) == 0 {
		b.WriteString("The manifest declares no addons.\n\n")
	} else {
		b.WriteString("| addon | options | variables the package reads |\n|---|---|---|\n")
		for _, n := range names {
			var opts []string
			for k, v := range f.m.Addons[n] {
				opts = append(opts, fmt.Sprintf("%s: %v", k, v))
			}
			sort.Strings(opts)
			var vars []string
			for _, v := range f.vars {
				for _, p := range addonPrefixes[n] {
					if strings.HasPrefix(v, p) && !used[v] {
						vars, used[v] = append(vars, "`"+v+"`"), true
					}
				}
			}
			fmt.Fprintf(b, "| %s | %s | %s |\n", cell(n), dash(cell(strings.Join(opts, ", "))), dash(strings.Join(vars, " ")))
		}
		b.WriteString("\n")
	}
	var other []string
	for _, v := range f.vars {
		if !used[v] {
			other = append(other, "`"+v+"`")
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(b, "Other platform variables it reads: %s.\n\n", strings.Join(other, ", "))
	}
}

func (f *packageFacts) ports(b *bytes.Buffer) {
	b.WriteString("## Ports\n\n")
	if f.m.HTTPPort > 0 {
		fmt.Fprintf(b, "- web: the app (or its nginx) listens on **%d** (`httpPort`)\n", f.m.HTTPPort)
	}
	list := func(kind string, ports map[string]manifest.Port) {
		keys := make([]string, 0, len(ports))
		for k := range ports {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := ports[k]
			desc := p.Title
			if p.Description != "" {
				desc += ": " + p.Description
			}
			fmt.Fprintf(b, "- %s `%s`: %s (default %d", kind, cell(k), inline(desc), p.DefaultValue)
			if p.ContainerPort > 0 {
				fmt.Fprintf(b, ", container port %d", p.ContainerPort)
			}
			b.WriteString(")\n")
		}
	}
	list("tcp", f.m.TCPPorts)
	list("udp", f.m.UDPPorts)
	hp := make([]string, 0, len(f.m.HTTPPorts))
	for k := range f.m.HTTPPorts {
		hp = append(hp, k)
	}
	sort.Strings(hp)
	for _, k := range hp {
		p := f.m.HTTPPorts[k]
		fmt.Fprintf(b, "- extra web port `%s`: %s (container port %d)\n", cell(k), inline(p.Title), p.ContainerPort)
	}
	if f.m.HTTPPort == 0 && len(f.m.TCPPorts)+len(f.m.UDPPorts)+len(hp) == 0 {
		b.WriteString("The manifest names no port.\n")
	}
	b.WriteString("\n")
}

// loginTopic and backupTopic find the NOTES.md sections about them.
var (
	loginTopic  = regexp.MustCompile(`(?i)log ?in|sign.?(in|up)|first (user|start|run|steps)|admin|account|credential`)
	backupTopic = regexp.MustCompile(`(?i)backup|restore|data`)
)

func (f *packageFacts) firstLogin(b *bytes.Buffer) {
	b.WriteString("## First login\n\n")
	wrote := false
	if s := section(f.notes, loginTopic); s != "" {
		b.WriteString(s + "\n\n")
		wrote = true
	}
	if f.post != "" {
		fmt.Fprintf(b, "After installation Cloudron shows:\n\n%s\n\n", quote(f.post))
		wrote = true
	}
	if !wrote {
		b.WriteString("Not written down yet: add a `## First login` section to NOTES.md (lint rule DOC003).\n\n")
	}
}

func (f *packageFacts) backup(b *bytes.Buffer) {
	b.WriteString("## Backup\n\n")
	if _, ok := f.m.Addons["localstorage"]; ok {
		b.WriteString("- `/app/data` (the localstorage addon) is in every backup.\n")
	} else {
		b.WriteString("- No localstorage addon: nothing under `/app/data` is kept.\n")
	}
	for _, a := range []string{"postgresql", "mysql", "mongodb", "redis"} {
		if _, ok := f.m.Addons[a]; ok {
			fmt.Fprintf(b, "- the %s addon's data is dumped and restored by the platform.\n", a)
		}
	}
	for _, d := range f.m.PersistentDirs {
		fmt.Fprintf(b, "- `%s` is kept too (persistentDirs).\n", cell(d))
	}
	if f.m.BackupCommand != "" {
		fmt.Fprintf(b, "- before a backup the platform runs `%s`", cell(f.m.BackupCommand))
		if f.m.RestoreCommand != "" {
			fmt.Fprintf(b, ", after a restore `%s`", cell(f.m.RestoreCommand))
		}
		b.WriteString(".\n")
	}
	b.WriteString("\n")
	if s := section(f.notes, backupTopic); s != "" {
		b.WriteString(s + "\n\n")
	}
}

func (f *packageFacts) howTo(b *bytes.Buffer) {
	id := f.app.ID
	fmt.Fprintf(b, "## Build and test with cpk\n\n```sh\n")
	fmt.Fprintf(b, "cpk lint %s              # the platform's rules\n", id)
	fmt.Fprintf(b, "cpk build %s             # the image, rebuilt only when the files change\n", id)
	fmt.Fprintf(b, "cpk upstream check %s    # the pinned version against upstream's newest\n", id)
	fmt.Fprintf(b, "cpk history %s           # every recorded lint, build, test and upstream run\n", id)
	b.WriteString("```\n\n")
	fmt.Fprintf(b, "The latest results are not written here, so that this file changes only\nwith the package: see `cpk history %s`, or `cpk serve` and its page for %s.\n\n", id, id)
}

func (f *packageFacts) buildNotes(b *bytes.Buffer) {
	b.WriteString("## Build notes\n\n")
	if strings.TrimSpace(f.notes) == "" {
		b.WriteString("There are none yet: write NOTES.md (lint rule PK006).\n")
		return
	}
	b.WriteString("The packager's notes are in [NOTES.md](NOTES.md)")
	if len(f.sections) > 0 {
		var quoted []string
		for _, s := range f.sections {
			quoted = append(quoted, inline(s))
		}
		b.WriteString(": " + strings.Join(quoted, " · "))
	}
	b.WriteString(".\n")
}

// heading is one Markdown heading of a notes file.
type heading struct {
	level int
	title string
	line  int
}

func headings(text string) []heading {
	var out []heading
	fence := false
	for i, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = !fence
		}
		if fence || !strings.HasPrefix(t, "#") {
			continue
		}
		level := len(t) - len(strings.TrimLeft(t, "#"))
		title := strings.TrimSpace(t[level:])
		if level > 6 || title == "" || (len(t) > level && t[level] != ' ') {
			continue
		}
		out = append(out, heading{level, title, i})
	}
	return out
}

// section returns the body of the first sub-heading (level 2 or deeper)
// of text whose title matches topic, up to the next heading of the same or
// a higher level.
func section(text string, topic *regexp.Regexp) string {
	lines := strings.Split(text, "\n")
	hs := headings(text)
	for k, h := range hs {
		if h.level < 2 || !topic.MatchString(h.title) {
			continue
		}
		end := len(lines)
		for _, n := range hs[k+1:] {
			if n.level <= h.level {
				end = n.line
				break
			}
		}
		return strings.TrimSpace(strings.Join(lines[h.line+1:end], "\n"))
	}
	return ""
}

func firstParagraph(text string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		t := strings.TrimSpace(l)
		if t == "" {
			if len(out) > 0 {
				break
			}
			continue
		}
		if strings.HasPrefix(t, "#") && len(out) == 0 {
			continue // a title above the text
		}
		out = append(out, t)
	}
	return strings.Join(out, "\n")
}

func quote(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(lines, "\n")
}

// inline makes text safe on one Markdown line.
func inline(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cell makes text safe in a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(inline(s), "|", `\|`) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cloudronVars returns the platform variable names in data, in order: words
// CLOUDRON_[A-Z0-9_]* that end in a letter or digit. A scan, not a regular
// expression: this runs over every file of every package.
func cloudronVars(data []byte) []string {
	const prefix = "CLOUDRON_"
	var out []string
	for i := 0; ; {
		k := bytes.Index(data[i:], []byte(prefix))
		if k < 0 {
			return out
		}
		start := i + k
		end := start + len(prefix)
		for end < len(data) && isVarByte(data[end]) {
			end++
		}
		i = end
		if start > 0 && isWordByte(data[start-1]) || end < len(data) && isWordByte(data[end]) || data[end-1] == '_' {
			continue // part of a longer word, or ends in _
		}
		out = append(out, string(data[start:end]))
	}
}

func isVarByte(c byte) bool { return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' }

func isWordByte(c byte) bool { return isVarByte(c) || 'a' <= c && c <= 'z' }

// variables lists the CLOUDRON_ variables the package's own files name
// (start scripts, configuration, the Dockerfile; not its Markdown).
func variables(files []string, src source) []string {
	seen := map[string]bool{}
	for _, rel := range files {
		if strings.EqualFold(filepath.Ext(rel), ".md") {
			continue
		}
		data, err := src.read(rel)
		if err != nil || len(data) > maxVarFile || bytes.IndexByte(data, 0) >= 0 {
			continue
		}
		for _, v := range cloudronVars(data) {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// maxVarFile bounds the files searched for variables (1 MiB).
const maxVarFile = 1 << 20
