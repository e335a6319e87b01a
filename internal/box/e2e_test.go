package box_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/base"
	"cpk/internal/base/basetest"
	"cpk/internal/box"
	"cpk/internal/build"
	"cpk/internal/cloudronapi"
	"cpk/internal/engine"
	"cpk/internal/runtime"
)

// TestWebhookThroughTheAPI installs the catalog's webhook package through
// the box's HTTP API with its built image, under podman, and takes it
// through the life of a deployed app: healthy at its own address, a
// location already taken (409), a failing install (the engine's own error,
// nothing left), restart, backup, restore of the data, a move, its logs, a
// restart of the server that finds it again (cpk gc keeps it meanwhile),
// uninstall and down. Every request and response is validated against the
// published API description.
func TestWebhookThroughTheAPI(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	pkg, image := buildPackage(ctx, t, e, baseRef, "webhook", "../../apps/webhook")
	dir := t.TempDir()
	opts := box.Options{Engine: e, BaseImage: baseRef, StateDir: dir, Token: "s3cret"}
	b, err := box.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			b.Close()
		}
		if _, err := box.Down(context.Background(), e, dir); err != nil {
			t.Errorf("down: %v", err)
		}
	}()
	c := serve(t, b, "s3cret")
	manifest := filepath.Join(pkg, "CloudronManifest.json")

	// Install, and see it healthy at its own address.
	var inst struct {
		ID     string `json:"id"`
		TaskID int    `json:"taskId"`
	}
	if code := c.do("POST", "/apps", installBody(t, manifest, image, "hook"), &inst); code != http.StatusAccepted {
		t.Fatalf("install: %d", code)
	}
	if task := c.wait(inst.TaskID, 5*time.Minute); !task.Success {
		t.Fatalf("install: %+v", task)
	}
	app := c.healthy(inst.ID)
	if app.InstallationState != "installed" || app.RunState != "running" || app.FQDN != "hook."+runtime.DefaultDomain {
		t.Fatalf("installed app: %+v", app)
	}
	addr := app.UpstreamURI
	if !strings.HasPrefix(addr, "http://127.0.0.1:") {
		t.Fatalf("the app's address: %q", addr)
	}
	reach(t, addr)
	// cpk deploy's client finds the app there.
	var ca cloudronapi.App
	c.do("GET", "/apps/"+inst.ID, nil, &ca)
	if ca.Address() != addr {
		t.Errorf("the API client's address of the app: %s, not %s", ca.Address(), addr)
	}

	// The location is taken.
	var ae apiError
	if code := c.do("POST", "/apps", installBody(t, manifest, image, "hook"), &ae); code != http.StatusConflict || !strings.Contains(ae.Message, inst.ID) {
		t.Errorf("a taken location: %d %+v", code, ae)
	}
	// An install that fails: an image nobody has. The task says why (the
	// engine's own words), and no app, container or volume is left.
	var bad struct {
		ID     string `json:"id"`
		TaskID int    `json:"taskId"`
	}
	if code := c.do("POST", "/apps", installBody(t, manifest, "localhost/cpk/no-such-image:0", "bad"), &bad); code != http.StatusAccepted {
		t.Fatalf("install of a missing image: %d", code)
	}
	task := c.wait(bad.TaskID, 2*time.Minute)
	if task.Error != nil {
		t.Logf("the failed install's error: %s", task.Error.Message)
	}
	if task.Success || task.Error == nil || !strings.Contains(task.Error.Message, "no-such-image") {
		t.Errorf("the failed install's task: %+v", task)
	}
	if code := c.do("GET", "/apps/"+bad.ID, nil, &ae); code != http.StatusNotFound {
		t.Errorf("the failed install is still an app: %d", code)
	}
	if left := leftovers(t, e, bad.ID); len(left) > 0 {
		t.Errorf("the failed install left %v", left)
	}

	// Data to keep: a file in /app/data.
	write(t, e, inst.ID, "before")
	// Restart.
	var started struct {
		TaskID int `json:"taskId"`
	}
	if code := c.do("POST", "/apps/"+inst.ID+"/restart", nil, &started); code != http.StatusAccepted {
		t.Fatalf("restart: %d", code)
	}
	if task := c.wait(started.TaskID, 3*time.Minute); !task.Success {
		t.Fatalf("restart: %+v", task)
	}
	if app := c.healthy(inst.ID); app.UpstreamURI != addr {
		t.Errorf("after the restart: %+v (address was %s)", app, addr)
	}
	if got := read(t, e, inst.ID); got != "before" {
		t.Errorf("after the restart /app/data holds %q", got)
	}

	// Backup, change the data, restore: the data is back.
	if code := c.do("POST", "/backups/create", nil, &started); code != http.StatusAccepted {
		t.Fatalf("backup: %d", code)
	}
	if task := c.wait(started.TaskID, 3*time.Minute); !task.Success || task.Type != "backup" {
		t.Fatalf("backup: %+v", task)
	}
	var backups struct {
		Backups []struct {
			ID             string `json:"id"`
			PackageVersion string `json:"packageVersion"`
		} `json:"backups"`
	}
	if code := c.do("GET", "/apps/"+inst.ID+"/backups", nil, &backups); code != http.StatusOK || len(backups.Backups) != 1 {
		t.Fatalf("the app's backups: %d %+v", code, backups)
	}
	bk := backups.Backups[0].ID
	if code := c.do("GET", "/backups", nil, &backups); code != http.StatusOK || len(backups.Backups) != 1 || backups.Backups[0].ID != bk {
		t.Errorf("all backups: %d %+v", code, backups)
	}
	write(t, e, inst.ID, "after")
	if code := c.do("POST", "/apps/"+inst.ID+"/restore", map[string]string{"backupId": "no-such-backup"}, &ae); code != http.StatusNotFound {
		t.Errorf("restore from an unknown backup: %d %+v", code, ae)
	}
	if code := c.do("POST", "/apps/"+inst.ID+"/restore", map[string]string{"backupId": bk}, &started); code != http.StatusAccepted {
		t.Fatalf("restore: %d", code)
	}
	if task := c.wait(started.TaskID, 3*time.Minute); !task.Success {
		t.Fatalf("restore: %+v", task)
	}
	if got := read(t, e, inst.ID); got != "before" {
		t.Errorf("after the restore /app/data holds %q, not the backup's %q", got, "before")
	}
	if app := c.healthy(inst.ID); app.UpstreamURI != addr {
		t.Errorf("after the restore: %+v", app)
	}

	// Move to another subdomain.
	if code := c.do("POST", "/apps/"+inst.ID+"/configure/location", map[string]string{"subdomain": "hook2", "domain": runtime.DefaultDomain}, &started); code != http.StatusAccepted {
		t.Fatalf("configure location: %d", code)
	}
	if task := c.wait(started.TaskID, 3*time.Minute); !task.Success {
		t.Fatalf("configure location: %+v", task)
	}
	if app := c.healthy(inst.ID); app.FQDN != "hook2."+runtime.DefaultDomain {
		t.Errorf("after the move: %+v", app)
	}

	// Logs, as NDJSON.
	resp, err := http.Get(c.url + "/apps/" + inst.ID + "/logs?lines=20&access_token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var line struct {
			Time    int64  `json:"realtimeTimestamp"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Time == 0 {
			t.Errorf("log line %q: %v", sc.Text(), err)
		}
		n++
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n == 0 || n > 20 {
		t.Errorf("logs: %d, %d lines", resp.StatusCode, n)
	}

	// The server stops (the apps keep running); cpk gc keeps what the box
	// made; a new server finds the app again at the same address.
	b.Close()
	closed = true
	gc, err := runtime.GC(ctx, e, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gc.Removed {
		if r.Labels[runtime.LabelBox] == dir {
			t.Errorf("cpk gc would remove the box's %s %s", r.Kind, r.Name)
		}
	}
	b, err = box.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	closed = false
	c = serve(t, b, "s3cret")
	if app := c.healthy(inst.ID); app.InstallationState != "installed" || app.UpstreamURI != addr {
		t.Errorf("after the server's restart: %+v", app)
	}
	if got := read(t, e, inst.ID); got != "before" {
		t.Errorf("after the server's restart /app/data holds %q", got)
	}

	// Uninstall: the app is gone, and so is everything of it.
	if code := c.do("POST", "/apps/"+inst.ID+"/uninstall", nil, &started); code != http.StatusAccepted {
		t.Fatalf("uninstall: %d", code)
	}
	if task := c.wait(started.TaskID, 3*time.Minute); !task.Success {
		t.Fatalf("uninstall: %+v", task)
	}
	if code := c.do("GET", "/apps/"+inst.ID, nil, &ae); code != http.StatusNotFound {
		t.Errorf("the uninstalled app answers %d", code)
	}
	if left := leftovers(t, e, inst.ID); len(left) > 0 {
		t.Errorf("the uninstall left %v", left)
	}

	// Down removes the rest; nothing of the box is left for cpk gc.
	b.Close()
	closed = true
	res, err := box.Down(ctx, e, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("down removed %d resources", len(res.Removed))
	if left, _ := e.ListResources(ctx, map[string]string{runtime.LabelBox: dir}); len(left) > 0 {
		t.Errorf("after down: %v", left)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the state folder is still there: %v", err)
	}
}

// app gets an app, which must exist.
func (c *client) app(id string) appAnswer {
	c.t.Helper()
	var a appAnswer
	if code := c.do("GET", "/apps/"+id, nil, &a); code != http.StatusOK {
		c.t.Fatalf("GET /apps/%s: %d", id, code)
	}
	return a
}

// healthy waits until the app answers its health check, as clients of the
// platform do after a task (the task ends once the container runs).
func (c *client) healthy(id string) appAnswer {
	c.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		a := c.app(id)
		if a.Health == "healthy" {
			return a
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("app %s did not turn healthy: %+v", id, a)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// reach asks the app at its address.
func reach(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get(addr + "/")
	if err != nil {
		t.Fatalf("the app at %s: %v", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the app at %s answers %d", addr, resp.StatusCode)
	}
}

// container is the app's running container.
func container(t *testing.T, e engine.Engine, appID string) string {
	t.Helper()
	cs, err := e.ListContainers(context.Background(), map[string]string{"io.cpk.appid": appID})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.State == "running" {
			return c.Name
		}
	}
	t.Fatalf("app %s has no running container: %+v", appID, cs)
	return ""
}

func write(t *testing.T, e engine.Engine, appID, v string) {
	t.Helper()
	res, err := e.Exec(context.Background(), container(t, e, appID), engine.ExecSpec{Cmd: []string{"/bin/sh", "-c", "echo " + v + " > /app/data/cpk-box-test"}})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("write /app/data: %v %+v", err, res)
	}
}

func read(t *testing.T, e engine.Engine, appID string) string {
	t.Helper()
	res, err := e.Exec(context.Background(), container(t, e, appID), engine.ExecSpec{Cmd: []string{"cat", "/app/data/cpk-box-test"}})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(res.Stdout))
}

// leftovers lists the containers and volumes of an app.
func leftovers(t *testing.T, e engine.Engine, appID string) []string {
	t.Helper()
	var out []string
	cs, _ := e.ListContainers(context.Background(), map[string]string{"io.cpk.appid": appID})
	for _, c := range cs {
		out = append(out, "container "+c.Name)
	}
	vols, _ := e.ListVolumes(context.Background(), nil)
	for _, v := range vols {
		if strings.HasPrefix(v, appID) {
			out = append(out, "volume "+v)
		}
	}
	return out
}

// TestAddonAcrossServes: an app whose data lives in the postgresql add-on
// outlives its server. The server stops, then so do the app and the
// PostgreSQL server (as after a reboot of the machine); the next server
// starts PostgreSQL again with its data and the app afresh, and the app
// still counts its note.
func TestAddonAcrossServes(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	pkg, image := buildPackage(ctx, t, e, baseRef, "cpk-box-pgnotes", "testdata/pgnotes")
	dir := t.TempDir()
	opts := box.Options{Engine: e, BaseImage: baseRef, StateDir: dir, Token: "s3cret", Log: testLog{t}}
	b, err := box.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		b.Close()
		if _, err := box.Down(context.Background(), e, dir); err != nil {
			t.Errorf("down: %v", err)
		}
		if left, _ := e.ListResources(context.Background(), map[string]string{runtime.LabelBox: dir}); len(left) > 0 {
			t.Errorf("after down: %v", left)
		}
	}()
	c := serve(t, b, "s3cret")
	var inst struct {
		ID     string `json:"id"`
		TaskID int    `json:"taskId"`
	}
	if code := c.do("POST", "/apps", installBody(t, filepath.Join(pkg, "CloudronManifest.json"), image, "notes"), &inst); code != http.StatusAccepted {
		t.Fatalf("install: %d", code)
	}
	if task := c.wait(inst.TaskID, 5*time.Minute); !task.Success {
		t.Fatalf("install: %+v", task)
	}
	addr := c.healthy(inst.ID).UpstreamURI
	if got := notes(t, "POST", addr); got != "1" {
		t.Fatalf("a note: %q", got)
	}
	b.Close()
	// The machine "restarts": the app and the add-on server stop.
	for _, role := range []string{"app", "addon"} {
		cs, err := e.ListContainers(ctx, map[string]string{runtime.LabelBox: dir, runtime.LabelRole: role})
		if err != nil || len(cs) == 0 {
			t.Fatalf("the box's %s containers: %v %v", role, cs, err)
		}
		for _, ct := range cs {
			if err := e.Stop(ctx, ct.Name, 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	if b, err = box.Open(ctx, opts); err != nil {
		t.Fatal(err)
	}
	c = serve(t, b, "s3cret")
	app := c.app(inst.ID)
	if app.InstallationState != "installed" || app.RunState != "running" || app.UpstreamURI != addr {
		t.Fatalf("after the restart: %+v", app)
	}
	// The app turns healthy again on its own data.
	c.healthy(inst.ID)
	if got := notes(t, "GET", addr); got != "1" {
		t.Errorf("after the restart the app counts %q notes, not 1", got)
	}
}

// buildPackage builds the package in dir (relative to this folder) on
// the local base image: its absolute folder and its image.
func buildPackage(ctx context.Context, t *testing.T, e engine.Engine, baseRef, id, dir string) (string, string) {
	t.Helper()
	pkg, _ := filepath.Abs(dir)
	results, err := build.Build(ctx, []build.Package{{ID: id, Dir: pkg}}, build.Options{Engine: e, StateDir: t.TempDir(),
		Mapping: base.Mapping{Offline: true, LocalRef: baseRef}})
	if err != nil || results[0].Status == build.Failed {
		t.Fatalf("build %s: %v %+v", id, err, results)
	}
	return pkg, results[0].Image
}

// notes asks the pgnotes app.
func notes(t *testing.T, method, addr string) string {
	t.Helper()
	req, _ := http.NewRequest(method, addr+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, addr, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, addr, resp.StatusCode, b.String())
	}
	return strings.TrimSpace(b.String())
}

// TestKilledServe: a server killed (SIGKILL) in the middle of an install
// (its app's PostgreSQL server starting) leaves its state naming
// everything it made, so cpk gc removes none of it; the next server
// removes the half-installed app, and nothing of the app stays.
func TestKilledServe(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pkg, image := buildPackage(ctx, t, e, baseRef, "cpk-box-pgnotes", "testdata/pgnotes")
	dir := t.TempDir()
	defer func() {
		if _, err := box.Down(context.Background(), e, dir); err != nil {
			t.Errorf("down: %v", err)
		}
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBox$", "-test.v")
	cmd.Env = append(os.Environ(), "CPK_BOX_HELPER=1", "CPK_HELPER_BASE="+baseRef, "CPK_HELPER_STATE="+dir,
		"CPK_HELPER_IMAGE="+image, "CPK_HELPER_MANIFEST="+filepath.Join(pkg, "CloudronManifest.json"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the add-on server is being started: the install is under way.
	for {
		cs, _ := e.ListContainers(ctx, map[string]string{runtime.LabelBox: dir, runtime.LabelRole: "addon"})
		if len(cs) > 0 {
			break
		}
		if ctx.Err() != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("the child never started the add-on:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	made, err := e.ListResources(ctx, map[string]string{runtime.LabelBox: dir})
	if err != nil || len(made) == 0 {
		t.Fatalf("the killed server made nothing? %v %v", made, err)
	}
	gc, err := runtime.GC(ctx, e, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gc.Removed {
		if r.Labels[runtime.LabelBox] == dir {
			t.Errorf("cpk gc would remove the killed box's %s %s", r.Kind, r.Name)
		}
	}
	b, err := box.Open(ctx, box.Options{Engine: e, BaseImage: baseRef, StateDir: dir, Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := serve(t, b, "s3cret")
	var task taskAnswer
	if code := c.do("GET", "/tasks/1", nil, &task); code != http.StatusOK || task.Success || task.Error == nil || !strings.Contains(task.Error.Message, "interrupted") {
		t.Errorf("the install's task: %d %+v\n%s", code, task, out)
	}
	var apps struct {
		Apps []appAnswer `json:"apps"`
	}
	if code := c.do("GET", "/apps", nil, &apps); code != http.StatusOK || len(apps.Apps) != 0 {
		t.Fatalf("the half-installed app is still there: %d %+v", code, apps)
	}
	left, _ := e.ListResources(ctx, map[string]string{runtime.LabelBox: dir})
	for _, r := range left {
		if role := r.Labels[runtime.LabelRole]; role == "app" || role == "data" || role == "helper" {
			t.Errorf("left after the next start: %s %s", r.Kind, r.Name)
		}
	}
}

// TestHelperBox is the child of TestKilledServe: it starts an install and
// waits to be killed.
func TestHelperBox(t *testing.T) {
	if os.Getenv("CPK_BOX_HELPER") != "1" {
		t.Skip("run by TestKilledServe")
	}
	e, err := engine.New(engine.Podman, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := box.Open(context.Background(), box.Options{Engine: e, BaseImage: os.Getenv("CPK_HELPER_BASE"), StateDir: os.Getenv("CPK_HELPER_STATE"), Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	c := serve(t, b, "s3cret")
	if code := c.do("POST", "/apps", installBody(t, os.Getenv("CPK_HELPER_MANIFEST"), os.Getenv("CPK_HELPER_IMAGE"), "notes"), nil); code != http.StatusAccepted {
		t.Fatalf("install: %d", code)
	}
	time.Sleep(10 * time.Minute)
}

// testLog writes the box's log into the test's.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
