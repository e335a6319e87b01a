package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/engine"
	"cpk/internal/manifest"
	"cpk/internal/registry/registrytest"
	"cpk/internal/runtime"
	"cpk/internal/store"
	"cpk/internal/testenv"
)

func TestPushUsage(t *testing.T) {
	root := fixtureRepo(t, "hello")
	t.Setenv("CPK_REGISTRY", "")
	reg := []string{"--registry", "127.0.0.1:5000/cpk"}
	for _, c := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"push", "--registry", "127.0.0.1:5000/cpk"}, "", "name the packages to push"},
		{[]string{"push", "hello"}, "", "--registry HOST[:PORT]/NAMESPACE is required (or set CPK_REGISTRY)"},
		{[]string{"push", "hello", "--registry", "http://127.0.0.1:5000/cpk"}, "", "leave out the scheme http://"},
		{[]string{"push", "hello", "--registry", "127.0.0.1:5000/CPK"}, "", "must be lower-case"},
		{append([]string{"push", "hello", "--username", "bot"}, reg...), "", "add --password-stdin (a password is never taken from the command line)"},
		{append([]string{"push", "hello", "--password-stdin"}, reg...), "pw\n", "--password-stdin goes with --username"},
		{append([]string{"push", "hello", "--username", "bot", "--password-stdin"}, reg...), "\n", "standard input held no password"},
		{append([]string{"push", "no-such-app"}, reg...), "", "no-such-app"},
		{append([]string{"push", "hello", "--format", "xml"}, reg...), "", `--format "xml"`},
		{append([]string{"push", "hello", "--password", "x"}, reg...), "", "unknown flag: --password"},
	} {
		_, errOut, code := run(t, root, c.stdin, c.args...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want 2 and %q in\n%s", c.args, code, c.want, errOut)
		}
	}
}

// pushRepo makes a repository holding a copy of the catalog's webhook, the
// local base image, and webhook's image built --offline (cached when this
// machine built it already); credentials from this machine's auth files
// are kept out. It returns the root and the results store.
func pushRepo(t *testing.T) (e engine.Engine, root, db string) {
	t.Helper()
	e = basetest.Engine(t)
	basetest.Image(t, e)
	root = t.TempDir()
	testenv.CopyTree(t, filepath.Join(repo, "apps", "webhook"), filepath.Join(root, "apps", "webhook"))
	db = filepath.Join(t.TempDir(), "results.db")
	t.Setenv("REGISTRY_AUTH_FILE", emptyAuthFile(t))
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("CPK_REGISTRY", "")
	for _, args := range [][]string{{"base", "build"}, {"build", "webhook", "--offline"}} {
		if out, errOut, code := run(t, root, "", append([]string{"--db", db}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	return e, root, db
}

// TestPushEndToEnd is the acceptance of cpk push, against Debian's
// docker-registry with basic auth: a wrong password and no password are
// refused at once; cpk push webhook --registry 127.0.0.1:PORT/cpk (the
// credentials in an auth file) prints the digest the registry serves for
// the tag and records it; pushed again (password on stdin) nothing is
// uploaded, the registry holding that image already; the password shows
// nowhere; and the image pulled back
// with podman runs, healthy, in the emulated Cloudron.
func TestPushEndToEnd(t *testing.T) {
	e, root, db := pushRepo(t)
	reg := registrytest.Start(t, registrytest.Options{Auth: true})
	target := reg.Host + "/cpk"
	var seen strings.Builder // everything cpk printed
	cpkRun := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		out, errOut, code := run(t, root, stdin, append([]string{"--db", db}, args...)...)
		seen.WriteString(out + errOut)
		return out, errOut, code
	}
	pushes := func() []cpk.Push {
		t.Helper()
		s, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ps, err := s.Pushes(context.Background(), cpk.PushQuery{App: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}

	// A wrong password, then none: refused before the image is saved.
	start := time.Now()
	_, errOut, code := cpkRun("wrong-"+reg.Password+"\n", "push", "webhook", "--registry", target, "--offline", "--username", reg.User, "--password-stdin")
	if code != ExitEnvironment || !strings.Contains(errOut, "registry "+reg.Host+" refused the credentials (401 Unauthorized)") || strings.Contains(errOut, "saving") {
		t.Errorf("wrong password: exit %d\n%s", code, errOut)
	}
	_, errOut, code = cpkRun("", "push", "webhook", "--registry", target, "--offline")
	if code != ExitEnvironment || !strings.Contains(errOut, "wants credentials (401 Unauthorized)") || !strings.Contains(errOut, "podman login "+reg.Host) {
		t.Errorf("no credentials: exit %d\n%s", code, errOut)
	}
	t.Logf("two refusals in %s", time.Since(start).Round(time.Millisecond))
	if ps := pushes(); len(ps) != 0 {
		t.Fatalf("refused pushes were recorded: %+v", ps)
	}

	// The acceptance: the credentials from an auth file (podman login's).
	t.Setenv("REGISTRY_AUTH_FILE", reg.AuthFile(t))
	start = time.Now()
	out, errOut, code := cpkRun("", "push", "webhook", "--registry", target, "--offline", "--format", "json")
	if code != 0 {
		t.Fatalf("push: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("first push in %s:\n%s", time.Since(start).Round(time.Millisecond), errOut)
	var res []struct {
		App, Version, Image, Content, Reference, Tag, Digest, Error string
		Size                                                        int64
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	r := res[0]
	if r.App != "webhook" || r.Version != "1.0.1" || r.Tag != "1.0.1-"+r.Content[:16] || r.Reference != target+"/webhook:"+r.Tag ||
		r.Image != "localhost/cpk/webhook:"+r.Content[:16] || r.Size < 1e6 || r.Error != "" {
		t.Errorf("result: %+v", r)
	}
	served, status := reg.ManifestDigest(t, "cpk/webhook", r.Tag)
	if status != http.StatusOK || served != r.Digest || !strings.HasPrefix(r.Digest, "sha256:") {
		t.Fatalf("cpk reported %s; the registry serves %q for %s (HTTP %d)", r.Digest, served, r.Tag, status)
	}
	// Recorded under the package's content hash, where cpk deploy looks.
	hash, err := (&catalog.App{Dir: filepath.Join(root, "apps", "webhook")}).ContentHash()
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.LastPush(context.Background(), "webhook", hash, target)
	s.Close()
	if err != nil || last.Digest != r.Digest || last.Reference != r.Reference || last.Version != "1.0.1" || last.Image != r.Image {
		t.Errorf("recorded push: %+v %v", last, err)
	}

	// Again, the password on stdin: the registry holds this very image
	// under the tag already (its config digest is the image id), so
	// nothing is saved or uploaded; the digest is the same, recorded again.
	t.Setenv("REGISTRY_AUTH_FILE", emptyAuthFile(t))
	start = time.Now()
	out, errOut, code = cpkRun(reg.Password+"\n", "push", "webhook", "--registry", target, "--offline", "--username", reg.User, "--password-stdin")
	if code != 0 || out != "webhook\t"+r.Reference+"\t"+r.Digest+"\n" || !strings.Contains(errOut, "webhook: the registry holds this image under its tag already") || strings.Contains(errOut, "saving") {
		t.Fatalf("push again: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("second push in %s", time.Since(start).Round(time.Millisecond))
	if ps := pushes(); len(ps) != 2 || ps[0].Digest != r.Digest {
		t.Errorf("recorded pushes: %+v", ps)
	}

	// The password shows nowhere: not in what cpk printed, not in the
	// results store, not in any file cpk keeps.
	if strings.Contains(seen.String(), reg.Password) {
		t.Errorf("cpk printed the password")
	}
	for _, dir := range []string{filepath.Dir(db), root} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if data, _ := os.ReadFile(path); strings.Contains(string(data), reg.Password) {
				t.Errorf("%s holds the password", path)
			}
			return nil
		})
	}

	// The image pulled back runs: healthy in the emulated Cloudron.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pull := exec.CommandContext(ctx, "podman", "pull", "--quiet", "--tls-verify=false", "--authfile", reg.AuthFile(t), r.Reference)
	if out, err := pull.CombinedOutput(); err != nil {
		t.Fatalf("podman pull %s: %v\n%s", r.Reference, err, out)
	}
	t.Cleanup(func() { _ = e.UntagImage(context.Background(), r.Reference) })
	pulled, err := e.InspectImage(ctx, r.Reference)
	if err != nil {
		t.Fatal(err)
	}
	local, err := e.InspectImage(ctx, r.Image)
	if err != nil {
		t.Fatal(err)
	}
	if pulled.ID != local.ID {
		t.Errorf("pulled image %s, built image %s: the config did not come back as it went", pulled.ID, local.ID)
	}
	raw, err := os.ReadFile(filepath.Join(root, "apps", "webhook", "CloudronManifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, errs := manifest.Decode(raw)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	baseRef := basetest.Image(t, e)
	b, err := runtime.New(ctx, runtime.Options{Engine: e, App: "webhook-pulled", BaseImage: baseRef, StateDir: t.TempDir(), Log: testLogWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("close the box: %v", err)
		}
	}()
	app := b.NewApp(r.Reference, doc.Manifest(), "webhook")
	if err := app.Install(ctx); err != nil {
		t.Fatal(err)
	}
	probe, err := app.WaitHealthy(ctx, 3*time.Minute)
	if err != nil {
		logs, _ := app.Logs(context.Background())
		t.Fatalf("the pulled image is not healthy: %v\n%s", err, logs)
	}
	t.Logf("the pulled image %s runs: %+v", r.Reference, probe)
}

// emptyAuthFile is an auth file without credentials (podman reads it too).
func emptyAuthFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(`{"auths": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestPushInterrupted runs cpk push in a child process and interrupts it
// mid-push: it exits 130, the registry has no tag, nothing is recorded and
// the saved image is gone.
func TestPushInterrupted(t *testing.T) {
	_, root, db := pushRepo(t)
	reg := registrytest.Start(t, registrytest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := []string{"--root", root, "--db", db, "push", "webhook", "--registry", reg.Host + "/cpk", "--offline"}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperPush$")
	cmd.Env = append(os.Environ(), "CPK_PUSH_HELPER="+strings.Join(args, "\n"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if sc.Text() == "webhook: pushing" {
			break
		}
	}
	// Mid-push: the upload of webhook's 313 MB to a loopback registry
	// takes a second or more; on an idle machine 1.5 s was past its end.
	time.Sleep(100 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	signalled := time.Now()
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted || !strings.Contains(printed.String(), "cpk: interrupted") {
		t.Fatalf("interrupted push: %v, want exit 130\n%s", err, printed.String())
	}
	t.Logf("stopped %s after the interrupt:\n%s", time.Since(signalled).Round(time.Millisecond), printed.String())
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ps, err := s.Pushes(ctx, cpk.PushQuery{}); err != nil || len(ps) != 0 {
		t.Errorf("an interrupted push was recorded: %+v %v", ps, err)
	}
	tags, _ := http.Get("http://" + reg.Host + "/v2/cpk/webhook/tags/list")
	if tags != nil {
		var list struct{ Tags []string }
		json.NewDecoder(tags.Body).Decode(&list)
		tags.Body.Close()
		if len(list.Tags) > 0 {
			t.Errorf("the registry has tags after an interrupted push: %v", list.Tags)
		}
	}
	left, _ := os.ReadDir(filepath.Join(root, ".cpk", "push"))
	if len(left) > 0 {
		t.Errorf("the saved image is left behind: %v", left)
	}
}

// TestHelperPush is the child of TestPushInterrupted: cpk as its main runs it.
func TestHelperPush(t *testing.T) {
	args := os.Getenv("CPK_PUSH_HELPER")
	if args == "" {
		t.Skip("run by TestPushInterrupted")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(Main(ctx, &IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, strings.Split(args, "\n")))
}
