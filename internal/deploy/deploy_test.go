package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cpk/internal/cloudronapi"
	"cpk/internal/cloudronapi/cloudrontest"
	"cpk/internal/cloudronapi/contract"
	"cpk/internal/deploy"
)

const token = "deploy-test-token"

func setup(t *testing.T, o cloudrontest.Options) (*cloudrontest.Server, *deploy.Deployer, *[]string) {
	t.Helper()
	o.Token = token
	srv, err := cloudrontest.New(t, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cloudronapi.New(srv.URL, token, &http.Client{Transport: c.Transport(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	d := &deploy.Deployer{Client: cl, Poll: time.Millisecond, HealthTimeout: 5 * time.Second,
		Progress: func(m string) { mu.Lock(); lines = append(lines, m); mu.Unlock() }}
	return srv, d, &lines
}

func manifest(t *testing.T, id, version string) json.RawMessage {
	raw := []byte(`{"id":"` + id + `","version":"` + version + `","manifestVersion":2,"httpPort":8000,"title":"T","healthCheckPath":"/"}`)
	m, err := deploy.WithImage(raw, "registry.example/"+id+":"+version)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInstallUpdateBackupRestoreUninstall(t *testing.T) {
	srv, d, progress := setup(t, cloudrontest.Options{})
	ctx := context.Background()
	loc, err := d.ResolveLocation(ctx, "", "hooks")
	if err != nil || loc.String() != "hooks.example.test" {
		t.Fatalf("location: %v %v", loc, err)
	}
	if a, err := d.AppAt(ctx, loc); err != nil || a != nil {
		t.Fatalf("an empty server: %v %v", a, err)
	}
	app, err := d.Install(ctx, manifest(t, "io.example.hooks", "1.0.0"), nil, loc)
	if err != nil {
		t.Fatal(err)
	}
	if app.Health != "healthy" || app.Manifest.DockerImage != "registry.example/io.example.hooks:1.0.0" {
		t.Errorf("installed: %+v", app)
	}
	if len(*progress) == 0 || !strings.Contains(strings.Join(*progress, "\n"), "install: 100% Done") {
		t.Errorf("progress: %q", *progress)
	}
	if a, err := d.AppAt(ctx, loc); err != nil || a == nil || a.ID != app.ID {
		t.Fatalf("the app at its location: %v %v", a, err)
	}
	if app, err = d.Update(ctx, app.ID, manifest(t, "io.example.hooks", "1.1.0")); err != nil || app.Manifest.Version != "1.1.0" {
		t.Fatalf("update: %+v %v", app, err)
	}
	b, err := d.Backup(ctx, app.ID)
	if err != nil || b.ID == "" || b.PackageVersion != "1.1.0" {
		t.Fatalf("backup: %+v %v", b, err)
	}
	if _, err := d.Restore(ctx, app.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Restart(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if app, err = d.Move(ctx, app.ID, deploy.Location{Subdomain: "hooks2", Domain: "example.test"}); err != nil || app.Location() != "hooks2.example.test" {
		t.Fatalf("move: %+v %v", app, err)
	}
	if err := d.Uninstall(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if left := srv.Apps(); len(left) != 0 {
		t.Errorf("left on the server: %v", left)
	}
}

func TestResolveLocation(t *testing.T) {
	_, d, _ := setup(t, cloudrontest.Options{Domain: "apps.example.org"})
	ctx := context.Background()
	for in, want := range map[string]string{"x": "x.apps.example.org", "x.apps.example.org": "x.apps.example.org", "apps.example.org": "apps.example.org"} {
		if loc, err := d.ResolveLocation(ctx, in, "dflt"); err != nil || loc.String() != want {
			t.Errorf("%s: %v %v, want %s", in, loc, err, want)
		}
	}
	if _, err := d.ResolveLocation(ctx, "x.other.org", ""); err == nil || !strings.Contains(err.Error(), "apps.example.org") {
		t.Errorf("a location on another domain: %v", err)
	}
}

// TestFailingInstall: the task's own error text, and the app this run
// started is gone again.
func TestFailingInstall(t *testing.T) {
	srv, d, _ := setup(t, cloudrontest.Options{FailInstall: "Failed to pull image registry.example/io.example.hooks:1.0.0: manifest unknown"})
	_, err := d.Install(context.Background(), manifest(t, "io.example.hooks", "1.0.0"), nil, deploy.Location{Subdomain: "hooks", Domain: "example.test"})
	var te *cloudronapi.TaskError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "Failed to pull image registry.example/io.example.hooks:1.0.0: manifest unknown") || !strings.Contains(err.Error(), "uninstalled again") {
		t.Fatalf("want the task's error and the cleanup, got %v", err)
	}
	if left := srv.Apps(); len(left) != 0 {
		t.Errorf("a failed install left %v", left)
	}
	t.Log(err)
}

func TestFailingInstallKept(t *testing.T) {
	srv, d, _ := setup(t, cloudrontest.Options{FailInstall: "boom"})
	d.Keep = true
	_, err := d.Install(context.Background(), manifest(t, "io.example.hooks", "1.0.0"), nil, deploy.Location{Subdomain: "hooks", Domain: "example.test"})
	if err == nil || !strings.Contains(err.Error(), "--keep") || len(srv.Apps()) != 1 {
		t.Fatalf("--keep: %v, apps %v", err, srv.Apps())
	}
}

// TestInterruptedInstall: Ctrl-C while the task runs uninstalls the app
// this run started.
func TestInterruptedInstall(t *testing.T) {
	srv, d, _ := setup(t, cloudrontest.Options{Polls: 20})
	ctx, cancel := context.WithCancel(context.Background())
	d.Progress = func(msg string) {
		if strings.HasPrefix(msg, "install:") && strings.Contains(msg, "%") {
			cancel() // the install task runs: interrupt
		}
	}
	_, err := d.Install(ctx, manifest(t, "io.example.hooks", "1.0.0"), nil, deploy.Location{Subdomain: "hooks", Domain: "example.test"})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "uninstalled again") {
		t.Fatalf("want an interrupted install, cleaned up: %v", err)
	}
	if left := srv.Apps(); len(left) != 0 {
		t.Errorf("an interrupted install left %v", left)
	}
}

func TestTakenError(t *testing.T) {
	e := &deploy.TakenError{Location: deploy.Location{Subdomain: "x", Domain: "example.test"}, App: cloudronapi.App{ID: "a1", Manifest: cloudronapi.AppManifest{ID: "io.other", Title: "Other"}}}
	if !strings.Contains(e.Error(), "x.example.test is taken by another app: Other (io.other), app id a1") {
		t.Error(e)
	}
}

func TestResolveFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "DESCRIPTION.md"), []byte("A long description."), 0o644)
	os.WriteFile(filepath.Join(dir, "icon.png"), []byte("\x89PNG..."), 0o644)
	m, icon, err := deploy.ResolveFiles(dir, []byte(`{"id":"a","description":"file://DESCRIPTION.md","icon":"file://icon.png","title":"file"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(m, &got)
	if got["description"] != "A long description." || got["icon"] != nil || got["title"] != "file" || string(icon) != "\x89PNG..." {
		t.Errorf("resolved: %s, icon %q", m, icon)
	}
	if _, _, err := deploy.ResolveFiles(dir, []byte(`{"changelog":"file://../x"}`)); err == nil || !strings.Contains(err.Error(), "outside the package") {
		t.Errorf("a file outside the package: %v", err)
	}
	if _, _, err := deploy.ResolveFiles(dir, []byte(`{"changelog":"file://CHANGELOG"}`)); err == nil || !strings.Contains(err.Error(), "changelog") {
		t.Errorf("a missing file: %v", err)
	}
}
