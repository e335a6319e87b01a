// Package bump moves a package to a new upstream version: it edits the
// version ARGs of the Dockerfile, the download checksum (verified against
// what upstream publishes), the manifest's upstreamVersion and version, and
// the changelog — all files or none.
//
// The package version follows the upstream change (see NextPackageVersion):
// an upstream major release bumps the package's major, a minor its minor,
// anything else its patch.
package bump

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"cpk/internal/cpk"
	"cpk/internal/manifest"
	"cpk/internal/parse/dockerfile"
	"cpk/internal/upstream"
	"cpk/internal/upstream/version"
)

type instructionsArg = instructions.ArgCommand

// Package is the domain's package (cpk.Package): its id and folder.
type Package = cpk.Package

// Options choose the target version.
type Options struct {
	To string // the upstream version to move to; "" = the newest acceptable one
}

// Result says what a bump did (or would do).
type Result struct {
	App         string             `json:"app"`
	From        string             `json:"from"`          // the upstream version pinned before
	To          string             `json:"to"`            // the upstream version now
	Tag         string             `json:"tag"`           // its tag
	PackageFrom string             `json:"packageFrom"`   // the package version before
	PackageTo   string             `json:"packageTo"`     // and after
	Rule        string             `json:"rule"`          // major, minor or patch: which part of the package version moved
	Notes       string             `json:"releaseNotes"`  // the release notes link
	URL         string             `json:"url,omitempty"` // the download whose checksum was verified
	Checksum    *upstream.Checksum `json:"checksum,omitempty"`
	Provenance  string             `json:"provenance,omitempty"`
	Files       []string           `json:"files"` // the files changed, relative to the package
	Warnings    []string           `json:"warnings,omitempty"`
	Branch      string             `json:"branch,omitempty"` // with --branch: where the commit went
	Commit      string             `json:"commit,omitempty"`
}

// ErrUpToDate means the package already pins the target version.
var ErrUpToDate = errors.New("already up to date")

// Edit is a planned bump: the new content of each file, not yet written.
type Edit struct {
	Result Result
	dir    string
	files  []fileEdit
	rename func(from, to string) error // os.Rename; tests replace it to fail midway
}

type fileEdit struct {
	name     string // relative to the package
	old, new []byte
	existed  bool
	mode     os.FileMode
}

// Plan works out the bump of pkg without writing anything: it fetches the
// upstream releases, picks the target, downloads and verifies the new
// checksum and computes every file's new content.
func Plan(ctx context.Context, c *upstream.Client, pkg Package, opts Options) (*Edit, error) {
	if pkg.Upstream == nil {
		return nil, fmt.Errorf("%s declares no upstream in cpk.yaml", pkg.ID)
	}
	e := &Edit{dir: pkg.Dir, rename: os.Rename}
	r := &e.Result
	r.App = pkg.ID

	mPath := filepath.Join(pkg.Dir, ManifestName)
	mSrc, err := os.ReadFile(mPath)
	if err != nil {
		return nil, fmt.Errorf("read the manifest: %w (a bump needs the package's %s)", err, ManifestName)
	}
	rep := manifest.Check(mSrc, manifest.Options{})
	if rep.Doc == nil || rep.Doc.Root.Kind != manifest.ObjectValue {
		return nil, fmt.Errorf("%s is not a JSON object: fix it (cpk manifest check) before a bump", ManifestName)
	}
	pin, err := ReadPin(pkg.Dir)
	if err != nil {
		return nil, err
	}
	r.From = pin.Version
	if pin.Mismatch != "" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the manifest's upstreamVersion %s differed from the Dockerfile's %s; both now say the new version", pin.Mismatch, pin.Version))
	}

	releases, err := c.Releases(ctx, pkg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("list the upstream releases: %w", err)
	}
	var target *upstream.Release
	if opts.To != "" {
		if target = upstream.Find(releases, pkg.Upstream, opts.To); target == nil {
			return nil, fmt.Errorf("upstream has no release %s (%s): check the version, or the prefix in cpk.yaml", opts.To, pkg.Upstream.Link())
		}
	} else {
		acceptable := upstream.Select(releases, pkg.Upstream)
		if len(acceptable) == 0 {
			return nil, fmt.Errorf("none of upstream's %d releases is acceptable: check prefix, include, exclude, scheme, track and prerelease in cpk.yaml", len(releases))
		}
		target = &acceptable[0]
	}
	r.To, r.Tag, r.Notes = target.Version, target.Tag, target.URL
	dPath := filepath.Join(pkg.Dir, DockerfileName)
	dSrc, err := readOptional(dPath)
	if err != nil {
		return nil, err
	}
	if pin.Version != "" {
		if pv, ok := version.Parse(pin.Version); ok && version.Compare(pv, version.MustParse(target.Version)) == 0 {
			if !emptyChecksum(dSrc) {
				return e, ErrUpToDate
			}
			// The version stays; only the missing checksum is filled in
			// (a package written where upstream was not reachable).
			newDf, err := e.editDockerfile(ctx, c, dSrc, target)
			if err != nil {
				return nil, err
			}
			e.add(DockerfileName, dSrc, newDf)
			r.PackageFrom = manifestString(rep.Doc, "version")
			r.PackageTo, r.Rule = r.PackageFrom, "checksum only"
			return e, nil
		}
	}

	// The Dockerfile: version ARGs, the checksum of the download.
	if dSrc != nil {
		newDf, err := e.editDockerfile(ctx, c, dSrc, target)
		if err != nil {
			return nil, err
		}
		e.add(DockerfileName, dSrc, newDf)
	}

	// The manifest: version and upstreamVersion.
	r.PackageFrom = manifestString(rep.Doc, "version")
	r.PackageTo, r.Rule, err = NextPackageVersion(r.PackageFrom, pin.Version, target.Version, pkg.Upstream.Scheme)
	if err != nil {
		return nil, err
	}
	newM, err := setManifestString(mSrc, rep.Doc, "version", r.PackageTo, "")
	if err != nil {
		return nil, err
	}
	doc2, derrs := manifest.Decode(newM)
	if doc2 == nil {
		return nil, fmt.Errorf("editing the manifest broke it: %v", derrs)
	}
	if newM, err = setManifestString(newM, doc2, "upstreamVersion", target.Version, "version"); err != nil {
		return nil, err
	}
	if rep.Valid {
		if after := manifest.Check(newM, manifest.Options{}); !after.Valid {
			return nil, fmt.Errorf("the edited manifest would be invalid: %v", after.Errors[0])
		}
	}
	e.add(ManifestName, mSrc, newM)

	// The changelog.
	clName := "CHANGELOG"
	switch v := manifestString(rep.Doc, "changelog"); {
	case strings.HasPrefix(v, "file://"):
		clName = filepath.FromSlash(strings.TrimPrefix(v, "file://"))
	case v != "":
		r.Warnings = append(r.Warnings, "the manifest's changelog is written inline, not file://CHANGELOG: add the new version's entry by hand")
		return e, nil
	}
	clPath := filepath.Join(pkg.Dir, clName)
	clSrc, err := readOptional(clPath)
	if err != nil {
		return nil, err
	}
	title := manifestString(rep.Doc, "title")
	if title == "" {
		title = pkg.ID
	}
	e.add(clName, clSrc, appendChangelog(clSrc, r, title))
	return e, nil
}

// editDockerfile sets every ARG UPSTREAM_VERSION default to the target and,
// when the Dockerfile has UPSTREAM_URL and UPSTREAM_SHA256, the verified
// checksum of the new download with a comment saying where it came from.
func (e *Edit) editDockerfile(ctx context.Context, c *upstream.Client, src []byte, target *upstream.Release) ([]byte, error) {
	r := &e.Result
	f, err := dockerfile.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s does not parse (%v): fix it before a bump", DockerfileName, err)
	}
	versions := findArgs(f, VersionArg)
	if len(versions) == 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s has no ARG %s: only the manifest records the version", DockerfileName, VersionArg))
		return src, nil
	}
	out := src
	for _, d := range versions {
		if d.hasValue {
			if out, err = setArg(out, d, VersionArg, target.Version); err != nil {
				return nil, err
			}
		}
	}
	urls, sums := findArgs(f, URLArg), findArgs(f, SHA256Arg)
	switch {
	case len(urls) == 0 && len(sums) == 0:
		r.Warnings = append(r.Warnings, fmt.Sprintf("no ARG %s and %s: nothing downloaded is verified", URLArg, SHA256Arg))
		return out, nil
	case len(urls) == 0:
		return nil, fmt.Errorf("%s has ARG %s but no ARG %s: cpk cannot know which file to hash", DockerfileName, SHA256Arg, URLArg)
	case len(sums) == 0:
		r.Warnings = append(r.Warnings, fmt.Sprintf("ARG %s has no ARG %s beside it: add one so the build checks the download", URLArg, SHA256Arg))
	}
	vars := argValues(f)
	vars[VersionArg] = target.Version
	fileURL, err := expand(urls[0].value, vars)
	if err != nil {
		return nil, err
	}
	r.URL = fileURL
	sum, err := c.Verify(ctx, target, fileURL)
	if err != nil {
		return nil, fmt.Errorf("checksum of %s: %w", fileURL, err)
	}
	r.Checksum, r.Provenance = &sum, sum.Provenance()
	if len(sums) == 0 {
		return out, nil
	}
	// Edit from the last line up so the earlier line numbers stay right.
	for i := len(sums) - 1; i >= 0; i-- {
		if !sums[i].hasValue {
			continue
		}
		if out, err = setArg(out, sums[i], SHA256Arg, sum.SHA256); err != nil {
			return nil, err
		}
		out = setProvenance(out, sums[i].start, sum.Provenance()+" ("+target.Version+")")
	}
	if _, err := dockerfile.Parse(out); err != nil {
		return nil, fmt.Errorf("editing %s broke it (%v): please report this", DockerfileName, err)
	}
	return out, nil
}

// emptyChecksum reports whether a Dockerfile declares UPSTREAM_SHA256 with
// an empty default: a checksum left for bump to fill.
func emptyChecksum(src []byte) bool {
	if src == nil {
		return false
	}
	f, err := dockerfile.Parse(src)
	if err != nil {
		return false
	}
	for _, d := range findArgs(f, SHA256Arg) {
		if d.hasValue && d.value == "" {
			return true
		}
	}
	return false
}

func (e *Edit) add(name string, old, new []byte) {
	fe := fileEdit{name: name, old: old, new: new, existed: old != nil, mode: 0o644}
	if st, err := os.Stat(filepath.Join(e.dir, name)); err == nil {
		fe.mode = st.Mode().Perm()
	}
	if string(old) != string(new) {
		e.files = append(e.files, fe)
		e.Result.Files = append(e.Result.Files, filepath.ToSlash(name))
	}
}

func manifestString(doc *manifest.Document, key string) string {
	if v := doc.Lookup("/" + key); v != nil && v.Kind == manifest.StringValue {
		return v.Str
	}
	return ""
}

// appendChangelog adds the section of the new package version at the end
// (Cloudron changelogs run oldest first): [1.2.0], then what changed.
func appendChangelog(src []byte, r *Result, title string) []byte {
	var b strings.Builder
	b.Write(src)
	if len(src) > 0 {
		if !strings.HasSuffix(string(src), "\n") {
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "[%s]\n* Update %s to %s\n", r.PackageTo, title, r.To)
	if r.Notes != "" {
		fmt.Fprintf(&b, "* [Full changelog](%s)\n", r.Notes)
	}
	return []byte(b.String())
}

// Apply writes every file of the edit, all or none: each new content goes
// to a temporary file beside its target first; only when all are written
// are they renamed into place, and a failed rename puts back the files
// already replaced.
func (e *Edit) Apply() error {
	type staged struct {
		fe  fileEdit
		tmp string
	}
	var done []staged
	cleanup := func() {
		for _, s := range done {
			os.Remove(s.tmp)
		}
	}
	for _, fe := range e.files {
		path := filepath.Join(e.dir, fe.name)
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".cpk-bump*")
		if err == nil {
			_, err = f.Write(fe.new)
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Chmod(f.Name(), fe.mode)
			}
			done = append(done, staged{fe, f.Name()})
		}
		if err != nil {
			cleanup()
			return fmt.Errorf("write %s: %w (no file was changed)", fe.name, err)
		}
	}
	for i, s := range done {
		path := filepath.Join(e.dir, s.fe.name)
		if err := e.rename(s.tmp, path); err != nil {
			// Put back what was replaced, newest first.
			var problems []string
			for j := i - 1; j >= 0; j-- {
				if rerr := e.restore(done[j].fe); rerr != nil {
					problems = append(problems, rerr.Error())
				}
			}
			cleanup()
			if len(problems) > 0 {
				return fmt.Errorf("replace %s: %w; restoring the other files failed too (%s): check them with git diff", s.fe.name, err, strings.Join(problems, "; "))
			}
			return fmt.Errorf("replace %s: %w (every file was put back)", s.fe.name, err)
		}
	}
	return nil
}

// restore puts one file back as it was before the edit.
func (e *Edit) restore(fe fileEdit) error {
	path := filepath.Join(e.dir, fe.name)
	if !fe.existed {
		return os.Remove(path)
	}
	return os.WriteFile(path, fe.old, fe.mode)
}

var semverPattern = regexp.MustCompile(`^(v?)([0-9]+)\.([0-9]+)\.([0-9]+)(?:[-+].*)?$`)

// NextPackageVersion is the package version after an upstream move from
// oldUp to newUp: upstream's major changed → the package's major
// (1.4.2 → 2.0.0); its minor → the package's minor (1.4.2 → 1.5.0);
// anything else (patch, a 4th number, a suffix, a first pin, a move back)
// → the package's patch (1.4.2 → 1.4.3). For calendar versions (scheme
// calendar, or a year as the first number) a change of year or of the
// second number is a minor, anything else a patch. Pre-release and build
// parts of the package version are dropped.
func NextPackageVersion(pkg, oldUp, newUp, scheme string) (next, rule string, err error) {
	m := semverPattern.FindStringSubmatch(pkg)
	if m == nil {
		return "", "", fmt.Errorf("the package version %q is not semver (x.y.z): fix it in %s", pkg, ManifestName)
	}
	n := [3]int{}
	for i := range n {
		if n[i], err = strconv.Atoi(m[i+2]); err != nil {
			return "", "", fmt.Errorf("the package version %q has a number too large", pkg)
		}
	}
	rule = "patch"
	ov, ok1 := version.Parse(oldUp)
	nv, ok2 := version.Parse(newUp)
	if ok1 && ok2 && version.Compare(nv, ov) > 0 {
		d := version.Diff(ov, nv)
		calendar := scheme == "calendar" || nv.Accepts(version.Calendar) && len(nv.Release[0]) == 4
		switch {
		case calendar && (d == 0 || d == 1):
			rule = "minor"
		case calendar:
		case d == 0:
			rule = "major"
		case d == 1:
			rule = "minor"
		}
	}
	switch rule {
	case "major":
		n = [3]int{n[0] + 1, 0, 0}
	case "minor":
		n = [3]int{n[0], n[1] + 1, 0}
	default:
		n[2]++
	}
	return fmt.Sprintf("%s%d.%d.%d", m[1], n[0], n[1], n[2]), rule, nil
}
