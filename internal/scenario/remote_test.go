package scenario

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/cloudronapi"
	"cpk/internal/cloudronapi/cloudrontest"
	"cpk/internal/cloudronapi/contract"
	"cpk/internal/cpk"
	"cpk/internal/evidence"
	"cpk/internal/manifest"
)

func remoteVersion(t *testing.T, dir, version string) Version {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "CloudronManifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.Replace(string(raw), `"version": "`, `"version": "`+version+`-was-`, 1))
	doc, errs := manifest.Decode(raw)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	return Version{Image: "localhost/cpk/webhook:" + version, Manifest: doc.Manifest(), Raw: raw, Label: "test " + version, Dir: dir}
}

// TestRunRemoteOnStandIn runs the lifecycle on the stand-in Cloudron
// (its answers and the client's requests checked against the API
// description); the end-to-end run on cpk box is in internal/cli.
func TestRunRemoteOnStandIn(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hooks/hello" || r.URL.Path == "/" {
			fmt.Fprint(w, "hello from webhook")
			return
		}
		http.NotFound(w, r)
	})
	srv, err := cloudrontest.New(t, cloudrontest.Options{Token: "tk", App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloudronapi.New(srv.URL, "tk", &http.Client{Transport: c.Transport(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "apps", "webhook")
	cur, prev := remoteVersion(t, dir, "2.0.0"), remoteVersion(t, dir, "1.0.0")
	var log strings.Builder
	res, err := RunRemote(context.Background(), RemoteOptions{Remote: Remote{Client: client, Poll: time.Millisecond}, App: "webhook", Dir: dir,
		Current: cur, CurrentImage: cur.Image, Previous: &prev, PreviousImage: prev.Image, HealthTimeout: 10 * time.Second, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != cpk.OutcomePassed || !res.Verifies() {
		t.Fatalf("outcome %s: %v\n%s", res.Outcome, res.Failures(), log.String())
	}
	var names []string
	for _, s := range res.Steps {
		names = append(names, s.Name+":"+string(s.Outcome))
	}
	if got := strings.Join(names, " "); got != "install:passed restart:passed backup:passed restore:passed move:passed update:passed uninstall:passed" {
		t.Errorf("steps: %s", got)
	}
	if len(srv.Apps()) != 0 {
		t.Errorf("left on the server: %v", srv.Apps())
	}
	ev := res.Evidence("hash", Facts{Where: srv.URL, CPK: "test", Engine: evidenceEngine()})
	if ev == nil || ev.Where != srv.URL || ev.Update == nil {
		t.Errorf("evidence: %+v", ev)
	}
	for _, route := range []string{"POST /apps", "POST /apps/{id}/restart", "POST /backups/create", "POST /apps/{id}/restore", "POST /apps/{id}/configure/location", "POST /apps/{id}/update", "POST /apps/{id}/uninstall"} {
		if srv.Requests[route] == 0 {
			t.Errorf("%s was never sent", route)
		}
	}
	t.Log(log.String())
}

// TestRunRemoteFailedInstall: the task's error is the install step's
// message and nothing stays on the server.
func TestRunRemoteFailedInstall(t *testing.T) {
	srv, err := cloudrontest.New(t, cloudrontest.Options{Token: "tk", FailInstall: "Could not pull the image: unauthorized"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client, err := cloudronapi.New(srv.URL, "tk", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "apps", "webhook")
	cur := remoteVersion(t, dir, "2.0.0")
	res, err := RunRemote(context.Background(), RemoteOptions{Remote: Remote{Client: client, Poll: time.Millisecond}, App: "webhook", Dir: dir,
		Current: cur, CurrentImage: cur.Image, HealthTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != cpk.OutcomeFailed || res.Steps[0].Outcome != cpk.OutcomeFailed || !strings.Contains(res.Steps[0].Message, "Could not pull the image: unauthorized") {
		t.Fatalf("%s: %+v", res.Outcome, res.Steps[0])
	}
	if len(srv.Apps()) != 0 {
		t.Errorf("left on the server: %v", srv.Apps())
	}
}

func evidenceEngine() evidence.Engine { return evidence.Engine{Name: "cloudron", Version: "8.3.0"} }
