//go:build linux

package engine

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cpk/internal/testenv"
)

// openService opens podman's API with a service of cpk's own, or skips
// when the user's podman service answers (cpk then starts none).
func openService(t *testing.T) (*apiEngine, int) {
	t.Helper()
	testenv.LookPath(t, "podman")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := Open(ctx, Podman, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	ae, ok := e.(*apiEngine)
	if !ok || ae.svc == nil {
		_ = Close(e)
		t.Skip("podman's API answers on the user's socket or CONTAINER_HOST: cpk starts no service")
	}
	return ae, ae.svc.pid()
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// waitGone waits up to 15 s for a process to end.
func waitGone(pid int) bool {
	for i := 0; i < 150; i++ {
		if !alive(pid) {
			return true
		}
		// A zombie whose parent is gone is reaped by init soon; ours is
		// reaped by the daemon's Wait.
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// TestServiceLifecycle: the service cpk starts answers, is started again
// when it ends under cpk's feet, and stops (its socket folder removed)
// when the engine is closed.
func TestServiceLifecycle(t *testing.T) {
	e, pid := openService(t)
	ctx := context.Background()
	if pid == 0 {
		t.Fatal("no service process")
	}
	if _, err := e.ListContainers(ctx, map[string]string{"io.cpk.test": "none"}); err != nil {
		t.Fatal(err)
	}
	// The service ends (as on its idle timeout): the next call starts another.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !waitGone(pid) {
		t.Fatalf("service %d did not stop on SIGTERM", pid)
	}
	e.svc.mu.Lock()
	d := e.svc.d
	e.svc.mu.Unlock()
	d.wait(5 * time.Second)
	if _, err := e.ListContainers(ctx, map[string]string{"io.cpk.test": "none"}); err != nil {
		t.Fatalf("after the service ended: %v", err)
	}
	pid2 := e.svc.pid()
	if pid2 == 0 || pid2 == pid {
		t.Fatalf("the service was not started again: %d", pid2)
	}
	dir := e.svc.dir
	if err := Close(e); err != nil {
		t.Fatal(err)
	}
	if !waitGone(pid2) {
		t.Errorf("service %d outlived Close", pid2)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the socket folder %s is still there: %v", dir, err)
	}
}

// TestServiceDiesWithCPK: a cpk that is killed (SIGKILL: no clean-up
// runs) leaves no podman service behind. The test runs itself as that cpk.
func TestServiceDiesWithCPK(t *testing.T) {
	if os.Getenv("CPK_TEST_SERVICE_CHILD") == "1" {
		e, pid := openService(t)
		if _, err := e.ListContainers(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("service %d\n", pid)
		time.Sleep(time.Minute)
		return
	}
	openSkip, _ := openService(t) // skips as the child would
	_ = Close(openSkip)
	cmd := exec.Command(os.Args[0], "-test.run=^TestServiceDiesWithCPK$", "-test.v")
	cmd.Env = append(os.Environ(), "CPK_TEST_SERVICE_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "service" {
			pid, _ = strconv.Atoi(f[1])
			break
		}
	}
	if !alive(pid) {
		t.Fatalf("the child started no service (pid %d)", pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !waitGone(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("podman service %d outlived the killed process that started it", pid)
	}
	// Its socket folder goes when the next service starts.
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("cpk-podman-%d-*", cmd.Process.Pid)))
	if len(dirs) != 1 {
		t.Fatalf("the killed process's socket folder: %v", dirs)
	}
	e, _ := openService(t)
	_ = Close(e)
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Errorf("the killed process's socket folder %s is still there: %v", dirs[0], err)
	}
}
