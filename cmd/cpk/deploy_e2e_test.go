package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/cli"
	"cpk/internal/cloudronapi"
	"cpk/internal/engine"
	"cpk/internal/runtime"
	"cpk/internal/testenv"
)

// TestDeployToBox is the acceptance of cpk deploy and cpk test --server:
// against cpk box serve (the development Cloudron over the emulated
// runtime, under podman), cpk deploy installs webhook and redmine (a
// PostgreSQL package), both healthy at their addresses with their HTTP
// checks run; then update, backup, restore, an interrupted install (which
// leaves nothing) and uninstall; cpk test redmine --server passes every
// step, the update from a previous version included; after cpk box down,
// cpk gc finds nothing of the box.
func TestDeployToBox(t *testing.T) {
	e := basetest.Engine(t)
	basetest.Image(t, e)
	git := testenv.LookPath(t, "git")
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	const token = "deploy-e2e-token"
	t.Setenv("CPK_BOX_TOKEN", token)
	t.Setenv(cloudronapi.TokenEnv, token)
	t.Setenv(cloudronapi.ConfigEnv, filepath.Join(t.TempDir(), "none.json"))
	state := t.TempDir()

	// cpk box serve, in this process.
	boxCtx, stopBox := context.WithCancel(context.Background())
	var boxOut, boxErr testenv.SyncBuffer
	served := make(chan int, 1)
	go func() {
		served <- cli.Main(boxCtx, cli.Test(&boxOut, &boxErr), []string{"--root", repo, "box", "serve", "--addr", "127.0.0.1:0", "--format", "json",
			"--state", state})
	}()
	var started struct {
		URL string `json:"url"`
		Run string `json:"run"`
	}
	deadline := time.Now().Add(3 * time.Minute)
	for json.Unmarshal([]byte(boxOut.String()), &started) != nil || started.URL == "" {
		select {
		case code := <-served:
			t.Fatalf("cpk box serve ended (exit %d):\n%s", code, boxErr.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("cpk box serve did not start:\n%s", boxErr.String())
		}
	}
	server := strings.TrimSuffix(started.URL, "/api/v1")
	down := func() {
		stopBox()
		select {
		case <-served:
		case <-time.After(2 * time.Minute):
			t.Error("cpk box serve did not stop")
		}
		if _, errOut, code := cpk(t, context.Background(), repo, "box", "down", "--state", state); code != 0 {
			t.Errorf("cpk box down: exit %d\n%s", code, errOut)
		}
	}
	stopped := false
	defer func() {
		if !stopped {
			down()
		}
		if t.Failed() {
			t.Logf("the box's log:\n%s", boxErr.String())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()

	// Install webhook and redmine: healthy, their checks run at their addresses.
	for _, app := range []string{"webhook", "redmine"} {
		rep := deploy(t, ctx, repo, 0, app, "--server", server, "--offline", "--health-timeout", "15m")
		if rep.Action != "install" || !strings.HasPrefix(rep.Address, "http://127.0.0.1:") {
			t.Fatalf("%s: %+v", app, rep)
		}
		rep.passed(t, "answers at its address")
		if app == "webhook" {
			rep.passed(t, "package: the sample hook runs its command")
		}
	}
	// Deployed again: an update of the app at the location.
	rep := deploy(t, ctx, repo, 0, "webhook", "--server", server, "--offline")
	if rep.Action != "update" {
		t.Errorf("a second deploy: %+v", rep)
	}
	rep.passed(t, "package: the sample hook runs its command")
	// Backup and restore (redmine's, PostgreSQL included, are part of cpk
	// test redmine --server below).
	rep = deploy(t, ctx, repo, 0, "webhook", "--server", server, "--backup")
	if rep.Backup == "" {
		t.Fatalf("backup: %+v", rep)
	}
	rep = deploy(t, ctx, repo, 0, "webhook", "--server", server, "--restore", rep.Backup)
	rep.passed(t, "answers at its address")
	rep.passed(t, "package: the sample hook runs its command")

	// Ctrl-C while a second webhook installs: nothing is left of it.
	ictx, interrupt := context.WithCancel(ctx)
	var out, errb testenv.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ictx, cli.Test(&out, &errb), []string{"--root", repo, "deploy", "webhook", "--server", server, "--location", "hooks-interrupted", "--offline"})
	}()
	for !strings.Contains(errb.String(), "install: app ") {
		select {
		case code := <-done:
			t.Fatalf("the deploy ended before it could be interrupted (exit %d):\n%s", code, errb.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	interrupt()
	if code := <-done; code != 130 || !strings.Contains(errb.String(), "which this run started") || !strings.Contains(errb.String(), "uninstall: 100%") {
		t.Errorf("interrupted deploy: exit %d\n%s", code, errb.String())
	}
	client, err := cloudronapi.New(server, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := client.ListApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.Subdomain == "hooks-interrupted" {
			t.Errorf("the interrupted install left app %s (%s)", a.ID, a.InstallationState)
		}
	}

	// Uninstall both.
	for _, app := range []string{"webhook", "redmine"} {
		if rep := deploy(t, ctx, repo, 0, app, "--server", server, "--uninstall"); rep.Action != "uninstall" {
			t.Errorf("%s: %+v", app, rep)
		}
	}
	if apps, err := client.ListApps(ctx); err != nil || len(apps) != 0 {
		t.Errorf("apps left on the box: %+v %v", apps, err)
	}

	// cpk test redmine --server: in a repository whose last commit holds
	// the previous version, so that the update step runs.
	tmp := t.TempDir()
	pkg := filepath.Join(tmp, "apps", "redmine")
	if err := os.CopyFS(pkg, os.DirFS(filepath.Join(repo, "apps", "redmine"))); err != nil {
		t.Fatal(err)
	}
	// The local run's evidence is kept over a server's for the same
	// content: start without it, to see the server run's.
	if err := os.Remove(filepath.Join(pkg, "test", "evidence.json")); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(pkg, "CloudronManifest.json")
	cur, _ := os.ReadFile(manifest)
	if err := os.WriteFile(manifest, regexp.MustCompile(`"version": "[^"]+"`).ReplaceAll(cur, []byte(`"version": "0.9.0"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "redmine 0.9.0"}} {
		cmd := exec.Command(git, append([]string{"-c", "user.name=cpk", "-c", "user.email=cpk@cloudron.test"}, args...)...)
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(manifest, cur, 0o644); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(tmp, "junit.xml")
	stdout, errOut, code := cpk(t, ctx, tmp, "test", "redmine", "--server", server, "--offline", "--health-timeout", "15m", "--format", "json", "--junit", junit)
	t.Logf("cpk test redmine --server:\n%s", errOut)
	var results []struct {
		Outcome string `json:"outcome"`
		Steps   []struct {
			Name, Outcome, Message string
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(stdout), &results); err != nil || len(results) != 1 {
		t.Fatalf("cpk test --server: exit %d, %v\n%s", code, err, stdout)
	}
	var steps []string
	for _, s := range results[0].Steps {
		steps = append(steps, s.Name+":"+s.Outcome)
	}
	if code != 0 || strings.Join(steps, " ") != "install:passed restart:passed backup:passed restore:passed move:passed update:passed uninstall:passed" {
		t.Errorf("cpk test redmine --server: exit %d, %s\n%+v", code, strings.Join(steps, " "), results[0].Steps)
	}
	if data, err := os.ReadFile(junit); err != nil || !strings.Contains(string(data), `tests="7" failures="0" errors="0" skipped="0"`) {
		t.Errorf("JUnit: %v\n%s", err, data)
	}
	ev, err := os.ReadFile(filepath.Join(pkg, "test", "evidence.json"))
	if err != nil || !strings.Contains(string(ev), `"where": "`+server+`"`) {
		t.Errorf("evidence: %v\n%s", err, ev)
	}

	// cpk box down; then cpk gc finds nothing of the box.
	stopped = true
	down()
	gcOut, gcErr, code := cpk(t, context.Background(), repo, "gc", "--dry-run", "--format", "json")
	var gc runtime.GCResult
	if err := json.Unmarshal([]byte(gcOut), &gc); code != 0 || err != nil {
		t.Fatalf("cpk gc: exit %d %v\n%s", code, err, gcErr)
	}
	for _, list := range [][]string{names(gc.Removed, started.Run), names(gc.Boxes, started.Run), names(gc.Live, started.Run)} {
		if len(list) > 0 {
			t.Errorf("cpk gc finds the box's %v", list)
		}
	}
	left, err := e.ListResources(context.Background(), map[string]string{runtime.LabelRun: started.Run})
	if err != nil || len(left) > 0 {
		t.Errorf("left of the box: %v %v", left, err)
	}
}

func names(rs []engine.Resource, run string) []string {
	var out []string
	for _, r := range rs {
		if r.Labels[runtime.LabelRun] == run {
			out = append(out, r.Kind+" "+r.Name)
		}
	}
	return out
}

// cpk runs the command line in this process.
func cpk(t *testing.T, ctx context.Context, root string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb testenv.SyncBuffer
	code := cli.Main(ctx, cli.Test(&out, &errb), append([]string{"--root", root}, args...))
	return out.String(), errb.String(), code
}

type deployReport struct {
	Action, Address, Backup, Outcome, Error string
	Checks                                  []struct{ Name, Status, Message string }
}

func (r deployReport) passed(t *testing.T, check string) {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == check {
			if c.Status != "passed" {
				t.Errorf("%s: %s: %s", check, c.Status, c.Message)
			}
			return
		}
	}
	t.Errorf("no check %q in %+v", check, r.Checks)
}

func deploy(t *testing.T, ctx context.Context, root string, want int, args ...string) deployReport {
	t.Helper()
	out, errOut, code := cpk(t, ctx, root, append([]string{"deploy", "--format", "json"}, args...)...)
	var rep deployReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != want {
		t.Fatalf("cpk deploy %v: exit %d (want %d), %v\n%s\n%s", args, code, want, err, out, errOut)
	}
	return rep
}
