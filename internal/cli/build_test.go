package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/base/basetest"
	"cpk/internal/build"
	"cpk/internal/engine"
	"cpk/internal/testenv"
)

// fixtureRepo makes a repository with the build fixture as apps/<id>.
func fixtureRepo(t *testing.T, ids ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, id := range ids {
		addFixture(t, root, id)
	}
	return root
}

func addFixture(t *testing.T, root, id string) {
	t.Helper()
	src := filepath.Join("..", "build", "testdata", "hello")
	dst := filepath.Join(root, "apps", id)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "cpk.yaml" {
			data = []byte(strings.Replace(string(data), "id: hello", "id: "+id, 1))
		}
		info, _ := d.Info()
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBuildUsage(t *testing.T) {
	root := fixtureRepo(t, "hello")
	for _, args := range [][]string{
		{"build"},
		{"build", "--all", "hello"},
		{"build", "--all", "--changed"},
		{"build", "--since", "HEAD~1", "--all"},
		{"build", "nosuchapp"},
		{"build", "-j", "0", "--all"},
		{"build", "--all", "--build-arg", "NOEQUALS"},
		{"build", "--all", "--format", "yaml"},
		{"base", "build", "--no-host-ca", "--ca-file", "x.crt"},
		{"doctor", "--format", "yaml"},
	} {
		if _, errOut, code := run(t, root, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
	os.WriteFile(filepath.Join(root, build.ConfigFile), []byte("offlin: true\n"), 0o644)
	if _, errOut, code := run(t, root, "", "build", "--all"); code != ExitUsage || !strings.Contains(errOut, "offlin") {
		t.Errorf("a bad cpk-build.yaml: exit %d %s", code, errOut)
	}
}

func TestNoEngineIsAnEnvironmentProblem(t *testing.T) {
	root := fixtureRepo(t, "hello")
	t.Setenv("CPK_ENGINE", filepath.Join(t.TempDir(), "podman"))
	_, errOut, code := run(t, root, "", "build", "--all")
	if code != ExitEnvironment || !strings.Contains(errOut, "not installed") {
		t.Errorf("build: exit %d: %s", code, errOut)
	}
	out, _, code := run(t, root, "", "doctor")
	if code != ExitEnvironment || !strings.Contains(out, "fail\tengine") || !strings.Contains(out, "fix: ") {
		t.Errorf("doctor: exit %d:\n%s", code, out)
	}
	out, _, code = run(t, root, "", "doctor", "--format", "json")
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct{ Name, Status, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.OK || code != ExitEnvironment || rep.Checks[0].Status != "fail" || rep.Checks[0].Fix == "" {
		t.Errorf("doctor json: exit %d %v %+v", code, err, rep)
	}
}

func TestBuildDisplay(t *testing.T) {
	pkgs := []build.Package{{ID: "alpha"}, {ID: "beta"}, {ID: "gamma"}}
	events := []build.Event{
		{App: "alpha", Status: build.Queued}, {App: "beta", Status: build.Queued}, {App: "gamma", Status: build.Queued},
		{App: "gamma", Status: build.Cached, Result: &build.Result{Status: build.Cached}},
		{App: "alpha", Status: build.Building},
		{App: "alpha", Status: build.Building, Step: 2, Total: 5},
		{App: "alpha", Status: build.Built, Result: &build.Result{Image: "localhost/cpk/alpha:0123", Seconds: 1.5}},
		{App: "beta", Status: build.Building},
		{App: "beta", Status: build.Failed, Result: &build.Result{Log: "/r/.cpk/build/beta/x.log", Seconds: 0.5}},
	}
	var plain bytes.Buffer
	d := newBuildDisplay(Test(&bytes.Buffer{}, &plain), pkgs)
	for _, ev := range events {
		d.event(ev)
	}
	d.stop()
	want := "gamma: up to date\nalpha: building\nalpha: built localhost/cpk/alpha:0123 in 1.5s\nbeta: building\nbeta: failed after 0.5s (log: /r/.cpk/build/beta/x.log)\n"
	if plain.String() != want {
		t.Errorf("piped:\n%s\nwant\n%s", plain.String(), want)
	}

	var live bytes.Buffer
	io := Test(&bytes.Buffer{}, &live)
	io.ErrTTY = true
	d = newBuildDisplay(io, pkgs)
	for _, ev := range events[:6] {
		d.event(ev)
	}
	if s := live.String(); !strings.Contains(s, "building step 2/5") || !strings.Contains(s, "beta   queued") || !strings.Contains(s, "1 up to date") || !strings.Contains(s, "\x1b[2K") {
		t.Errorf("live display:\n%q", s)
	}
	d.stop()
}

// TestCLIBuildEndToEnd is the acceptance path: cpk base build, then cpk
// build of the fixture package, then a second cpk build --all that builds
// nothing; then --changed builds only the package added since the commit.
func TestCLIBuildEndToEnd(t *testing.T) {
	e := basetest.Engine(t)
	basetest.Image(t, e) // shared with the other packages' tests: built once
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := hex.EncodeToString(b[:])
	hello, other := "hello-"+n, "other-"+n
	root := fixtureRepo(t, hello)
	t.Cleanup(func() {
		ctx := context.Background()
		imgs, _ := e.ListImages(ctx, engine.ImageFilter{Reference: build.Repo + "/*"})
		for _, img := range imgs {
			for _, tag := range img.Tags {
				if strings.Contains(tag, n) {
					_ = e.RemoveImage(ctx, tag)
				}
			}
		}
	})

	out, errOut, code := run(t, root, "", "base", "build")
	if code != 0 || !strings.HasPrefix(out, "localhost/cpk/base:") {
		t.Fatalf("base build: exit %d\n%s\n%s", code, out, errOut)
	}
	results := func(args ...string) []build.Result {
		t.Helper()
		out, errOut, code := run(t, root, "", append(args, "--format", "json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		var rs []build.Result
		if err := json.Unmarshal([]byte(out), &rs); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return rs
	}
	rs := results("build", "--all", "--offline")
	if len(rs) != 1 || rs[0].App != hello || rs[0].Status != build.Built || rs[0].Digest == "" || rs[0].Log == "" || rs[0].BaseDigest == "" {
		t.Fatalf("first build: %+v", rs)
	}
	if _, err := os.Stat(rs[0].Log); err != nil {
		t.Errorf("the build log: %v", err)
	}
	rs2 := results("build", "--all", "--offline")
	if len(rs2) != 1 || rs2[0].Status != build.Cached || rs2[0].Image != rs[0].Image || rs2[0].Digest != rs[0].Digest {
		t.Fatalf("second build: %+v", rs2)
	}
	// Both builds are recorded for the package's content: built, then cached.
	out, _, code = run(t, root, "", "history", hello, "--kind", "build", "--format", "json")
	if code != 0 || strings.Count(out, `"kind": "build"`) != 2 || !strings.Contains(out, `"cached": 1`) || !strings.Contains(out, `"outcome": "passed"`) {
		t.Errorf("recorded builds: exit %d\n%s", code, out)
	}
	out, errOut, code = run(t, root, "", "build", hello, "--offline")
	if code != 0 || !strings.Contains(out, hello+"\tcached\t"+rs[0].Image) || !strings.Contains(errOut, hello+": up to date") {
		t.Errorf("text output: exit %d\n%s\n%s", code, out, errOut)
	}

	// offline: true in cpk-build.yaml does what --offline does.
	os.WriteFile(filepath.Join(root, build.ConfigFile), []byte("offline: true\n"), 0o644)
	if rs := results("build", "--all"); rs[0].Status != build.Cached {
		t.Errorf("with cpk-build.yaml: %+v", rs)
	}

	if _, err := exec.LookPath("git"); err != nil {
		testenv.Unavailable(t, "git is not installed")
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "fixture")
	addFixture(t, root, other)
	rs = results("build", "--changed")
	if len(rs) != 1 || rs[0].App != other || rs[0].Status != build.Built {
		t.Errorf("--changed: %+v", rs)
	}
	if _, errOut, code := run(t, root, "", "build", "--changed", "--since", "no-such-ref"); code != ExitUsage {
		t.Errorf("--since with a bad ref: exit %d %s", code, errOut)
	}
}
