package ci

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/evidence"
	"cpk/internal/git"
)

// sh runs a command in dir and fails the test on error.
func sh(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CPK_REQUIRE_ENGINE") != "" {
			t.Fatal("git is not installed (CPK_REQUIRE_ENGINE is set)")
		}
		t.Skip("git is not installed")
	}
}

// writePackage makes apps/<id> with a cpk.yaml and a Dockerfile.
func writePackage(t testing.TB, root, id, body string) {
	t.Helper()
	dir := filepath.Join(root, "apps", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("id: %s\nname: %s\nphase: 2\ncategory: dev-tools\n", id, id)
	for name, data := range map[string]string{"cpk.yaml": spec, "Dockerfile": "FROM scratch\n", "NOTES.md": body} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// prove writes current evidence for a package, its test lasting seconds.
func prove(t testing.TB, root, id string, seconds float64) {
	t.Helper()
	dir := filepath.Join(root, "apps", id)
	hash, err := evidence.ContentHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &evidence.Evidence{Schema: evidence.Schema, App: id, Version: "1.0.0", ContentHash: hash, Tested: "2026-12-06T00:00:00Z", Where: "emulated", Seconds: seconds}
	for _, s := range evidence.VerifiedSteps {
		e.Steps = append(e.Steps, evidence.Step{Name: s, Outcome: cpk.OutcomePassed, Seconds: 1})
	}
	if err := evidence.Write(dir, e); err != nil {
		t.Fatal(err)
	}
}

func commitAll(t testing.TB, root, msg string) {
	t.Helper()
	sh(t, root, "git", "add", "-A")
	sh(t, root, "git", "commit", "-q", "-m", msg)
}

func load(t testing.TB, root string) (*git.Repo, *catalog.Catalog) {
	t.Helper()
	repo, err := git.Open(context.Background(), root, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(filepath.Join(root, "apps"))
	if err != nil {
		t.Fatal(err)
	}
	return repo, cat
}

func testedApps(p *Plan) (changed, spot []string) {
	for _, it := range p.Test {
		if it.Spot {
			spot = append(spot, it.App)
		} else {
			changed = append(changed, it.App)
		}
	}
	return changed, spot
}

func TestPlanOnARealRepository(t *testing.T) {
	needGit(t)
	root := t.TempDir()
	sh(t, root, "git", "init", "-q", "-b", "main")
	for _, id := range []string{"alpha", "bravo", "charlie", "delta"} {
		writePackage(t, root, id, "# "+id+"\n")
		prove(t, root, id, 60)
	}
	commitAll(t, root, "four proven packages")
	// Commit 2 changes bravo and re-proves it; commit 3 changes charlie
	// and delta's notes without a new test.
	writePackage(t, root, "bravo", "# bravo, more\n")
	prove(t, root, "bravo", 90)
	commitAll(t, root, "bravo 1.0.1")
	writePackage(t, root, "charlie", "# charlie, edited\n")
	writePackage(t, root, "delta", "# delta, edited\n")
	commitAll(t, root, "charlie and delta edited")
	ctx := context.Background()
	repo, cat := load(t, root)

	// --base HEAD~1: exactly the packages the last commit changed, plus
	// the spot check, marked as such.
	p, err := Make(ctx, repo, cat, Options{Base: "HEAD~1", Spot: 1})
	if err != nil {
		t.Fatal(err)
	}
	changed, spot := testedApps(p)
	if !slices.Equal(changed, []string{"charlie", "delta"}) {
		t.Errorf("changed by the last commit: %v", changed)
	}
	if len(spot) != 1 || (spot[0] != "alpha" && spot[0] != "bravo") {
		t.Errorf("spot checks: %v (want one of the proven alpha, bravo)", spot)
	}
	for _, it := range p.Test {
		if it.App == "charlie" && !slices.Equal(it.Reasons, []string{ReasonChanged, ReasonStale}) {
			t.Errorf("charlie's reasons: %v", it.Reasons)
		}
	}
	if got := p.Stale(); len(got) != 2 {
		t.Errorf("stale evidence: %v", got)
	}
	// --base HEAD~2: bravo changed too, but its evidence holds.
	p, err = Make(ctx, repo, cat, Options{Base: "HEAD~2"})
	if err != nil {
		t.Fatal(err)
	}
	if changed, _ := testedApps(p); !slices.Equal(changed, []string{"bravo", "charlie", "delta"}) {
		t.Errorf("changed since HEAD~2: %v", changed)
	}
	// The same commit gives the same spot check on every machine; the
	// sample follows the commit.
	again, _ := Make(ctx, repo, cat, Options{Base: "HEAD~1", Spot: 1})
	if _, s := testedApps(again); !slices.Equal(s, spot) {
		t.Errorf("spot checks differ for the same commit: %v, %v", s, spot)
	}
	// A shared input changed: every package.
	if err := os.WriteFile(filepath.Join(root, "cpk-build.yaml"), []byte("buildArgs: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _ = Make(ctx, repo, cat, Options{Base: "HEAD"})
	if len(p.Test) != 4 {
		t.Errorf("after a shared input changed: %v", p.Apps())
	}
	// An uncommitted new package without evidence is planned.
	writePackage(t, root, "echo", "# echo\n")
	_, cat = load(t, root)
	p, _ = Make(ctx, repo, cat, Options{})
	if changed, _ := testedApps(p); !slices.Equal(changed, []string{"charlie", "delta", "echo"}) {
		t.Errorf("from evidence alone: %v", changed)
	}
}

func TestSplitBalancesByDuration(t *testing.T) {
	items := []Item{{App: "a", Seconds: 300}, {App: "b", Seconds: 200}, {App: "c", Seconds: 100}, {App: "d", Seconds: 100}, {App: "e", Seconds: 90}}
	shards := Split(items, 2)
	// Longest first to the least loaded: a, b, then c to b's shard, d to
	// a's, e to the lighter one.
	if !slices.Equal(shards[0].Apps, []string{"a", "d"}) || shards[0].Seconds != 400 || shards[1].Seconds != 390 {
		t.Errorf("unbalanced: %+v", shards)
	}
	// Every shard exists, even an empty one.
	if s := Split(items[:1], 3); len(s) != 3 || len(s[1].Apps) != 0 || s[2].Name != "3/3" {
		t.Errorf("three shards of one item: %+v", s)
	}
	for _, bad := range []string{"0/2", "3/2", "1/0", "a/b", "1/2x", ""} {
		if _, _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if i, n, err := ParseShard("2/4"); err != nil || i != 2 || n != 4 {
		t.Errorf("ParseShard(2/4) = %d, %d, %v", i, n, err)
	}
}

// BenchmarkPlan100 plans a catalog of 100 proven packages with 3 changed
// since the base, in 4 shards with 2 spot checks.
func BenchmarkPlan100(b *testing.B) {
	needGit(b)
	root := b.TempDir()
	sh(b, root, "git", "init", "-q", "-b", "main")
	for i := range 100 {
		id := fmt.Sprintf("app%03d", i)
		writePackage(b, root, id, strings.Repeat("notes line\n", 200))
		prove(b, root, id, float64(60+i))
	}
	commitAll(b, root, "100 packages")
	for i := range 3 {
		writePackage(b, root, fmt.Sprintf("app%03d", i*7), "# changed\n")
	}
	commitAll(b, root, "3 changed")
	ctx := context.Background()
	repo, _ := load(b, root)
	b.ResetTimer()
	for b.Loop() {
		cat, err := catalog.Load(filepath.Join(root, "apps"))
		if err != nil {
			b.Fatal(err)
		}
		p, err := Make(ctx, repo, cat, Options{Base: "HEAD~1", Shards: 4, Spot: 2})
		if err != nil || len(p.Test) != 5 {
			b.Fatalf("%v: %d", err, len(p.Test))
		}
	}
}

func TestAppsOf(t *testing.T) {
	ids, others := AppsOf([]string{"apps/grist/Dockerfile", "apps/grist/start.sh", "README.md", "apps/netbox/cpk.yaml", "apps/x", "", "apps/alpha/a/b"}, "apps")
	if !slices.Equal(ids, []string{"alpha", "grist", "netbox"}) || !others {
		t.Errorf("%v %v", ids, others)
	}
}
