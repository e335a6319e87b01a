package runtime

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cpk/internal/engine"
	"cpk/internal/engine/enginetest"
	"cpk/internal/manifest"
)

func decode(t *testing.T, s string) manifest.Manifest {
	t.Helper()
	doc, errs := manifest.Decode([]byte(s))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return doc.Manifest()
}

func TestMemoryAndCapabilities(t *testing.T) {
	for in, want := range map[string]int64{`{}`: 256 << 20, `{"memoryLimit": 104857600}`: 256 << 20, `{"memoryLimit": "1GB"}`: 1 << 30, `{"memoryLimit": -1}`: -1} {
		if got := MemoryLimit(decode(t, in)); got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
	caps, dev := Capabilities(decode(t, `{"capabilities": ["net_admin", "ping", "vaapi"]}`))
	if !slices.Contains(caps, "NET_ADMIN") || !slices.Contains(caps, "NET_RAW") || len(dev) != 1 {
		t.Errorf("%v %v", caps, dev)
	}
	if caps, _ := Capabilities(decode(t, `{}`)); slices.Contains(caps, "NET_RAW") || slices.Contains(caps, "SYS_ADMIN") {
		t.Errorf("default caps %v", caps)
	}
}

// TestAppSpec checks the container an app runs in, against a fake engine:
// read-only root, fresh /tmp and /run, /app/data only with localstorage,
// RAM half of the limit, the generic and port variables, labels.
func TestAppSpec(t *testing.T) {
	ctx := context.Background()
	f, b := fakeBox(t, Options{})
	m := decode(t, `{"manifestVersion": 2, "httpPort": 8000, "memoryLimit": 536870912, "addons": {"localstorage": {}},
	  "tcpPorts": {"GIT_PORT": {"title": "git", "description": "git", "defaultValue": 2222}}}`)
	a := b.NewApp("img", m, "test")
	if err := a.Install(ctx); err != nil {
		t.Fatal(err)
	}
	spec := f.Specs[a.Container]
	if !spec.ReadOnly || spec.Memory != 256<<20 || spec.MemorySwap != 512<<20 || spec.Hostname != a.ID || spec.Network != b.Network {
		t.Errorf("spec %+v", spec)
	}
	var targets []string
	for _, v := range spec.Volumes {
		targets = append(targets, v.Target)
	}
	if !slices.Equal(targets, []string{"/tmp", "/run", "/app/data"}) {
		t.Errorf("mounts %v", targets)
	}
	env := spec.Env
	if env["CLOUDRON"] != "1" || env["CLOUDRON_APP_DOMAIN"] != "test.cloudron.test" || env["CLOUDRON_APP_ORIGIN"] != "https://test.cloudron.test" ||
		env["CLOUDRON_WEBADMIN_ORIGIN"] != "https://my.cloudron.test" || env["CLOUDRON_PROXY_IP"] != "10.99.0.1" || env["GIT_PORT"] == "" || env["CLOUDRON_APP_HOSTNAME"] != a.ID {
		t.Errorf("env %v", env)
	}
	for _, k := range []string{LabelRun, LabelApp, LabelPID, LabelHost} {
		if spec.Labels[k] == "" {
			t.Errorf("no label %s", k)
		}
	}
	if _, err := a.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// /tmp and /run are anonymous volumes: each container has its own,
	// removed with it.
	if v := f.Specs[a.Container].Volumes; v[0].Source != "" || v[1].Source != "" || f.Specs[a.Container].Labels[LabelRun] == "" {
		t.Errorf("/tmp and /run of a restarted container: %+v", v)
	}
	if _, err := a.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := f.ListResources(ctx, nil); len(left) > 0 {
		t.Errorf("left %v", left)
	}
	// Without localstorage, /app/data is not mounted; manifestVersion 1 drops the prefix.
	b2, _ := New(ctx, Options{Engine: f, App: "demo", StateDir: t.TempDir()})
	defer b2.Close(ctx)
	a2 := b2.NewApp("img", decode(t, `{"manifestVersion": 1, "httpPort": 8000}`), "old")
	if err := a2.Install(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := f.Specs[a2.Container]
	if len(s2.Volumes) != 2 || s2.Env["APP_DOMAIN"] != "old.cloudron.test" || s2.Env["CLOUDRON_APP_DOMAIN"] != "" {
		t.Errorf("v1 spec %+v", s2)
	}
	if err := CheckAddons([]string{"mongodb", "postgresql"}); err == nil || !strings.Contains(err.Error(), "the mongodb add-on is not available locally") {
		t.Errorf("mongodb: %v", err)
	}
	if err := CheckAddons([]string{"recvmail", "email", "turn", "sendmail", "oauth"}); err != nil {
		t.Errorf("the mail, turn and oauth add-ons: %v", err)
	}
}

// TestGCKeepsBoxes: what a long-lived box made outlives its process: cpk
// gc keeps it while the box's state names its run, and takes it as a dead
// run's leftovers once the state is gone or names another run.
func TestGCKeepsBoxes(t *testing.T) {
	e := enginetest.New()
	ctx := context.Background()
	host, _ := os.Hostname()
	dead := "999999999" // no such process
	kept, gone := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(kept, BoxStateFile), []byte(`{"run":"aaa"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gone, BoxStateFile), []byte(`{"run":"ccc"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]map[string]string{
		"box-net":      {LabelRun: "aaa", LabelPID: dead, LabelHost: host, LabelBox: kept},
		"old-box-net":  {LabelRun: "bbb", LabelPID: dead, LabelHost: host, LabelBox: gone},
		"dead-run-net": {LabelRun: "ddd", LabelPID: dead, LabelHost: host},
	} {
		if err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: name, Labels: l}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := GC(ctx, e, false)
	if err != nil {
		t.Fatal(err)
	}
	var removed, boxes []string
	for _, r := range res.Removed {
		removed = append(removed, r.Name)
	}
	for _, r := range res.Boxes {
		boxes = append(boxes, r.Name)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{"dead-run-net", "old-box-net"}) || !slices.Equal(boxes, []string{"box-net"}) {
		t.Errorf("removed %v, kept for boxes %v", removed, boxes)
	}
}

// TestStopExit checks what Stop reports of how the app ended: the exit
// code read after the stop, the signal a code of 128+n stands for, and
// the end of the output of an app that did not end cleanly (its
// container goes with the stop, its logs with it).
func TestStopExit(t *testing.T) {
	ctx := context.Background()
	f, b := fakeBox(t, Options{})
	defer b.Close(ctx)
	a := b.NewApp("img", decode(t, `{"manifestVersion": 2, "httpPort": 8000}`), "test")
	if err := a.Install(ctx); err != nil {
		t.Fatal(err)
	}
	exit := 0
	f.StopFunc = func(string) int { return exit }
	f.LogsFunc = func(_ string, spec engine.LogsSpec) string {
		if spec.Tail == 0 {
			t.Errorf("all the output asked for, not its end")
		}
		return "flushing the database\nSegmentation fault\n"
	}
	for _, c := range []struct {
		exit   int
		signal int
		clean  bool
	}{{0, 0, true}, {143, 15, true}, {139, 11, false}, {134, 6, false}, {1, 0, false}, {128, 0, false}, {255, 0, false}} {
		exit = c.exit
		f.Reset()
		res, err := a.Restart(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Inspected || res.ExitCode != c.exit || res.Signal() != c.signal || res.Clean() != c.clean || res.Killed {
			t.Errorf("exit %d: %+v (signal %d, clean %v)", c.exit, res, res.Signal(), res.Clean())
		}
		if got := strings.Contains(res.LastOutput, "Segmentation fault"); got == c.clean {
			t.Errorf("exit %d: the app's last output %q", c.exit, res.LastOutput)
		}
		if logs := f.Count("logs"); (logs > 0) == c.clean {
			t.Errorf("exit %d: %d logs calls", c.exit, logs)
		}
	}
	for n, want := range map[int]string{6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM", 31: "SIGSYS", 32: "signal 32", 36: "SIGRTMIN+2", 65: "signal 65"} {
		if got := SignalName(n); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", n, got, want)
		}
	}
	if _, err := a.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
}

// fakeBox makes a box for the app "demo" on a fake engine that has the
// image "img" (and the base image opts names); opts gives the rest.
func fakeBox(t *testing.T, opts Options) (*enginetest.Fake, *Box) {
	t.Helper()
	f := enginetest.New()
	f.AddImage("img", nil)
	if opts.BaseImage != "" {
		f.AddImage(opts.BaseImage, nil)
	}
	opts.Engine, opts.App, opts.StateDir = f, "demo", t.TempDir()
	b, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return f, b
}
