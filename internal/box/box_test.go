package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cpk/internal/box"
	"cpk/internal/cloudronapi/contract"
	"cpk/internal/engine"
	"cpk/internal/engine/enginetest"
	"cpk/internal/runtime"
)

// client talks to a box through the API contract: every request it sends
// and every response the box returns is validated against the published
// description (a violation fails the test).
type client struct {
	t     *testing.T
	url   string
	token string
}

// serve opens the box's handler behind the contract.
func serve(t *testing.T, b *box.Box, token string) *client {
	t.Helper()
	c, err := contract.New(contract.AllowMissingCredentials())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler(t, b.Handler()))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL + box.Prefix, token: token}
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// apiError is the description's error object.
type apiError struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type taskAnswer struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Percent int    `json:"percent"`
	Message string `json:"message"`
	Active  bool   `json:"active"`
	Pending bool   `json:"pending"`
	Success bool   `json:"success"`
	Error   *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type appAnswer struct {
	ID                string          `json:"id"`
	InstallationState string          `json:"installationState"`
	Error             *string         `json:"error"`
	RunState          string          `json:"runState"`
	Health            string          `json:"health"`
	Subdomain         string          `json:"subdomain"`
	FQDN              string          `json:"fqdn"`
	UpstreamURI       string          `json:"upstreamUri"`
	Manifest          json.RawMessage `json:"manifest"`
}

// wait polls a task until it ends.
func (c *client) wait(id int, timeout time.Duration) taskAnswer {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var t taskAnswer
		if code := c.do("GET", "/tasks/"+strconv.Itoa(id), nil, &t); code != http.StatusOK {
			c.t.Fatalf("GET /tasks/%d: %d", id, code)
		}
		if !t.Pending && !t.Active {
			return t
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("task %d did not end within %s: %+v", id, timeout, t)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// installBody is POST /apps as the description has it.
func installBody(t *testing.T, manifestPath, image, subdomain string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["dockerImage"] = image
	return map[string]any{"appStoreId": "", "manifest": m, "subdomain": subdomain, "domain": runtime.DefaultDomain,
		"accessRestriction": map[string]any{"users": []string{}, "groups": []string{}}}
}

// TestRequests: the answers that need no running app, against the
// contract, on an in-memory engine: 401 without or with a wrong token,
// 404 for an unknown app or task, 400 for a bad install, and an install
// that fails (its image does not exist) leaves nothing behind.
func TestRequests(t *testing.T) {
	e := enginetest.New()
	image := "localhost/cpk/webhook:test"
	e.AddImage(image, nil)
	dir := t.TempDir()
	b, err := box.Open(context.Background(), box.Options{Engine: e, BaseImage: "localhost/cpk/base:test", StateDir: dir, Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := serve(t, b, "s3cret")

	anon := &client{t: t, url: c.url}
	var ae apiError
	if code := anon.do("GET", "/apps", nil, &ae); code != http.StatusUnauthorized || ae.Status != "Unauthorized" {
		t.Errorf("no token: %d %+v", code, ae)
	}
	wrong := &client{t: t, url: c.url, token: "nope"}
	if code := wrong.do("GET", "/apps", nil, &ae); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d %+v", code, ae)
	}
	// The token as a query parameter.
	var apps struct {
		Apps []appAnswer `json:"apps"`
	}
	if code := anon.do("GET", "/apps?access_token=s3cret", nil, &apps); code != http.StatusOK || len(apps.Apps) != 0 {
		t.Errorf("access_token: %d %+v", code, apps)
	}
	var status struct {
		Version string `json:"version"`
	}
	if code := anon.do("GET", "/cloudron/status", nil, &status); code != http.StatusOK || status.Version != box.APIVersion {
		t.Errorf("status: %d %+v", code, status)
	}

	var domains struct {
		Domains []struct {
			Domain string `json:"domain"`
		} `json:"domains"`
	}
	if code := c.do("GET", "/domains", nil, &domains); code != http.StatusOK || len(domains.Domains) != 1 || domains.Domains[0].Domain != runtime.DefaultDomain {
		t.Errorf("domains: %d %+v", code, domains)
	}
	if code := c.do("GET", "/apps/no-such-app", nil, &ae); code != http.StatusNotFound || !strings.Contains(ae.Message, "no-such-app") {
		t.Errorf("unknown app: %d %+v", code, ae)
	}
	if code := c.do("POST", "/apps/no-such-app/restart", nil, &ae); code != http.StatusNotFound {
		t.Errorf("restart of an unknown app: %d %+v", code, ae)
	}
	if code := c.do("GET", "/tasks/999", nil, &ae); code != http.StatusNotFound {
		t.Errorf("unknown task: %d %+v", code, ae)
	}

	manifest := filepath.Join("..", "..", "apps", "webhook", "CloudronManifest.json")
	bad := installBody(t, manifest, image, "hook")
	bad["manifest"].(map[string]any)["httpPort"] = "eight thousand"
	if code := c.do("POST", "/apps", bad, &ae); code != http.StatusBadRequest || !strings.Contains(ae.Message, "manifest/httpPort") {
		t.Errorf("bad manifest: %d %+v", code, ae)
	}
	noImage := installBody(t, manifest, "", "hook")
	if code := c.do("POST", "/apps", noImage, &ae); code != http.StatusBadRequest || !strings.Contains(ae.Message, "dockerImage") {
		t.Errorf("no image: %d %+v", code, ae)
	}
	mongo := installBody(t, manifest, image, "hook")
	mongo["manifest"].(map[string]any)["addons"] = map[string]any{"mongodb": map[string]any{}}
	if code := c.do("POST", "/apps", mongo, &ae); code != http.StatusBadRequest || !strings.Contains(ae.Message, "mongodb") {
		t.Errorf("an add-on the box lacks: %d %+v", code, ae)
	}
	otherDomain := installBody(t, manifest, image, "hook")
	otherDomain["domain"] = "example.com"
	if code := c.do("POST", "/apps", otherDomain, &ae); code != http.StatusBadRequest || !strings.Contains(ae.Message, "example.com") {
		t.Errorf("another domain: %d %+v", code, ae)
	}

	// An install whose image nobody has fails with the engine's own
	// error and leaves nothing.
	var inst struct {
		ID     string `json:"id"`
		TaskID int    `json:"taskId"`
	}
	if code := c.do("POST", "/apps", installBody(t, manifest, "localhost/cpk/no-such-image:0", "hook"), &inst); code != http.StatusAccepted || inst.ID == "" {
		t.Fatalf("install: %d %+v", code, inst)
	}
	task := c.wait(inst.TaskID, time.Minute)
	if task.Success || task.Error == nil || !strings.Contains(task.Error.Message, "no-such-image") {
		t.Errorf("the failed install's task: %+v", task)
	}
	if code := c.do("GET", "/apps/"+inst.ID, nil, &ae); code != http.StatusNotFound {
		t.Errorf("the failed install is still there: %d", code)
	}
	left, _ := e.ListResources(context.Background(), map[string]string{"io.cpk.appid": inst.ID})
	for name := range e.Volumes {
		if strings.HasPrefix(name, inst.ID) {
			left = append(left, engine.Resource{Kind: engine.KindVolume, Name: name})
		}
	}
	for name := range e.Containers {
		if strings.HasPrefix(name, inst.ID) {
			left = append(left, engine.Resource{Kind: engine.KindContainer, Name: name})
		}
	}
	if len(left) > 0 {
		t.Errorf("the failed install left %v", left)
	}
}

// TestStateNamesTheRun: what the box makes carries its state folder, and
// cpk gc leaves it alone while the state names the run, after the server
// is gone too; Down removes it all with the state.
func TestStateNamesTheRun(t *testing.T) {
	e := enginetest.New()
	dir := t.TempDir()
	b, err := box.Open(context.Background(), box.Options{Engine: e, StateDir: dir, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	run := b.RunID()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	nets, _ := e.ListNetworks(context.Background(), map[string]string{runtime.LabelBox: dir})
	if len(nets) != 1 {
		t.Fatalf("the box's network: %v", nets)
	}
	if !runtime.BoxOwns(dir, run) || runtime.BoxOwns(dir, "other") {
		t.Errorf("BoxOwns(%s, %s) is wrong", dir, run)
	}
	// The network carries this (live) process's pid; the state protects it
	// once that process is gone as well: see runtime's GC test.
	res, err := box.Down(context.Background(), e, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 1 || res.Removed[0].Kind != engine.KindNetwork {
		t.Errorf("removed %v", res.Removed)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the state folder is still there: %v", err)
	}
	if runtime.BoxOwns(dir, run) {
		t.Error("the box still owns its run after down")
	}
}
