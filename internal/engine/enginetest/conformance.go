package enginetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"cpk/internal/engine"
)

// Conformance drives every verb of a real engine against img (the local
// base image): a network and a volume, a read-only, memory-limited web
// container with tmpfs, env, labels, an alias and a published port, a
// client that reaches it by name, exec (output, exit codes, input, users,
// variables), logs with and without a TTY, stop (the exit code after it:
// a kill after the grace period, a crash, the app's own), inspect, diff, remove,
// lists by label, the batch removal by label, tags. Both implementations
// (the API and the command line) must pass it, with podman and docker.
// Everything carries an io.cpk.test label and is removed, whatever happens.
func Conformance(t *testing.T, e engine.Engine, img string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := nonce()
	labels := map[string]string{"io.cpk.test": id}
	t.Cleanup(func() {
		if _, err := e.RemoveLabelled(context.Background(), labels); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	netName, volName := "cpk-test-"+id, "cpk-test-"+id
	if err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: netName, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.InspectNetwork(ctx, netName); err != nil || n.Name != netName || n.Gateway == "" || n.Labels["io.cpk.test"] != id {
		t.Errorf("inspect the network: %+v %v", n, err)
	}
	if err := e.CreateVolume(ctx, engine.VolumeSpec{Name: volName, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	if nets, err := e.ListNetworks(ctx, labels); err != nil || len(nets) != 1 || nets[0] != netName {
		t.Errorf("networks by label: %v %v", nets, err)
	}
	if vols, err := e.ListVolumes(ctx, labels); err != nil || len(vols) != 1 || vols[0] != volName {
		t.Errorf("volumes by label: %v %v", vols, err)
	}

	port := freePort(t)
	web := "cpk-test-" + id + "-web"
	webID, err := e.Run(ctx, engine.RunSpec{
		Name: web, Image: img, Hostname: "web", Labels: labels,
		Cmd:      []string{"sh", "-c", "mkdir -p /tmp/www && echo hello-cpk > /tmp/www/index.html && echo started; echo oops >&2; exec python3 -m http.server 8000 --directory /tmp/www"},
		Env:      map[string]string{"GREETING": "hi", "APP_SECRET_TOKEN": "s3cr3t-value"},
		ReadOnly: true, Tmpfs: []string{"/tmp", "/run"},
		Volumes: []engine.Mount{{Source: volName, Target: "/app/data"}, {Target: "/scratch"}},
		Network: netName, Aliases: []string{"webalias"},
		Ports:  []engine.Port{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8000}, {HostIP: "127.0.0.1", ContainerPort: 9000}},
		Memory: 128 << 20, MemorySwap: 256 << 20, CPUShares: 512,
		CapDrop: []string{"NET_RAW"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if webID == "" {
		t.Error("Run returned no container id")
	}
	body := waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	if !strings.Contains(body, "hello-cpk") {
		t.Errorf("published port: %q", body)
	}
	info, err := e.InspectContainer(ctx, web)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != web || !info.Running || info.State != "running" || info.Labels["io.cpk.test"] != id || info.Started.IsZero() {
		t.Errorf("inspect: %+v", info)
	}
	if !slices.Contains(info.Env, "GREETING=hi") {
		t.Errorf("inspect: the environment %q has no GREETING=hi", info.Env)
	}
	if info.Ports["8000/tcp"] != port || info.Ports["9000/tcp"] == 0 {
		t.Errorf("published ports: %v, want 8000/tcp on %d and 9000/tcp on a free port", info.Ports, port)
	}
	if byID, err := e.InspectContainer(ctx, webID); err != nil || byID.Name != web {
		t.Errorf("inspect by id: %+v %v", byID, err)
	}

	sh := func(c string, script string) *engine.ExecResult {
		t.Helper()
		res, err := e.Exec(ctx, c, engine.ExecSpec{Cmd: []string{"sh", "-c", script}})
		if err != nil {
			t.Fatalf("exec %q: %v", script, err)
		}
		return res
	}
	if res := sh(web, "echo x > /app/data/f && echo y > /run/f && echo z > /scratch/f && cat /app/data/f /run/f /scratch/f && echo $GREETING"); res.ExitCode != 0 || string(res.Stdout) != "x\ny\nz\nhi\n" {
		t.Errorf("writable paths and env: exit %d %q %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	// A sibling with the web container's volumes (a scheduler task).
	sib := "cpk-test-" + id + "-sibling"
	if _, err := e.Run(ctx, engine.RunSpec{Name: sib, Image: img, Labels: labels, Cmd: []string{"sh", "-c", "cat /app/data/f /scratch/f; exit 3"}, VolumesFrom: []string{web}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		info, err := e.InspectContainer(ctx, sib)
		return err == nil && info.State == "exited" && info.ExitCode == 3
	}, "the sibling to exit with 3")
	var sibOut bytes.Buffer
	if err := e.Logs(ctx, sib, engine.LogsSpec{}, &sibOut); err != nil || sibOut.String() != "x\nz\n" {
		t.Errorf("the sibling's view of the web container's volumes: %q %v", sibOut.String(), err)
	}
	if err := e.Remove(ctx, sib); err != nil {
		t.Error(err)
	}
	for _, p := range []string{"/app/code/nope", "/var/tmp/nope"} {
		if res := sh(web, "touch "+p); res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "Read-only") {
			t.Errorf("%s is writable on a read-only root: exit %d %q", p, res.ExitCode, res.Stderr)
		}
	}
	if res := sh(web, "echo out; echo err >&2; exit 7"); res.ExitCode != 7 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		t.Errorf("exit code and streams: %d %q %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	if res := sh(web, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"); strings.TrimSpace(string(res.Stdout)) != fmt.Sprint(128<<20) {
		t.Errorf("memory limit: %q", res.Stdout)
	}
	if res := sh(web, "grep ^CapEff /proc/1/status"); res.ExitCode != 0 || capSet(string(res.Stdout), 13) {
		t.Errorf("NET_RAW (13) was not dropped: %q", res.Stdout)
	}
	// Top: the first process, and an exec's process beside it whose
	// parent is outside the container (what the not-root check leaves out).
	execDone := make(chan struct{})
	go func() {
		defer close(execDone)
		_, _ = e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"sleep", "3"}, User: "cloudron"})
	}()
	var top *engine.Processes
	for try := 0; try < 50; try++ {
		if top, err = e.Top(ctx, web); err != nil {
			t.Fatalf("top: %v", err)
		}
		if slices.ContainsFunc(top.List, func(p engine.Process) bool { return p.Comm == "sleep" }) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	pids := map[int]engine.Process{}
	for _, p := range top.List {
		pids[p.PID] = p
	}
	if first, ok := pids[top.Init]; !ok || first.User != "root" || !strings.HasPrefix(first.Comm, "python3") || !strings.Contains(first.Args, "http.server 8000") {
		t.Errorf("top: the first process %d is not python3's http.server as root: %+v", top.Init, top)
	}
	if i := slices.IndexFunc(top.List, func(p engine.Process) bool { return p.Comm == "sleep" }); i < 0 {
		t.Errorf("top: no exec'd sleep: %+v", top)
	} else if p := top.List[i]; p.User != "cloudron" || p.Args != "sleep 3" {
		t.Errorf("top: the exec'd sleep: %+v", p)
	} else if _, ok := pids[p.PPID]; ok {
		t.Errorf("top: the exec'd sleep's parent %d is in the container: %+v", p.PPID, top)
	}
	<-execDone
	if _, err := e.Top(ctx, "cpk-test-no-such-container"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("top of a missing container: %v, want ErrNotFound", err)
	}
	if res, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"id", "-u"}, User: "cloudron"}); err != nil || strings.TrimSpace(string(res.Stdout)) != "1000" {
		t.Errorf("exec as cloudron: %v %v", res, err)
	}
	if res, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"sh", "-c", "pwd; echo $ONE"}, WorkDir: "/app/data", Env: map[string]string{"ONE": "1"}}); err != nil || string(res.Stdout) != "/app/data\n1\n" {
		t.Errorf("exec with a working folder and variables: %v %v", res, err)
	}
	if res, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"cat"}, Stdin: strings.NewReader("from stdin")}); err != nil || string(res.Stdout) != "from stdin" {
		t.Errorf("exec with stdin: %v %v", res, err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if res, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"sh", "-c", "wc -c; cat /dev/null"}, Stdin: bytes.NewReader(big)}); err != nil || strings.TrimSpace(string(res.Stdout)) != fmt.Sprint(len(big)) {
		t.Errorf("exec with 1 MiB of stdin: %v %v", res, err)
	}
	if res, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x"}}); err != nil || len(res.Stdout) != 3000000 {
		t.Errorf("exec with 3 MB of output: %v", err)
	}

	client := "cpk-test-" + id + "-client"
	if _, err := e.Run(ctx, engine.RunSpec{Name: client, Image: img, Labels: labels, Network: netName, Cmd: []string{"sleep", "600"}, TTY: true}); err != nil {
		t.Fatal(err)
	}
	if res := sh(client, "curl -sf http://webalias:8000/"); res.ExitCode != 0 || !strings.Contains(string(res.Stdout), "hello-cpk") {
		t.Errorf("reach the web container by its alias: exit %d %q %q", res.ExitCode, res.Stdout, res.Stderr)
	}

	var logs bytes.Buffer
	if err := e.Logs(ctx, web, engine.LogsSpec{}, &logs); err != nil || !strings.Contains(logs.String(), "started") || !strings.Contains(logs.String(), "oops") || !strings.Contains(logs.String(), "GET / ") {
		t.Errorf("logs: %v %q", err, logs.String())
	}
	logs.Reset()
	if err := e.Logs(ctx, web, engine.LogsSpec{Tail: 1}, &logs); err != nil || strings.Count(strings.TrimSpace(logs.String()), "\n") != 0 {
		t.Errorf("logs, the last line: %v %q", err, logs.String())
	}
	logs.Reset()
	if err := e.Logs(ctx, web, engine.LogsSpec{Timestamps: true}, &logs); err != nil {
		t.Errorf("logs with timestamps: %v", err)
	} else if first, _, _ := strings.Cut(logs.String(), " "); !strings.HasPrefix(first, time.Now().UTC().Format("2006-")) && !strings.HasPrefix(first, time.Now().Format("2006-")) {
		t.Errorf("logs with timestamps: %q", logs.String())
	} else if _, err := time.Parse(time.RFC3339Nano, first); err != nil {
		t.Errorf("logs with timestamps: %q: %v", first, err)
	}
	cs, err := e.ListContainers(ctx, labels)
	if err != nil || len(cs) != 2 {
		t.Fatalf("containers by label: %+v %v", cs, err)
	}
	for _, c := range cs {
		if c.State != "running" || c.ID == "" || (c.Name != web && c.Name != client) {
			t.Errorf("listed: %+v", c)
		}
	}

	// A TTY container's output (sleep prints nothing: write to its
	// terminal through a process of its own).
	tty := "cpk-test-" + id + "-tty"
	if _, err := e.Run(ctx, engine.RunSpec{Name: tty, Image: img, Labels: labels, Cmd: []string{"sh", "-c", "echo on-the-tty; exec sleep 600"}, TTY: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		var b bytes.Buffer
		return e.Logs(ctx, tty, engine.LogsSpec{}, &b) == nil && strings.Contains(b.String(), "on-the-tty")
	}, "the TTY container's output in its logs")

	// sleep as PID 1 ignores SIGTERM: stopped after the grace period.
	start := time.Now()
	if err := e.Stop(ctx, client, time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("stop took %s", took)
	}
	if info, err := e.InspectContainer(ctx, client); err != nil || info.Running || info.State != "exited" || info.ExitCode != 137 || info.Finished.IsZero() {
		t.Errorf("a container killed after its grace period: %+v %v", info, err)
	}
	// How a container ended on SIGTERM, read after the stop: a crash (a
	// real SIGSEGV: 128+11) and an exit code of the app's own.
	for _, c := range []struct {
		name string
		cmd  []string
		exit int
	}{
		{"crash", []string{"python3", "-c", "import ctypes, signal, time\nsignal.signal(signal.SIGTERM, lambda *_: ctypes.string_at(0))\nprint('ready', flush=True)\ntime.sleep(600)"}, 139},
		{"exit3", []string{"sh", "-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 0.2; done"}, 3},
	} {
		name := "cpk-test-" + id + "-" + c.name
		if _, err := e.Run(ctx, engine.RunSpec{Name: name, Image: img, Labels: labels, Cmd: c.cmd}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			var b bytes.Buffer
			return e.Logs(ctx, name, engine.LogsSpec{}, &b) == nil && strings.Contains(b.String(), "ready")
		}, c.name+" ready for SIGTERM")
		start := time.Now()
		if err := e.Stop(ctx, name, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 8*time.Second {
			t.Errorf("%s: stop took %s (killed after the grace period?)", c.name, took)
		}
		if info, err := e.InspectContainer(ctx, name); err != nil || info.Running || info.State != "exited" || info.ExitCode != c.exit {
			t.Errorf("%s: the exit code after the stop: %+v %v, want %d", c.name, info, err, c.exit)
		}
		if err := e.Remove(ctx, name); err != nil {
			t.Error(err)
		}
	}
	if err := e.Stop(ctx, "cpk-test-"+id+"-nosuch", time.Second); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("stop a missing container: %v", err)
	}
	// Started again as it was created.
	if err := e.Start(ctx, client); err != nil {
		t.Fatal(err)
	}
	if info, err := e.InspectContainer(ctx, client); err != nil || !info.Running {
		t.Errorf("a container started again: %+v %v", info, err)
	}
	if err := e.Start(ctx, "cpk-test-"+id+"-nosuch"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("start a missing container: %v", err)
	}

	// Diff: what a container wrote in its own filesystem.
	rw := "cpk-test-" + id + "-rw"
	if _, err := e.Run(ctx, engine.RunSpec{Name: rw, Image: img, Labels: labels, Cmd: []string{"sh", "-c", "echo x > /etc/cpk-diff && exec sleep 600"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		ch, err := e.Diff(ctx, rw)
		return err == nil && slices.Contains(ch, engine.Change{Kind: "A", Path: "/etc/cpk-diff"})
	}, "the added file in the container's diff")

	// Removal: a running container that ignores SIGTERM goes at once.
	start = time.Now()
	if err := e.Remove(ctx, rw); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("removing a running container took %s (a grace period?)", took)
	}
	if err := e.Remove(ctx, rw); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if _, err := e.InspectContainer(ctx, rw); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect a removed container: %v", err)
	}
	if _, err := e.Exec(ctx, rw, engine.ExecSpec{Cmd: []string{"true"}}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("exec in a removed container: %v", err)
	}
	if err := e.Logs(ctx, rw, engine.LogsSpec{}, io.Discard); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("logs of a removed container: %v", err)
	}
	if _, err := e.InspectImage(ctx, "localhost/cpk-test/nosuch:"+id); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect a missing image: %v", err)
	}
	if err := e.RemoveVolume(ctx, "cpk-test-"+id+"-nosuch"); err != nil {
		t.Errorf("remove a missing volume: %v", err)
	}
	if err := e.RemoveNetwork(ctx, "cpk-test-"+id+"-nosuch"); err != nil {
		t.Errorf("remove a missing network: %v", err)
	}

	// Tag and untag: the base image stays.
	base, err := e.InspectImage(ctx, img)
	if err != nil || !strings.HasPrefix(base.ID, "sha256:") || !slices.Contains(base.Tags, img) || base.Created.IsZero() {
		t.Fatalf("inspect the base image: %+v %v", base, err)
	}
	alias, unalias, err := engine.Alias(ctx, e, img, "cpk-test-"+id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unalias(context.Background()) })
	if got, err := e.InspectImage(ctx, alias); err != nil || !slices.Contains(got.Tags, alias) || got.ID != base.ID {
		t.Errorf("alias %s: %+v %v", alias, got, err)
	}
	repo := alias[:strings.LastIndex(alias, ":")]
	if imgs, err := e.ListImages(ctx, engine.ImageFilter{Reference: repo}); err != nil || len(imgs) != 1 || imgs[0].ID != base.ID || !slices.Contains(imgs[0].Tags, alias) {
		t.Errorf("list the alias: %+v %v", imgs, err)
	}
	if err := unalias(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.InspectImage(ctx, alias); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("alias still there: %v", err)
	}
	if _, err := e.InspectImage(ctx, img); err != nil {
		t.Errorf("untagging the alias removed the base: %v", err)
	}

	// Everything else goes in one batch, by label.
	res, err := e.ListResources(ctx, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"container " + client, "container " + tty, "container " + web, "network " + netName, "volume " + volName}
	if got := resourceNames(res); !slices.Equal(got, want) {
		t.Errorf("resources by label: %q, want %q", got, want)
	}
	for _, r := range res {
		if r.Labels["io.cpk.test"] != id {
			t.Errorf("%s %s without its labels: %v", r.Kind, r.Name, r.Labels)
		}
	}
	removed, err := e.RemoveLabelled(ctx, labels)
	if err != nil {
		t.Fatal(err)
	}
	if got := resourceNames(removed); !slices.Equal(got, want) {
		t.Errorf("removed by label: %q, want %q", got, want)
	}
	if left, err := e.ListResources(ctx, labels); err != nil || len(left) != 0 {
		t.Errorf("left after the removal by label: %+v %v", left, err)
	}
	if again, err := e.RemoveLabelled(ctx, labels); err != nil || len(again) != 0 {
		t.Errorf("removing by label again: %+v %v", again, err)
	}
}

// capSet says whether capability bit n is set in a "CapEff:\t<hex>" line.
func capSet(line string, n uint) bool {
	f := strings.Fields(line)
	if len(f) != 2 {
		return true
	}
	v, err := strconv.ParseUint(f[1], 16, 64)
	return err != nil || v&(1<<n) != 0
}

func resourceNames(rs []engine.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+" "+r.Name)
	}
	sort.Strings(out)
	return out
}

func nonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHTTP(t *testing.T, url string) string {
	t.Helper()
	var body string
	waitFor(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return resp.StatusCode == 200
	}, url+" to answer")
	return body
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
