package ci

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/lint/rules"
	"cpk/internal/status"
	"cpk/internal/testenv"
)

// TestProgressFollowsMainsHistory builds a catalog over a few commits and
// checks that each point of the progress counts the states of its commit,
// and that a fresh clone gives the same points, the last equal to the
// summary of cpk status.
func TestProgressFollowsMainsHistory(t *testing.T) {
	needGit(t)
	reg, err := rules.Registry()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	sh(t, root, "git", "init", "-q", "-b", "main")
	spec := func(id string) {
		os.MkdirAll(filepath.Join(root, "apps", id), 0o755)
		os.WriteFile(filepath.Join(root, "apps", id, "cpk.yaml"), []byte("id: "+id+"\nname: "+id+"\nphase: 2\ncategory: dev-tools\n"), 0o644)
	}
	spec("alpha")
	spec("beta")
	commitAll(t, root, "two planned applications")
	// alpha becomes a lint-clean package.
	testenv.CopyTree(t, filepath.Join("..", "lint", "rules", "testdata", "good"), filepath.Join(root, "apps", "alpha"))
	os.Remove(filepath.Join(root, "apps", "alpha", "want.txt"))
	commitAll(t, root, "alpha packaged")
	prove(t, root, "alpha", 30)
	commitAll(t, root, "alpha verified")
	os.WriteFile(filepath.Join(root, "README.md"), []byte("not the catalog\n"), 0o644)
	commitAll(t, root, "a commit outside the catalog")
	os.WriteFile(filepath.Join(root, "apps", "beta", "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	commitAll(t, root, "beta drafted")

	want := []map[cpk.State]int{
		{cpk.Planned: 2},
		{cpk.Planned: 1, cpk.Packaged: 1},
		{cpk.Planned: 1, cpk.Verified: 1},
		{cpk.Draft: 1, cpk.Verified: 1},
	}
	clone := filepath.Join(t.TempDir(), "clone")
	sh(t, root, "git", "clone", "-q", root, clone)
	ctx := context.Background()
	cache := t.TempDir()
	for _, dir := range []string{root, clone, clone} { // the clone twice: the second from the cache
		repo, cat := load(t, dir)
		points, err := Progress(ctx, repo, cat.Dir, HistoryOptions{Ref: "main", Rules: reg, Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		if len(points) != len(want) {
			t.Fatalf("%s: %d points, want %d (the commit outside the catalog is not one)", dir, len(points), len(want))
		}
		for i, p := range points {
			got := map[cpk.State]int{}
			for s, n := range p.States {
				if n > 0 {
					got[s] = n
				}
			}
			if !equalStates(got, want[i]) {
				t.Errorf("%s: point %d (%s): %v, want %v", dir, i, p.Subject, got, want[i])
			}
		}
		summary, err := status.Build(cat, status.Options{Rules: reg})
		if err != nil {
			t.Fatal(err)
		}
		last := points[len(points)-1].States
		for _, s := range cpk.States {
			if last[s] != summary.Total.States[s] {
				t.Errorf("%s: the last point's %s is %d, the summary's %d", dir, s, last[s], summary.Total.States[s])
			}
		}
	}
	if files, _ := filepath.Glob(filepath.Join(cache, "*.json")); len(files) != len(want) {
		t.Errorf("%d cached points, want %d", len(files), len(want))
	}
}

func equalStates(a, b map[cpk.State]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
