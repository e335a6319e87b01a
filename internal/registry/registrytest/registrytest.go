// Package registrytest runs a real registry for tests: Debian's
// docker-registry (the CNCF distribution registry), started on a free
// loopback port with its storage in a temporary folder, optionally with
// htpasswd basic auth. Tests skip with a one-line reason when it is not
// installed (and fail under CPK_REQUIRE_ENGINE=1); .ci/run installs it.
package registrytest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cpk/internal/testenv"
)

// Registry is a running registry.
type Registry struct {
	Host string // 127.0.0.1:PORT
	Dir  string // its config, storage and log
	// User and Password are the account htpasswd knows, when Auth was asked.
	User, Password string
}

// Options configure Start.
type Options struct {
	// Auth requires HTTP basic auth (htpasswd, bcrypt) for everything.
	Auth bool
}

// Start runs a registry until the test ends.
func Start(t testing.TB, o Options) *Registry {
	t.Helper()
	bin := "/usr/bin/docker-registry"
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("docker-registry")
		if lerr != nil {
			testenv.Unavailable(t, "docker-registry is not installed (apt-get install docker-registry)")
		}
		bin = p
	}
	r := &Registry{Dir: t.TempDir()}
	auth := ""
	if o.Auth {
		htpasswd := testenv.LookPath(t, "htpasswd") // apache2-utils
		r.User, r.Password = "cpk-tester", "s3cret-"+strconv.FormatInt(time.Now().UnixNano(), 36)
		out, err := exec.Command(htpasswd, "-Bbn", r.User, r.Password).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		if err := os.WriteFile(filepath.Join(r.Dir, "htpasswd"), bytes.TrimSpace(out), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: cpk-test\n    path: %s\n", filepath.Join(r.Dir, "htpasswd"))
	}
	for try := 0; ; try++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		r.Host = "127.0.0.1:" + strconv.Itoa(port)
		config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(r.Dir, "data"), r.Host, auth)
		cfg := filepath.Join(r.Dir, "config.yml")
		if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(r.Dir, "registry.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", cfg)
		// The registry reads REGISTRY_* variables as configuration
		// (REGISTRY_AUTH_FILE, podman's auth file, would be auth.file).
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "REGISTRY_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("start docker-registry: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); logf.Close(); close(exited) }()
		if r.ready(exited) {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			t.Logf("registry at %s (storage %s)", r.Host, r.Dir)
			return r
		}
		_ = cmd.Process.Kill()
		<-exited
		if try == 2 {
			log, _ := os.ReadFile(filepath.Join(r.Dir, "registry.log"))
			t.Fatalf("docker-registry did not start on %s:\n%s", r.Host, log)
		}
	}
}

// ready waits until the registry answers /v2/ (200, or 401 with auth).
func (r *Registry) ready(exited chan struct{}) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case <-exited:
			return false
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Host+"/v2/", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// AuthFile writes an auth file (the format of podman login and docker
// login) holding the registry's account, and returns its path.
func (r *Registry) AuthFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.json")
	enc := []byte(r.User + ":" + r.Password)
	data := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, r.Host, base64.StdEncoding.EncodeToString(enc))
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ManifestDigest asks the registry, over plain HTTP without any client
// library, for the digest it serves for repository:tag (HEAD on
// /v2/<repository>/manifests/<tag>, the Docker-Content-Digest header).
func (r *Registry) ManifestDigest(t testing.TB, repository, tag string) (digest string, status int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, "http://"+r.Host+"/v2/"+repository+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	if r.User != "" {
		req.SetBasicAuth(r.User, r.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Content-Digest"), resp.StatusCode
}
