package ci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/docs"
	"cpk/internal/evidence"
	"cpk/internal/git"
	"cpk/internal/lint"
	"cpk/internal/manifest"
	"cpk/internal/status"
)

// The plan's branches.
const (
	Main          = "main"
	Integration   = "integration"
	FeaturePrefix = "feature/package-"
)

// FeatureBranch is the branch an application is developed on.
func FeatureBranch(app string) string { return FeaturePrefix + app }

// Gates are the branch flow's targets that have a gate.
var Gates = []string{Integration, Main}

// Item is one line of a gate's checklist.
type GateItem struct {
	App    string `json:"app,omitempty"` // "" for a line about the branch itself
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"` // what was found
	Fix    string `json:"fix,omitempty"`    // the command that fixes it, when not OK
}

// GateReport is a gate's checklist.
type GateReport struct {
	Gate   string     `json:"gate"`   // integration or main
	Branch string     `json:"branch"` // the branch checked ("" when detached)
	Base   string     `json:"base"`   // the commit compared with
	Apps   []string   `json:"apps"`   // the packages that differ from the base
	Items  []GateItem `json:"items"`
	Passed bool       `json:"passed"`
}

// GateOptions are a gate's inputs.
type GateOptions struct {
	Gate  string // integration or main
	Base  string // the ref compared with; the gate's target branch when ""
	Rules *lint.Registry
}

// Gate checks whether the current branch may merge into the gate's target.
//
// integration (run on a feature branch): every changed package is
// lint-clean, builds, has current evidence and current docs, and its build
// notes changed with its content.
//
// main (run on integration): every package that differs from main is
// verified, no quality level regressed, and every version bump has a
// changelog entry.
func Gate(ctx context.Context, repo *git.Repo, cat *catalog.Catalog, o GateOptions) (*GateReport, error) {
	if !slices.Contains(Gates, o.Gate) {
		return nil, fmt.Errorf("gate %q: one of %s", o.Gate, strings.Join(Gates, ", "))
	}
	base := o.Base
	if base == "" {
		base = o.Gate
	}
	target, err := repo.RevParse(ctx, base)
	if err != nil {
		return nil, err
	}
	// Compare with the fork point, so that work merged into the target
	// since does not count as this branch's change.
	if mb, err := repo.MergeBase(ctx, target, "HEAD"); err == nil {
		target = mb
	}
	branch, err := repo.Branch(ctx)
	if err != nil {
		return nil, err
	}
	r := &GateReport{Gate: o.Gate, Branch: branch, Base: target, Apps: []string{}, Items: []GateItem{}}
	appsRel, err := filepath.Rel(repo.Dir, cat.Dir)
	if err != nil {
		return nil, err
	}
	appsRel = filepath.ToSlash(appsRel)
	files, err := repo.Changed(ctx, target, appsRel)
	if err != nil {
		return nil, err
	}
	changed := map[string][]string{} // app → its changed files, relative to its folder
	for _, f := range files {
		rest, ok := strings.CutPrefix(f, appsRel+"/")
		if !ok {
			continue
		}
		id, rel, _ := strings.Cut(rest, "/")
		changed[id] = append(changed[id], rel)
	}
	want := map[string]string{Integration: FeaturePrefix + "*", Main: Integration}
	branchOK := branch != "" && (branch == want[o.Gate] || (o.Gate == Integration && strings.HasPrefix(branch, FeaturePrefix)))
	r.add(GateItem{Check: "runs on " + want[o.Gate], OK: branchOK, Detail: "on " + valueOr(branch, "a detached HEAD"),
		Fix: map[string]string{Integration: "cpk branch APP (then work on feature/package-APP)", Main: "git switch integration"}[o.Gate]})
	var sub []*catalog.App
	for _, a := range cat.Apps {
		if _, ok := changed[a.ID]; ok {
			r.Apps = append(r.Apps, a.ID)
			sub = append(sub, a)
		}
	}
	for id := range changed {
		if cat.App(id) == nil {
			if _, err := os.Stat(filepath.Join(cat.Dir, id)); err == nil {
				r.add(GateItem{App: id, Check: "in the catalog", Detail: "apps/" + id + " has no valid cpk.yaml", Fix: "cpk lint " + id})
			}
		}
	}
	if len(sub) == 0 {
		r.Passed = !slices.ContainsFunc(r.Items, func(it GateItem) bool { return !it.OK })
		return r, nil
	}
	now, err := status.Build(&catalog.Catalog{Dir: cat.Dir, Apps: sub}, status.Options{Rules: o.Rules})
	if err != nil {
		return nil, err
	}
	var before map[string]status.App
	if o.Gate == Main {
		if before, err = levelsAt(ctx, repo, appsRel, target, sub, o.Rules); err != nil {
			return nil, err
		}
	}
	for i, a := range sub {
		s := now.Apps[i]
		if o.Gate == Integration {
			r.integration(a, s, changed[a.ID])
		} else {
			r.main(ctx, repo, appsRel, target, a, s, before)
		}
	}
	r.Passed = !slices.ContainsFunc(r.Items, func(it GateItem) bool { return !it.OK })
	return r, nil
}

func (r *GateReport) add(it GateItem) {
	if it.OK {
		it.Fix = ""
	}
	r.Items = append(r.Items, it)
}

func (r *GateReport) integration(a *catalog.App, s status.App, files []string) {
	if s.Hash == "" {
		r.add(GateItem{App: a.ID, Check: "has package files", Detail: "only cpk.yaml", OK: true})
		return
	}
	r.add(GateItem{App: a.ID, Check: "lint-clean", OK: s.Errors == 0, Detail: fmt.Sprintf("%d error(s), %d warning(s)", s.Errors, s.Warnings), Fix: "cpk lint " + a.ID})
	proof := s.TestEvidence == evidence.Current
	r.add(GateItem{App: a.ID, Check: "builds", OK: proof, Detail: proofDetail(s, "its lifecycle test built it"), Fix: "cpk build " + a.ID + " && cpk test " + a.ID})
	r.add(GateItem{App: a.ID, Check: "current evidence", OK: proof, Detail: proofDetail(s, "test/evidence.json matches its content"),
		Fix: "cpk test " + a.ID + " && git add apps/" + a.ID + "/" + evidence.File + " && git commit"})
	r.add(GateItem{App: a.ID, Check: "current docs", OK: s.DocsCurrent, Detail: map[bool]string{true: "README.md is current", false: "README.md is missing or stale"}[s.DocsCurrent], Fix: "cpk docs " + a.ID})
	content := slices.ContainsFunc(files, func(f string) bool { return !slices.Contains(notContent, f) })
	notes := slices.Contains(files, "NOTES.md")
	detail := "NOTES.md changed with the package"
	switch {
	case !content:
		detail = "no package content changed"
	case !notes:
		detail = "the package changed, NOTES.md did not"
	}
	r.add(GateItem{App: a.ID, Check: "build notes changed with the content", OK: !content || notes, Detail: detail,
		Fix: "say in apps/" + a.ID + "/NOTES.md what changed and why"})
}

// notContent are the files of a package folder whose change needs no new
// build notes: the catalog entry, the notes and generated files.
var notContent = []string{catalog.SpecFile, "NOTES.md", docs.ReadmeFile, evidence.File}

func proofDetail(s status.App, ok string) string {
	if s.TestEvidence == evidence.Current {
		return ok
	}
	return s.EvidenceProblem
}

func (r *GateReport) main(ctx context.Context, repo *git.Repo, appsRel, target string, a *catalog.App, s status.App, before map[string]status.App) {
	if s.Hash == "" {
		return // only cpk.yaml: nothing to verify
	}
	r.add(GateItem{App: a.ID, Check: "verified", OK: s.State == cpk.Verified, Detail: fmt.Sprintf("%s; %s", s.State, proofDetail(s, "evidence current")),
		Fix: "cpk test " + a.ID + " on its feature branch, and merge its evidence"})
	if b, ok := before[a.ID]; ok {
		r.add(GateItem{App: a.ID, Check: "no quality level regressed", OK: s.Level >= b.Level,
			Detail: fmt.Sprintf("level %d %s on main, %d %s now", b.Level, b.LevelName, s.Level, s.LevelName), Fix: "cpk status (its levelEvidence says which need is lost)"})
	}
	old, _, _ := repo.Show(ctx, target, appsRel+"/"+a.ID+"/CloudronManifest.json")
	cur, _ := os.ReadFile(filepath.Join(a.Dir, "CloudronManifest.json"))
	from, to := manifestVersion(old), manifestVersion(cur)
	if to == "" || from == to {
		return
	}
	log, _ := os.ReadFile(filepath.Join(a.Dir, "CHANGELOG"))
	entry := changelogHas(log, to)
	what := fmt.Sprintf("version %s → %s", valueOr(from, "(new)"), to)
	r.add(GateItem{App: a.ID, Check: "the version bump has a changelog entry", OK: entry, Detail: what,
		Fix: fmt.Sprintf("add a [%s] section to apps/%s/CHANGELOG", to, a.ID)})
}

// levelsAt computes the quality levels of the packages as they are at a
// commit, from their files there (lint, docs and committed evidence).
func levelsAt(ctx context.Context, repo *git.Repo, appsRel, rev string, apps []*catalog.App, rules *lint.Registry) (map[string]status.App, error) {
	tmp, err := os.MkdirTemp("", "cpk-gate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var then []*catalog.App
	for _, a := range apps {
		if err := repo.Extract(ctx, rev, appsRel+"/"+a.ID, tmp); err != nil {
			return nil, err
		}
		dir := filepath.Join(tmp, filepath.FromSlash(appsRel), a.ID)
		if _, err := os.Stat(dir); err == nil {
			c := *a
			c.Dir, c.File = dir, filepath.Join(dir, catalog.SpecFile)
			then = append(then, &c)
		}
	}
	out := map[string]status.App{}
	if len(then) == 0 {
		return out, nil
	}
	rep, err := status.Build(&catalog.Catalog{Dir: filepath.Join(tmp, filepath.FromSlash(appsRel)), Apps: then}, status.Options{Rules: rules})
	if err != nil {
		return nil, err
	}
	for _, s := range rep.Apps {
		out[s.ID] = s
	}
	return out, nil
}

func manifestVersion(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	doc, errs := manifest.Decode(data)
	if len(errs) > 0 {
		return ""
	}
	return doc.Manifest().Version
}

// changelogHas reports whether a CHANGELOG has a section for a version:
// a line "[1.2.3]", "## [1.2.3]", "1.2.3" or "## 1.2.3 …".
func changelogHas(log []byte, version string) bool {
	for _, line := range bytes.Split(log, []byte("\n")) {
		l := strings.TrimSpace(strings.TrimLeft(string(line), "#* "))
		l = strings.TrimPrefix(l, "v")
		if l == "["+version+"]" || l == version || strings.HasPrefix(l, "["+version+"]") || strings.HasPrefix(l, version+" ") {
			return true
		}
	}
	return false
}

func valueOr(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// ErrNotOnMain is returned by Release off the main branch.
var ErrNotOnMain = errors.New("cpk release runs on main")

// Branch creates feature/package-APP from integration and switches to it,
// creating integration from main first when it is missing. It returns the
// branches it created.
func Branch(ctx context.Context, repo *git.Repo, app string) ([]string, error) {
	var created []string
	feature := FeatureBranch(app)
	if repo.HasBranch(ctx, feature) {
		return nil, fmt.Errorf("%s exists already: git switch %s", feature, feature)
	}
	if !repo.HasBranch(ctx, Integration) {
		if !repo.HasBranch(ctx, Main) {
			return nil, fmt.Errorf("neither %s nor %s exists: the branch flow starts from %s", Integration, Main, Main)
		}
		if err := repo.CreateBranch(ctx, Integration, Main); err != nil {
			return nil, err
		}
		created = append(created, Integration)
	}
	if err := repo.CreateBranch(ctx, feature, Integration); err != nil {
		return created, err
	}
	created = append(created, feature)
	return created, repo.Switch(ctx, feature)
}

// Release is one package's release: its tag and notes.
type Release struct {
	App     string `json:"app"`
	Version string `json:"version"`
	Tag     string `json:"tag"`
	Notes   string `json:"notes"`
	// Skipped says why a package with a new version is not released.
	Skipped string `json:"skipped,omitempty"`
}

// Tag is a package version's release tag.
func Tag(app, version string) string { return app + "/v" + version }

// Releases lists the packages whose manifest version has no release tag
// yet: each verified one with its tag and the notes of its CHANGELOG
// section; the others with the reason they are not released.
func Releases(ctx context.Context, repo *git.Repo, cat *catalog.Catalog) ([]Release, error) {
	tags, err := repo.Tags(ctx, "*/v*")
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, a := range cat.Apps {
		data, err := os.ReadFile(filepath.Join(a.Dir, "CloudronManifest.json"))
		if err != nil {
			continue // no package yet
		}
		v := manifestVersion(data)
		if v == "" || slices.Contains(tags, Tag(a.ID, v)) {
			continue
		}
		rel := Release{App: a.ID, Version: v, Tag: Tag(a.ID, v)}
		log, _ := os.ReadFile(filepath.Join(a.Dir, "CHANGELOG"))
		rel.Notes = changelogSection(log, v)
		if st := evidence.Check(a.Dir, ""); !st.Current() {
			rel.Skipped = "not verified: " + st.Problem
		}
		out = append(out, rel)
	}
	return out, nil
}

// changelogSection returns a CHANGELOG's section for a version, without its
// heading.
func changelogSection(log []byte, version string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(string(log), "\n") {
		if changelogHas([]byte(line), version) {
			in = true
			continue
		}
		l := strings.TrimSpace(strings.TrimLeft(line, "#* "))
		if in && strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			break
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return strings.TrimSpace(b.String())
}
