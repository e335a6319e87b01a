// Package ci decides what continuous integration must run for a catalog:
// which packages to lint, build and test (changed, unproven, spot-checked),
// split into shards balanced by the durations their evidence records; it
// writes the workflows that run that plan on a CI service, and checks the
// plan's branch flow (feature → integration → main) as gates.
package ci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/evidence"
	"cpk/internal/git"
)

// SharedInputs are the repository paths every package's image depends on:
// a change there changes every package's build, so every package is
// planned. (The base image's tag is a hash of its definition.)
var SharedInputs = []string{"cpk-build.yaml", "internal/base/"}

// Reasons a package is in the plan.
const (
	ReasonChanged  = "changed"          // files under apps/<id>/ changed since the base
	ReasonShared   = "shared input"     // a shared input changed (SharedInputs)
	ReasonMissing  = "evidence missing" // never proven: no test/evidence.json
	ReasonStale    = "evidence stale"   // proven for other content
	ReasonInvalid  = "evidence invalid" // edited by hand, or not a verifying test
	ReasonSpot     = "spot check"       // proven, re-checked by sample
	ReasonExplicit = "named"            // named on the command line
)

// DefaultSeconds is the duration assumed for a package whose evidence does
// not record one (a build and lifecycle test costs one to three minutes).
const DefaultSeconds = 150.0

// Options configure a plan.
type Options struct {
	Base   string // git ref to compare with; "" plans from evidence alone
	Shards int    // 1 when 0
	Spot   int    // proven packages to re-check by sample
	// Offline leaves out packages that wait for network access
	// (cpk.yaml needsNetwork): they cannot be built on this machine.
	Offline bool
	Shared  []string // SharedInputs when nil
}

// Item is one package to test.
type Item struct {
	App      string         `json:"app"`
	Reasons  []string       `json:"reasons"`
	Spot     bool           `json:"spotCheck,omitempty"`
	Evidence evidence.State `json:"evidence"`
	Seconds  float64        `json:"seconds"` // expected: the evidence's duration, else DefaultSeconds
}

// Skip is a package the plan leaves out, with the reason.
type Skip struct {
	App    string `json:"app"`
	Reason string `json:"reason"`
}

// Shard is one CI job's share of the tests.
type Shard struct {
	Index   int      `json:"index"` // 1-based
	Of      int      `json:"of"`
	Name    string   `json:"name"` // "i/N", as cpk test --shard takes it
	Apps    []string `json:"apps"`
	Seconds float64  `json:"seconds"`
}

// Plan is what CI must run.
type Plan struct {
	Commit string `json:"commit,omitempty"` // HEAD, which seeds the spot checks
	Base   string `json:"base,omitempty"`   // the base commit, resolved
	// Lint are the packages to lint and whose docs to check: every package
	// with files that changed, or whose evidence does not hold.
	Lint    []string `json:"lint"`
	Test    []Item   `json:"test"`
	Skipped []Skip   `json:"skipped"`
	Shards  []Shard  `json:"shards"`
	// Matrix is the shard names, as a CI matrix takes them.
	Matrix []string `json:"matrix"`
}

// Stale lists the packages whose committed evidence is stale or invalid:
// CI fails on them (the proof in the repository does not hold).
func (p *Plan) Stale() []Item {
	var out []Item
	for _, it := range p.Test {
		if it.Evidence == evidence.Stale || it.Evidence == evidence.Invalid || it.Evidence == evidence.Tampered {
			out = append(out, it)
		}
	}
	return out
}

// Apps lists the ids to test.
func (p *Plan) Apps() []string {
	out := make([]string, len(p.Test))
	for i, it := range p.Test {
		out[i] = it.App
	}
	return out
}

// Shard returns the shard with this 1-based index.
func (p *Plan) Shard(i int) (Shard, bool) {
	for _, s := range p.Shards {
		if s.Index == i {
			return s, true
		}
	}
	return Shard{}, false
}

// Testable reports whether an application is a package cpk test can run:
// files with a Dockerfile, not blocked or retired.
func Testable(a *catalog.App) bool {
	if a.State == cpk.Blocked || a.State == cpk.Retired {
		return false
	}
	_, err := os.Stat(filepath.Join(a.Dir, "Dockerfile"))
	return err == nil
}

// AppsOf maps repository paths apps/<id>/… (appsRel is the catalog's
// folder relative to the repository) to sorted, distinct ids; others is
// true when a path lies outside the catalog.
func AppsOf(files []string, appsRel string) (ids []string, others bool) {
	seen := map[string]bool{}
	for _, f := range files {
		rest, ok := strings.CutPrefix(f, appsRel+"/")
		if !ok {
			others = true
			continue
		}
		id, _, found := strings.Cut(rest, "/")
		if found && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, others
}

// ChangedApps lists the ids of the packages whose files differ from the
// git revision since: committed, staged, unstaged and untracked (ignored
// files excepted).
func ChangedApps(ctx context.Context, repo *git.Repo, appsDir, since string) ([]string, error) {
	appsRel, err := filepath.Rel(repo.Dir, appsDir)
	if err != nil {
		return nil, err
	}
	appsRel = filepath.ToSlash(appsRel)
	files, err := repo.Changed(ctx, since, appsRel)
	if err != nil {
		return nil, fmt.Errorf("files changed since %s: %w", since, err)
	}
	ids, _ := AppsOf(files, appsRel)
	return ids, nil
}

// Make computes the plan for a catalog in a repository.
func Make(ctx context.Context, repo *git.Repo, cat *catalog.Catalog, o Options) (*Plan, error) {
	if o.Shards < 1 {
		o.Shards = 1
	}
	if o.Shared == nil {
		o.Shared = SharedInputs
	}
	p := &Plan{Lint: []string{}, Test: []Item{}, Skipped: []Skip{}}
	head, err := repo.Head(ctx)
	if err != nil {
		return nil, err
	}
	p.Commit = head
	changed := map[string]bool{}
	shared := false
	if o.Base != "" {
		base, err := repo.RevParse(ctx, o.Base)
		if err != nil {
			return nil, err
		}
		p.Base = base
		appsRel, err := filepath.Rel(repo.Dir, cat.Dir)
		if err != nil {
			return nil, err
		}
		appsRel = filepath.ToSlash(appsRel)
		files, err := repo.Changed(ctx, base, append([]string{appsRel}, o.Shared...)...)
		if err != nil {
			return nil, fmt.Errorf("changes since %s: %w", o.Base, err)
		}
		var ids []string
		ids, shared = AppsOf(files, appsRel)
		for _, id := range ids {
			changed[id] = true
		}
	}
	var proven []Item
	for _, a := range cat.Apps {
		files, err := a.PackageFiles()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.ID, err)
		}
		if len(files) == 0 {
			continue
		}
		st := evidence.Check(a.Dir, "")
		it := Item{App: a.ID, Evidence: st.State, Seconds: DefaultSeconds}
		if st.Evidence != nil && st.Evidence.Seconds > 0 {
			it.Seconds = st.Evidence.Seconds
		}
		if changed[a.ID] {
			it.Reasons = append(it.Reasons, ReasonChanged)
		}
		if shared {
			it.Reasons = append(it.Reasons, ReasonShared)
		}
		switch st.State {
		case evidence.Missing:
			it.Reasons = append(it.Reasons, ReasonMissing)
		case evidence.Stale:
			it.Reasons = append(it.Reasons, ReasonStale)
		case evidence.Invalid, evidence.Tampered:
			it.Reasons = append(it.Reasons, ReasonInvalid)
		}
		if len(it.Reasons) > 0 {
			p.Lint = append(p.Lint, a.ID)
		}
		switch {
		case !Testable(a):
			if changed[a.ID] {
				p.Skipped = append(p.Skipped, Skip{a.ID, "no Dockerfile, or blocked or retired: lint only"})
			}
			continue
		case o.Offline && a.NeedsNetwork != "":
			if len(it.Reasons) > 0 {
				p.Skipped = append(p.Skipped, Skip{a.ID, "needs network access (" + a.NeedsNetwork + "): tested on a runner that reaches it"})
			}
			continue
		}
		if len(it.Reasons) > 0 {
			p.Test = append(p.Test, it)
		} else if st.State == evidence.Current {
			proven = append(proven, it)
		}
	}
	// The spot checks: a sample of proven packages that depends only on
	// the commit, so that every job of one CI run picks the same ones.
	sort.Slice(proven, func(i, j int) bool {
		return spotKey(head, proven[i].App) < spotKey(head, proven[j].App)
	})
	for _, it := range proven[:min(o.Spot, len(proven))] {
		it.Reasons, it.Spot = []string{ReasonSpot}, true
		p.Test = append(p.Test, it)
	}
	sort.SliceStable(p.Test, func(i, j int) bool { return p.Test[i].App < p.Test[j].App })
	p.Shards = Split(p.Test, o.Shards)
	for _, s := range p.Shards {
		p.Matrix = append(p.Matrix, s.Name)
	}
	return p, nil
}

func spotKey(commit, app string) string {
	sum := sha256.Sum256([]byte(commit + "\x00" + app))
	return hex.EncodeToString(sum[:])
}

// Split deals the items into n shards balanced by their expected seconds:
// longest first, each to the shard with the least work so far (ties to the
// lower index). Every shard exists, empty or not, so that a CI matrix of n
// jobs always finds its own.
func Split(items []Item, n int) []Shard {
	if n < 1 {
		n = 1
	}
	shards := make([]Shard, n)
	for i := range shards {
		shards[i] = Shard{Index: i + 1, Of: n, Name: fmt.Sprintf("%d/%d", i+1, n), Apps: []string{}}
	}
	sorted := slices.Clone(items)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Seconds != sorted[j].Seconds {
			return sorted[i].Seconds > sorted[j].Seconds
		}
		return sorted[i].App < sorted[j].App
	})
	for _, it := range sorted {
		best := 0
		for i := range shards {
			if shards[i].Seconds < shards[best].Seconds {
				best = i
			}
		}
		shards[best].Apps = append(shards[best].Apps, it.App)
		shards[best].Seconds += it.Seconds
	}
	for i := range shards {
		slices.Sort(shards[i].Apps)
	}
	return shards
}

// ParseShard reads "i/N" (1 ≤ i ≤ N).
func ParseShard(s string) (i, n int, err error) {
	if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err != nil || n < 1 || i < 1 || i > n || fmt.Sprintf("%d/%d", i, n) != s {
		return 0, 0, fmt.Errorf("--shard %q: use i/N with 1 ≤ i ≤ N, e.g. 2/4", s)
	}
	return i, n, nil
}
