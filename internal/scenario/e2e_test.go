package scenario_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cpk/internal/base"
	"cpk/internal/base/basetest"
	"cpk/internal/cpk"
	"cpk/internal/engine"
	"cpk/internal/runtime"
	"cpk/internal/scenario"
)

func suite(t *testing.T, e engine.Engine, baseRef, state string) *scenario.Suite {
	root, _ := filepath.Abs("../..")
	return &scenario.Suite{Engine: e, Runner: engine.DefaultRunner, Root: root, StateDir: state,
		Mapping: base.Mapping{Offline: true, LocalRef: baseRef}, BaseImage: baseRef, HealthTimeout: 15 * time.Second}
}

// TestBrokenPackage: a package that writes to /app/code, ignores SIGTERM,
// runs as root and answers its health check with 404 fails, with a message
// naming each problem, and leaves nothing behind.
func TestBrokenPackage(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, _ := filepath.Abs("testdata/broken")
	s := suite(t, e, baseRef, t.TempDir())
	res, err := s.Test(ctx, scenario.Package{ID: "cpk-broken", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != cpk.OutcomeFailed {
		t.Fatalf("outcome %s: %+v", res.Outcome, res)
	}
	all := strings.Join(res.Failures(), "\n")
	t.Logf("failures:\n%s", all)
	for _, want := range []string{"404", "SIGTERM", "runs as root: pid 1 python3", "/app/code/started.txt", "Read-only file system"} {
		if !strings.Contains(all, want) {
			t.Errorf("no failure names %q", want)
		}
	}
	// The app's whole output is in the run's log (its container is gone).
	if log, err := os.ReadFile(res.Log); err != nil || !strings.Contains(string(log), "the app's output, in full:") || !strings.Contains(string(log), "cannot write /app/code/started.txt, going on") {
		t.Errorf("the log %s does not hold the app's output (%v)", res.Log, err)
	}
	if res.Steps[0].Name != scenario.StepInstall || res.Steps[1].Outcome != cpk.OutcomeSkipped {
		t.Errorf("steps: %+v", res.Steps)
	}
	left, err := e.ListResources(context.Background(), map[string]string{runtime.LabelRun: res.RunID})
	if err != nil || len(left) > 0 {
		t.Errorf("left behind: %v %v", left, err)
	}
}

// TestInterruptAndGC runs the scenario in a child process and stops it
// mid-way: on SIGINT the child removes everything itself; killed, it
// cannot, and its watch (engine.Reap) removes what it left, so that cpk
// gc finds nothing. Nothing labelled remains.
func TestInterruptAndGC(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	state := t.TempDir()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperScenario$", "-test.v")
			cmd.Env = append(os.Environ(), "CPK_SCENARIO_HELPER=1", "CPK_HELPER_BASE="+baseRef, "CPK_HELPER_STATE="+state)
			out := &strings.Builder{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := strconv.Itoa(cmd.Process.Pid)
			mine := map[string]string{runtime.LabelPID: pid}
			// Wait until the app container runs: the run is mid-way.
			for {
				cs, _ := e.ListContainers(ctx, map[string]string{runtime.LabelPID: pid, runtime.LabelRole: "app"})
				if len(cs) > 0 {
					break
				}
				if ctx.Err() != nil || cmd.ProcessState != nil {
					t.Fatalf("the child never started the app:\n%s", out)
				}
				time.Sleep(300 * time.Millisecond)
			}
			_ = cmd.Process.Signal(sig)
			err := cmd.Wait()
			t.Logf("child: %v", err)
			left, lerr := e.ListResources(ctx, mine)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if sig == syscall.SIGINT {
				if len(left) > 0 {
					t.Errorf("after Ctrl-C the run left: %v\n%s", left, out)
				}
				return
			}
			// The watch removes them in a few seconds.
			for deadline := time.Now().Add(time.Minute); len(left) > 0 && time.Now().Before(deadline); {
				time.Sleep(500 * time.Millisecond)
				if left, lerr = e.ListResources(ctx, mine); lerr != nil {
					t.Fatal(lerr)
				}
			}
			if len(left) > 0 {
				t.Errorf("a minute after the kill, the run's resources are still there: %v", left)
			}
			res, err := runtime.GC(ctx, e, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Removed {
				if r.Labels[runtime.LabelPID] == pid {
					t.Errorf("cpk gc finds a resource of the killed run: %s %s", r.Kind, r.Name)
				}
			}
		})
	}
}

// TestHelperScenario is the child of TestInterruptAndGC.
func TestHelperScenario(t *testing.T) {
	if os.Getenv("CPK_SCENARIO_HELPER") != "1" {
		t.Skip("run by TestInterruptAndGC")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	e, err := engine.Open(ctx, engine.Podman, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close(e)
	baseRef := os.Getenv("CPK_HELPER_BASE")
	dir, _ := filepath.Abs("testdata/broken")
	s := suite(t, e, baseRef, os.Getenv("CPK_HELPER_STATE"))
	s.HealthTimeout = 2 * time.Minute
	res, err := s.Test(ctx, scenario.Package{ID: "cpk-broken", Dir: dir})
	fmt.Println("helper:", res.Outcome, err)
}
