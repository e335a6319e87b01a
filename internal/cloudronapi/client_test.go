package cloudronapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/cloudronapi"
	"cpk/internal/cloudronapi/cloudrontest"
	"cpk/internal/cloudronapi/contract"
)

const token = "t0k3n-for-tests"

// standIn starts the stand-in Cloudron and a client whose every request
// and answer the contract checks.
func standIn(t *testing.T, o cloudrontest.Options) (*cloudrontest.Server, *cloudronapi.Client) {
	t.Helper()
	if o.Token == "" {
		o.Token = token
	}
	srv, err := cloudrontest.New(t, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, client(t, srv.URL, o.Token)
}

func client(t *testing.T, server, tok string) *cloudronapi.Client {
	t.Helper()
	c, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cloudronapi.New(server, tok, &http.Client{Transport: c.Transport(t, nil), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

var manifest = json.RawMessage(`{"id":"io.example.app","version":"1.0.0","manifestVersion":2,"httpPort":8000,"title":"App","healthCheckPath":"/","dockerImage":"registry.example/app:1.0.0"}`)

func wait(t *testing.T, c *cloudronapi.Client, tid, what string) {
	t.Helper()
	var seen []string
	if _, err := c.WaitTask(context.Background(), tid, what, time.Millisecond, func(tk *cloudronapi.Task) { seen = append(seen, tk.Message) }); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(seen) == 0 {
		t.Errorf("%s: no progress reported", what)
	}
}

// TestClientContract drives every route of the client against the
// stand-in: the contract checks each request and answer on both sides.
func TestClientContract(t *testing.T) {
	srv, c := standIn(t, cloudrontest.Options{})
	ctx := context.Background()
	if v, err := c.Status(ctx); err != nil || v == "" {
		t.Fatalf("status: %q %v", v, err)
	}
	doms, err := c.Domains(ctx)
	if err != nil || len(doms) != 1 || doms[0] != "example.test" {
		t.Fatalf("domains: %v %v", doms, err)
	}
	id, tid, err := c.InstallApp(ctx, cloudronapi.Install{Manifest: manifest, Subdomain: "app", Domain: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, tid, "install")
	a, err := c.GetApp(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.InstallationState != "installed" || a.Health != "healthy" || a.Manifest.ID != "io.example.app" || a.Location() != "app.example.test" {
		t.Errorf("app after install: %+v", a)
	}
	if !strings.HasPrefix(a.Address(), "http://127.0.0.1:") {
		t.Errorf("the address of a loopback app: %s", a.Address())
	}
	apps, err := c.ListApps(ctx)
	if err != nil || len(apps) != 1 || apps[0].ID != id {
		t.Fatalf("list: %v %v", apps, err)
	}
	for _, step := range []struct {
		what string
		run  func() (string, error)
	}{
		{"restart", func() (string, error) { return c.RestartApp(ctx, id) }},
		{"update", func() (string, error) { return c.UpdateApp(ctx, id, manifest, false) }},
		{"move", func() (string, error) { return c.ConfigureLocation(ctx, id, "app2", "example.test") }},
		{"backup", func() (string, error) { return c.CreateBackup(ctx) }},
	} {
		tid, err := step.run()
		if err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		wait(t, c, tid, step.what)
	}
	bks, err := c.ListBackups(ctx, id)
	if err != nil || len(bks) != 1 {
		t.Fatalf("backups: %v %v", bks, err)
	}
	tid, err = c.RestoreApp(ctx, id, bks[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, tid, "restore")
	logs, err := c.Logs(ctx, id, 10)
	if err != nil || !strings.Contains(logs, "started") {
		t.Errorf("logs: %q %v", logs, err)
	}
	tid, err = c.UninstallApp(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, tid, "uninstall")
	if _, err := c.GetApp(ctx, id); !cloudronapi.NotFound(err) {
		t.Errorf("an uninstalled app: %v", err)
	}
	if len(srv.Apps()) != 0 {
		t.Errorf("apps left: %v", srv.Apps())
	}
	t.Logf("routes served: %v", srv.Requests)
}

func TestWrongToken(t *testing.T) {
	srv, _ := standIn(t, cloudrontest.Options{})
	c := client(t, srv.URL, "wrong")
	_, err := c.ListApps(context.Background())
	var ae *cloudronapi.APIError
	if !errors.As(err, &ae) || ae.Status != 401 || !strings.Contains(err.Error(), "API token") || !strings.Contains(err.Error(), "Invalid token") {
		t.Fatalf("want a 401 naming the token, got %v", err)
	}
	t.Log(err)
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := client(t, "http://"+addr, token)
	_, err = c.ListApps(context.Background())
	var ue *cloudronapi.UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "http://"+addr) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("want which address and why, got %v", err)
	}
	t.Log(err)
}

func TestFailingTaskShowsItsError(t *testing.T) {
	_, c := standIn(t, cloudrontest.Options{FailInstall: "Image not found: registry.example/app:1.0.0"})
	ctx := context.Background()
	id, tid, err := c.InstallApp(ctx, cloudronapi.Install{Manifest: manifest, Subdomain: "app", Domain: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitTask(ctx, tid, "install", time.Millisecond, nil)
	var te *cloudronapi.TaskError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "Image not found: registry.example/app:1.0.0") {
		t.Fatalf("want the task's own error, got %v", err)
	}
	a, err := c.GetApp(ctx, id)
	if err != nil || a.InstallationState != "error" || a.ErrorText() == "" {
		t.Errorf("the failed app: %+v %v", a, err)
	}
	t.Log(te)
}

func TestUnknownApp(t *testing.T) {
	_, c := standIn(t, cloudrontest.Options{})
	_, err := c.GetApp(context.Background(), "no-such-app")
	if !cloudronapi.NotFound(err) || !strings.Contains(err.Error(), "App not found") {
		t.Fatalf("want a 404 with the server's message, got %v", err)
	}
	t.Log(err)
}

// TestUnexpectedAnswer: answers that break the description fail, naming
// the offending field.
func TestUnexpectedAnswer(t *testing.T) {
	answers := map[string]string{
		"/api/v1/tasks/1":        `{"id":"1","active":"no"}`,
		"/api/v1/tasks/2":        `{"id":"2","percent":10}`,
		"/api/v1/apps/a":         `{"id":"a","installationState":"installed","manifest":[]}`,
		"/api/v1/apps":           `{"applications":[]}`,
		"/api/v1/apps/a/backups": `{"backups":[{"creationTime":"x"}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == "POST" {
			w.WriteHeader(202)
			w.Write([]byte(`{"id":"a"}`))
			return
		}
		w.Write([]byte(answers[r.URL.Path]))
	}))
	defer srv.Close()
	c, err := cloudronapi.New(srv.URL, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		call  func() error
		field string
	}{
		{func() error { _, err := c.GetTask(ctx, "1"); return err }, "field active"},
		{func() error { _, err := c.GetTask(ctx, "2"); return err }, "field active: missing"},
		{func() error { _, err := c.GetApp(ctx, "a"); return err }, "field manifest"},
		{func() error { _, err := c.ListApps(ctx); return err }, "field apps: missing"},
		{func() error { _, err := c.ListBackups(ctx, "a"); return err }, "field backups.0.id"},
		{func() error { _, _, err := c.InstallApp(ctx, cloudronapi.Install{Manifest: manifest}); return err }, "field taskId: missing"},
	} {
		err := tc.call()
		var pe *cloudronapi.ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("want a protocol error naming %q, got %v", tc.field, err)
			continue
		}
		t.Log(err)
	}
}

func TestToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cloudron.json")
	t.Setenv(cloudronapi.ConfigEnv, path)
	t.Setenv(cloudronapi.TokenEnv, "")
	if _, _, err := cloudronapi.Token("https://my.example.com"); err == nil || !strings.Contains(err.Error(), "API Tokens") {
		t.Errorf("no token anywhere: %v", err)
	}
	os.WriteFile(path, []byte(`{"servers":{"https://my.example.com/":{"token":"from-file"}}}`), 0o644)
	_, _, err := cloudronapi.Token("my.example.com")
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a file readable by others must be refused: %v", err)
	}
	t.Log(err)
	os.Chmod(path, 0o600)
	tok, where, err := cloudronapi.Token("my.example.com")
	if err != nil || tok != "from-file" || where != path {
		t.Errorf("from the file: %q %q %v", tok, where, err)
	}
	if _, _, err := cloudronapi.Token("https://other.example.com"); err == nil || !strings.Contains(err.Error(), "no API token for https://other.example.com") {
		t.Errorf("another server: %v", err)
	}
	t.Setenv(cloudronapi.TokenEnv, "from-env")
	if tok, where, _ := cloudronapi.Token("my.example.com"); tok != "from-env" || where != cloudronapi.TokenEnv {
		t.Errorf("the environment comes first: %q %q", tok, where)
	}
	os.WriteFile(path, []byte(`{"servers":{"https://my.example.com":{"tokn":"x"}}}`), 0o600)
	t.Setenv(cloudronapi.TokenEnv, "")
	if _, _, err := cloudronapi.Token("my.example.com"); err == nil || !strings.Contains(err.Error(), "tokn") {
		t.Errorf("an unknown key: %v", err)
	}
}

func TestParseServer(t *testing.T) {
	for in, want := range map[string]string{
		"my.example.com":                 "https://my.example.com",
		"https://my.example.com/":        "https://my.example.com",
		"https://my.example.com/api/v1":  "https://my.example.com",
		"http://127.0.0.1:3000":          "http://127.0.0.1:3000",
		"ftp://x":                        "",
		"https://my.example.com/x":       "",
		"":                               "",
		"https://user:pw@my.example.com": "",
	} {
		u, err := cloudronapi.ParseServer(in)
		switch {
		case want == "" && err == nil:
			t.Errorf("%q: accepted as %s", in, u)
		case want != "" && (err != nil || u.String() != want):
			t.Errorf("%q: %v %v, want %s", in, u, err, want)
		}
	}
}
