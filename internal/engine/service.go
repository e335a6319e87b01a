package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// EnvAPI chooses how cpk talks to the engine: "1" (the default) through
// its REST API, "0" through its command line (the --engine-api flag wins).
const EnvAPI = "CPK_ENGINE_API"

// APIDefault is whether the API is used when neither --engine-api nor
// CPK_ENGINE_API says otherwise.
const APIDefault = true

// UseAPI reads CPK_ENGINE_API: 1/true/yes or 0/false/no; empty is APIDefault.
func UseAPI() (bool, error) {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(EnvAPI)))
	switch v {
	case "":
		return APIDefault, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s=%q: use 1 (the engine's API) or 0 (its command line)", EnvAPI, v)
}

// Open returns the engine to use, detected or chosen as Detect does; with
// api, cpk talks to it through its REST API (OpenAPI), else through its
// command line. Close the engine when done (Close): it may have started a
// podman service.
func Open(ctx context.Context, choice string, api bool, r *Runner) (Engine, error) {
	e, err := Detect(ctx, choice, r)
	if err != nil || !api {
		return e, err
	}
	return OpenAPI(ctx, e)
}

// Close releases what an engine holds: the podman service cpk started for
// it, if any. Engines that hold nothing are left alone.
func Close(e Engine) error {
	if c, ok := e.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// serviceIdle is the podman service's idle timeout: cpk pings its own
// service more often than that, so it ends only when cpk is gone (and
// the kernel did not already stop it with cpk, see startDaemon).
const serviceIdle = 30 * time.Second

// OpenAPI returns an engine that talks to e's REST API. The socket is
// DOCKER_HOST or docker's default for docker; for podman a unix
// CONTAINER_HOST, the user's podman.sock if it answers, else a podman
// system service that cpk starts on a private socket and stops on Close
// (and that stops on its own when cpk is killed). An engine reached over
// ssh keeps the command line.
func OpenAPI(ctx context.Context, e Engine) (Engine, error) {
	ce, ok := e.(*cliEngine)
	if !ok {
		return e, nil
	}
	if ce.kind == Docker {
		host := os.Getenv("DOCKER_HOST")
		if host == "" {
			host = "unix:///var/run/docker.sock"
		}
		if !strings.HasPrefix(host, "unix://") && !strings.HasPrefix(host, "tcp://") {
			return e, nil // ssh:// and the like: the docker command knows how
		}
		c, err := client.New(client.FromEnv, client.WithHost(host), client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, Unavailable(fmt.Errorf("docker API at %s: %w", host, err))
		}
		return &apiEngine{cli: ce, c: c, host: host}, nil
	}
	if h := os.Getenv("CONTAINER_HOST"); h != "" || os.Getenv("CONTAINER_CONNECTION") != "" {
		if !strings.HasPrefix(h, "unix://") {
			return e, nil // a remote podman (ssh): its command line reaches it
		}
		c, err := client.New(client.WithHost(h), client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, Unavailable(fmt.Errorf("podman API at %s: %w", h, err))
		}
		return &apiEngine{cli: ce, c: c, host: h}, nil
	}
	for _, sock := range podmanSockets() {
		if answers(ctx, sock) {
			host := "unix://" + sock
			c, err := client.New(client.WithHost(host), client.WithAPIVersionNegotiation())
			if err != nil {
				return nil, err
			}
			return &apiEngine{cli: ce, c: c, host: host}, nil
		}
	}
	svc, err := startService(ctx, ce.path, ce.runner)
	if err != nil {
		return nil, err
	}
	host := "unix://" + svc.sock
	c, err := client.New(client.WithHost(host), client.WithDialContext(svc.dial), client.WithAPIVersionNegotiation())
	if err != nil {
		_ = svc.stop()
		return nil, err
	}
	return &apiEngine{cli: ce, c: c, host: host, svc: svc}, nil
}

// podmanSockets are where a user's podman service listens: the rootless
// one under XDG_RUNTIME_DIR, root's under /run/podman.
func podmanSockets() []string {
	if os.Geteuid() == 0 {
		return []string{"/run/podman/podman.sock"}
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return []string{filepath.Join(d, "podman", "podman.sock")}
	}
	return []string{filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "podman", "podman.sock")}
}

// answers says whether an engine API answers on a unix socket (_ping).
func answers(ctx context.Context, sock string) bool {
	if _, err := os.Stat(sock); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.Ping(ctx, client.PingOptions{})
	return err == nil
}

// service is a podman system service that cpk started on a socket in a
// private folder. It runs in its own process group (a Ctrl-C on the
// terminal reaches cpk alone, which still needs the service to clean up),
// the kernel stops it when cpk dies (where it can: Linux), and it ends
// itself after serviceIdle without requests; while cpk runs, a ping keeps
// it alive, and a service that ended anyway is started again on the next
// request.
type service struct {
	program string
	runner  *Runner
	dir     string
	sock    string

	mu      sync.Mutex
	d       *daemon
	stopped bool
	quit    chan struct{}
}

func startService(ctx context.Context, program string, r *Runner) (*service, error) {
	sweepServiceDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("cpk-podman-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	s := &service{program: program, runner: r, dir: dir, sock: filepath.Join(dir, "podman.sock"), quit: make(chan struct{})}
	if err := s.ensure(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go s.keepAlive()
	return s, nil
}

// sweepServiceDirs removes the socket folders that killed cpk processes
// left behind (their services are gone with them).
func sweepServiceDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "cpk-podman-*-*"))
	for _, d := range dirs {
		f := strings.Split(filepath.Base(d), "-")
		if len(f) != 4 {
			continue
		}
		if pid, err := strconv.Atoi(f[2]); err == nil && pid > 0 && !pidAlive(pid) {
			_ = os.RemoveAll(d)
		}
	}
}

// ensure starts the service unless it runs, and waits for its socket.
func (s *service) ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("the podman service is stopped")
	}
	if s.d != nil && !s.d.exited() {
		return nil
	}
	_ = os.Remove(s.sock)
	d, err := startDaemon(s.runner, Command{Name: s.program, Args: []string{"system", "service", "--time", strconv.Itoa(int(serviceIdle / time.Second)), "unix://" + s.sock}})
	if err != nil {
		return Unavailable(fmt.Errorf("start podman system service: %w", err))
	}
	s.d = d
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", s.sock); err == nil {
			c.Close()
			return nil
		}
		if d.exited() {
			return Unavailable(fmt.Errorf("podman system service exited: %s", lastLines(d.stderr.String(), 3)))
		}
		if time.Now().After(deadline) {
			d.stop(time.Second)
			return Unavailable(errors.New("podman system service did not open its socket within 30 s"))
		}
		select {
		case <-ctx.Done():
			d.stop(time.Second)
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// dial connects to the service's socket, starting the service again if
// it ended (its idle timeout, a crash).
func (s *service) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var lastErr error
	for try := 0; try < 3; try++ {
		if err := s.ensure(ctx); err != nil {
			return nil, err
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", s.sock)
		if err == nil {
			return c, nil
		}
		lastErr = err
		// Ending on its idle timeout: wait for it to be gone.
		s.mu.Lock()
		dm := s.d
		s.mu.Unlock()
		dm.wait(2 * time.Second)
	}
	return nil, lastErr
}

// keepAlive pings the service more often than its idle timeout.
func (s *service) keepAlive() {
	t := time.NewTicker(serviceIdle / 3)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			s.mu.Lock()
			d := s.d
			s.mu.Unlock()
			if d == nil || d.exited() {
				continue
			}
			if c, err := net.DialTimeout("unix", s.sock, time.Second); err == nil {
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = c.Write([]byte("GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n"))
				_, _ = c.Read(make([]byte, 512))
				c.Close()
			}
		}
	}
}

// stop ends the service (SIGTERM, SIGKILL after 10 s) and removes its folder.
func (s *service) stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.quit)
	d := s.d
	s.mu.Unlock()
	if d != nil {
		d.stop(10 * time.Second)
	}
	return os.RemoveAll(s.dir)
}

// pid is the service's process id (0 when it is not running).
func (s *service) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil || s.d.exited() {
		return 0
	}
	return s.d.cmd.Process.Pid
}

// APISocket is the unix socket of e's REST API, for a helper container
// that talks to the engine itself (the docker add-on's filtering proxy).
// An engine driven through its command line gets its API opened (OpenAPI:
// for podman, a service cpk starts); release calls Close on what was
// opened (nothing otherwise). With private, the socket is a podman service
// cpk started: its folder holds nothing else and the service makes the
// socket again when it restarts, so mount the folder rather than the file.
// An engine reached over TCP or ssh has no socket to mount.
func APISocket(ctx context.Context, e Engine) (path string, private bool, release func() error, err error) {
	release = func() error { return nil }
	// Wrappers (Counter) hand over to the engine they wrap.
	for {
		u, ok := e.(interface{ Unwrap() Engine })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	ae, ok := e.(*apiEngine)
	if !ok {
		opened, err := OpenAPI(ctx, e)
		if err != nil {
			return "", false, release, err
		}
		if ae, ok = opened.(*apiEngine); !ok {
			return "", false, release, fmt.Errorf("%s is remote: it has no API socket on this machine to mount into a container", e.Name())
		}
		release = func() error { return Close(opened) }
	}
	sock, ok := strings.CutPrefix(ae.host, "unix://")
	if !ok {
		_ = release()
		return "", false, func() error { return nil }, fmt.Errorf("the %s API is at %s, not on a unix socket this machine can mount into a container", e.Name(), ae.host)
	}
	return sock, ae.svc != nil, release, nil
}
