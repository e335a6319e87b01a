package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"cpk/internal/base"
	"cpk/internal/build"
	"cpk/internal/cpk"
	"cpk/internal/engine"
	"cpk/internal/fsx"
	"cpk/internal/git"
	"cpk/internal/manifest"
)

// Suite tests packages: it builds each (content-addressed: an unchanged
// package is not rebuilt), finds its previous version, runs the scenario
// and keeps a log per run under .cpk/test/<app>/.
type Suite struct {
	Engine    engine.Engine
	Runner    *engine.Runner // git
	Root      string         // the repository root (git)
	StateDir  string         // the repository's .cpk folder
	Mapping   base.Mapping
	BuildArgs map[string]string
	BaseImage string
	// From is a git ref whose package is the previous version (--from).
	From string
	// RequireUpdate fails a package whose update step has no previous
	// version to start from, rather than skipping the step.
	RequireUpdate bool
	Keep          bool
	HealthTimeout time.Duration
	Steps         []string
	Observer      Observer
	// Progress hears one line per preparation (build, previous version).
	Progress func(app, msg string)
	// Built hears the build of each package's current content (its
	// image, cached or new, or the failure), to record it.
	Built func(p Package, r *build.Result, started, finished time.Time)
	// Remote, when set, runs the scenario on that Cloudron through its
	// REST API (RunRemote) instead of the emulated runtime.
	Remote *Remote
}

// Package is the domain's package (cpk.Package): its id and folder.
type Package = cpk.Package

func (s *Suite) progress(app, format string, args ...any) {
	if s.Progress != nil {
		s.Progress(app, fmt.Sprintf(format, args...))
	}
}

// Test builds and tests one package.
func (s *Suite) Test(ctx context.Context, p Package) (*Result, error) {
	started := time.Now()
	fail := func(outcome cpk.Outcome, err error) (*Result, error) {
		r := &Result{App: p.ID, Outcome: outcome, Started: started, Finished: time.Now(), Error: err.Error()}
		r.Seconds = r.Finished.Sub(started).Seconds()
		if ctx.Err() != nil {
			r.Outcome = cpk.OutcomeCancelled
			return r, ctx.Err()
		}
		return r, nil
	}
	cur, err := s.version(ctx, p, "the working tree", s.Built)
	if err != nil {
		return fail(cpk.OutcomeFailed, err)
	}
	prev, why := s.previous(ctx, p, cur)
	if prev != nil {
		s.progress(p.ID, "previous version: %s (%s)", prev.Label, prev.Image)
	}
	dir := filepath.Join(s.StateDir, "test", p.ID)
	stamp := time.Now().UTC().Format("20060102-150405")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(cpk.OutcomeError, err)
	}
	logPath := filepath.Join(dir, stamp+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fail(cpk.OutcomeError, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "cpk test %s: image %s\n", p.ID, cur.Image)
	if s.Remote != nil {
		return s.testRemote(ctx, p, cur, prev, why, logf, logPath)
	}
	res, err := Run(ctx, Options{Engine: s.Engine, App: p.ID, Dir: p.Dir, Current: *cur, Previous: prev, NoPrevious: why, RequirePrevious: s.RequireUpdate,
		BaseImage: s.BaseImage, StateDir: filepath.Join(dir, "run-"+stamp), Keep: s.Keep, HealthTimeout: s.HealthTimeout,
		Steps: s.Steps, Log: logf, Observer: s.Observer})
	if res != nil {
		res.Log = logPath
		if res.Outcome == cpk.OutcomePassed {
			if rerr := s.remember(dir, cur); rerr != nil {
				fmt.Fprintf(logf, "cannot record this version: %v\n", rerr)
			}
		}
	}
	if !s.Keep {
		os.RemoveAll(filepath.Join(dir, "run-"+stamp))
	}
	return res, err
}

// Current builds the package's current content (cached when unchanged)
// and returns its image and manifest.
func (s *Suite) Current(ctx context.Context, p Package) (*Version, error) {
	return s.version(ctx, p, "the working tree", s.Built)
}

// version builds the package in dir and returns its image and manifest;
// built, when set, hears how the build went.
func (s *Suite) version(ctx context.Context, p Package, label string, built func(Package, *build.Result, time.Time, time.Time)) (*Version, error) {
	raw, err := os.ReadFile(filepath.Join(p.Dir, "CloudronManifest.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	doc, errs := manifest.Decode(raw)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: CloudronManifest.json: %v", label, errs[0])
	}
	s.progress(p.ID, "build (%s)", label)
	started := time.Now()
	var results []*build.Result
	for try := 0; ; try++ {
		results, err = build.Build(ctx, []build.Package{{ID: p.ID, Dir: p.Dir}}, build.Options{Engine: s.Engine, StateDir: s.StateDir, Mapping: s.Mapping, BuildArgs: s.BuildArgs})
		// Podman 4 fails a listing when another process removes an image
		// meanwhile ("image not known"): ask again.
		if err == nil || try == 2 || ctx.Err() != nil || !strings.Contains(err.Error(), "image not known") {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return nil, err
	}
	r := results[0]
	if built != nil {
		built(p, r, started, time.Now())
	}
	if r.Status == build.Failed || r.Status == build.Cancelled {
		msg := r.Error
		if r.Log != "" {
			msg += " (log: " + r.Log + ")"
		}
		return nil, fmt.Errorf("build of %s failed: %s", label, msg)
	}
	m := doc.Manifest()
	if m.Version != "" {
		label += " " + m.Version
	}
	return &Version{Image: r.Image, Manifest: m, Raw: raw, Label: strings.TrimSpace(label), Dir: p.Dir}, nil
}

// versionRecord is a version that passed the whole test, kept in
// .cpk/test/<app>/versions/: a later test updates from it.
type versionRecord struct {
	Image    string          `json:"image"`
	Label    string          `json:"label"`
	Manifest json.RawMessage `json:"manifest"`
	Tested   time.Time       `json:"tested"`
}

func (s *Suite) remember(dir string, v *Version) error {
	rec := versionRecord{Image: v.Image, Label: v.Label, Manifest: json.RawMessage(v.Raw), Tested: time.Now().UTC()}
	if !json.Valid(rec.Manifest) {
		return errors.New("the manifest is not valid JSON")
	}
	data, _ := json.MarshalIndent(rec, "", "  ")
	name := strings.ReplaceAll(v.Image[strings.LastIndex(v.Image, ":")+1:], "/", "_")
	return fsx.WriteFile(filepath.Join(dir, "versions", name+".json"), append(data, '\n'), 0o644)
}

// previous finds the version the update step starts from: the package at
// --from; else the package at the newest commit where its version is lower
// (git: the version users update from, and what the evidence can name);
// else the newest earlier version that passed a test here, with a lower
// manifest version and whose image still exists (a package not yet in
// git). Without one, it says why.
func (s *Suite) previous(ctx context.Context, p Package, cur *Version) (*Version, string) {
	if s.From != "" {
		v, err := s.atRef(ctx, p, s.From)
		if err != nil {
			return nil, fmt.Sprintf("--from %s: %v", s.From, err)
		}
		return v, ""
	}
	ref, gitErr := s.previousCommit(ctx, p, cur)
	if gitErr == nil && ref != "" {
		v, err := s.atRef(ctx, p, ref)
		if err != nil {
			return nil, fmt.Sprintf("the previous version at %s: %v", ref, err)
		}
		return v, ""
	}
	v, passedOver := s.earlierImage(ctx, p, cur)
	if v != nil {
		return v, ""
	}
	why := "no previous version: no commit of the package with a lower version and no earlier tested image; give --from REF"
	if gitErr != nil {
		why += " (" + gitErr.Error() + ")"
	}
	if len(passedOver) > 0 {
		why += "; earlier tested images passed over: " + strings.Join(passedOver, "; ")
	}
	return nil, why
}

// earlierImage is the newest earlier version that passed a test here, has
// a lower manifest version and whose image still exists; why says what it
// passed over, for the message when none is left.
func (s *Suite) earlierImage(ctx context.Context, p Package, cur *Version) (v *Version, why []string) {
	files, _ := filepath.Glob(filepath.Join(s.StateDir, "test", p.ID, "versions", "*.json"))
	var recs []versionRecord
	for _, f := range files {
		data, err := os.ReadFile(f)
		var r versionRecord
		if err == nil && json.Unmarshal(data, &r) == nil && r.Image != cur.Image {
			recs = append(recs, r)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Tested.After(recs[j].Tested) })
	for _, r := range recs {
		if _, err := s.Engine.InspectImage(ctx, r.Image); err != nil {
			why = append(why, fmt.Sprintf("%s: %v", r.Image, err))
			continue
		}
		doc, errs := manifest.Decode(r.Manifest)
		if len(errs) > 0 {
			why = append(why, fmt.Sprintf("%s: its manifest: %v", r.Image, errs[0]))
			continue
		}
		// An update goes to a higher version: an earlier image of the same
		// (or a later) version is not where users update from.
		prev := doc.Manifest().Version
		if c, ok := manifest.CompareVersions(prev, cur.Manifest.Version); !ok || c >= 0 {
			why = append(why, fmt.Sprintf("%s: version %s is not below %s", r.Image, prev, cur.Manifest.Version))
			continue
		}
		return &Version{Image: r.Image, Manifest: doc.Manifest(), Raw: r.Manifest, Label: "earlier tested " + r.Label}, nil
	}
	return nil, why
}

func (s *Suite) repo() *git.Repo { return &git.Repo{Dir: s.Root, Runner: s.Runner} }

// previousCommit is the newest commit in which the package has a lower
// manifest version than the current one (the working tree's): the version
// users update from. Commits that change the package without a version
// bump are passed over, as is a commit whose manifest does not parse.
func (s *Suite) previousCommit(ctx context.Context, p Package, cur *Version) (string, error) {
	rel, err := filepath.Rel(s.Root, p.Dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", nil
	}
	rel = filepath.ToSlash(rel)
	repo := s.repo()
	commits, err := repo.Commits(ctx, "HEAD", rel)
	if err != nil {
		return "", err
	}
	for _, c := range commits {
		raw, found, err := repo.Show(ctx, c, rel+"/CloudronManifest.json")
		if err != nil || !found {
			continue // the package did not have a manifest there
		}
		doc, errs := manifest.Decode(raw)
		if len(errs) > 0 {
			continue
		}
		if cmp, ok := manifest.CompareVersions(doc.Manifest().Version, cur.Manifest.Version); ok && cmp < 0 {
			if repo.Exists(ctx, c, rel+"/Dockerfile") {
				return c, nil
			}
		}
	}
	return "", nil
}

// atRef builds the package as it was at a git ref.
func (s *Suite) atRef(ctx context.Context, p Package, ref string) (*Version, error) {
	rel, err := filepath.Rel(s.Root, p.Dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("%s is outside the repository", p.Dir)
	}
	repo := s.repo()
	if !repo.Exists(ctx, ref, filepath.ToSlash(rel)) {
		return nil, fmt.Errorf("%s has no %s", ref, filepath.ToSlash(rel))
	}
	tree := filepath.Join(s.StateDir, "test", p.ID, "from", strings.NewReplacer("/", "_", "^", "-parent", "~", "-").Replace(ref))
	if err := os.RemoveAll(tree); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(tree, 0o755); err != nil {
		return nil, err
	}
	if err := repo.Extract(ctx, ref, filepath.ToSlash(rel), tree); err != nil {
		return nil, err
	}
	return s.version(ctx, Package{ID: p.ID, Dir: filepath.Join(tree, rel)}, ref, nil)
}

// testRemote runs the scenario on the Suite's Cloudron.
func (s *Suite) testRemote(ctx context.Context, p Package, cur, prev *Version, why string, logf io.Writer, logPath string) (*Result, error) {
	started := time.Now()
	fail := func(err error) (*Result, error) {
		r := &Result{App: p.ID, Outcome: cpk.OutcomeError, Started: started, Finished: time.Now(), Error: err.Error(), Log: logPath}
		if ctx.Err() != nil {
			r.Outcome = cpk.OutcomeCancelled
			return r, ctx.Err()
		}
		return r, nil
	}
	curImage, err := s.Remote.Image(ctx, p, cur, true)
	if err != nil {
		return fail(err)
	}
	o := RemoteOptions{Remote: *s.Remote, App: p.ID, Dir: p.Dir, Current: *cur, CurrentImage: curImage, Previous: prev, NoPrevious: why,
		RequirePrevious: s.RequireUpdate, HealthTimeout: s.HealthTimeout, Steps: s.Steps, Log: logf, Observer: s.Observer}
	if prev != nil {
		img, err := s.Remote.Image(ctx, p, prev, false)
		if err != nil {
			o.Previous, o.NoPrevious = nil, fmt.Sprintf("the previous version %s: %v", prev.Label, err)
		} else {
			o.PreviousImage = img
		}
	}
	fmt.Fprintf(logf, "on the Cloudron at %s: image %s\n", s.Remote.Client.Server(), curImage)
	res, err := RunRemote(ctx, o)
	if res != nil {
		res.Log = logPath
	}
	return res, err
}
