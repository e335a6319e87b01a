package registry_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"cpk/internal/registry"
	"cpk/internal/registry/registrytest"
)

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		in, host, ns, err string
	}{
		{in: "127.0.0.1:5000/cpk", host: "127.0.0.1:5000", ns: "cpk"},
		{in: "registry.example.com/team/cloudron/", host: "registry.example.com", ns: "team/cloudron"},
		{in: "localhost:5000", host: "localhost:5000"},
		{in: "[::1]:5000/cpk", host: "[::1]:5000", ns: "cpk"},
		{in: "", err: "no registry"},
		{in: "https://registry.example.com/team", err: "leave out the scheme https://"},
		{in: "registry example.com/x", err: "is not a host[:port]"},
		{in: "registry.example.com/Team", err: `namespace part "Team" must be lower-case`},
		{in: "registry.example.com//x", err: `namespace part ""`},
	} {
		got, err := registry.ParseTarget(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got.Host != c.host || got.Namespace != c.ns {
			t.Errorf("%q: %+v %v", c.in, got, err)
		}
	}
	tg, _ := registry.ParseTarget("127.0.0.1:5000/cpk")
	if tg.Repository("webhook") != "127.0.0.1:5000/cpk/webhook" || tg.String() != "127.0.0.1:5000/cpk" {
		t.Errorf("repository %s", tg.Repository("webhook"))
	}
	for host, want := range map[string]bool{"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:5000": true, "127.8.0.1": true,
		"10.0.0.1:5000": false, "registry.example.com": false, "localhost.example.com": false} {
		if got := (registry.Target{Host: host}).Loopback(); got != want {
			t.Errorf("Loopback(%s) = %v", host, got)
		}
	}
}

// TestAuthFiles: podman's auth files come in podman's order, the most
// specific entry wins, and a broken file is named without its contents.
func TestAuthFiles(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first.json")
	second := filepath.Join(dir, "runtime", "containers", "auth.json")
	os.MkdirAll(filepath.Dir(second), 0o755)
	// first: the namespace entry; second: the host entry of another registry.
	os.WriteFile(first, []byte(`{"auths": {"reg.example.com/team": {"auth": "dGVhbTp0ZWFtLXB3"}, "other.example.com": {"auth": "Zmlyc3Q6Zmlyc3QtcHc="}}}`), 0o600)
	os.WriteFile(second, []byte(`{"auths": {"reg.example.com": {"auth": "aG9zdDpob3N0LXB3"}, "https://third.example.com": {"username": "third", "password": "third-pw"}}}`), 0o600)
	t.Setenv("REGISTRY_AUTH_FILE", first)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "runtime"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker"))
	if got := registry.AuthFiles(); len(got) != 2 || got[0] != first || got[1] != filepath.Join(dir, "config", "containers", "auth.json") {
		t.Errorf("REGISTRY_AUTH_FILE replaces the runtime file: %v", got)
	}
	kc := registry.Keychain()
	user := func(repo string) string {
		t.Helper()
		r, err := name.NewRepository(repo)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(r)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Username + ":" + cfg.Password
	}
	if got := user("reg.example.com/team/webhook"); got != "team:team-pw" {
		t.Errorf("namespace entry: %s", got)
	}
	if got := user("other.example.com/x/webhook"); got != "first:first-pw" {
		t.Errorf("host entry: %s", got)
	}
	if got := user("nowhere.example.com/x/webhook"); got != ":" {
		t.Errorf("unknown registry: %s, want anonymous", got)
	}
	t.Setenv("REGISTRY_AUTH_FILE", "")
	kc = registry.Keychain()
	if got := user("reg.example.com/team/webhook"); got != "host:host-pw" {
		t.Errorf("runtime file, host entry: %s", got)
	}
	if got := user("third.example.com/x/webhook"); got != "third:third-pw" {
		t.Errorf("https:// key: %s", got)
	}
	os.WriteFile(second, []byte(`{"auths": {"reg.example.com": {"auth": "c2VjcmV0LXZhbHVl"`), 0o600)
	r, _ := name.NewRepository("reg.example.com/team/webhook")
	_, err := kc.Resolve(r)
	if err == nil || !strings.Contains(err.Error(), second) || strings.Contains(err.Error(), "c2VjcmV0LXZhbHVl") {
		t.Errorf("broken file: %v", err)
	}
}

// tinyImage writes a small random image as a docker-archive tarball.
func tinyImage(t *testing.T) string {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	tag, _ := name.NewTag("localhost/cpk/tiny:1")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPushToRegistry pushes to Debian's docker-registry: the digest Push
// returns is the one the registry serves (asked over plain HTTP), the same
// image pushed again gets the same digest, and credentials are checked.
func TestPushToRegistry(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{Auth: true})
	ctx := context.Background()
	archive := prepared(t, tinyImage(t))
	target, err := registry.ParseTarget(reg.Host + "/cpk")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(t.TempDir(), "none.json"))
	t.Setenv("DOCKER_CONFIG", t.TempDir())

	// No credentials, then a wrong password: refused before any upload.
	for _, auth := range []registry.Auth{{}, {Username: reg.User, Password: "wrong-" + reg.Password}} {
		want := "refused the credentials (401 Unauthorized)"
		if auth.Username == "" {
			want = "wants credentials (401 Unauthorized)"
		}
		o := registry.Options{Target: target, Auth: auth}
		err := registry.CheckPush(ctx, target.Repository("tiny"), o)
		if !errors.Is(err, registry.ErrUnauthorized) || !strings.Contains(err.Error(), want) {
			t.Errorf("check with %q: %v", auth.Username, err)
		}
		if err != nil && strings.Contains(err.Error(), reg.Password) {
			t.Errorf("the error shows the password: %v", err)
		}
		_, err = registry.Push(ctx, archive, target.Repository("tiny"), "1.0.0-abc", o)
		if !errors.Is(err, registry.ErrUnauthorized) {
			t.Errorf("push with %q: %v", auth.Username, err)
		}
	}

	o := registry.Options{Target: target, Auth: registry.Auth{Username: reg.User, Password: reg.Password}}
	var last int64
	o.Progress = func(done, total int64) { last = done }
	if err := registry.CheckPush(ctx, target.Repository("tiny"), o); err != nil {
		t.Fatal(err)
	}
	p, err := registry.Push(ctx, archive, target.Repository("tiny"), "1.0.0-abc", o)
	if err != nil {
		t.Fatal(err)
	}
	served, status := reg.ManifestDigest(t, "cpk/tiny", "1.0.0-abc")
	if status != http.StatusOK || served != p.Digest || !strings.HasPrefix(p.Digest, "sha256:") {
		t.Errorf("pushed %s, the registry serves %q (HTTP %d)", p.Digest, served, status)
	}
	if p.Reference != reg.Host+"/cpk/tiny:1.0.0-abc" || p.Size < 4096 || last == 0 {
		t.Errorf("pushed %+v, progress %d", p, last)
	}

	// What the tag holds: the manifest digest, the config digest (the
	// image id), the size; nothing for a tag that does not exist.
	d, config, size, err := registry.Served(ctx, target.Repository("tiny"), "1.0.0-abc", o)
	if err != nil || d != p.Digest || config != archive.ConfigDigest() || size != p.Size {
		t.Errorf("served %s %s %d %v; pushed %+v, config %s", d, config, size, err, p, archive.ConfigDigest())
	}
	if d, config, _, err := registry.Served(ctx, target.Repository("tiny"), "nope", o); d != "" || config != "" || err != nil {
		t.Errorf("a missing tag: %q %q %v", d, config, err)
	}

	// The credentials from an auth file (podman login's format), and the
	// same image again: the same digest.
	t.Setenv("REGISTRY_AUTH_FILE", reg.AuthFile(t))
	again, err := registry.Push(ctx, archive, target.Repository("tiny"), "again", registry.Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != p.Digest {
		t.Errorf("the same image pushed again: %s, then %s", p.Digest, again.Digest)
	}
	if d, err := registry.Digest(ctx, again.Reference, registry.Options{Target: target}); err != nil || d != p.Digest {
		t.Errorf("Digest: %s %v", d, err)
	}

	// Nothing listens: the message names the registry.
	dead := registry.Target{Host: "127.0.0.1:1", Namespace: "cpk"}
	err = registry.CheckPush(ctx, dead.Repository("tiny"), registry.Options{Target: dead})
	if !errors.Is(err, registry.ErrUnreachable) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("nothing listening: %v", err)
	}
}

// TestPlainHTTPNeedsInsecure: a registry that is not on loopback and
// answers plain HTTP is refused unless --insecure (credentials would
// travel in clear text).
func TestPlainHTTPNeedsInsecure(t *testing.T) {
	ip := outboundIP()
	if ip == "" {
		t.Skip("this machine has no address but loopback")
	}
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		if r.Method == http.MethodPost {
			w.Header().Set("Location", "/v2/cpk/tiny/blobs/uploads/1")
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	target := registry.Target{Host: l.Addr().String(), Namespace: "cpk"}
	err = registry.CheckPush(context.Background(), target.Repository("tiny"), registry.Options{Target: target})
	if !errors.Is(err, registry.ErrUnreachable) || !strings.Contains(err.Error(), "add --insecure") {
		t.Errorf("plain HTTP without --insecure: %v", err)
	}
	target.Insecure = true
	if err := registry.CheckPush(context.Background(), target.Repository("tiny"), registry.Options{Target: target}); err != nil {
		t.Errorf("plain HTTP with --insecure: %v", err)
	}
}

// outboundIP is an address of this machine other than loopback.
func outboundIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// prepared compresses a docker-archive for Push.
func prepared(t *testing.T, archive string) *registry.Image {
	t.Helper()
	img, err := registry.Prepare(context.Background(), archive, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

// TestPrepare: the config stays byte for byte (its digest is the image
// id), the same archive always gives the same manifest digest, the one
// go-containerregistry computes for the archive itself, and Close leaves
// nothing behind.
func TestPrepare(t *testing.T) {
	archive := tinyImage(t)
	src, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	var last, total int64
	a, err := registry.Prepare(context.Background(), archive, 2, func(d, tt int64) { last, total = d, tt })
	if err != nil {
		t.Fatal(err)
	}
	b := prepared(t, archive)
	want, _ := src.Digest()
	t.Logf("prepared %s, go-containerregistry's %s; progress %d of %d", a.Digest(), want, last, total)
	if a.Digest() != b.Digest() || !strings.HasPrefix(a.Digest(), "sha256:") {
		t.Errorf("two preparations: %s, %s", a.Digest(), b.Digest())
	}
	if a.Digest() != want.String() {
		t.Errorf("prepared %s, go-containerregistry's tarball image %s", a.Digest(), want)
	}
	if last == 0 || total == 0 || a.Size < 4096 {
		t.Errorf("progress %d of %d, size %d", last, total, a.Size)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(archive))
	if len(entries) != 2 { // the archive and b's layers
		t.Errorf("left beside the archive: %v", entries)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := registry.Prepare(ctx, archive, 2, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
