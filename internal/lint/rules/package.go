package rules

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/cpk"
	"cpk/internal/fsx"
	"cpk/internal/lint"
	"cpk/internal/parse/dockerfile"
)

var packageRules = []*lint.Rule{
	{
		Code: "PK001", Title: "the package has a Dockerfile that parses", Severity: cpk.Error,
		Doc: `Cloudron builds the app image from the package's Dockerfile (Dockerfile,
Dockerfile.cloudron or cloudron/Dockerfile). Without one, or with one that the
BuildKit parser rejects, nothing can be built.

Bad:

    apps/grist/CloudronManifest.json   (and no Dockerfile)

Good:

    FROM cloudron/base:5.0.0@sha256:…
    COPY start.sh /app/code/
    CMD [ "/app/code/start.sh" ]`,
		Run: checkDockerfile,
	},
	{
		Code: "PK002", Title: "CMD runs a start script that the package provides", Severity: cpk.Error,
		Doc: `The final stage needs a CMD in exec form naming the start script, and the
script must come from the package folder through COPY or ADD, so that the
image starts the way the package says.

Bad:

    COPY start.sh /app/code/
    CMD [ "/app/code/run.sh" ]

Good:

    COPY start.sh /app/code/
    CMD [ "/app/code/start.sh" ]`,
		Run: checkStartScript,
	},
	{
		Code: "PK003", Title: "the icon exists and is a PNG image", Severity: cpk.Error,
		Doc: `The manifest's icon (file://icon.png) is shown in the dashboard and the
store. The file must exist beside the manifest and decode as a PNG.

Bad:

    "icon": "file://logo.svg"

Good:

    "icon": "file://icon.png"     (a 256×256 PNG in the package folder)`,
		Run: checkIcon,
	},
	{
		Code: "PK007", Title: "the manifest names an icon", Severity: cpk.Warning,
		Doc: `Without an icon the dashboard shows a generic placeholder and users cannot
tell the app apart in the list; the App Store requires one.

Bad:

    { "manifestVersion": 2, "version": "1.0.0", "httpPort": 8000 }

Good:

    { "manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "icon": "file://icon.png" }`,
		Run: func(p *lint.Pass) {
			m := p.Manifest()
			if m != nil && m.Doc != nil && m.Doc.Lookup("/icon") == nil {
				line, col := pos(m, "")
				p.Reportf(lint.ManifestFile, line, col, "no icon: add \"icon\": \"file://icon.png\" with a 256×256 PNG")
			}
		},
	},
	{
		Code: "PK004", Title: "the icon is square and at least 256×256 pixels", Severity: cpk.Warning,
		Doc: `Cloudron shows icons square at 256×256 pixels. The rule decides from the
PNG header of the manifest's icon: an icon that is not square is distorted,
one smaller than 256 pixels looks blurred; a square icon of 256 pixels or
more is scaled down cleanly and is fine.

Bad:

    icon.png, 512×300 pixels
    icon.png, 128×128 pixels

Good:

    icon.png, 256×256 pixels
    icon.png, 512×512 pixels`,
		Run: checkIconSize,
	},
	{
		Code: "PK005", Title: "file:// references in the manifest exist", Severity: cpk.Error,
		Doc: `description, changelog and postInstallMessage may name a file with file://,
resolved beside the manifest. The Cloudron CLI fails when the file is missing.

Bad:

    "description": "file://DESCRIPTION.md"   (no such file)

Good:

    "description": "file://DESCRIPTION.md"   (DESCRIPTION.md in the package folder)`,
		Run: checkFileRefs,
	},
	{
		Code: "PK006", Title: "the package has build notes", Severity: cpk.Error,
		Doc: `Every package keeps its build notes: how it is put together, what was
decided and why, how to test it by hand. The plan asks for build notes for
every package. The rule decides from the package's files: a package of cpk's
catalog (one with a cpk.yaml) needs a NOTES.md with content; a package from
outside the catalog may instead document its build in README, BUILDING or
docs/*.md, when that text has at least 80 words of prose (code blocks and
headings left out) and speaks of the build (the Dockerfile, the image).
The DOC rules then read that documentation.

Bad:

    (no NOTES.md, or one with only a heading)

Good:

    # Grist build notes
    The upstream tarball is pinned by version and SHA-256 in the Dockerfile …`,
		Run: checkNotes, Counts: lint.CountsNotes,
	},
	packageEntriesRule,
}

func checkDockerfile(p *lint.Pass) {
	df := p.Dockerfile()
	switch {
	case df == nil:
		p.Reportf("Dockerfile", 0, 0, "no Dockerfile: add one (looked for %s)", strings.Join(lint.DockerfileNames, ", "))
	case df.Err != nil:
		line := 0
		if pe, ok := df.Err.(*dockerfile.Error); ok {
			line = pe.Line
		}
		p.Reportf(df.Name, line, 0, "the Dockerfile does not parse: %v", df.Err)
	}
}

func checkStartScript(p *lint.Pass) {
	df := p.Dockerfile()
	if df == nil || df.File == nil {
		return // PK001 reports it
	}
	final := df.File.Final()
	var cmd *instructions.CmdCommand
	for _, c := range final.Commands {
		if c, ok := c.(*instructions.CmdCommand); ok {
			cmd = c
		}
	}
	if cmd == nil {
		line := 0
		if len(final.Location) > 0 {
			line = final.Location[0].Start.Line
		}
		p.Reportf(df.Name, line, 0, "the final stage has no CMD: end it with CMD [ \"/app/code/start.sh\" ]")
		return
	}
	line := dockerfile.Line(cmd)
	if cmd.PrependShell {
		p.Reportf(df.Name, line, 0, "CMD is in shell form, so the start script does not get signals: write CMD [ %q ]", firstWord(cmd.CmdLine))
		return
	}
	script := scriptOf(cmd.CmdLine)
	if script == "" {
		return // a binary on PATH, not a package script
	}
	src, found := copiedFrom(p, final, script)
	switch {
	case !found:
		p.Reportf(df.Name, line, 0, "CMD runs %s, but no COPY or ADD in the final stage brings it from the package folder", script)
	case src != "" && !p.Exists(src):
		p.Reportf(df.Name, line, 0, "CMD runs %s, copied from %s, which is not in the package folder", script, src)
	}
}

// firstWord is the program a shell-form CMD starts.
func firstWord(cmdline []string) string {
	if len(cmdline) == 0 {
		return ""
	}
	f := strings.Fields(cmdline[0])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// scriptOf returns the absolute path of the script a CMD runs: its first
// word, or the first argument of a shell that runs a script file.
func scriptOf(cmdline []string) string {
	for i, arg := range cmdline {
		base := path.Base(arg)
		if i == 0 && (base == "sh" || base == "bash" || base == "dash") {
			continue
		}
		if strings.HasPrefix(arg, "-") {
			return ""
		}
		if path.IsAbs(arg) && !strings.HasPrefix(arg, "/usr/") && !strings.HasPrefix(arg, "/bin/") && !strings.HasPrefix(arg, "/sbin/") {
			return path.Clean(arg)
		}
		return ""
	}
	return ""
}

// copiedFrom finds the COPY or ADD of the final stage that puts the image
// path target in place and returns its source in the package. found is true
// with an empty source when the file comes from another stage or a URL, which
// cpk cannot check here.
func copiedFrom(p *lint.Pass, stage *instructions.Stage, target string) (src string, found bool) {
	src, _, found = copySource(p, stage, target)
	return src, found
}

// copySource is copiedFrom that also returns the instruction: the last COPY
// or ADD of the stage that puts target in place.
func copySource(p *lint.Pass, stage *instructions.Stage, target string) (src string, via instructions.Command, found bool) {
	workdir := "/"
	for _, c := range stage.Commands {
		var sd instructions.SourcesAndDest
		external := false
		switch c := c.(type) {
		case *instructions.WorkdirCommand:
			workdir = joinWorkdir(workdir, c.Path)
			continue
		case *instructions.CopyCommand:
			sd, external = c.SourcesAndDest, c.From != ""
		case *instructions.AddCommand:
			sd = c.SourcesAndDest
		default:
			continue
		}
		dest := sd.DestPath
		if !path.IsAbs(dest) {
			dest = path.Join(workdir, dest)
		}
		intoDir := strings.HasSuffix(sd.DestPath, "/") || len(sd.SourcePaths) > 1
		dest = path.Clean(dest)
	sources:
		for _, s := range sd.SourcePaths {
			remote := strings.Contains(s, "://")
			var rel string
			switch {
			case target == dest && !intoDir:
				rel = "" // the file itself
			case strings.HasPrefix(target, dest+"/") || dest == "/":
				rel = strings.TrimPrefix(strings.TrimPrefix(target, dest), "/")
			default:
				continue
			}
			if external || remote {
				src, via, found = "", c, true
				break
			}
			for _, cand := range candidates(p, s, rel) {
				if p.Exists(cand) {
					src, via, found = cand, c, true
					break sources
				}
			}
		}
	}
	return src, via, found
}

// candidates lists the package files a COPY source could have put at the
// relative path rel below its destination (source globs included).
func candidates(p *lint.Pass, src, rel string) []string {
	matches, err := filepath.Glob(filepath.Join(p.Dir, filepath.FromSlash(src)))
	if err != nil || len(matches) == 0 {
		if rel == "" {
			return []string{path.Clean(src)}
		}
		return []string{path.Join(src, rel)}
	}
	var out []string
	for _, m := range matches {
		r, err := filepath.Rel(p.Dir, m)
		if err != nil {
			continue
		}
		r = filepath.ToSlash(r)
		st, err := os.Stat(m)
		switch {
		case err != nil:
		case st.IsDir() && rel != "":
			out = append(out, path.Join(r, rel))
		case !st.IsDir() && (rel == "" || rel == path.Base(r)):
			out = append(out, r)
		}
	}
	return out
}

// fileRef returns the package path a file:// manifest value names.
func fileRef(v string) (string, bool) {
	rel, ok := strings.CutPrefix(v, "file://")
	return rel, ok && rel != ""
}

func checkIcon(p *lint.Pass) {
	m := p.Manifest()
	if m == nil || m.Doc == nil {
		return
	}
	rel, ok := fileRef(typedManifest(p).Icon)
	if !ok {
		return
	}
	line, col := pos(m, "/icon")
	data, err := p.ReadFile(rel)
	if err != nil {
		p.Reportf(lint.ManifestFile, line, col, "icon %s: %v", rel, cleanErr(err))
		return
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err == nil && cfg.Width*cfg.Height > maxIconPixels {
		p.Reportf(lint.ManifestFile, line, col, "icon %s is %d×%d pixels, far too large to be an icon: save it at 256×256", rel, cfg.Width, cfg.Height)
		return
	}
	if err == nil {
		err = pngChunks(data)
	}
	if err != nil {
		p.Reportf(lint.ManifestFile, line, col, "icon %s is not a valid PNG image (%v): save it as PNG, 256×256", rel, err)
	}
}

// maxIconPixels bounds the size an icon's header may claim (4096×4096).
const maxIconPixels = 4096 * 4096

// pngChunks checks a PNG's structure without decoding its pixels: every
// chunk is whole and its CRC matches, image data is present, and the file
// ends with IEND. That finds truncated and corrupted files at a fraction
// of a full decode's cost (which inflates and unfilters every row); the
// header itself was read by png.DecodeConfig.
func pngChunks(data []byte) error {
	const signature = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(signature)) {
		return errors.New("not a PNG file")
	}
	rest := data[len(signature):]
	var idat bool
	for len(rest) > 0 {
		if len(rest) < 12 {
			return io.ErrUnexpectedEOF
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-12) {
			return io.ErrUnexpectedEOF
		}
		chunk := rest[4 : 8+n] // type and data: what the CRC covers
		if crc32.ChecksumIEEE(chunk) != binary.BigEndian.Uint32(rest[8+n:]) {
			return fmt.Errorf("chunk %q: checksum mismatch", chunk[:4])
		}
		switch string(chunk[:4]) {
		case "IDAT":
			idat = true
		case "IEND":
			if !idat {
				return errors.New("no image data")
			}
			return nil
		}
		rest = rest[12+n:]
	}
	return io.ErrUnexpectedEOF
}

func checkIconSize(p *lint.Pass) {
	m := p.Manifest()
	if m == nil || m.Doc == nil {
		return
	}
	rel, ok := fileRef(typedManifest(p).Icon)
	if !ok {
		return
	}
	data, err := p.ReadFile(rel)
	if err != nil {
		return
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return // PK003 reports it
	}
	line, col := pos(m, "/icon")
	switch {
	case cfg.Width != cfg.Height:
		p.Reportf(lint.ManifestFile, line, col, "icon %s is %d×%d pixels, not square, so Cloudron distorts it: save it square, 256×256 or larger", rel, cfg.Width, cfg.Height)
	case cfg.Width < 256:
		p.Reportf(lint.ManifestFile, line, col, "icon %s is %d×%d pixels, smaller than the 256×256 Cloudron shows, so it looks blurred: save it at 256×256 or larger", rel, cfg.Width, cfg.Height)
	}
}

func checkFileRefs(p *lint.Pass) {
	m := p.Manifest()
	if m == nil || m.Doc == nil {
		return
	}
	mf := *typedManifest(p)
	for _, f := range []struct{ field, value string }{
		{"description", mf.Description},
		{"changelog", mf.Changelog},
		{"postInstallMessage", mf.PostInstallMessage},
	} {
		rel, ok := fileRef(f.value)
		if !ok {
			continue
		}
		if _, err := p.ReadFile(rel); err != nil {
			line, col := pos(m, "/"+f.field)
			p.Reportf(lint.ManifestFile, line, col, "%s names %s: %v", f.field, f.value, cleanErr(err))
		}
	}
}

func checkNotes(p *lint.Pass) {
	file, text, ok := buildDocs(p)
	if ok && (file != lint.NotesFile || hasProse(text)) {
		return
	}
	_, err := p.ReadFile(lint.NotesFile)
	switch {
	case err == nil:
		p.Reportf(lint.NotesFile, 1, 1, "the build notes are empty: say how the package is built and why")
	case p.Exists(catalogFile):
		p.Reportf(lint.NotesFile, 0, 0, "no build notes: write %s (how the package is built, what was decided and why)", lint.NotesFile)
	default:
		p.Reportf(lint.NotesFile, 0, 0, "no build notes: write %s, or document the build in README.md, BUILDING.md or docs/ (how the image is built, what was decided and why; at least %d words)", lint.NotesFile, minDocWords)
	}
}

// cleanErr turns a file error into a short reason without the machine's paths.
func cleanErr(err error) string {
	switch {
	case os.IsNotExist(err):
		return "no such file in the package folder"
	case os.IsPermission(err):
		return "permission denied"
	}
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// packageEntriesRule is PK010: what cpk reads of a package must be regular
// files within it.
var packageEntriesRule = &lint.Rule{
	Code: "PK010", Title: "the package holds only regular files, and links to them within it", Severity: cpk.Error,
	Doc: `cpk reads only regular files of a package, up to 8 MiB each, and symbolic
links that point to one inside the package folder. This rule decides from
each entry of the folder (version-control folders and installed
dependencies left out): a link that leaves the package or points to nothing,
a FIFO, socket or device, and a file larger than 8 MiB are reported and
never opened, so a careless or hostile package cannot hang cpk, make it read
without end, or make it read files outside the package.

Bad:

    apps/app/config -> /etc/passwd          (leaves the package)
    apps/app/start.sh -> /dev/zero          (a device)
    apps/app/dump.tar                        (1 GB)

Good:

    apps/app/config.yaml                     (a file of the package)
    apps/app/current -> releases/1.2/app.js (a link within the package)`,
	Run: checkPackageEntries,
}

func checkPackageEntries(p *lint.Pass) {
	n := 0
	p.Walk(func(rel string, d fs.DirEntry) bool {
		if p.Known(rel) {
			return true // read for the content hash: a regular file of a sane size
		}
		_, st, err := fsx.Resolve(p.Dir, filepath.Join(p.Dir, filepath.FromSlash(rel)))
		switch {
		case err != nil && (errors.Is(err, fsx.ErrOutside) || errors.Is(err, fsx.ErrNotRegular)):
			p.Reportf(rel, 0, 0, "%s is %v: cpk does not read it; make it a regular file of the package, or remove it", rel, err)
			n++
		case err == nil && st.Size() > fsx.MaxPackageFile:
			p.Reportf(rel, 0, 0, "%s has %d bytes, more than the %d cpk reads: keep large artifacts out of the package (download them in the Dockerfile)", rel, st.Size(), fsx.MaxPackageFile)
			n++
		}
		return n < 50
	})
}
