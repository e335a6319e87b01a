// Package base makes cpk's Cloudron-compatible base image without any
// registry: a Debian root filesystem from the machine's own apt mirror
// (debootstrap), imported into the engine, then the conventions of
// cloudron/base (Dockerfile.conventions, embedded) built on top. It also
// maps the FROM lines of packages to that local image at build time.
package base

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"cpk/internal/engine"
	"cpk/internal/fsx"
	"cpk/internal/steps"
)

//go:embed Dockerfile.conventions
var conventions string

// Conventions is the embedded Dockerfile body (without its FROM line).
func Conventions() string { return conventions }

const (
	// Repo is where the local base images live: Repo:<suite>-<hash>.
	Repo = "localhost/cpk/base"
	// RootfsRepo holds the imported debootstrap root filesystems.
	RootfsRepo = "localhost/cpk/rootfs"
	// DefaultSuite is the Debian release of the base.
	DefaultSuite = "bookworm"
	// HostCADir is where Debian hosts keep their additions to the trust store.
	HostCADir = "/usr/local/share/ca-certificates"

	// Labels on the images this package makes.
	LabelBase   = "io.cpk.base" // the suite, on the base image
	LabelHash   = "io.cpk.base-hash"
	LabelRootfs = "io.cpk.rootfs" // the suite, on the root filesystem image

	recipeVersion = "1" // bump when the root filesystem recipe changes
)

// Options says how to make the base image. The zero value is the default:
// Debian bookworm from the host's mirror, the host's extra CAs.
type Options struct {
	Suite          string   // Debian suite (default bookworm)
	Mirror         string   // apt mirror (default: the host's, else deb.debian.org)
	SecurityMirror string   // security mirror (default: the host's, else deb.debian.org)
	CAFiles        []string // extra CA certificates; nil = the host's additions
	NoHostCA       bool     // with nil CAFiles: none at all
	Force          bool     // rebuild even when the image exists
	StateDir       string   // the repository's .cpk folder: logs and base.json
	Progress       io.Writer
}

// CA is one extra certificate authority file.
type CA struct {
	Name string // file name inside the image
	Path string // where it came from
	Data []byte
}

// Plan is what a build of the base will make, computed without the engine.
type Plan struct {
	Suite          string
	Mirror         string
	SecurityMirror string
	CAs            []CA
	Hash           string // hex sha256 of everything that shapes the image
	Ref            string // Repo:<suite>-<hash[:12]>
	RootfsRef      string
}

// Record is what cpk base build writes to .cpk/base.json: the local base
// the builds use.
type Record struct {
	Ref     string    `json:"ref"`
	ID      string    `json:"id"`
	Suite   string    `json:"suite"`
	Hash    string    `json:"hash"`
	CAs     []string  `json:"cas"`
	Created time.Time `json:"created"`
}

// RecordFile is the record's path inside the state folder.
const RecordFile = "base.json"

// NewPlan resolves the options: mirrors, CA files, the content hash and the
// image references.
func NewPlan(o Options) (*Plan, error) {
	p := &Plan{Suite: o.Suite, Mirror: o.Mirror, SecurityMirror: o.SecurityMirror}
	if p.Suite == "" {
		p.Suite = DefaultSuite
	}
	hostMain, hostSec := hostMirrors()
	if p.Mirror == "" {
		p.Mirror = hostMain
	}
	if p.SecurityMirror == "" {
		p.SecurityMirror = hostSec
	}
	files := o.CAFiles
	if files == nil && !o.NoHostCA {
		var err error
		if files, err = HostCAs(); err != nil {
			return nil, err
		}
	}
	cas, err := readCAs(files)
	if err != nil {
		return nil, err
	}
	p.CAs = cas
	h := sha256.New()
	fmt.Fprintf(h, "cpk-base\x00%s\x00%s\x00%s\x00", recipeVersion, p.Suite, conventions)
	for _, ca := range cas {
		fmt.Fprintf(h, "%s\x00%d\x00", ca.Name, len(ca.Data))
		h.Write(ca.Data)
	}
	p.Hash = hex.EncodeToString(h.Sum(nil))
	p.Ref = Repo + ":" + p.Suite + "-" + p.Hash[:12]
	rh := sha256.Sum256([]byte("cpk-rootfs\x00" + recipeVersion + "\x00" + p.Suite + "\x00minbase"))
	p.RootfsRef = RootfsRepo + ":" + p.Suite + "-" + hex.EncodeToString(rh[:])[:12]
	return p, nil
}

// HostCAs lists the host's additions to its trust store (*.crt below
// /usr/local/share/ca-certificates), sorted.
func HostCAs() ([]string, error) {
	var files []string
	err := filepath.WalkDir(HostCADir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".crt") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the host's extra CA certificates: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// readCAs reads and checks CA files: PEM certificates only.
func readCAs(files []string) ([]CA, error) {
	var cas []CA
	used := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		if err := checkPEM(data); err != nil {
			return nil, fmt.Errorf("CA file %s: %w", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)) + ".crt"
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s-%d.crt", strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), i)
		}
		used[name] = true
		cas = append(cas, CA{Name: name, Path: f, Data: data})
	}
	return cas, nil
}

func checkPEM(data []byte) error {
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("not a valid certificate: %w", err)
		}
		n++
	}
	if n == 0 {
		return errors.New("no PEM certificate in it (update-ca-certificates wants PEM .crt files)")
	}
	return nil
}

// aptSources are where hosts list their apt mirrors.
var aptSources = []string{"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"}

// hostMirrors finds the host's Debian mirror and security mirror (deb822
// .sources or one-line sources.list), with deb.debian.org as the fallback.
func hostMirrors() (main, security string) {
	main, security = "http://deb.debian.org/debian", "http://deb.debian.org/debian-security"
	var foundMain, foundSec bool
	for _, f := range aptSources {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, e := range parseSources(string(data)) {
			if e.security && !foundSec {
				security, foundSec = e.uri, true
			} else if !e.security && !foundMain {
				main, foundMain = e.uri, true
			}
		}
	}
	return main, security
}

type sourceEntry struct {
	uri      string
	security bool
}

// parseSources reads deb822 stanzas (URIs:/Suites:) and one-line "deb URI
// SUITE …" entries.
func parseSources(text string) []sourceEntry {
	var out []sourceEntry
	var uris, suites []string
	flush := func() {
		for _, u := range uris {
			sec := false
			for _, s := range suites {
				sec = sec || strings.HasSuffix(s, "-security") || strings.Contains(s, "/updates")
			}
			out = append(out, sourceEntry{uri: u, security: sec})
		}
		uris, suites = nil, nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "URIs:"):
			uris = strings.Fields(strings.TrimPrefix(line, "URIs:"))
		case strings.HasPrefix(line, "Suites:"):
			suites = strings.Fields(strings.TrimPrefix(line, "Suites:"))
		case strings.HasPrefix(line, "deb "):
			f := strings.Fields(line)[1:]
			for len(f) > 0 && strings.HasPrefix(f[0], "[") { // [signed-by=…] options
				for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
					f = f[1:]
				}
				f = f[1:]
			}
			if len(f) >= 2 {
				out = append(out, sourceEntry{uri: f[0], security: strings.HasSuffix(f[1], "-security") || strings.Contains(f[1], "/updates")})
			}
		}
	}
	flush()
	return out
}

// sourcesList is the image's apt configuration.
func (p *Plan) sourcesList() string {
	return fmt.Sprintf("deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n",
		p.Mirror, p.Suite, p.Mirror, p.Suite, p.SecurityMirror, p.Suite)
}

// Result is what a base build did.
type Result struct {
	Ref      string        `json:"ref"`
	ID       string        `json:"id"`
	Status   string        `json:"status"` // built or cached
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Log      string        `json:"log,omitempty"`
	CAs      []string      `json:"cas"`
}

// ReadRecord reads .cpk/base.json; nil when there is none.
func ReadRecord(stateDir string) (*Record, error) {
	data, err := os.ReadFile(filepath.Join(stateDir, RecordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it and run cpk base build)", filepath.Join(stateDir, RecordFile), err)
	}
	return &r, nil
}

// LocalRef is the local base image that builds use: the one the last cpk
// base build recorded in stateDir, else the one the default options make.
func LocalRef(stateDir string) (string, error) {
	if stateDir != "" {
		rec, err := ReadRecord(stateDir)
		if err != nil {
			return "", err
		}
		if rec != nil && rec.Ref != "" {
			return rec.Ref, nil
		}
	}
	p, err := NewPlan(Options{})
	if err != nil {
		return "", err
	}
	return p.Ref, nil
}

// ErrMissing says the local base image does not exist yet.
var ErrMissing = errors.New("the local base image does not exist: run cpk base build")

// Inspect returns the local base image, or an error wrapping ErrMissing.
func Inspect(ctx context.Context, e engine.Engine, ref string) (*engine.Image, error) {
	img, err := e.InspectImage(ctx, ref)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", ref, ErrMissing)
	}
	return img, err
}

// Builder makes the base image; Runner runs debootstrap and tar.
type Builder struct {
	Engine engine.Engine
	Runner *engine.Runner
}

// state is what the steps of a base build share.
type state struct {
	opts    Options
	plan    *Plan
	log     io.Writer
	logPath string
	res     *Result
	tmp     string // working folder
}

// Build makes the base image unless it exists (Options.Force rebuilds).
func (b *Builder) Build(ctx context.Context, o Options) (res *Result, err error) {
	start := time.Now()
	plan, err := NewPlan(o)
	if err != nil {
		return nil, err
	}
	res = &Result{Ref: plan.Ref}
	for _, ca := range plan.CAs {
		res.CAs = append(res.CAs, ca.Path)
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	// Two builds of the same image on one machine wait for each other
	// rather than doing the work twice.
	unlock, err := engine.LockFile(ctx, filepath.Join(os.TempDir(), "cpk-base-"+plan.Hash[:12]+".lock"), func() {
		fmt.Fprintf(progress, "waiting for another cpk base build of %s…\n", plan.Ref)
	})
	if err != nil {
		return nil, err
	}
	defer unlock()

	if !o.Force {
		if img, err := b.Engine.InspectImage(ctx, plan.Ref); err == nil {
			res.ID, res.Status = img.ID, "cached"
			res.Duration = time.Since(start)
			res.Seconds = res.Duration.Seconds()
			return res, b.record(o.StateDir, plan, img.ID)
		} else if !errors.Is(err, engine.ErrNotFound) {
			return nil, err
		}
	}

	s := &state{opts: o, plan: plan, res: res, log: io.Discard}
	if o.StateDir != "" {
		s.logPath = filepath.Join(o.StateDir, "base", time.Now().UTC().Format("20060102-150405")+"-"+plan.Hash[:8]+".log")
		if err := os.MkdirAll(filepath.Dir(s.logPath), 0o755); err != nil {
			return nil, err
		}
		f, err := os.Create(s.logPath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		s.log = f
		res.Log = s.logPath
	}
	fmt.Fprintf(s.log, "cpk base build %s\nsuite %s, mirror %s, security %s\n", plan.Ref, plan.Suite, plan.Mirror, plan.SecurityMirror)
	obs := steps.Observers{steps.LogObserver{W: s.log}, progressObserver{w: progress}}
	err = steps.Run(ctx, b.steps(), s, obs)
	if s.tmp != "" {
		if rerr := removeTree(s.tmp); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		if s.logPath != "" {
			err = fmt.Errorf("%w (log: %s)", err, s.logPath)
		}
		return nil, err
	}
	res.Status = "built"
	res.Duration = time.Since(start)
	res.Seconds = res.Duration.Seconds()
	return res, b.record(o.StateDir, plan, res.ID)
}

func (b *Builder) record(stateDir string, p *Plan, id string) error {
	if stateDir == "" {
		return nil
	}
	rec := Record{Ref: p.Ref, ID: id, Suite: p.Suite, Hash: p.Hash, Created: time.Now().UTC()}
	for _, ca := range p.CAs {
		rec.CAs = append(rec.CAs, ca.Path)
	}
	data, _ := json.MarshalIndent(rec, "", "  ")
	return fsx.WriteFile(filepath.Join(stateDir, RecordFile), append(data, '\n'), 0o644)
}

func (b *Builder) steps() []steps.Step[state] {
	return []steps.Step[state]{
		{Name: "root filesystem", Run: b.rootfs},
		{Name: "conventions", Run: b.conventions},
	}
}

// rootfs makes the Debian root filesystem image unless it exists:
// debootstrap into a temporary folder, tar it, import it.
func (b *Builder) rootfs(ctx context.Context, s *state) error {
	p := s.plan
	if !s.opts.Force {
		_, err := b.Engine.InspectImage(ctx, p.RootfsRef)
		if err == nil {
			fmt.Fprintf(s.log, "%s exists\n", p.RootfsRef)
			return nil
		}
		if !errors.Is(err, engine.ErrNotFound) {
			return err
		}
	}
	if err := CanDebootstrap(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cpk-base-*")
	if err != nil {
		return err
	}
	s.tmp = tmp // removed by Build whatever happens
	root := filepath.Join(tmp, "rootfs")
	fmt.Fprintf(s.opts.progressOr(), "  debootstrap %s from %s (about 30 s)…\n", p.Suite, p.Mirror)
	if _, err := b.Runner.Run(ctx, engine.Command{Name: "debootstrap", Args: []string{"--variant=minbase", p.Suite, root, p.Mirror}, Output: s.log, Echo: true}); err != nil {
		return fmt.Errorf("debootstrap %s from %s: %w", p.Suite, p.Mirror, err)
	}
	// Downloaded packages and lists only make the image bigger.
	for _, dir := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		if err := clearDir(filepath.Join(root, dir)); err != nil {
			return err
		}
	}
	tarball := filepath.Join(tmp, "rootfs.tar")
	if _, err := b.Runner.Run(ctx, engine.Command{Name: "tar", Args: []string{"--numeric-owner", "-C", root, "-cf", tarball, "."}, Output: s.log, Echo: true}); err != nil {
		return fmt.Errorf("pack the root filesystem: %w", err)
	}
	fmt.Fprintf(s.opts.progressOr(), "  import %s\n", p.RootfsRef)
	id, err := b.Engine.ImportImage(ctx, engine.ImportSpec{
		Tarball: tarball, Ref: p.RootfsRef,
		Labels: map[string]string{LabelRootfs: p.Suite},
		Env:    []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd:    []string{"/bin/bash"},
	})
	if err != nil {
		return fmt.Errorf("import the root filesystem: %w", err)
	}
	fmt.Fprintf(s.log, "imported %s as %s\n", id, p.RootfsRef)
	return nil
}

func (o Options) progressOr() io.Writer {
	if o.Progress == nil {
		return io.Discard
	}
	return o.Progress
}

// conventions builds the embedded Dockerfile on the root filesystem and
// tags the result only once it is complete.
func (b *Builder) conventions(ctx context.Context, s *state) (err error) {
	p := s.plan
	rootfs, err := b.Engine.InspectImage(ctx, p.RootfsRef)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "cpk-base-context-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	alias, unalias, err := engine.Alias(ctx, b.Engine, rootfs.ID, "base-"+p.Suite)
	if err != nil {
		return err
	}
	defer func() {
		if uerr := unalias(context.WithoutCancel(ctx)); uerr != nil && err == nil {
			err = uerr
		}
	}()
	dockerfile := "FROM " + alias + "\n" + conventions
	files := map[string]string{"Dockerfile": dockerfile, "sources.list": p.sourcesList()}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "ca"), 0o755); err != nil {
		return err
	}
	for _, ca := range p.CAs {
		if err := os.WriteFile(filepath.Join(dir, "ca", ca.Name), ca.Data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.opts.progressOr(), "  build the conventions on %s (about a minute)…\n", p.RootfsRef)
	pw := &stepPrinter{w: s.opts.progressOr()}
	id, err := b.Engine.BuildImage(ctx, engine.BuildSpec{
		ContextDir: dir,
		Labels:     map[string]string{LabelBase: p.Suite, LabelHash: p.Hash},
		Output:     s.log,
		Progress:   pw.step,
		Owned:      []string{alias},
	})
	if err != nil {
		return err
	}
	if err := b.Engine.TagImage(ctx, id, p.Ref); err != nil {
		return err
	}
	s.res.ID = id
	fmt.Fprintf(s.log, "tagged %s as %s\n", id, p.Ref)
	return nil
}

type stepPrinter struct{ w io.Writer }

func (p *stepPrinter) step(n, total int) { fmt.Fprintf(p.w, "  step %d/%d\n", n, total) }

type progressObserver struct{ w io.Writer }

func (o progressObserver) StepStarted(name string) { fmt.Fprintf(o.w, "%s…\n", name) }
func (o progressObserver) StepEnded(name string, took time.Duration, err error) {
	if err == nil {
		fmt.Fprintf(o.w, "%s: done in %s\n", name, took.Round(100*time.Millisecond))
	}
}
func (o progressObserver) StepSkipped(name, reason string) {
	fmt.Fprintf(o.w, "%s: skipped (%s)\n", name, reason)
}

// CanDebootstrap says whether this machine can make a root filesystem.
func CanDebootstrap() error {
	if _, err := engine.LookPath("debootstrap"); err != nil {
		return engine.Unavailable(errors.New("debootstrap is not installed: apt-get install debootstrap"))
	}
	if os.Geteuid() != 0 {
		return engine.Unavailable(errors.New("debootstrap needs root: run cpk base build as root (or with sudo)"))
	}
	return nil
}

func clearDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() == "partial" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
