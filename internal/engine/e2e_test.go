package engine_test

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
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/engine"
	"cpk/internal/testenv"
)

// TestPodmanEndToEnd drives every verb against podman: a network and a
// volume, a read-only, memory-limited web container with tmpfs, env,
// labels, an alias and a published port, a client that reaches it by
// name, exec, logs, stop, remove, lists by label. Everything carries an
// io.cpk.test label and is removed, whatever happens.
func TestPodmanEndToEnd(t *testing.T) {
	e := basetest.Engine(t)
	img := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := nonce()
	labels := map[string]string{"io.cpk.test": id}
	cleanup := func(f func(context.Context) error) {
		t.Cleanup(func() {
			if err := f(context.Background()); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
	}

	netName, volName := "cpk-test-"+id, "cpk-test-"+id
	if err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: netName, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	cleanup(func(ctx context.Context) error { return e.RemoveNetwork(ctx, netName) })
	if err := e.CreateVolume(ctx, engine.VolumeSpec{Name: volName, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	cleanup(func(ctx context.Context) error { return e.RemoveVolume(ctx, volName) })
	if nets, err := e.ListNetworks(ctx, labels); err != nil || len(nets) != 1 || nets[0] != netName {
		t.Errorf("networks by label: %v %v", nets, err)
	}
	if vols, err := e.ListVolumes(ctx, labels); err != nil || len(vols) != 1 || vols[0] != volName {
		t.Errorf("volumes by label: %v %v", vols, err)
	}

	port := freePort(t)
	web := "cpk-test-" + id + "-web"
	cleanup(func(ctx context.Context) error { return e.Remove(ctx, web) })
	_, err := e.Run(ctx, engine.RunSpec{
		Name: web, Image: img, Hostname: "web", Labels: labels,
		Cmd:      []string{"sh", "-c", "mkdir -p /tmp/www && echo hello-cpk > /tmp/www/index.html && exec python3 -m http.server 8000 --directory /tmp/www"},
		Env:      map[string]string{"GREETING": "hi", "APP_SECRET_TOKEN": "s3cr3t-value"},
		ReadOnly: true, Tmpfs: []string{"/tmp", "/run"},
		Volumes: []engine.Mount{{Source: volName, Target: "/app/data"}},
		Network: netName, Aliases: []string{"webalias"},
		Ports:  []engine.Port{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8000}},
		Memory: 128 << 20, MemorySwap: 256 << 20,
		CapDrop: []string{"NET_RAW"},
	})
	if err != nil {
		t.Fatal(err)
	}
	body := waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/", port))
	if !strings.Contains(body, "hello-cpk") {
		t.Errorf("published port: %q", body)
	}

	sh := func(c string, args ...string) *engine.ExecResult {
		t.Helper()
		res, err := e.Exec(ctx, c, engine.ExecSpec{Cmd: append([]string{"sh", "-c"}, args...)})
		if err != nil {
			t.Fatalf("exec %v: %v", args, err)
		}
		return res
	}
	if res := sh(web, "echo x > /app/data/f && echo y > /run/f && cat /app/data/f /run/f && echo $GREETING"); res.ExitCode != 0 || string(res.Stdout) != "x\ny\nhi\n" {
		t.Errorf("writable paths and env: exit %d %q %q", res.ExitCode, res.Stdout, res.Stderr)
	}
	if res := sh(web, "touch /app/code/nope"); res.ExitCode == 0 || !strings.Contains(string(res.Stderr), "Read-only") {
		t.Errorf("the root filesystem is writable: exit %d %q", res.ExitCode, res.Stderr)
	}
	if res := sh(web, "exit 7"); res.ExitCode != 7 {
		t.Errorf("exit code: %d", res.ExitCode)
	}
	if res := sh(web, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"); strings.TrimSpace(string(res.Stdout)) != fmt.Sprint(128<<20) {
		t.Errorf("memory limit: %q", res.Stdout)
	}
	if res, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"id", "-u"}, User: "cloudron"}); err != nil || strings.TrimSpace(string(res.Stdout)) != "1000" {
		t.Errorf("exec as cloudron: %v %v", res, err)
	}
	if res, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"cat"}, Stdin: strings.NewReader("from stdin")}); err != nil || string(res.Stdout) != "from stdin" {
		t.Errorf("exec with stdin: %v %v", res, err)
	}

	client := "cpk-test-" + id + "-client"
	cleanup(func(ctx context.Context) error { return e.Remove(ctx, client) })
	if _, err := e.Run(ctx, engine.RunSpec{Name: client, Image: img, Labels: labels, Network: netName, Cmd: []string{"sleep", "600"}}); err != nil {
		t.Fatal(err)
	}
	if res := sh(client, "curl -sf http://webalias:8000/"); res.ExitCode != 0 || !strings.Contains(string(res.Stdout), "hello-cpk") {
		t.Errorf("reach the web container by its alias: exit %d %q %q", res.ExitCode, res.Stdout, res.Stderr)
	}

	var logs bytes.Buffer
	if err := e.Logs(ctx, web, engine.LogsSpec{Tail: 20}, &logs); err != nil || !strings.Contains(logs.String(), "GET / ") {
		t.Errorf("logs: %v %q", err, logs.String())
	}
	cs, err := e.ListContainers(ctx, labels)
	if err != nil || len(cs) != 2 {
		t.Fatalf("containers by label: %+v %v", cs, err)
	}
	for _, c := range cs {
		if c.State != "running" {
			t.Errorf("%s is %s", c.Name, c.State)
		}
	}

	// sleep as PID 1 ignores SIGTERM: stopped after the grace period.
	start := time.Now()
	if err := e.Stop(ctx, client, time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("stop took %s", took)
	}
	cs, _ = e.ListContainers(ctx, map[string]string{"io.cpk.test": id})
	for _, c := range cs {
		if c.Name == client && c.State != "exited" {
			t.Errorf("stopped container is %s", c.State)
		}
	}

	if err := e.Remove(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := e.Remove(ctx, web); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if _, err := e.Exec(ctx, web, engine.ExecSpec{Cmd: []string{"true"}}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("exec in a removed container: %v", err)
	}
	if err := e.Logs(ctx, web, engine.LogsSpec{}, io.Discard); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("logs of a removed container: %v", err)
	}
	if _, err := e.InspectImage(ctx, "localhost/cpk-test/nosuch:"+id); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect a missing image: %v", err)
	}

	// Tag and untag: the base image stays.
	alias, unalias, err := engine.Alias(ctx, e, img, "cpk-test-"+id)
	if err != nil {
		t.Fatal(err)
	}
	cleanup(unalias)
	if got, err := e.InspectImage(ctx, alias); err != nil || !contains(got.Tags, alias) {
		t.Errorf("alias %s: %+v %v", alias, got, err)
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return string(b)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPodmanConcurrentTags: podman 4 loses a tag when two processes change
// one image's names at once; parallel builds alias the same base image, so
// the engine serialises those changes. No alias may go missing.
func TestPodmanConcurrentTags(t *testing.T) {
	e := basetest.Engine(t)
	img := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	id := nonce()
	const n = 12
	refs := make([]string, n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ref, unalias, err := engine.Alias(ctx, e, img, fmt.Sprintf("cpk-test-%s-%d", id, i))
			t.Cleanup(func() { _ = unalias(context.Background()) })
			refs[i] = ref
			errs <- err
			if i%2 == 0 { // half of them go again while the others are added
				errs <- unalias(ctx)
				refs[i] = ""
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.InspectImage(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		if ref != "" && !contains(got.Tags, ref) {
			t.Errorf("alias %s was lost", ref)
		}
	}
}

// TestImageListers: with buildah installed, a local podman's images are
// listed by buildah (much faster with a few hundred images); both listers
// give the same images and tags for the same filters.
func TestImageListers(t *testing.T) {
	e := basetest.Engine(t)
	img := basetest.Image(t, e)
	testenv.LookPath(t, "buildah")
	if os.Getenv("CONTAINER_HOST") != "" || os.Getenv("CONTAINER_CONNECTION") != "" {
		t.Skip("podman is remote: its images are listed by podman")
	}
	ctx := context.Background()
	repo := "localhost/cpk/listers-" + nonce()
	for _, tag := range []string{repo + ":one", repo + ":two"} {
		if err := e.TagImage(ctx, img, tag); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.UntagImage(context.Background(), tag) })
	}
	t.Setenv("CPK_IMAGE_LISTER", "")
	fast, err := engine.New(engine.Podman, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CPK_IMAGE_LISTER", engine.Podman)
	slow, err := engine.New(engine.Podman, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	list := func(e engine.Engine, f engine.ImageFilter) []string {
		t.Helper()
		imgs, err := e.ListImages(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range imgs {
			for _, tag := range i.Tags {
				out = append(out, i.ID+" "+tag)
			}
		}
		sort.Strings(out)
		return out
	}
	for _, c := range []struct {
		f    engine.ImageFilter
		want int
	}{
		{engine.ImageFilter{Reference: repo + "*"}, 2},
		{engine.ImageFilter{Reference: repo + "*", Labels: map[string]string{"io.cpk.base": ""}}, 2},
		{engine.ImageFilter{Reference: repo + "*", Labels: map[string]string{"io.cpk.base": "bookworm"}}, 2},
		{engine.ImageFilter{Reference: repo + "*", Labels: map[string]string{"io.cpk.app": ""}}, 0},
	} {
		a, b := list(fast, c.f), list(slow, c.f)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%+v:\nbuildah %q\npodman  %q", c.f, a, b)
		}
		// A matching image comes with all its tags (the base's own too).
		got := 0
		for _, row := range a {
			if strings.HasSuffix(row, " "+repo+":one") || strings.HasSuffix(row, " "+repo+":two") {
				got++
			}
		}
		if got != c.want {
			t.Errorf("%+v: %d of the test's tags, want %d: %q", c.f, got, c.want, a)
		}
	}
}
