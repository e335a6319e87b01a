package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/build"
	"cpk/internal/catalog"
	"cpk/internal/cloudronapi"
	"cpk/internal/cloudronapi/cloudrontest"
	"cpk/internal/cpk"
	"cpk/internal/store"
)

// webhookStandIn answers webhook's HTTP checks as the real app does for
// its sample hook (the hook made by exec at install is not there).
var webhookStandIn = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/", "/hooks/hello":
		fmt.Fprint(w, "hello from webhook")
	default:
		http.Error(w, "Hook not found.", http.StatusNotFound)
	}
})

func deployStandIn(t *testing.T, o cloudrontest.Options) *cloudrontest.Server {
	t.Helper()
	o.Token = "cli-token"
	if o.App == nil {
		o.App = webhookStandIn
	}
	srv, err := cloudrontest.New(t, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv(cloudronapi.TokenEnv, "cli-token")
	t.Setenv(cloudronapi.ConfigEnv, filepath.Join(t.TempDir(), "none.json"))
	return srv
}

type deployJSON struct {
	Action, AppID, Location, Address, Backup, Outcome, Error string
	Checks                                                   []struct{ Name, Status, Message string }
}

func deployRunJSON(t *testing.T, args ...string) (deployJSON, string, int) {
	t.Helper()
	out, errOut, code := run(t, repo, "", append([]string{"deploy", "--format", "json"}, args...)...)
	var rep deployJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON (exit %d): %v\n%s\n%s", code, err, out, errOut)
	}
	return rep, errOut, code
}

// TestDeployLifecycle drives cpk deploy against the stand-in Cloudron
// (every request and answer checked against the API description).
func TestDeployLifecycle(t *testing.T) {
	srv := deployStandIn(t, cloudrontest.Options{})
	img := "registry.example/cpk/webhook:test"
	rep, errOut, code := deployRunJSON(t, "webhook", "--server", srv.URL, "--image", img)
	if code != 0 || rep.Action != "install" || rep.Outcome != "passed" || rep.Location != "webhook.example.test" || !strings.HasPrefix(rep.Address, "http://127.0.0.1:") {
		t.Fatalf("install: exit %d %+v\n%s", code, rep, errOut)
	}
	t.Logf("stderr of the install:\n%s", errOut)
	if !strings.Contains(errOut, "install: 100% Done") {
		t.Errorf("no task progress on stderr:\n%s", errOut)
	}
	statuses := map[string]string{}
	for _, c := range rep.Checks {
		statuses[c.Name] = c.Status
	}
	if statuses["package: the sample hook runs its command"] != "passed" || statuses["package: the hook added at install answers"] != "warning" {
		t.Errorf("checks: %+v", rep.Checks)
	}
	if _, ok := statuses["package: hooks.json belongs to cloudron"]; ok {
		t.Errorf("an exec check ran against a server: %+v", rep.Checks)
	}
	id := rep.AppID
	rep, errOut, code = deployRunJSON(t, "webhook", "--server", srv.URL, "--image", img)
	if code != 0 || rep.Action != "update" || rep.AppID != id {
		t.Fatalf("a second deploy updates: exit %d %+v\n%s", code, rep, errOut)
	}
	rep, errOut, code = deployRunJSON(t, "webhook", "--server", srv.URL, "--backup")
	if code != 0 || rep.Backup == "" {
		t.Fatalf("backup: exit %d %+v\n%s", code, rep, errOut)
	}
	rep, errOut, code = deployRunJSON(t, "webhook", "--server", srv.URL, "--restore", rep.Backup)
	if code != 0 || rep.Action != "restore" || rep.Outcome != "passed" {
		t.Fatalf("restore: exit %d %+v\n%s", code, rep, errOut)
	}
	rep, errOut, code = deployRunJSON(t, "webhook", "--server", srv.URL, "--uninstall")
	if code != 0 || rep.Action != "uninstall" || len(srv.Apps()) != 0 {
		t.Fatalf("uninstall: exit %d %+v %v\n%s", code, rep, srv.Apps(), errOut)
	}
	rep, _, code = deployRunJSON(t, "webhook", "--server", srv.URL, "--uninstall")
	if code != 1 || !strings.Contains(rep.Error, "nothing to uninstall: no app is installed at webhook.example.test") {
		t.Errorf("uninstall of nothing: exit %d %+v", code, rep)
	}
	rep, _, code = deployRunJSON(t, "webhook", "--server", srv.URL, "--restore", "app_x")
	if code != 1 || !strings.Contains(rep.Error, "nothing to restore") {
		t.Errorf("restore of nothing: exit %d %+v", code, rep)
	}
}

func TestDeployErrors(t *testing.T) {
	img := "registry.example/cpk/webhook:test"
	t.Run("wrong token", func(t *testing.T) {
		srv := deployStandIn(t, cloudrontest.Options{})
		t.Setenv(cloudronapi.TokenEnv, "not-the-token")
		_, errOut, code := run(t, repo, "", "deploy", "webhook", "--server", srv.URL, "--image", img)
		if code != 3 || !strings.Contains(errOut, "401 Unauthorized") || !strings.Contains(errOut, "API Tokens") {
			t.Errorf("exit %d:\n%s", code, errOut)
		}
	})
	t.Run("no token", func(t *testing.T) {
		srv := deployStandIn(t, cloudrontest.Options{})
		t.Setenv(cloudronapi.TokenEnv, "")
		_, errOut, code := run(t, repo, "", "deploy", "webhook", "--server", srv.URL, "--image", img)
		if code != 3 || !strings.Contains(errOut, "no API token for "+srv.URL) || !strings.Contains(errOut, cloudronapi.TokenEnv) {
			t.Errorf("exit %d:\n%s", code, errOut)
		}
	})
	t.Run("unreachable server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		t.Setenv(cloudronapi.TokenEnv, "x")
		_, errOut, code := run(t, repo, "", "deploy", "webhook", "--server", "http://"+addr, "--image", img)
		if code != 3 || !strings.Contains(errOut, "cannot reach the Cloudron at http://"+addr) || !strings.Contains(errOut, "connection refused") {
			t.Errorf("exit %d:\n%s", code, errOut)
		}
	})
	t.Run("failing install task", func(t *testing.T) {
		srv := deployStandIn(t, cloudrontest.Options{FailInstall: "Failed to pull image registry.example/cpk/webhook:test: not found"})
		rep, errOut, code := deployRunJSON(t, "webhook", "--server", srv.URL, "--image", img)
		if code != 1 || !strings.Contains(rep.Error, "Failed to pull image registry.example/cpk/webhook:test: not found") || len(srv.Apps()) != 0 {
			t.Errorf("exit %d %+v %v:\n%s", code, rep, srv.Apps(), errOut)
		}
	})
	t.Run("location taken by another app", func(t *testing.T) {
		srv := deployStandIn(t, cloudrontest.Options{})
		c, err := cloudronapi.New(srv.URL, "cli-token", nil)
		if err != nil {
			t.Fatal(err)
		}
		other := json.RawMessage(`{"id":"io.example.other","title":"Other","version":"1.0.0","manifestVersion":2,"httpPort":80,"dockerImage":"x/y:1"}`)
		_, tid, err := c.InstallApp(context.Background(), cloudronapi.Install{Manifest: other, Subdomain: "hooks", Domain: "example.test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitTask(context.Background(), tid, "install", 1, nil); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := run(t, repo, "", "deploy", "webhook", "--server", srv.URL, "--location", "hooks", "--image", img)
		if code != 1 || !strings.Contains(errOut, "hooks.example.test is taken by another app: Other (io.example.other)") {
			t.Errorf("exit %d:\n%s", code, errOut)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"deploy", "webhook"},
			{"deploy", "webhook", "--server", "http://127.0.0.1:1", "--backup", "--uninstall"},
			{"deploy", "no-such-app", "--server", "http://127.0.0.1:1"},
			{"deploy", "webhook", "--server", "ftp://x"},
		} {
			if _, errOut, code := run(t, repo, "", args...); code != 2 {
				t.Errorf("%v: exit %d:\n%s", args, code, errOut)
			}
		}
	})
}

// TestDeployImageFromPush: for a remote server the image is the one cpk
// push recorded for the package's current content, by digest; without
// one, cpk says how to make it.
func TestDeployImageFromPush(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "results.db")
	var out, errb strings.Builder
	g := &Globals{IO: Test(&out, &errb), Root: repo, DB: db}
	client, err := cloudronapi.New("https://cloudron.example", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := build.Package{ID: "webhook", Dir: filepath.Join(repo, "apps", "webhook")}
	if _, err := deployImage(ctx, g, deployOptions{}, client, p); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "cpk push webhook --registry") {
		t.Fatalf("no store: %v", err)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := deployImage(ctx, g, deployOptions{}, client, p); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "was never pushed") {
		t.Fatalf("no push: %v", err)
	}
	hash, err := (&catalog.App{Dir: p.Dir}).ContentHash()
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	if err := st.RecordPush(ctx, cpk.Push{App: "webhook", Hash: hash, Version: "1.0.1", Image: "localhost/cpk/webhook:x", Registry: "registry.example/team",
		Reference: "registry.example/team/webhook:1.0.1-x", Digest: digest, Pushed: time.Now()}); err != nil {
		t.Fatal(err)
	}
	img, err := deployImage(ctx, g, deployOptions{}, client, p)
	if err != nil || img != "registry.example/team/webhook@"+digest {
		t.Fatalf("pushed: %q %v", img, err)
	}
	if img, _ := deployImage(ctx, g, deployOptions{Image: "other/image:1"}, client, p); img != "other/image:1" {
		t.Errorf("--image: %q", img)
	}
}
