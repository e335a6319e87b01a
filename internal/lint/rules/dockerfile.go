package rules

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/manifest"
	"cpk/internal/parse/dockerfile"
	"cpk/internal/parse/shell"
)

// baseTag is a known tag of a Cloudron base image (reference §5.1).
type baseTag struct {
	Digest   string // "" when no source gives it
	Outdated string // why the tag should not be used any more, "" when current
}

// cloudronBases are the images a package's final stage may start from, with
// the tags the platform reference knows.
var cloudronBases = map[string]map[string]baseTag{
	"cloudron/base": {
		"0.8.1":  {Outdated: "a 2016 image"},
		"0.9.0":  {Outdated: "a 2016 image"},
		"0.10.0": {Outdated: "a 2016 image"},
		"1.0.0":  {Outdated: "Ubuntu 16.04"},
		"2.0.0":  {Digest: "sha256:f9fea80513aa7c92fe2e7bf3978b54c8ac5222f47a9a32a7f8833edf0eb5a4f4", Outdated: "an old Ubuntu release"},
		"3.2.0":  {Digest: "sha256:ba1d566164a67c266782545ea9809dc611c4152e27686fd14060332dd88263ea", Outdated: "an old Ubuntu release"},
		"4.2.0":  {Digest: "sha256:46da2fffb36353ef714f97ae8e962bd2c212ca091108d768ba473078319a47f4", Outdated: "Ubuntu 22.04"},
		"5.0.0":  {Digest: "sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c"},
		"5.1.0":  {Digest: "sha256:1c0666c9abe9e2090d33686826d4e97769b799124573118d41e0d7485135748e"},
		"6.0.0":  {Digest: "sha256:9bed4c8fa880645f8e669041ee28febe941481d00e9445e3e5a5483cb541d09b"},
	},
	"cloudron/node-base": {
		"24-20260920": {Digest: "sha256:d984683ec59bf2379130bf41cf3c2b6bc0453f327297d7183525cb05424e7b34"},
	},
	"cloudron/php-base": {
		"8.5-20260920": {Digest: "sha256:a59a4334fbf50ebfdf8f6cc5527e099e4586349a1aefc546e85f7401ea366d65"},
		"8.4-20260920": {Digest: "sha256:e9352b5fba7ad0a231b8a9e454034400a3a34a7fe1800425f634d32ffcae4a52"},
		"8.5":          {Digest: "sha256:6212759b8992bb2c09083c6ef12fa7a2bb75c13c9aa77a3dd94f593a5b63e1dd", Outdated: "a stale floating tag; use 8.5-20260920"},
		"8.4":          {Digest: "sha256:365607342e6b50f4f53d9b524313df4bfe654596baf762ee2e5af58c3498aa4b", Outdated: "a stale floating tag; use 8.4-20260920"},
	},
}

// currentBase is what messages suggest.
const currentBase = "cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c"

var dockerfileRules = []*lint.Rule{
	{
		Code: "DF001", Title: "the final stage starts from a Cloudron base image", Severity: cpk.Error,
		Doc: `The image that runs on Cloudron must start from cloudron/base (or
cloudron/node-base, cloudron/php-base): the platform's file manager, web
terminal and log viewer rely on the tools in it, and the app runs as its
cloudron user (uid 1000). Build in earlier stages from any image; the last
stage starts from the Cloudron image. A name given through an ARG is resolved.

Bad:

    FROM node:20-bookworm
    CMD [ "/app/code/start.sh" ]

Good:

    FROM node:20-bookworm AS build
    …
    FROM cloudron/base:5.0.0@sha256:04fd70db…
    COPY --from=build /src/dist /app/code/`,
		Run: checkBaseFamily,
	},
	{
		Code: "DF002", Title: "the base image is pinned by tag and digest", Severity: cpk.Error,
		Doc: `A tag can be moved; a digest cannot. Pin the Cloudron base image by both a
version tag and its @sha256: digest, so that every build of the package starts
from the same bytes and the tag documents which version that is.

Bad:

    FROM cloudron/base:5.0.0
    FROM cloudron/base@sha256:04fd70db…

Good:

    FROM cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c`,
		Run: checkBasePinned,
	},
	{
		Code: "DF003", Title: "the base image tag is current", Severity: cpk.Info,
		Doc: `Old base images carry old Ubuntu releases, old runtimes and unpatched
libraries. cloudron/base 5.x (Ubuntu 24.04) and 6.0.0 (Ubuntu 26.04, without
Node and PHP) are current; the floating php-base 8.4/8.5 tags are stale.

Bad:

    FROM cloudron/base:4.2.0@sha256:46da2fff…

Good:

    FROM cloudron/base:5.0.0@sha256:04fd70db…`,
		Run: checkBaseCurrent,
	},
	{
		Code: "DF004", Title: "the base image digest matches its tag", Severity: cpk.Warning,
		Doc: `For the base image tags cpk knows, the digest must be the one published
for that tag: a different digest usually is a copy-and-paste slip, and the
image built is not the version the tag names.

Bad:

    FROM cloudron/base:5.0.0@sha256:1c0666c9…   (the digest of 5.1.0)

Good:

    FROM cloudron/base:5.0.0@sha256:04fd70db…`,
		Run: checkBaseDigest,
	},
	{
		Code: "DF005", Title: "COPY and ADD sources exist in the build context", Severity: cpk.Error,
		Doc: `Every local source of COPY and ADD must be a file or folder of the package
(globs must match something) and must not be excluded by .dockerignore,
otherwise the build fails. Sources from other stages (--from) are not checked.

Bad:

    COPY config/nginx.conf /etc/nginx/sites-enabled/   (no config/nginx.conf)

Good:

    COPY nginx.conf /etc/nginx/sites-enabled/app.conf`,
		Run: checkCopySources,
	},
	{
		Code: "DF006", Title: "the start script is executable", Severity: cpk.Error,
		Doc: `CMD [ "/app/pkg/start.sh" ] executes the file itself: without the executable
bit the container fails with "permission denied". Commit the script with mode
755, copy it with COPY --chmod=0755, or RUN chmod +x on it.

Bad:

    COPY start.sh /app/pkg/            (start.sh is mode 644)
    CMD [ "/app/pkg/start.sh" ]

Good:

    COPY --chmod=0755 start.sh /app/pkg/
    CMD [ "/app/pkg/start.sh" ]`,
		Run: checkCmdExecutable,
	},
	{
		Code: "DF007", Title: "nothing is written into /app/data at build time", Severity: cpk.Error,
		Doc: `At runtime /app/data is the localstorage volume: it is empty on first start
and hides whatever the image put there. Keep defaults in /app/code or /app/pkg
and copy them into /app/data from start.sh on first run.

The rule decides from the final stage's COPY, ADD, WORKDIR and VOLUME into
/app/data and from what its RUN commands write there (redirections, cp, mv,
touch, tee, sed -i, ln…). Making or handing over the mount point itself
(mkdir -p /app/data, chown cloudron /app/data) loses nothing, and neither
does an empty sub-folder (mkdir, chown, chmod) that the start script makes
again.

Bad:

    COPY config.default.json /app/data/config.json
    RUN mkdir -p /app/data/uploads

Good:

    COPY config.default.json /app/pkg/config.default.json
    # start.sh: [[ -f /app/data/config.json ]] || cp /app/pkg/config.default.json /app/data/config.json`,
		Run: checkBuildWritesData,
	},
	{
		Code: "DF008", Title: "downloads are pinned to a version", Severity: cpk.Error,
		Doc: `A build that fetches "latest", a default branch or a moving archive builds
something else tomorrow, and a bump cannot say what changed. Download a
release by its version (an ARG the bump updates), clone a tag or commit.

Bad:

    RUN curl -L https://github.com/o/app/releases/latest/download/app.tar.gz | tar xz
    RUN git clone https://github.com/o/app.git /app/code

Good:

    ARG APP_VERSION=1.4.2
    RUN curl -L -o /tmp/app.tgz https://github.com/o/app/releases/download/v${APP_VERSION}/app.tar.gz
    RUN git clone --depth 1 --branch v${APP_VERSION} https://github.com/o/app.git /app/code`,
		Run: checkDownloadsPinned,
	},
	{
		Code: "DF009", Title: "downloads are verified by a checksum", Severity: cpk.Warning,
		Doc: `A pinned URL still returns whatever the server sends. Verify what curl or
wget fetched in the same RUN (sha256sum -c, gpg --verify) and give ADD of a
URL a --checksum. Never pipe a download straight into a shell. A check
against an empty checksum ARG verifies nothing (and fails the build): give
the published digest, which cpk upstream bump fills in.

Bad:

    RUN curl -fsSL -o /tmp/app.tgz https://example.com/app-1.4.2.tgz && tar xzf /tmp/app.tgz

    ARG APP_SHA256=
    RUN curl -fsSL -o /tmp/app.tgz https://example.com/app-1.4.2.tgz \
        && echo "${APP_SHA256}  /tmp/app.tgz" | sha256sum -c -

Good:

    RUN curl -fsSL -o /tmp/app.tgz https://example.com/app-1.4.2.tgz \
        && echo "${APP_SHA256}  /tmp/app.tgz" | sha256sum -c - \
        && tar xzf /tmp/app.tgz`,
		Run: checkDownloadsVerified,
	},
	{
		Code: "DF010", Title: "the final stage leaves the start script running as root", Severity: cpk.Warning,
		Doc: `start.sh runs as root so that it can chown /app/data and prepare /run, then
drops privileges with gosu. A non-root USER in the final stage makes those
steps fail. Switch users inside start.sh instead.

Bad:

    USER cloudron
    CMD [ "/app/pkg/start.sh" ]

Good:

    CMD [ "/app/pkg/start.sh" ]
    # start.sh: exec gosu cloudron:cloudron node /app/code/server.js`,
		Run: checkFinalUser,
	},
	{
		Code: "DF011", Title: "EXPOSE matches the manifest's ports", Severity: cpk.Warning,
		Doc: `The platform sends HTTP traffic to the manifest's httpPort. An EXPOSE that
names another port documents the wrong port and usually means the web server
listens somewhere the platform does not look.

Bad:

    EXPOSE 3000        ("httpPort": 8000)

Good:

    EXPOSE 8000`,
		Run: checkExpose,
	},
	{
		Code: "DF012", Title: "apt lists are removed in the RUN that installs packages", Severity: cpk.Warning,
		Doc: `apt-get update downloads package lists (tens of MB) that stay in the layer
unless the same RUN deletes them; every install of the app pays for them.

Bad:

    RUN apt-get update && apt-get install -y ffmpeg

Good:

    RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
        && rm -rf /var/cache/apt /var/lib/apt/lists/*`,
		Run: checkAptLists,
	},
	{
		Code: "DF013", Title: "apt-get install runs non-interactively", Severity: cpk.Error,
		Doc: `A build has no terminal: apt-get install without -y stops at "Do you want to
continue?" and aborts the build.

Bad:

    RUN apt-get install ffmpeg

Good:

    RUN apt-get install -y --no-install-recommends ffmpeg`,
		Run: checkAptYes,
	},
	{
		Code: "DF014", Title: "no apt-get upgrade in the image", Severity: cpk.Warning,
		Doc: `The Cloudron base image is maintained and versioned; upgrading all its
packages makes builds irreproducible, large, and can break what the base
image configured. Install only the packages the app needs, and move to a newer
base image for updates.

Bad:

    RUN apt-get update && apt-get -y dist-upgrade

Good:

    RUN apt-get update && apt-get install -y libvips42 && rm -rf /var/lib/apt/lists/*`,
		Run: checkAptUpgrade,
	},
	{
		Code: "DF015", Title: "ADD of a local archive unpacks it where meant", Severity: cpk.Warning,
		Doc: `ADD does more than copy: it unpacks local tar archives and fetches URLs. An
ADD of a plain local file is a COPY and harmless; what matters is an archive:
ADD of an archive to a file name unpacks it into a folder of that name
instead of copying it. The rule decides from each ADD of the Dockerfile and
reports it once, however many sources it has; URLs are DF008's and DF009's
(pinned and verified downloads).

Bad:

    ADD vendor.tar.gz /tmp/vendor.tar.gz

Good:

    COPY vendor.tar.gz /tmp/vendor.tar.gz      (the archive itself)
    ADD vendor.tar.gz /app/code/vendor/      (unpacking is meant)
    ADD start.sh /app/pkg/                   (a plain file: the same as COPY)`,
		Run: checkAddLocal,
	},
	{
		Code: "DF016", Title: "no VOLUME instructions", Severity: cpk.Warning,
		Doc: `Cloudron decides what is writable and persistent: /app/data (localstorage),
/run, /tmp, runtimeDirs and persistentDirs. VOLUME has no effect there and
misleads readers about where data lives.

Bad:

    VOLUME /app/data

Good:

    (no VOLUME; declare "localstorage": {} in the manifest)`,
		Run: checkVolume,
	},
	{
		Code: "DF017", Title: "no Alpine (musl) build output in the glibc image", Severity: cpk.Warning,
		Doc: `Cloudron base images are Ubuntu (glibc). Binaries, native modules and
virtualenvs built on Alpine link against musl and fail to run there. Build
them on a Debian or Ubuntu image, or copy only platform-independent files.

Bad:

    FROM node:20-alpine AS build
    RUN npm ci
    FROM cloudron/base:5.0.0@sha256:…
    COPY --from=build /src/node_modules /app/code/node_modules

Good:

    FROM node:20-bookworm AS build
    RUN npm ci
    FROM cloudron/base:5.0.0@sha256:…
    COPY --from=build /src/node_modules /app/code/node_modules`,
		Run: checkAlpineArtifacts,
	},
	{
		Code: "DF018", Title: "no ENTRYPOINT in the final stage", Severity: cpk.Warning,
		Doc: `Cloudron runs scheduler tasks as /bin/sh -c <command> and debug mode with
its own command by replacing the image's CMD. An ENTRYPOINT stays in front
of those commands and turns them into arguments of the entrypoint. Start the
app with CMD alone.

Bad:

    ENTRYPOINT [ "/app/pkg/start.sh" ]

Good:

    CMD [ "/app/pkg/start.sh" ]`,
		Run: checkEntrypoint,
	},
	{
		Code: "DF019", Title: "a COPY of the whole package comes with a .dockerignore", Severity: cpk.Warning,
		Doc: `COPY . copies the whole package folder: .git, notes, tests and local
node_modules end up in the image and every change invalidates the layer.
Keep a .dockerignore (the CLI's scaffold has .git, .gitignore, .dockerignore,
node_modules) or copy only what the image needs.

Bad:

    COPY . /app/pkg/        (no .dockerignore)

Good:

    COPY start.sh nginx.conf /app/pkg/`,
		Run: checkCopyAllIgnore,
	},
}

// dockerFile returns the parsed Dockerfile, or nil when there is none or it
// does not parse (PK001 reports that).
func dockerFile(p *lint.Pass) (*lint.Dockerfile, *dockerfile.File) {
	df := p.Dockerfile()
	if df == nil || df.File == nil || len(df.File.Stages) == 0 {
		return nil, nil
	}
	return df, df.File
}

// dockerSource returns the Dockerfile's text split in lines.
func dockerLines(p *lint.Pass) []string {
	return p.Memo("rules/dockerfile-lines", func() any {
		df := p.Dockerfile()
		if df == nil {
			return []string(nil)
		}
		data, _ := p.ReadFile(df.Name)
		return strings.Split(string(data), "\n")
	}).([]string)
}

// dockerRuns returns the RUN instructions parsed as shell.
func dockerRuns(p *lint.Pass) []shell.Run {
	return p.Memo("rules/dockerfile-runs", func() any {
		df, f := dockerFile(p)
		if f == nil {
			return []shell.Run(nil)
		}
		data, _ := p.ReadFile(df.Name)
		return shell.Runs(data, f)
	}).([]shell.Run)
}

// colOf returns the 1-based column of s in a Dockerfile line, or 0.
func colOf(p *lint.Pass, line int, s string) int {
	lines := dockerLines(p)
	if line < 1 || line > len(lines) || s == "" {
		return 0
	}
	if i := strings.Index(lines[line-1], s); i >= 0 {
		return i + 1
	}
	return 0
}

// imageRef is a parsed image reference.
type imageRef struct {
	Raw, Repo, Tag, Digest string
}

func parseImageRef(s string) imageRef {
	r := imageRef{Raw: s}
	rest := s
	if i := strings.Index(rest, "@"); i >= 0 {
		r.Digest, rest = rest[i+1:], rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i:], "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
	}
	rest = strings.ToLower(rest)
	for _, pre := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/", "registry.hub.docker.com/"} {
		rest = strings.TrimPrefix(rest, pre)
	}
	r.Repo = strings.TrimPrefix(rest, "library/")
	return r
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?`)

// stageBase resolves the image a stage starts from, following stage names
// and ARGs declared before the first FROM. stage is the index of the stage
// it names (-1 for an image), ok is false when an unknown ARG remains.
func stageBase(f *dockerfile.File, i int) (ref imageRef, stage int, ok bool) {
	seen := map[int]bool{}
	for !seen[i] {
		seen[i] = true
		name := expandMeta(f, f.Stages[i].BaseName)
		if strings.Contains(name, "$") {
			return imageRef{Raw: name}, -1, false
		}
		j := stageIndex(f, name, i)
		if j < 0 {
			return parseImageRef(name), -1, true
		}
		i = j
	}
	return imageRef{}, -1, false
}

// stageIndex returns the index of the stage named name (or numbered) before
// stage before, or -1.
func stageIndex(f *dockerfile.File, name string, before int) int {
	for j := before - 1; j >= 0; j-- {
		if f.Stages[j].Name != "" && strings.EqualFold(f.Stages[j].Name, name) {
			return j
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < before {
		return n
	}
	return -1
}

// expandMeta substitutes the defaults of the ARGs declared before the first FROM.
func expandMeta(f *dockerfile.File, s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	vals := map[string]string{}
	for _, a := range f.MetaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				vals[kv.Key] = *kv.Value
			}
		}
	}
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		if v, ok := vals[sub[1]]; ok && v != "" {
			return v
		}
		if strings.Contains(m, "-") && sub[2] != "" {
			return sub[2]
		}
		return m
	})
}

// lineOf returns the first line of a stage's FROM.
func fromLine(st *instructions.Stage) int {
	if len(st.Location) > 0 {
		return st.Location[0].Start.Line
	}
	return 1
}

// finalBase returns the resolved base image of the final stage.
func finalBase(p *lint.Pass) (df *lint.Dockerfile, ref imageRef, line int, ok bool) {
	df, f := dockerFile(p)
	if f == nil {
		return nil, imageRef{}, 0, false
	}
	ref, _, ok = stageBase(f, len(f.Stages)-1)
	return df, ref, fromLine(f.Final()), ok
}

func checkBaseFamily(p *lint.Pass) {
	df, ref, line, ok := finalBase(p)
	if !ok {
		return
	}
	if _, known := cloudronBases[ref.Repo]; !known {
		p.Reportf(df.Name, line, 1, "the final stage starts from %s: start it from a Cloudron image (%s, cloudron/node-base or cloudron/php-base) and build in earlier stages", ref.Raw, currentBase)
	}
}

func checkBasePinned(p *lint.Pass) {
	df, ref, line, ok := finalBase(p)
	if !ok {
		return
	}
	if _, known := cloudronBases[ref.Repo]; !known {
		return // DF001
	}
	switch {
	case ref.Tag == "" && ref.Digest == "":
		p.Reportf(df.Name, line, 1, "%s is pinned by neither a tag nor a digest: write %s", ref.Raw, currentBase)
	case ref.Digest == "":
		want := "@sha256:<digest>"
		if t, ok := cloudronBases[ref.Repo][ref.Tag]; ok && t.Digest != "" {
			want = "@" + t.Digest
		}
		p.Reportf(df.Name, line, 1, "%s is not pinned by digest: append %s", ref.Raw, want)
	case ref.Tag == "" || ref.Tag == "latest":
		p.Reportf(df.Name, line, 1, "%s has no version tag: name the version the digest belongs to (%s:<version>@%s)", ref.Raw, ref.Repo, ref.Digest)
	}
}

func checkBaseCurrent(p *lint.Pass) {
	df, ref, line, ok := finalBase(p)
	if !ok || ref.Tag == "" {
		return
	}
	tags, known := cloudronBases[ref.Repo]
	if !known {
		return
	}
	why := tags[ref.Tag].Outdated
	if why == "" && ref.Repo == "cloudron/base" {
		if major, err := strconv.Atoi(strings.SplitN(ref.Tag, ".", 2)[0]); err == nil && major < 5 {
			why = "older than the Ubuntu 24.04 images"
		}
	}
	if why != "" {
		p.Reportf(df.Name, line, 1, "%s:%s is outdated (%s): move to %s", ref.Repo, ref.Tag, why, currentBase)
	}
}

func checkBaseDigest(p *lint.Pass) {
	df, ref, line, ok := finalBase(p)
	if !ok || ref.Tag == "" || ref.Digest == "" {
		return
	}
	t, known := cloudronBases[ref.Repo][ref.Tag]
	if !known || t.Digest == "" || strings.EqualFold(t.Digest, ref.Digest) {
		return
	}
	other := ""
	for tag, bt := range cloudronBases[ref.Repo] {
		if strings.EqualFold(bt.Digest, ref.Digest) {
			other = " (it is the digest of " + tag + ")"
		}
	}
	p.Reportf(df.Name, line, 1, "%s:%s is published as %s, not %s%s: fix the digest or the tag", ref.Repo, ref.Tag, t.Digest, ref.Digest, other)
}

// dockerIgnore is a parsed .dockerignore.
type dockerIgnore struct {
	rules []ignoreRule
}

// ignoreRule is one pattern: a path (lit) when it has no wildcard, which
// excludes itself and what is under it, or else its regular expression.
type ignoreRule struct {
	lit    string
	re     *regexp.Regexp
	negate bool
}

// match reports whether the rule's pattern matches a package path.
func (r ignoreRule) match(rel string) bool {
	if r.re != nil {
		return r.re.MatchString(rel)
	}
	// What ^lit(/.*)?$ matches: . does not match a newline.
	rest, ok := strings.CutPrefix(rel, r.lit)
	return ok && (rest == "" || rest[0] == '/' && !strings.Contains(rest, "\n"))
}

func loadDockerIgnore(p *lint.Pass) *dockerIgnore {
	return p.Memo("rules/dockerignore", func() any {
		data, err := p.ReadFile(".dockerignore")
		if err != nil {
			return (*dockerIgnore)(nil)
		}
		return parseDockerIgnore(data)
	}).(*dockerIgnore)
}

// parseDockerIgnore reads .dockerignore patterns: globs with ** and !exceptions.
func parseDockerIgnore(data []byte) *dockerIgnore {
	di := &dockerIgnore{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		neg := strings.HasPrefix(l, "!")
		l = strings.TrimPrefix(l, "!")
		l = strings.TrimPrefix(path.Clean("/"+strings.TrimSpace(l)), "/")
		if !strings.ContainsAny(l, "*?[\\") {
			di.rules = append(di.rules, ignoreRule{lit: l, negate: neg})
		} else if re, err := regexp.Compile("^" + globRegexp(l) + "(/.*)?$"); err == nil {
			di.rules = append(di.rules, ignoreRule{re: re, negate: neg})
		}
	}
	return di
}

// globRegexp turns a .dockerignore pattern into a regular expression.
func globRegexp(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case c == '*' && i+1 < len(g) && g[i+1] == '*':
			i++
			if i+1 < len(g) && g[i+1] == '/' {
				i++
				b.WriteString("(.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			b.WriteString(g[i : i+j+1])
			i += j
		case c == '\\' && i+1 < len(g):
			i++
			b.WriteString(regexp.QuoteMeta(string(g[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// Excluded reports whether a package path is excluded from the build context.
func (d *dockerIgnore) Excluded(rel string) bool {
	if d == nil {
		return false
	}
	out := false
	for _, r := range d.rules {
		if r.match(rel) {
			out = !r.negate
		}
	}
	return out
}

func checkCopySources(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	ignore := loadDockerIgnore(p)
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			var sd instructions.SourcesAndDest
			switch c := c.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				sd = c.SourcesAndDest
			case *instructions.AddCommand:
				sd = c.SourcesAndDest
			default:
				continue
			}
			line := dockerfile.Line(c)
			for _, src := range sd.SourcePaths {
				if isRemote(src) || strings.Contains(src, "$") {
					continue
				}
				col := colOf(p, line, src)
				rel := path.Clean(strings.TrimPrefix(src, "/"))
				if rel == "." {
					continue
				}
				if !filepath.IsLocal(filepath.FromSlash(rel)) {
					p.Reportf(df.Name, line, col, "%s is outside the package folder, which is the build context: move the file into the package", src)
					continue
				}
				matches := contextMatches(p, rel)
				if len(matches) == 0 {
					what := "no such file or folder in the package"
					if strings.ContainsAny(rel, "*?[") {
						what = "the pattern matches nothing in the package"
					}
					p.Reportf(df.Name, line, col, "%s %s: %s: add it or fix the path", strings.ToUpper(c.Name()), src, what)
					continue
				}
				kept := 0
				for _, m := range matches {
					if !ignore.Excluded(m) {
						kept++
					}
				}
				if kept == 0 {
					p.Reportf(df.Name, line, col, "%s %s: excluded from the build context by .dockerignore: remove the exclusion or the %s", strings.ToUpper(c.Name()), src, strings.ToUpper(c.Name()))
				}
			}
		}
	}
}

// isRemote reports whether an ADD source is a URL or a git address.
func isRemote(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git@")
}

// contextMatches lists the package paths a COPY source names.
func contextMatches(p *lint.Pass, rel string) []string {
	full, err := p.Path(rel)
	if err != nil {
		return nil
	}
	if !strings.ContainsAny(rel, "*?[") {
		if _, err := os.Stat(full); err != nil {
			return nil
		}
		return []string{rel}
	}
	ms, err := filepath.Glob(full)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		if r, err := filepath.Rel(p.Dir, m); err == nil {
			out = append(out, filepath.ToSlash(r))
		}
	}
	return out
}

func checkCmdExecutable(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	final := f.Final()
	cmd := finalCmd(final)
	if cmd == nil || cmd.PrependShell || len(cmd.CmdLine) == 0 {
		return
	}
	if isShellProgram(cmd.CmdLine[0]) {
		return // the shell reads the script; it needs no executable bit
	}
	script := scriptOf(cmd.CmdLine)
	if script == "" {
		return
	}
	src, via, found := copySource(p, final, script)
	if !found || src == "" {
		return // PK002
	}
	if modeExecutable(copyChmod(via)) {
		return
	}
	if chmodInRun(p, f, len(f.Stages)-1, script, dockerfile.Line(via)) {
		return
	}
	full, err := p.Path(src)
	if err != nil {
		return
	}
	st, err := os.Stat(full)
	if err != nil || st.Mode()&0o111 != 0 {
		return
	}
	line := dockerfile.Line(cmd)
	p.Reportf(df.Name, line, colOf(p, line, script), "CMD runs %s, but %s is not executable (mode %o): commit it with mode 755, copy it with COPY --chmod=0755, or RUN chmod +x %s", script, src, st.Mode().Perm(), script)
}

func finalCmd(st *instructions.Stage) *instructions.CmdCommand {
	var cmd *instructions.CmdCommand
	for _, c := range st.Commands {
		if c, ok := c.(*instructions.CmdCommand); ok {
			cmd = c
		}
	}
	return cmd
}

func isShellProgram(s string) bool {
	switch path.Base(s) {
	case "sh", "bash", "dash", "ash", "zsh":
		return true
	}
	return false
}

func copyChmod(c instructions.Command) string {
	switch c := c.(type) {
	case *instructions.CopyCommand:
		return c.Chmod
	case *instructions.AddCommand:
		return c.Chmod
	}
	return ""
}

// modeExecutable reports whether a chmod mode (octal or symbolic) sets an
// executable bit.
func modeExecutable(mode string) bool {
	if mode == "" {
		return false
	}
	if n, err := strconv.ParseUint(mode, 8, 32); err == nil {
		return n&0o111 != 0
	}
	for _, part := range strings.Split(mode, ",") {
		if i := strings.IndexAny(part, "+="); i >= 0 && strings.ContainsAny(part[i:], "xX") {
			return true
		}
	}
	return false
}

// chmodInRun reports whether a RUN of the stage after line makes target
// executable (the file itself, a glob matching it, or a folder above it with -R).
func chmodInRun(p *lint.Pass, f *dockerfile.File, stage int, target string, after int) bool {
	for _, r := range dockerRuns(p) {
		if r.Stage != stage || r.Script == nil || dockerfile.Line(r.Command) < after {
			continue
		}
		for _, c := range r.Script.Commands {
			args := realCommand(c.Args)
			if len(args) < 3 || args[0].Value != "chmod" {
				continue
			}
			recursive := false
			var ops []string
			for _, a := range args[1:] {
				switch {
				case !a.Known:
					ops = append(ops, "\x00")
				case a.Value == "-R" || a.Value == "--recursive":
					recursive = true
				case strings.HasPrefix(a.Value, "-") && !strings.ContainsAny(a.Value[1:], "rwxXst"):
				default:
					ops = append(ops, a.Value)
				}
			}
			if len(ops) < 2 || !modeExecutable(ops[0]) {
				continue
			}
			for _, t := range ops[1:] {
				t = path.Clean(t)
				if t == target || (recursive && strings.HasPrefix(target, t+"/")) {
					return true
				}
				if ok, _ := path.Match(t, target); ok {
					return true
				}
			}
		}
	}
	return false
}

// ancestry returns the final stage's index and those it is built FROM.
func ancestry(f *dockerfile.File) map[int]bool {
	out := map[int]bool{}
	i := len(f.Stages) - 1
	for i >= 0 && !out[i] {
		out[i] = true
		i = stageIndex(f, expandMeta(f, f.Stages[i].BaseName), i)
	}
	return out
}

// workdirAt returns the WORKDIR in effect before the command at line in a stage.
func workdirAt(st *instructions.Stage, line int) string {
	wd := "/"
	for _, c := range st.Commands {
		if dockerfile.Line(c) >= line {
			break
		}
		if w, ok := c.(*instructions.WorkdirCommand); ok && !strings.Contains(w.Path, "$") {
			wd = joinWorkdir(wd, w.Path)
		}
	}
	return wd
}

// joinWorkdir applies a WORKDIR to the current one.
func joinWorkdir(wd, dir string) string {
	if path.IsAbs(dir) {
		return path.Clean(dir)
	}
	return path.Join(wd, dir)
}

// pathUnder reports whether p is dir or inside it.
func pathUnder(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func checkBuildWritesData(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	stages := ancestry(f)
	for si, st := range f.Stages {
		if !stages[si] {
			continue
		}
		wd := "/"
		for _, c := range st.Commands {
			line := dockerfile.Line(c)
			switch c := c.(type) {
			case *instructions.WorkdirCommand:
				if !strings.Contains(c.Path, "$") {
					wd = joinWorkdir(wd, c.Path)
					if pathUnder(wd, "/app/data") {
						p.Reportf(df.Name, line, colOf(p, line, c.Path), "WORKDIR %s: /app/data is the runtime volume and hides what the build puts there: build in /app/code", c.Path)
					}
				}
			case *instructions.CopyCommand, *instructions.AddCommand:
				var dest string
				if cc, ok := c.(*instructions.CopyCommand); ok {
					dest = cc.DestPath
				} else {
					dest = c.(*instructions.AddCommand).DestPath
				}
				if strings.Contains(dest, "$") {
					continue
				}
				abs := dest
				if !path.IsAbs(abs) {
					abs = path.Join(wd, abs)
				}
				if pathUnder(abs, "/app/data") {
					p.Reportf(df.Name, line, colOf(p, line, dest), "%s into %s: /app/data is empty at runtime (the volume hides it): put defaults in /app/pkg and copy them into /app/data from start.sh on first run", strings.ToUpper(c.Name()), dest)
				}
			case *instructions.VolumeCommand:
				for _, v := range c.Volumes {
					if pathUnder(v, "/app/data") {
						p.Reportf(df.Name, line, colOf(p, line, v), "VOLUME %s: /app/data is provided by the localstorage addon; remove the VOLUME and declare \"localstorage\": {}", v)
					}
				}
			}
		}
	}
	for _, r := range dockerRuns(p) {
		if !stages[r.Stage] || r.Script == nil {
			continue
		}
		wd := workdirAt(&f.Stages[r.Stage], dockerfile.Line(r.Command))
		cd := false
		for _, c := range r.Script.Commands {
			if c.Name() == "cd" || c.Name() == "pushd" {
				cd = true
			}
			for _, t := range writeTargets(c) {
				target, ok := absTarget(t.Word, wd, cd)
				if !ok || !pathUnder(target, "/app/data") {
					continue
				}
				if emptyFolderVerb(t.Verb) && (target == "/app/data" || recreatedAtStart(p, target)) {
					continue // the mount point itself, or a folder start.sh makes again
				}
				p.Reportf(df.Name, t.Pos.Line, t.Pos.Col, "%s writes %s at build time, but /app/data is the runtime volume and hides it: create it from start.sh (first run) and keep defaults in /app/pkg", t.Verb, target)
			}
		}
	}
}

// emptyFolderVerb reports whether a write only makes or hands over a folder
// (mkdir, chown, chmod, chgrp, install -d), putting no content in it.
func emptyFolderVerb(verb string) bool {
	switch verb {
	case "mkdir", "chown", "chmod", "chgrp", "rmdir":
		return true
	}
	return false
}

// recreatedAtStart reports whether the start script (or a script it execs)
// makes the folder dir again, with mkdir (its parents included) or by
// writing below it.
func recreatedAtStart(p *lint.Pass, dir string) bool {
	made := p.Memo("df:start-made", func() any {
		var out []string
		s := parsedStart(p)
		if s == nil {
			return out
		}
		scripts := []*shell.Script{s.Script}
		ends, _, _ := startEndings(p)
		for _, e := range ends {
			if e.script != s.Script {
				scripts = append(scripts, e.script)
			}
		}
		for _, sc := range scripts {
			for _, c := range sc.Commands {
				for _, t := range writeTargets(c) {
					if t.Known && pathUnder(t.Value, "/app/data") && t.Verb != "rm" && t.Verb != "rmdir" {
						out = append(out, path.Clean(t.Value))
					}
				}
			}
		}
		return out
	}).([]string)
	for _, m := range made {
		if pathUnder(m, dir) {
			return true
		}
	}
	return false
}

// absTarget returns the absolute path of a write target when it is known.
func absTarget(w shell.Word, wd string, cdSeen bool) (string, bool) {
	if !w.Known || w.Value == "" {
		return "", false
	}
	if path.IsAbs(w.Value) {
		return path.Clean(w.Value), true
	}
	if cdSeen || wd == "" {
		return "", false
	}
	return path.Join(wd, w.Value), true
}

// unpinned matches download URLs that name no fixed version.
var unpinnedURL = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`/releases/latest(/|$)`), "the latest release"},
	{regexp.MustCompile(`/archive/refs/heads/`), "a branch head"},
	{regexp.MustCompile(`/-/archive/(main|master|develop|trunk)/`), "a branch head"},
	{regexp.MustCompile(`/archive/(main|master|develop|trunk|HEAD)\.(zip|tar\.gz|tgz|tar\.bz2)$`), "a branch head"},
	{regexp.MustCompile(`/(tarball|zipball)(/(main|master|HEAD))?/?$`), "the default branch"},
	{regexp.MustCompile(`raw\.githubusercontent\.com/[^/]+/[^/]+/(main|master|develop|HEAD)/`), "a file on a branch"},
	{regexp.MustCompile(`(?i)(^|[/=])latest([/?&#]|$)`), `"latest"`},
	{regexp.MustCompile(`(?i)[/_.-]latest\.[a-z0-9.]+$`), `"latest"`},
}

func unpinnedWhy(url string) string {
	for _, u := range unpinnedURL {
		if u.re.MatchString(url) {
			return u.why
		}
	}
	return ""
}

// urlOf returns the URL a word holds (its value when known, its text otherwise).
func urlOf(w shell.Word) (string, bool) {
	v := w.Value
	if !w.Known {
		v = w.Text
	}
	v = strings.Trim(v, `"'`)
	for _, s := range []string{"https://", "http://", "ftp://"} {
		if i := strings.Index(v, s); i >= 0 && (i == 0 || v[i-1] == '=') {
			return v[i:], true
		}
	}
	return "", false
}

var defaultBranches = map[string]bool{"main": true, "master": true, "develop": true, "trunk": true, "HEAD": true}

func checkDownloadsPinned(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			if a, ok := c.(*instructions.AddCommand); ok {
				line := dockerfile.Line(c)
				for _, src := range a.SourcePaths {
					if why := unpinnedWhy(src); why != "" && isRemote(src) {
						p.Reportf(df.Name, line, colOf(p, line, src), "ADD %s fetches %s: name a release version (an ARG that bumps update)", src, why)
					} else if isGitURL(src) && !strings.Contains(src, "#") {
						p.Reportf(df.Name, line, colOf(p, line, src), "ADD %s clones the default branch: append #<tag or commit>", src)
					}
				}
			}
		}
	}
	for _, r := range dockerRuns(p) {
		if r.Script == nil {
			continue
		}
		for _, c := range r.Script.Commands {
			args := realCommand(c.Args)
			if len(args) == 0 {
				continue
			}
			switch name := path.Base(args[0].Value); name {
			case "curl", "wget":
				for _, a := range args[1:] {
					if u, ok := urlOf(a); ok {
						if why := unpinnedWhy(u); why != "" {
							p.Reportf(df.Name, a.Pos.Line, a.Pos.Col, "%s fetches %s (%s): download a fixed release version instead", name, why, u)
						}
					}
				}
			case "git":
				checkGitClone(p, df.Name, r.Script, c, args)
			case "go", "npm", "pnpm", "yarn", "bun":
				for _, a := range args[1:] {
					if a.Known && strings.HasSuffix(a.Value, "@latest") {
						p.Reportf(df.Name, a.Pos.Line, a.Pos.Col, "%s installs %s: pin a version (name@1.2.3)", name, a.Value)
					}
				}
			}
		}
	}
}

func isGitURL(s string) bool {
	return strings.HasPrefix(s, "git@") || strings.HasSuffix(strings.SplitN(s, "#", 2)[0], ".git")
}

// checkGitClone reports a git clone of a default branch that no later git
// checkout or reset in the same RUN pins.
func checkGitClone(p *lint.Pass, file string, s *shell.Script, c *shell.Command, args []shell.Word) {
	sub, rest := gitSub(args)
	if sub != "clone" {
		return
	}
	branch := ""
	var operandWords []shell.Word
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch v := a.Value; {
		case v == "--branch" || v == "-b":
			if i+1 < len(rest) {
				i++
				branch = rest[i].Value
				if !rest[i].Known {
					branch = "$"
				}
			}
		case strings.HasPrefix(v, "--branch="):
			branch = strings.TrimPrefix(v, "--branch=")
		case v == "--depth" || v == "-c" || v == "--config" || v == "-o" || v == "--origin" || v == "--reference" || v == "-j" || v == "--jobs" || v == "--filter" || v == "--separate-git-dir":
			i++
		case strings.HasPrefix(v, "-") && a.Known:
		default:
			operandWords = append(operandWords, a)
		}
	}
	if branch != "" && !defaultBranches[branch] {
		return
	}
	dir := ""
	switch {
	case len(operandWords) > 1:
		dir = operandWords[1].Value
	case len(operandWords) == 1:
		dir = strings.TrimSuffix(path.Base(operandWords[0].Value), ".git")
	}
	if branch == "" && pinnedLater(s, c, dir) {
		return
	}
	at := c.Args[0]
	what := "the default branch"
	if branch != "" {
		what = "branch " + branch
	}
	repo := ""
	if len(operandWords) > 0 {
		repo = " " + operandWords[0].Text
	}
	p.Reportf(file, at.Pos.Line, at.Pos.Col, "git clone%s builds %s: clone a release tag (--branch v1.2.3) or check out a commit", repo, what)
}

// gitSub returns git's subcommand and its arguments.
func gitSub(args []shell.Word) (string, []shell.Word) {
	for i := 1; i < len(args); i++ {
		v := args[i].Value
		switch {
		case v == "-C" || v == "-c":
			i++
		case strings.HasPrefix(v, "-"):
		default:
			return v, args[i+1:]
		}
	}
	return "", nil
}

// pinnedLater reports whether a git checkout, switch or reset of a fixed
// ref follows the clone in the script, in the clone's folder (git -C dir,
// or after cd dir).
func pinnedLater(s *shell.Script, clone *shell.Command, dir string) bool {
	after, cwd := false, ""
	for _, c := range s.Commands {
		if c == clone {
			after = true
			continue
		}
		if !after {
			continue
		}
		args := realCommand(c.Args)
		if len(args) == 0 {
			continue
		}
		if args[0].Value == "cd" && len(args) > 1 {
			cwd = args[1].Value
			continue
		}
		if path.Base(args[0].Value) != "git" {
			continue
		}
		in := cwd
		for i := 1; i+1 < len(args); i++ {
			if args[i].Value == "-C" {
				in = args[i+1].Value
			}
		}
		if dir != "" && in != "" && path.Clean(in) != path.Clean(dir) && path.Base(in) != path.Base(dir) {
			continue
		}
		sub, rest := gitSub(args)
		if sub != "checkout" && sub != "reset" && sub != "switch" && sub != "fetch" {
			continue
		}
		for _, a := range rest {
			if strings.HasPrefix(a.Value, "-") && a.Known {
				continue
			}
			if !a.Known || !defaultBranches[strings.TrimPrefix(a.Value, "origin/")] {
				return true
			}
		}
	}
	return false
}

var verifyCommands = map[string]bool{"sha256sum": true, "sha512sum": true, "sha384sum": true, "sha1sum": true, "shasum": true, "b2sum": true, "md5sum": true}

func checkDownloadsVerified(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			if a, ok := c.(*instructions.AddCommand); ok && a.Checksum == "" {
				for _, src := range a.SourcePaths {
					if strings.Contains(src, "://") && !isGitURL(src) {
						line := dockerfile.Line(c)
						p.Reportf(df.Name, line, colOf(p, line, src), "ADD %s is not verified: add --checksum=sha256:<digest>", src)
					}
				}
			}
		}
	}
	for _, r := range dockerRuns(p) {
		if r.Script == nil {
			continue
		}
		var first *shell.Command
		var urls []string
		verified := false
		var emptySum *shell.Command // an echo of an empty checksum into the check
		for _, c := range r.Script.Commands {
			if emptyChecksum(c) {
				emptySum = c
			}
			args := realCommand(c.Args)
			if len(args) == 0 {
				continue
			}
			name := path.Base(args[0].Value)
			switch {
			case verifyCommands[name]:
				for _, a := range args[1:] {
					if a.Value == "-c" || a.Value == "--check" || (len(a.Value) > 1 && a.Value[0] == '-' && a.Value[1] != '-' && strings.Contains(a.Value, "c")) {
						verified = true
					}
				}
				if c.Subst {
					verified = true // compared in a test: [ "$(sha256sum f | cut -d' ' -f1)" = "$SUM" ]
				}
			case name == "gpg" || name == "gpgv" || name == "cosign" || name == "minisign":
				for _, a := range args[1:] {
					if a.Value == "--verify" || a.Value == "verify" || a.Value == "-V" || name == "gpgv" {
						verified = true
					}
				}
			case name == "curl" || name == "wget":
				if c.Next != nil && keyImport(c.Next) {
					continue // a key import is verified by what it signs
				}
				if c.Next != nil && isShellProgram(c.Next.Name()) {
					at := c.Args[0]
					p.Reportf(df.Name, at.Pos.Line, at.Pos.Col, "%s pipes a download into %s: download to a file, verify its checksum, then run it", name, c.Next.Name())
					continue
				}
				for _, a := range args[1:] {
					if u, ok := urlOf(a); ok {
						if first == nil {
							first = c
						}
						urls = append(urls, u)
					}
				}
			}
		}
		switch {
		case first != nil && !verified:
			at := first.Args[0]
			p.Reportf(df.Name, at.Pos.Line, at.Pos.Col, "the download of %s is not verified: check it in the same RUN (echo \"<sha256>  <file>\" | sha256sum -c -) or with gpg --verify", strings.Join(urls, ", "))
		case first != nil && emptySum != nil:
			// The check is there, but against nothing: report the ARG
			// that is empty, where the checksum belongs.
			line, col, name := emptySum.Args[0].Pos.Line, emptySum.Args[0].Pos.Col, ""
			for _, ref := range emptySum.Refs {
				if v, ok := r.Vars[ref.Name]; ok && v == "" {
					name = ref.Name
					if l := argLine(f, r.Stage, ref.Name, dockerfile.Line(r.Command)); l > 0 {
						line, col = l, colOf(p, l, ref.Name)
					}
					break
				}
			}
			what := "the checksum"
			if name != "" {
				what = "ARG " + name
			}
			p.Reportf(df.Name, line, col, "the download of %s is checked against an empty checksum (%s): give the published SHA-256 (cpk upstream bump fills it)", strings.Join(urls, ", "), what)
		}
	}
}

var hexDigest = regexp.MustCompile(`[0-9a-fA-F]{32,}`)

// emptyChecksum reports whether c echoes a known value without any digest
// into a checksum check: echo "${SUM}  /tmp/app.tgz" | sha256sum -c - with
// an empty SUM.
func emptyChecksum(c *shell.Command) bool {
	args := realCommand(c.Args)
	if len(args) == 0 || c.Next == nil || (args[0].Value != "echo" && args[0].Value != "printf") {
		return false
	}
	next := realCommand(c.Next.Args)
	if len(next) == 0 || !verifyCommands[path.Base(next[0].Value)] {
		return false
	}
	var text strings.Builder
	for _, a := range args[1:] {
		if !a.Known {
			return false // a value only the build knows
		}
		text.WriteString(a.Value + " ")
	}
	return !hexDigest.MatchString(text.String())
}

// argLine returns the line of the last ARG declaring name in a stage before
// line, or 0.
func argLine(f *dockerfile.File, stage int, name string, before int) int {
	found := 0
	for _, c := range f.Stages[stage].Commands {
		if a, ok := c.(*instructions.ArgCommand); ok && dockerfile.Line(c) < before {
			for _, kv := range a.Args {
				if kv.Key == name {
					found = dockerfile.Line(c)
				}
			}
		}
	}
	return found
}

// keyImport reports whether a command imports a signing key (apt keys are
// verified by what they sign).
func keyImport(c *shell.Command) bool {
	args := realCommand(c.Args)
	if len(args) == 0 {
		return false
	}
	switch path.Base(args[0].Value) {
	case "gpg":
		for _, a := range args {
			if a.Value == "--dearmor" || a.Value == "--import" {
				return true
			}
		}
	case "apt-key":
		return true
	case "tee":
		for _, a := range args[1:] {
			if strings.Contains(a.Value, "/keyrings/") || strings.Contains(a.Value, "trusted.gpg") {
				return true
			}
		}
	}
	return false
}

func checkFinalUser(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	var last *instructions.UserCommand
	for _, c := range f.Final().Commands {
		if u, ok := c.(*instructions.UserCommand); ok {
			last = u
		}
	}
	if last == nil || strings.Contains(last.User, "$") {
		return
	}
	user := strings.SplitN(last.User, ":", 2)[0]
	if user == "root" || user == "0" {
		return
	}
	line := dockerfile.Line(last)
	p.Reportf(df.Name, line, colOf(p, line, last.User), "USER %s in the final stage: start.sh must run as root to chown /app/data; remove it and start the app with exec gosu %s:%s …", last.User, user, user)
}

func checkExpose(p *lint.Pass) {
	df, f := dockerFile(p)
	m := p.Manifest()
	if f == nil || m == nil || m.Doc == nil {
		return
	}
	mf := *typedManifest(p)
	if mf.HTTPPort == 0 {
		return
	}
	allowed := map[int]bool{mf.HTTPPort: true}
	for _, ports := range []map[string]manifest.Port{mf.TCPPorts, mf.UDPPorts} {
		for _, pt := range ports {
			allowed[pt.ContainerPort] = true
			if pt.ContainerPort == 0 {
				allowed[pt.DefaultValue] = true
			}
		}
	}
	for _, hp := range mf.HTTPPorts {
		allowed[hp.ContainerPort] = true
	}
	for _, c := range f.Final().Commands {
		e, ok := c.(*instructions.ExposeCommand)
		if !ok {
			continue
		}
		line := dockerfile.Line(c)
		for _, spec := range e.Ports {
			n, err := strconv.Atoi(strings.SplitN(spec, "/", 2)[0])
			if err != nil || allowed[n] {
				continue
			}
			p.Reportf(df.Name, line, colOf(p, line, spec), "EXPOSE %s, but the manifest's httpPort is %d: expose %d (and make the web server listen there) or fix httpPort", spec, mf.HTTPPort, mf.HTTPPort)
		}
	}
}

// aptCommand returns apt's subcommand when c runs apt-get or apt, and the
// remaining arguments.
func aptCommand(c *shell.Command) (string, []shell.Word, bool) {
	args := realCommand(c.Args)
	if len(args) < 2 {
		return "", nil, false
	}
	name := path.Base(args[0].Value)
	if name != "apt-get" && name != "apt" {
		return "", nil, false
	}
	for i := 1; i < len(args); i++ {
		v := args[i].Value
		switch {
		case v == "-o" || v == "-c" || v == "-t":
			i++
		case strings.HasPrefix(v, "-"):
		default:
			return v, args[1:], true
		}
	}
	return "", nil, false
}

func checkAptLists(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	stages := ancestry(f)
	for _, r := range dockerRuns(p) {
		if !stages[r.Stage] || r.Script == nil {
			continue
		}
		var install *shell.Command
		cleaned := false
		for _, c := range r.Script.Commands {
			if sub, _, ok := aptCommand(c); ok && sub == "install" && install == nil {
				install = c
			}
			args := realCommand(c.Args)
			if len(args) > 0 && args[0].Value == "rm" {
				for _, a := range args[1:] {
					if strings.HasPrefix(a.Text, "/var/lib/apt/lists") || strings.HasPrefix(a.Value, "/var/lib/apt/lists") {
						cleaned = true
					}
				}
			}
		}
		if install != nil && !cleaned {
			at := install.Args[0]
			p.Reportf(df.Name, at.Pos.Line, at.Pos.Col, "apt-get install without removing the package lists: end this RUN with && rm -rf /var/lib/apt/lists/*")
		}
	}
}

func checkAptYes(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	for _, r := range dockerRuns(p) {
		if r.Script == nil {
			continue
		}
		for _, c := range r.Script.Commands {
			sub, args, ok := aptCommand(c)
			if !ok || sub != "install" {
				continue
			}
			yes := false
			for _, a := range args {
				v := a.Value
				if v == "--yes" || v == "--assume-yes" || v == "--force-yes" || strings.HasPrefix(v, "--assume-yes=") ||
					(len(v) > 1 && v[0] == '-' && v[1] != '-' && strings.Contains(v, "y")) {
					yes = true
				}
			}
			if !yes && !pipedFromYes(r.Script, c) {
				at := c.Args[0]
				p.Reportf(df.Name, at.Pos.Line, at.Pos.Col, "apt-get install without -y waits for an answer the build cannot give: write apt-get install -y")
			}
		}
	}
}

func pipedFromYes(s *shell.Script, c *shell.Command) bool {
	for _, o := range s.Commands {
		if o.Next == c && o.Name() == "yes" {
			return true
		}
	}
	return false
}

func checkAptUpgrade(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	stages := ancestry(f)
	for _, r := range dockerRuns(p) {
		if !stages[r.Stage] || r.Script == nil {
			continue
		}
		for _, c := range r.Script.Commands {
			if sub, _, ok := aptCommand(c); ok && (sub == "upgrade" || sub == "dist-upgrade" || sub == "full-upgrade") {
				at := c.Args[0]
				p.Reportf(df.Name, at.Pos.Line, at.Pos.Col, "apt-get %s upgrades the whole base image: install only the packages the app needs and move to a newer base image for updates", sub)
			}
		}
	}
}

var archiveExt = regexp.MustCompile(`(?i)\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$`)

func checkAddLocal(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			a, ok := c.(*instructions.AddCommand)
			if !ok {
				continue
			}
			line := dockerfile.Line(c)
			if !archiveExt.MatchString(a.DestPath) || strings.HasSuffix(a.DestPath, "/") {
				continue
			}
			for _, src := range a.SourcePaths {
				if isRemote(src) || isGitURL(src) || !archiveExt.MatchString(src) {
					continue
				}
				p.Reportf(df.Name, line, colOf(p, line, src), "ADD %s %s unpacks the archive into a folder named %s: use COPY to copy the archive itself", src, a.DestPath, path.Base(a.DestPath))
				break // once per instruction
			}
		}
	}
}

func checkVolume(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			if v, ok := c.(*instructions.VolumeCommand); ok {
				line := dockerfile.Line(c)
				p.Reportf(df.Name, line, 1, "VOLUME %s has no effect on Cloudron: remove it; persistent data goes to /app/data (localstorage), scratch data to /run or /tmp", strings.Join(v.Volumes, " "))
			}
		}
	}
}

// staticAsset matches the platform-independent output of a build (a
// frontend bundle, assets); nativeOutput what depends on the C library.
var (
	staticAsset  = regexp.MustCompile(`(?i)(^|/)(dist|build|public|static|assets|www|html|web)/?$|\.(js|mjs|css|html|json|svg|png|jpg|woff2?|map|txt|md)$`)
	nativeOutput = regexp.MustCompile(`(?i)(^|/)(node_modules|vendor|venv|\.venv|site-packages|bin|sbin|lib|lib64|target)(/|$)|\.so(\.|$)`)
)

func checkAlpineArtifacts(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	alpine := map[int]string{}
	for i := range f.Stages {
		ref, _, ok := stageBase(f, i)
		if ok && (ref.Repo == "alpine" || strings.Contains(ref.Tag, "alpine") || strings.Contains(ref.Repo, "alpine")) && !staticBuild(p, f, i) {
			alpine[i] = ref.Raw
		}
	}
	if len(alpine) == 0 {
		return
	}
	final := len(f.Stages) - 1
	if _, ok := alpine[final]; ok {
		return // DF001 reports an Alpine final stage
	}
	for _, c := range f.Final().Commands {
		cc, ok := c.(*instructions.CopyCommand)
		if !ok || cc.From == "" {
			continue
		}
		from := stageIndex(f, cc.From, final)
		img, isAlpine := alpine[from]
		if !isAlpine {
			continue
		}
		for _, src := range cc.SourcePaths {
			if staticAsset.MatchString(src) && !nativeOutput.MatchString(src) {
				continue
			}
			line := dockerfile.Line(c)
			p.Reportf(df.Name, line, colOf(p, line, src), "COPY --from=%s %s: that stage is built on %s (musl); binaries and native modules from it do not run on the glibc Cloudron image: build it on a Debian/Ubuntu image", cc.From, src, img)
		}
	}
}

// staticBuild reports whether a stage builds static binaries (CGO_ENABLED=0).
func staticBuild(p *lint.Pass, f *dockerfile.File, stage int) bool {
	for _, c := range f.Stages[stage].Commands {
		if e, ok := c.(*instructions.EnvCommand); ok {
			for _, kv := range e.Env {
				if kv.Key == "CGO_ENABLED" && kv.Value == "0" {
					return true
				}
			}
		}
	}
	for _, r := range dockerRuns(p) {
		if r.Stage != stage || r.Script == nil {
			continue
		}
		for _, c := range r.Script.Commands {
			for _, a := range c.Assigns {
				if a.Name == "CGO_ENABLED" && a.Value.Value == "0" {
					return true
				}
			}
		}
	}
	return false
}

func checkEntrypoint(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil {
		return
	}
	for _, c := range f.Final().Commands {
		if e, ok := c.(*instructions.EntrypointCommand); ok {
			line := dockerfile.Line(c)
			p.Reportf(df.Name, line, 1, "ENTRYPOINT %s stays in front of Cloudron's scheduler and debug commands: start the app with CMD [ … ] alone", strings.Join(e.CmdLine, " "))
		}
	}
}

func checkCopyAllIgnore(p *lint.Pass) {
	df, f := dockerFile(p)
	if f == nil || p.Exists(".dockerignore") {
		return
	}
	for _, st := range f.Stages {
		for _, c := range st.Commands {
			cc, ok := c.(*instructions.CopyCommand)
			if !ok || cc.From != "" {
				continue
			}
			for _, src := range cc.SourcePaths {
				if s := path.Clean(strings.TrimPrefix(src, "/")); s == "." || s == "" {
					line := dockerfile.Line(c)
					p.Reportf(df.Name, line, 1, "COPY %s copies the whole package folder and there is no .dockerignore: add one (.git, .gitignore, .dockerignore, node_modules, NOTES.md) or copy only the files the image needs", src)
					break
				}
			}
		}
	}
}
