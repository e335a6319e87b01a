package runtime_test

import (
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"cpk/internal/dockerproxy"
	"cpk/internal/engine"
	"cpk/internal/manifest"
	"cpk/internal/runtime"
)

// TestDockerAddon installs an app with the docker add-on, which creates
// and starts a container through its proxy with curl, from the local base
// image: the container runs in the box's network and serves a file the
// app wrote under /app/data through a bind mount. The proxy refuses a
// privileged container, bind mounts of /etc (named, or through a link
// under /app/data), other API paths and other containers, and answers
// neither the created container nor anyone but the app. The created
// container survives a restart of the app, carries the run's labels (cpk
// gc would take it) and is gone after uninstall. It runs with the engine
// driven through its command line (the proxy gets an API service of its
// own) and through its API, as cpk does by default.
func TestDockerAddon(t *testing.T) {
	for _, api := range []bool{false, true} {
		t.Run(map[bool]string{false: "cli", true: "api"}[api], func(t *testing.T) { testDockerAddon(t, api) })
	}
}

func testDockerAddon(t *testing.T, viaAPI bool) {
	ctx, e, b, baseRef := testBoxAPI(t, "runtime-docker", viaAPI)
	doc, errs := manifest.Decode([]byte(`{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "addons": {"docker": {}, "localstorage": {}}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	app := b.NewApp(baseRef, doc.Manifest(), "dock")
	app.Cmd = []string{"/bin/sh", "-c", `trap 'exit 0' TERM; python3 -m http.server 8000 --directory /run & wait`}
	if err := app.Install(ctx); err != nil {
		t.Fatal(err)
	}
	proxy := "cpk-" + b.RunID + "-docker-" + app.ID
	env := app.Env()
	if !strings.HasPrefix(env["CLOUDRON_DOCKER_HOST"], "tcp://") || env["DOCKER_HOST"] != env["CLOUDRON_DOCKER_HOST"] {
		t.Fatalf("docker variables: %q %q", env["CLOUDRON_DOCKER_HOST"], env["DOCKER_HOST"])
	}
	// api calls the Docker API from inside the app container, with curl.
	api := func(method, path, body string) (int, string) {
		t.Helper()
		script := `m=$1; p=$2; d=$3; u="http://${DOCKER_HOST#tcp://}/v1.41$p"
if [ -n "$d" ]; then code=$(curl -s -o /tmp/api.out -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data-binary "$d" "$u")
else code=$(curl -s -o /tmp/api.out -w '%{http_code}' -X "$m" "$u"); fi
echo "$code"; cat /tmp/api.out`
		res, err := app.Exec(ctx, "root", "/bin/sh", "-c", script, "sh", method, path, body)
		if err != nil {
			t.Fatal(err)
		}
		code, out, _ := strings.Cut(string(res.Stdout), "\n")
		n, err := strconv.Atoi(strings.TrimSpace(code))
		if err != nil {
			t.Fatalf("%s %s: %q %s", method, path, res.Stdout, res.Stderr)
		}
		return n, out
	}
	if code, out := api("GET", "/_ping", ""); code != 200 || out != "OK" {
		t.Fatalf("_ping: %d %s", code, out)
	}
	if res, err := app.Exec(ctx, "root", "/bin/sh", "-c", `mkdir -p /app/data/shared && echo hello-from-the-app > /app/data/shared/hello.txt && ln -s /etc /app/data/etclink`); err != nil || res.ExitCode != 0 {
		t.Fatalf("write /app/data: %v %s", err, res.Stderr)
	}

	// A container that serves what the app wrote, in the box's network.
	worker := "worker-" + b.RunID
	code, out := api("POST", "/containers/create?name="+worker, `{"Image": "`+baseRef+`", "Cmd": ["python3", "-m", "http.server", "8080", "--directory", "/shared"], "HostConfig": {"Binds": ["/app/data/shared:/shared:ro"]}}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	var created struct {
		ID string `json:"Id"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ID == "" {
		t.Fatalf("create: %s", out)
	}
	if code, out := api("POST", "/containers/"+worker+"/start", ""); code != 204 {
		t.Fatalf("start: %d %s", code, out)
	}
	code, out = api("GET", "/containers/"+created.ID+"/json", "")
	var inspected struct {
		State           struct{ Running bool }
		NetworkSettings struct {
			Networks map[string]struct{ IPAddress string }
		}
	}
	if code != 200 || json.Unmarshal([]byte(out), &inspected) != nil {
		t.Fatalf("inspect: %d %s", code, out)
	}
	ip := inspected.NetworkSettings.Networks[b.Network].IPAddress
	if !inspected.State.Running || ip == "" || len(inspected.NetworkSettings.Networks) != 1 {
		t.Fatalf("the created container runs in %s only: %s", b.Network, out)
	}
	var served string
	for try := 0; try < 50; try++ {
		res, err := app.Exec(ctx, "root", "curl", "-sf", "http://"+ip+":8080/hello.txt")
		if err == nil && res.ExitCode == 0 {
			served = string(res.Stdout)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if served != "hello-from-the-app\n" {
		t.Fatalf("the app reaches the created container in its network, which sees /app/data: %q", served)
	}

	// An exec in it, through the proxy.
	code, out = api("POST", "/containers/"+worker+"/exec", `{"Cmd": ["cat", "/shared/hello.txt"], "AttachStdout": true, "AttachStderr": true, "Tty": true}`)
	var ex struct {
		ID string `json:"Id"`
	}
	if code != 201 || json.Unmarshal([]byte(out), &ex) != nil || ex.ID == "" {
		t.Fatalf("exec create: %d %s", code, out)
	}
	if code, out := api("POST", "/exec/"+ex.ID+"/start", `{"Detach": false, "Tty": true}`); code != 200 || !strings.Contains(out, "hello-from-the-app") {
		t.Errorf("exec start: %d %q", code, out)
	}

	// docker run in the foreground: attach (the connection upgraded to a
	// raw stream), start, wait, remove.
	code, out = api("POST", "/containers/create?name=once-"+b.RunID, `{"Image": "`+baseRef+`", "Cmd": ["sh", "-c", "sleep 1; echo attached-output"], "Tty": true}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	res, err := app.Exec(ctx, "root", "python3", "-c", attachScript, "once-"+b.RunID)
	if err != nil || !strings.Contains(string(res.Stdout), "attached-output") || !strings.Contains(string(res.Stdout), "start 204") {
		t.Errorf("attach: %v %s %s", err, res.Stdout, res.Stderr)
	}
	t.Logf("attach: %q", res.Stdout)
	if code, out := api("POST", "/containers/once-"+b.RunID+"/wait", ""); code != 200 || !strings.Contains(out, `"StatusCode":0`) {
		t.Errorf("wait: %d %s", code, out)
	}
	if code, out := api("DELETE", "/containers/once-"+b.RunID, ""); code != 204 {
		t.Errorf("remove: %d %s", code, out)
	}

	// Refused.
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/containers/create", `{"Image": "` + baseRef + `", "HostConfig": {"Privileged": true}}`, "privileged mode"},
		{"POST", "/containers/create", `{"Image": "` + baseRef + `", "HostConfig": {"Binds": ["/etc:/host-etc"]}}`, "bind mounts must be under /app/data"},
		{"POST", "/containers/create", `{"Image": "` + baseRef + `", "HostConfig": {"Binds": ["/app/data/etclink:/host-etc"]}}`, "symbolic link leads out of /app/data"},
		{"POST", "/containers/create", `{"Image": "` + baseRef + `", "HostConfig": {"NetworkMode": "host"}}`, "network mode"},
		{"POST", "/containers/" + worker + "/exec", `{"Cmd": ["sh"], "Privileged": true}`, "privileged exec"},
		{"GET", "/volumes", "", "not part of the API"},
		{"POST", "/build", "", "not part of the API"},
		{"GET", "/containers/" + app.Container + "/json", "", "no such container"},
		{"GET", "/containers/" + proxy + "/json", "", "no such container"},
		{"DELETE", "/containers/" + app.Container, "", "no such container"},
	} {
		code, out := api(c.method, c.path, c.body)
		if (code != 403 && code != 404) || !strings.Contains(out, c.want) {
			t.Errorf("%s %s %s: %d %s (want a refusal with %q)", c.method, c.path, c.body, code, out, c.want)
		}
	}
	code, out = api("GET", "/containers/json?all=1", "")
	var list []struct {
		ID string `json:"Id"`
	}
	if code != 200 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].ID != created.ID {
		t.Errorf("the list shows the app's container only: %d %s", code, out)
	}
	// The created container cannot use the API.
	res, err = e.Exec(ctx, worker, engine.ExecSpec{Cmd: []string{"curl", "-s", "-w", " %{http_code}", strings.Replace(env["DOCKER_HOST"], "tcp://", "http://", 1) + "/v1.41/_ping"}})
	if err != nil || !strings.Contains(string(res.Stdout), "only the app") || !strings.HasSuffix(string(res.Stdout), " 403") {
		t.Errorf("the created container reaches the API: %v %q %s", err, res.Stdout, res.Stderr)
	}
	// cpk gc would take it after a killed run: it carries the run's labels.
	info, err := e.InspectContainer(ctx, worker)
	if err != nil {
		t.Fatal(err)
	}
	if l := info.Labels; l[runtime.LabelRun] != b.RunID || l[runtime.LabelPID] != strconv.Itoa(os.Getpid()) || l[runtime.LabelRole] != "docker" || l[dockerproxy.LabelOwner] != app.ID {
		t.Errorf("labels of the created container: %v", l)
	}
	if left, err := app.Leftovers(ctx); err != nil || !strings.Contains(strings.Join(left, ", "), worker+" (the app created it)") {
		t.Errorf("the uninstall check would not see the created container: %v %v", left, err)
	}
	gc, err := runtime.GC(ctx, e, true)
	if err != nil {
		t.Fatal(err)
	}
	if !hasResource(gc.Live, worker) {
		t.Errorf("cpk gc does not see the created container as the live run's: %+v", gc.Live)
	}

	// A restart gives the app a new container (a new address): the proxy
	// answers it, and the created container runs on.
	if _, err := app.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if code, out := api("GET", "/containers/"+worker+"/json", ""); code != 200 || !strings.Contains(out, `"Running":true`) {
		t.Errorf("after a restart: %d %s", code, out)
	}

	if t.Failed() {
		var logs strings.Builder
		_ = e.Logs(ctx, proxy, engine.LogsSpec{Tail: 40}, &logs)
		t.Logf("the proxy's log:\n%s", logs.String())
	}
	if _, err := app.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{worker, proxy} {
		if _, err := e.InspectContainer(ctx, c); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("%s after uninstall: %v", c, err)
		}
	}
	if left, err := app.Leftovers(ctx); err != nil || len(left) > 0 {
		t.Errorf("left after uninstall: %v %v", left, err)
	}
	gc, err = runtime.GC(ctx, e, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(append(gc.Live, gc.Removed...), gc.Foreign...) {
		if r.Labels[dockerproxy.LabelOwner] == app.ID || r.Name == proxy {
			t.Errorf("cpk gc finds %s %s after uninstall", r.Kind, r.Name)
		}
	}
}

// attachScript attaches to a container as docker run does (Upgrade: tcp),
// starts it on another connection and prints the status line, the start's
// status and what the container wrote.
const attachScript = `import http.client, os, socket, sys
host, port = os.environ["DOCKER_HOST"][len("tcp://"):].split(":")
ref = sys.argv[1]
s = socket.create_connection((host, int(port)), 10)
s.sendall(("POST /v1.41/containers/%s/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\n"
           "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n" % ref).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        break
    buf += d
head, _, out = buf.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
c = http.client.HTTPConnection(host, int(port), timeout=10)
c.request("POST", "/v1.41/containers/%s/start" % ref)
print("start", c.getresponse().status)
s.settimeout(30)
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode(errors="replace"))
`

func hasResource(rs []engine.Resource, name string) bool {
	for _, r := range rs {
		if r.Name == name {
			return true
		}
	}
	return false
}
