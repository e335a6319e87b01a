package dockerproxy

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestRoute(t *testing.T) {
	for _, c := range []struct {
		method, path string
		op           Op // 0 = refused
		id           string
	}{
		{"GET", "/_ping", OpPass, ""},
		{"HEAD", "/_ping", OpPass, ""},
		{"GET", "/v1.41/_ping", OpPass, ""},
		{"GET", "/v1.41/version", OpPass, ""},
		{"GET", "/info", OpPass, ""},
		{"GET", "/v1.43/images/json", OpPass, ""},
		{"GET", "/images/docker.io/library/alpine:3/json", OpPass, ""},
		{"POST", "/v1.41/images/create", OpPull, ""},
		{"POST", "/v1.41/containers/create", OpCreate, ""},
		{"GET", "/v1.41/containers/json", OpList, ""},
		{"GET", "/v1.41/containers/abc/json", OpContainer, "abc"},
		{"GET", "/containers/abc/logs", OpContainer, "abc"},
		{"POST", "/v1.41/containers/worker-1/start", OpContainer, "worker-1"},
		{"POST", "/containers/abc/stop", OpContainer, "abc"},
		{"POST", "/containers/abc/kill", OpContainer, "abc"},
		{"POST", "/containers/abc/wait", OpContainer, "abc"},
		{"POST", "/containers/abc/attach", OpContainer, "abc"},
		{"POST", "/containers/abc/exec", OpExecCreate, "abc"},
		{"DELETE", "/v1.41/containers/abc", OpContainer, "abc"},
		{"POST", "/exec/e1/start", OpExec, "e1"},
		{"GET", "/exec/e1/json", OpExec, "e1"},
		// Refused: other parts of the API, other methods, unclean paths.
		{"GET", "/volumes", 0, ""},
		{"POST", "/volumes/create", 0, ""},
		{"GET", "/networks", 0, ""},
		{"POST", "/networks/create", 0, ""},
		{"POST", "/build", 0, ""},
		{"GET", "/events", 0, ""},
		{"POST", "/containers/prune", 0, ""},
		{"GET", "/containers/abc/archive", 0, ""},
		{"PUT", "/containers/abc/archive", 0, ""},
		{"GET", "/containers/abc/export", 0, ""},
		{"POST", "/containers/abc/update", 0, ""},
		{"POST", "/containers/abc/commit", 0, ""},
		{"DELETE", "/images/alpine", 0, ""},
		{"POST", "/images/load", 0, ""},
		{"GET", "/images/get", 0, ""},
		{"POST", "/commit", 0, ""},
		{"GET", "/system/df", 0, ""},
		{"POST", "/swarm/init", 0, ""},
		{"POST", "/v4.0.0/libpod/containers/create", 0, ""},
		{"GET", "/v1.41/containers/abc/../../volumes", 0, ""},
		{"GET", "/containers//json", 0, ""},
		{"PUT", "/_ping", 0, ""},
		{"POST", "/containers/json", 0, ""},
		{"GET", "/v1.41", 0, ""},
	} {
		req, err := Route(c.method, c.path)
		if c.op == 0 {
			var ref *Refusal
			if err == nil || !errors.As(err, &ref) || ref.Status != http.StatusForbidden {
				t.Errorf("%s %s: allowed (%+v), want 403", c.method, c.path, req)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
			continue
		}
		if req.Op != c.op || req.ID != c.id {
			t.Errorf("%s %s: op %d id %q, want %d %q", c.method, c.path, req.Op, req.ID, c.op, c.id)
		}
	}
	_, err := Route("GET", "/volumes")
	if err == nil || !strings.Contains(err.Error(), "allowed: _ping") {
		t.Errorf("the refusal names what is allowed: %v", err)
	}
}

func testConfig() *Config {
	return &Config{App: "app-1", Run: "r1", Network: "cpk-r1", Labels: map[string]string{"io.cpk.run": "r1", "io.cpk.pid": "42", "io.cpk.role": "docker"}}
}

// resolver is the app's data in a folder of the test, at host path /vol.
func resolver(t *testing.T) Resolver {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "shared", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"etc": "/etc", "up": "../..", "inside": "shared/deep", "abs": root + "/shared"} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return DataResolver(root, "/vol")
}

func TestFilterCreateAllowed(t *testing.T) {
	c := testConfig()
	body := `{"Image": "base", "Cmd": ["sleep", "1"], "Labels": {"mine": "1", "io.cpk.run": "forged", "io.cpk.docker.owner": "other"},
		"HostConfig": {"Binds": ["/app/data/shared:/shared:ro", "/app/data:/data", "/app/data/inside/x:/x", "/app/data/new/dir:/new"],
			"Mounts": [{"Type": "bind", "Source": "/app/data/abs", "Target": "/abs"}, {"Type": "tmpfs", "Target": "/scratch"}, {"Type": "volume", "Target": "/anon"}],
			"NetworkMode": "bridge", "Memory": 1000000},
		"NetworkingConfig": {"EndpointsConfig": {"bridge": {"Aliases": ["worker"]}, "elsewhere": {}}}}`
	out, err := c.FilterCreate([]byte(body), resolver(t))
	if err != nil {
		t.Fatal(err)
	}
	var req container.CreateRequest
	if err := json.Unmarshal(out, &req); err != nil {
		t.Fatal(err)
	}
	h := req.HostConfig
	wantBinds := []string{"/vol/shared:/shared:ro", "/vol:/data", "/vol/shared/deep/x:/x", "/vol/new/dir:/new"}
	if strings.Join(h.Binds, " ") != strings.Join(wantBinds, " ") {
		t.Errorf("binds %v, want %v", h.Binds, wantBinds)
	}
	if h.Mounts[0].Source != "/vol/shared" {
		t.Errorf("bind mount source %q", h.Mounts[0].Source)
	}
	if h.NetworkMode != "cpk-r1" || len(req.NetworkingConfig.EndpointsConfig) != 1 {
		t.Errorf("network %q %v", h.NetworkMode, req.NetworkingConfig.EndpointsConfig)
	}
	if ep := req.NetworkingConfig.EndpointsConfig["cpk-r1"]; ep == nil || strings.Join(ep.Aliases, ",") != "worker" {
		t.Errorf("the app's aliases are kept in the run's network: %+v", ep)
	}
	l := req.Config.Labels
	if l["mine"] != "1" || l["io.cpk.run"] != "r1" || l["io.cpk.pid"] != "42" || l[LabelOwner] != "app-1" || l["io.cpk.role"] != "docker" {
		t.Errorf("labels %v", l)
	}
	if h.Memory != 1000000 || req.Image != "base" || strings.Join(req.Cmd, " ") != "sleep 1" {
		t.Errorf("the rest of the request is kept: %s", out)
	}
	if strings.Join(h.CapDrop, ",") != "NET_RAW" {
		t.Errorf("cap drop %v", h.CapDrop)
	}
	// No network: stays so.
	out, err = c.FilterCreate([]byte(`{"Image": "base", "HostConfig": {"NetworkMode": "none"}}`), nil)
	if err != nil || !strings.Contains(string(out), `"NetworkMode":"none"`) {
		t.Errorf("network none: %v %s", err, out)
	}
	// An empty host config gets the run's network.
	out, err = c.FilterCreate([]byte(`{"Image": "base"}`), nil)
	if err != nil || !strings.Contains(string(out), `"NetworkMode":"cpk-r1"`) {
		t.Errorf("no host config: %v %s", err, out)
	}
}

func TestFilterCreateRefused(t *testing.T) {
	c := testConfig()
	res := resolver(t)
	for _, tc := range []struct{ hostConfig, want string }{
		{`{"Privileged": true}`, "privileged mode"},
		{`{"CapAdd": ["SYS_ADMIN"]}`, "added capabilities (SYS_ADMIN)"},
		{`{"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda"}]}`, "devices"},
		{`{"DeviceCgroupRules": ["a *:* rwm"]}`, "devices"},
		{`{"NetworkMode": "host"}`, `network mode "host"`},
		{`{"NetworkMode": "container:app"}`, `network mode "container:app"`},
		{`{"NetworkMode": "podman"}`, `network mode "podman"`},
		{`{"PidMode": "host"}`, `pid mode "host"`},
		{`{"PidMode": "container:app"}`, `pid mode`},
		{`{"IpcMode": "host"}`, `ipc mode "host"`},
		{`{"UTSMode": "host"}`, `uts mode "host"`},
		{`{"UsernsMode": "host"}`, `userns mode "host"`},
		{`{"CgroupnsMode": "host"}`, `cgroupns mode "host"`},
		{`{"SecurityOpt": ["seccomp=unconfined"]}`, "security options"},
		{`{"Sysctls": {"net.ipv4.ip_forward": "1"}}`, "sysctls"},
		{`{"MaskedPaths": []}`, "masked"},
		{`{"PortBindings": {"80/tcp": [{"HostPort": "80"}]}}`, "published host ports"},
		{`{"PublishAllPorts": true}`, "published host ports"},
		{`{"VolumesFrom": ["app"]}`, "VolumesFrom"},
		{`{"Runtime": "runc"}`, "runtime"},
		{`{"CgroupParent": "/"}`, "cgroup parent"},
		{`{"Binds": ["/etc:/host-etc"]}`, "bind mounts must be under /app/data"},
		{`{"Binds": ["/:/host"]}`, "bind mounts must be under /app/data"},
		{`{"Binds": ["/app/data/../../etc:/x"]}`, "bind mounts must be under /app/data"},
		{`{"Binds": ["/app/database:/x"]}`, "bind mounts must be under /app/data"},
		{`{"Binds": ["/app/data/etc:/x"]}`, "symbolic link leads out of /app/data"},
		{`{"Binds": ["/app/data/etc/passwd:/x"]}`, "symbolic link leads out of /app/data"},
		{`{"Binds": ["/app/data/up/x:/x"]}`, "symbolic link leads out of /app/data"},
		{`{"Binds": ["pgdata:/x"]}`, `named volume "pgdata"`},
		{`{"Binds": ["/app/data"]}`, "names no target"},
		{`{"Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s"}]}`, "bind mounts must be under /app/data"},
		{`{"Mounts": [{"Type": "volume", "Source": "other-app-data", "Target": "/d"}]}`, `named volume "other-app-data"`},
		{`{"Mounts": [{"Type": "volume", "Target": "/d", "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "none", "o": "bind", "device": "/etc"}}}}]}`, "volume driver options"},
		{`{"Mounts": [{"Type": "npipe", "Source": "x", "Target": "/d"}]}`, `type "npipe"`},
		{`{"LogConfig": {"Type": "k8s-file", "Config": {"path": "/etc/cron.d/x"}}}`, "log driver options"},
	} {
		_, err := c.FilterCreate([]byte(`{"Image": "base", "HostConfig": `+tc.hostConfig+`}`), res)
		var ref *Refusal
		if err == nil || !errors.As(err, &ref) || ref.Status != http.StatusForbidden || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a 403 with %q", tc.hostConfig, err, tc.want)
		}
	}
	// Without localstorage there is no /app/data to bind.
	if _, err := c.FilterCreate([]byte(`{"Image": "base", "HostConfig": {"Binds": ["/app/data/x:/x"]}}`), nil); err == nil || !strings.Contains(err.Error(), "declares no localstorage") {
		t.Errorf("bind without data: %v", err)
	}
	// Every refusal at once.
	_, err := c.FilterCreate([]byte(`{"Image": "base", "HostConfig": {"Privileged": true, "Binds": ["/etc:/e"]}}`), res)
	if err == nil || !strings.Contains(err.Error(), "privileged") || !strings.Contains(err.Error(), "/etc") {
		t.Errorf("both refusals: %v", err)
	}
	var ref *Refusal
	if _, err := c.FilterCreate([]byte(`{"Image": `), res); !errors.As(err, &ref) || ref.Status != http.StatusBadRequest {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestListQuery(t *testing.T) {
	c := testConfig()
	for _, in := range []string{"", `{"status": ["running"], "label": ["tier=web"]}`, `{"label": {"tier=web": true}}`} {
		q := url.Values{"all": {"1"}}
		if in != "" {
			q.Set("filters", in)
		}
		out, err := c.ListQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string][]string
		if err := json.Unmarshal([]byte(out.Get("filters")), &f); err != nil {
			t.Fatal(err)
		}
		labels := strings.Join(f["label"], " ")
		if !strings.Contains(labels, "io.cpk.run=r1") || !strings.Contains(labels, LabelOwner+"=app-1") || out.Get("all") != "1" {
			t.Errorf("%s: %v", in, out)
		}
		if in != "" && !strings.Contains(labels, "tier=web") {
			t.Errorf("%s: the app's own filter is lost: %v", in, f)
		}
	}
	if _, err := c.ListQuery(url.Values{"filters": {"[1"}}); err == nil {
		t.Error("bad filters pass")
	}
	if !c.Owns(map[string]string{"io.cpk.run": "r1", LabelOwner: "app-1"}) || c.Owns(map[string]string{"io.cpk.run": "r1", "io.cpk.appid": "app-1"}) ||
		c.Owns(map[string]string{"io.cpk.run": "r2", LabelOwner: "app-1"}) {
		t.Error("Owns")
	}
}

func TestCheckExecCreate(t *testing.T) {
	if err := CheckExecCreate([]byte(`{"Cmd": ["ls"], "User": "root"}`)); err != nil {
		t.Error(err)
	}
	if err := CheckExecCreate([]byte(`{"Cmd": ["sh"], "Privileged": true}`)); err == nil || !strings.Contains(err.Error(), "privileged exec") {
		t.Errorf("a privileged exec: %v", err)
	}
}

func TestCheckPull(t *testing.T) {
	if err := CheckPull(url.Values{"fromImage": {"alpine"}, "tag": {"3"}}); err != nil {
		t.Error(err)
	}
	if err := CheckPull(url.Values{"fromSrc": {"-"}}); err == nil {
		t.Error("an import passes")
	}
	if err := CheckPull(url.Values{}); err == nil {
		t.Error("a pull without an image passes")
	}
}
