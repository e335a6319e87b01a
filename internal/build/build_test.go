package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cpk/internal/base"
	"cpk/internal/cpk"
	"cpk/internal/engine"
	"cpk/internal/engine/enginetest"
)

const localBase = base.Repo + ":bookworm-0123456789ab"

const pinnedFrom = "FROM cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c\n"

// pkg writes a package folder with a Dockerfile and a file.
func pkg(t *testing.T, root, id, dockerfile, content string) Package {
	t.Helper()
	dir := filepath.Join(root, "apps", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644)
	os.WriteFile(filepath.Join(dir, "start.sh"), []byte(content), 0o755)
	os.WriteFile(filepath.Join(dir, "cpk.yaml"), []byte("id: "+id+"\n"), 0o644)
	return Package{ID: id, Dir: dir}
}

func options(f *enginetest.Fake, state string) Options {
	return Options{Engine: f, StateDir: state, Jobs: 2, Mapping: base.Mapping{Offline: true, LocalRef: localBase}}
}

func TestContentHash(t *testing.T) {
	h := ContentHash("files", []string{"0=" + localBase}, map[string]string{"B": "2", "A": "1"})
	if h != ContentHash("files", []string{"0=" + localBase}, map[string]string{"A": "1", "B": "2"}) {
		t.Error("the order of build args must not matter")
	}
	for name, other := range map[string]string{
		"files":      ContentHash("files2", []string{"0=" + localBase}, map[string]string{"A": "1", "B": "2"}),
		"base":       ContentHash("files", []string{"0=" + base.Repo + ":bookworm-ffffffffffff"}, map[string]string{"A": "1", "B": "2"}),
		"build args": ContentHash("files", []string{"0=" + localBase}, map[string]string{"A": "1", "B": "3"}),
	} {
		if other == h {
			t.Errorf("%s do not change the hash", name)
		}
	}
	if got := Tag("grist", h); got != "localhost/cpk/grist:"+h[:16] {
		t.Errorf("tag %s", got)
	}
}

func TestFilesDigest(t *testing.T) {
	root := t.TempDir()
	p := pkg(t, root, "a", pinnedFrom, "echo hi")
	d0, err := filesDigest(p.Dir)
	if err != nil {
		t.Fatal(err)
	}
	change := func(what string, f func()) {
		t.Helper()
		f()
		d, err := filesDigest(p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if d == d0 {
			t.Errorf("%s does not change the digest", what)
		}
		d0 = d
	}
	same := func(what string, f func()) {
		t.Helper()
		f()
		if d, _ := filesDigest(p.Dir); d != d0 {
			t.Errorf("%s changes the digest", what)
		}
	}
	same("cpk.yaml", func() { os.WriteFile(filepath.Join(p.Dir, "cpk.yaml"), []byte("id: a\ntier: 1\n"), 0o644) })
	same(".git", func() {
		os.MkdirAll(filepath.Join(p.Dir, ".git"), 0o755)
		os.WriteFile(filepath.Join(p.Dir, ".git", "HEAD"), []byte("x"), 0o644)
	})
	same("a file's time", func() { os.Chtimes(filepath.Join(p.Dir, "start.sh"), timeZero, timeZero) })
	change("content", func() { os.WriteFile(filepath.Join(p.Dir, "start.sh"), []byte("echo ho"), 0o755) })
	change("the executable bit", func() { os.Chmod(filepath.Join(p.Dir, "start.sh"), 0o644) })
	change(".dockerignore", func() { os.WriteFile(filepath.Join(p.Dir, ".dockerignore"), []byte("*.md"), 0o644) })
	change("a new file in a folder", func() {
		os.MkdirAll(filepath.Join(p.Dir, "conf"), 0o755)
		os.WriteFile(filepath.Join(p.Dir, "conf", "x"), nil, 0o644)
	})
	change("a symlink", func() { os.Symlink("start.sh", filepath.Join(p.Dir, "run")) })
	change("a rename", func() { os.Rename(filepath.Join(p.Dir, "conf", "x"), filepath.Join(p.Dir, "conf", "y")) })
}

// TestHostilePackagesFailAlone: a package holding a FIFO, a link out of it
// or to a device, a dangling link or a file over the read limit, or whose
// cpk.yaml cannot be read, fails with each problem named, without the
// engine building it or a read that hangs; the other packages are built.
func TestHostilePackagesFailAlone(t *testing.T) {
	root := t.TempDir()
	f := enginetest.New()
	f.AddImage(localBase, nil)
	good := pkg(t, root, "good", pinnedFrom+"COPY start.sh /app/code/\n", "echo hi")
	os.Symlink("start.sh", filepath.Join(good.Dir, "run")) // a link within the package is fine
	bad := pkg(t, root, "bad", pinnedFrom, "echo hi")
	if err := syscall.Mkfifo(filepath.Join(bad.Dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.Symlink("/dev/zero", filepath.Join(bad.Dir, "zero"))
	os.Symlink("/etc", filepath.Join(bad.Dir, "conf"))
	os.Symlink("nowhere", filepath.Join(bad.Dir, "dangling"))
	big, _ := os.Create(filepath.Join(bad.Dir, "big.bin"))
	big.Truncate(1 << 30) // sparse
	big.Close()
	fifoDockerfile := pkg(t, root, "fifo", pinnedFrom, "echo hi")
	os.Remove(filepath.Join(fifoDockerfile.Dir, "Dockerfile"))
	syscall.Mkfifo(filepath.Join(fifoDockerfile.Dir, "Dockerfile"), 0o644)
	broken := pkg(t, root, "broken", pinnedFrom, "echo hi")
	broken.EntryProblems = []cpk.EntryProblem{{File: "cpk.yaml", Line: 1, Message: "did not find expected ']'"}}

	res, err := Build(context.Background(), []Package{good, bad, fifoDockerfile, broken}, options(f, filepath.Join(root, ".cpk")))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != Built {
		t.Errorf("good: %s %v", res[0].Status, res[0].Err)
	}
	for i, want := range [][]string{
		1: {"pipe is not a regular file", "zero is a symbolic link that leaves", "conf is a symbolic link that leaves", "dangling is a symbolic link", "big.bin has 1073741824 bytes", "PK010"},
		2: {"Dockerfile is not a regular file"},
		3: {"cpk.yaml is not a valid catalog entry (CY001, line 1: did not find expected ']')"},
	} {
		if i == 0 {
			continue
		}
		if res[i].Status != Failed {
			t.Errorf("%s: %s", res[i].App, res[i].Status)
		}
		for _, w := range want {
			if !strings.Contains(res[i].Error, w) {
				t.Errorf("%s: %q does not say %q", res[i].App, res[i].Error, w)
			}
		}
	}
	if f.Count("build") != 1 {
		t.Errorf("%d builds, want the good package's only", f.Count("build"))
	}
}

// The cheap check: one image listing for the whole catalog, no inspect
// for packages FROM the local base, nothing built.
func TestCheckListsImagesOnce(t *testing.T) {
	root := t.TempDir()
	f := enginetest.New()
	f.AddImage(localBase, nil)
	var pkgs []Package
	for i := 0; i < 10; i++ {
		pkgs = append(pkgs, pkg(t, root, fmt.Sprintf("app%d", i), pinnedFrom+"COPY start.sh /app/code/\n", fmt.Sprint(i)))
	}
	o := options(f, filepath.Join(root, ".cpk"))
	res, err := Build(context.Background(), pkgs, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != Built {
			t.Fatalf("%s: %s %v", r.App, r.Status, r.Err)
		}
	}
	f.Reset()
	planned, err := Check(context.Background(), pkgs, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range planned {
		if !p.UpToDate {
			t.Errorf("%s is not up to date", p.ID)
		}
	}
	if !reflect.DeepEqual(f.Calls, []string{"images"}) {
		t.Errorf("the check asked the engine %v", f.Calls)
	}
	res, err = Build(context.Background(), pkgs, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != Cached || r.Digest == "" {
			t.Errorf("%s: %s", r.App, r.Status)
		}
	}
	if f.Count("build") != 0 {
		t.Errorf("%d builds for an unchanged catalog", f.Count("build"))
	}
	// One changed package: one build.
	os.WriteFile(filepath.Join(pkgs[3].Dir, "start.sh"), []byte("changed"), 0o755)
	f.Reset()
	res, _ = Build(context.Background(), pkgs, o)
	if f.Count("build") != 1 || res[3].Status != Built {
		t.Errorf("after one change: %d builds, app3 %s", f.Count("build"), res[3].Status)
	}
	// --force builds everything.
	f.Reset()
	o.Force = true
	Build(context.Background(), pkgs, o)
	if f.Count("build") != len(pkgs) {
		t.Errorf("force: %d builds", f.Count("build"))
	}
}

func TestBuildTagsOnlyAfterSuccessAndCleansUp(t *testing.T) {
	root := t.TempDir()
	state := filepath.Join(root, ".cpk")
	f := enginetest.New()
	baseID := f.AddImage(localBase, nil)
	good := pkg(t, root, "good", pinnedFrom+"COPY start.sh /app/code/\n", "ok")
	bad := pkg(t, root, "bad", pinnedFrom+"RUN false\n", "ok")
	f.BuildFunc = func(_ context.Context, spec engine.BuildSpec) (string, error) {
		df, _ := os.ReadFile(spec.Dockerfile)
		if len(spec.Owned) != 1 || !strings.Contains(string(df), "FROM "+spec.Owned[0]+"\n") {
			t.Errorf("the build does not start FROM its own alias: %v\n%s", spec.Owned, df)
		}
		if spec.Labels[LabelApp] == "" || spec.Labels[LabelContent] == "" || spec.Labels[LabelBaseDigest] != baseID {
			t.Errorf("labels %v", spec.Labels)
		}
		if strings.Contains(string(df), "RUN false") {
			fmt.Fprintln(spec.Output, "the command '/bin/sh -c false' failed")
			return "", errors.New("podman build: exit status 1")
		}
		return "sha256:" + strings.Repeat("a", 64), nil
	}
	var mu sync.Mutex
	var events []string
	o := options(f, state)
	o.Events = func(ev Event) {
		mu.Lock()
		events = append(events, ev.App+" "+string(ev.Status))
		mu.Unlock()
	}
	res, err := Build(context.Background(), []Package{good, bad}, o)
	if err != nil {
		t.Fatal(err)
	}
	g, b := res[0], res[1]
	if g.Status != Built || g.Digest == "" || g.BaseDigest != baseID || !strings.HasPrefix(g.Image, "localhost/cpk/good:") {
		t.Errorf("good: %+v", g)
	}
	if b.Status != Failed || !strings.Contains(b.Error, "exit status 1") || b.Log == "" || len(b.Tail) == 0 {
		t.Errorf("bad: %+v", b)
	}
	if !strings.Contains(strings.Join(b.Tail, "\n"), "'/bin/sh -c false' failed") {
		t.Errorf("the tail lacks the build's output: %q", b.Tail)
	}
	if tags := f.Tags(); !reflect.DeepEqual(tags, []string{localBase, g.Image}) {
		t.Errorf("tags after the builds (no alias, no tag for the failure): %v", tags)
	}
	// The package's Dockerfile is untouched; the mapped copy is in .cpk.
	if df, _ := os.ReadFile(filepath.Join(good.Dir, "Dockerfile")); string(df) != pinnedFrom+"COPY start.sh /app/code/\n" {
		t.Errorf("the package's Dockerfile changed: %s", df)
	}
	var rec Record
	data, err := os.ReadFile(filepath.Join(state, "build", "good", g.Content[:16]+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonUnmarshal(data, &rec); err != nil || rec.BaseDigest != baseID || rec.Digest != g.Digest || rec.Bases[0].Identity != localBase {
		t.Errorf("record %+v %v", rec, err)
	}
	log, _ := os.ReadFile(g.Log)
	for _, want := range []string{"== resolve base images", "== build done", "tagged "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	for _, want := range []string{"good queued", "good building", "good built", "bad failed"} {
		if !contains(events, want) {
			t.Errorf("no event %q in %v", want, events)
		}
	}
}

func TestBuildWithoutLocalBase(t *testing.T) {
	root := t.TempDir()
	f := enginetest.New()
	p := pkg(t, root, "app", pinnedFrom, "x")
	res, err := Build(context.Background(), []Package{p}, options(f, filepath.Join(root, ".cpk")))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != Failed || !errors.Is(res[0].Err, base.ErrMissing) || !strings.Contains(res[0].Error, "cpk base build") {
		t.Errorf("%+v", res[0])
	}
	if f.Count("build") != 0 {
		t.Error("built without a base")
	}
}

func TestCancelledBuild(t *testing.T) {
	root := t.TempDir()
	f := enginetest.New()
	f.AddImage(localBase, nil)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	f.BuildFunc = func(ctx context.Context, spec engine.BuildSpec) (string, error) {
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	}
	var pkgs []Package
	for i := 0; i < 3; i++ {
		pkgs = append(pkgs, pkg(t, root, fmt.Sprintf("app%d", i), pinnedFrom+"RUN sleep 1000\n", fmt.Sprint(i)))
	}
	o := options(f, filepath.Join(root, ".cpk"))
	o.Jobs = 1
	go func() { <-started; cancel() }()
	res, err := Build(ctx, pkgs, o)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	for _, r := range res {
		if r.Status != Cancelled {
			t.Errorf("%s: %s", r.App, r.Status)
		}
	}
	if tags := f.Tags(); !reflect.DeepEqual(tags, []string{localBase}) {
		t.Errorf("tags left: %v", tags)
	}
}

func TestPackagesOfOtherBases(t *testing.T) {
	root := t.TempDir()
	f := enginetest.New()
	debID := f.AddImage("debian:bookworm", nil)
	p := pkg(t, root, "deb", "FROM debian:bookworm\n", "x")
	q := pkg(t, root, "remote", "FROM registry.example/app@sha256:"+strings.Repeat("b", 64)+"\n", "x")
	o := options(f, filepath.Join(root, ".cpk"))
	planned, err := Check(context.Background(), []Package{p, q}, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := planned[0].bases[0].Identity; got != debID {
		t.Errorf("an unpinned local image counts by its id: %s", got)
	}
	if got := planned[1].bases[0].Identity; got != "registry.example/app@sha256:"+strings.Repeat("b", 64) {
		t.Errorf("a pinned image counts as written: %s", got)
	}
	if f.Count("inspect") != 1 {
		t.Errorf("inspects: %v", f.Calls)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	if c, err := LoadConfig(dir); err != nil || c.Offline {
		t.Errorf("missing file: %+v %v", c, err)
	}
	write := func(s string) { os.WriteFile(filepath.Join(dir, ConfigFile), []byte(s), 0o644) }
	write("offline: true\njobs: 3\nmap:\n  cloudron/base: local\nbuildArgs:\n  A: b\n")
	c, err := LoadConfig(dir)
	if err != nil || !c.Offline || c.Jobs != 3 || c.Map["cloudron/base"] != "local" || c.BuildArgs["A"] != "b" {
		t.Errorf("%+v %v", c, err)
	}
	for _, bad := range []string{"ofline: true\n", "map:\n  cloudron/base:5.0.0: local\n", "jobs: -1\n", "map:\n  x: \"\"\n"} {
		write(bad)
		if _, err := LoadConfig(dir); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	write("")
	if _, err := LoadConfig(dir); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var timeZero = time.Unix(0, 0)

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
