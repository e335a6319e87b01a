package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePath puts scripts named after engines on an otherwise empty PATH.
func fakePath(t *testing.T, scripts map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	t.Setenv("CONTAINER_HOST", "")
	t.Setenv("DOCKER_HOST", "")
}

const podmanInfo = `echo '{"host":{"cgroupManager":"cgroupfs","cgroupVersion":"v1","networkBackend":"netavark","ociRuntime":{"name":"runc"},"security":{"rootless":false}},"store":{"graphDriverName":"overlay"},"version":{"Version":"4.3.1"}}'`

func TestDetect(t *testing.T) {
	ctx := context.Background()

	fakePath(t, nil)
	if _, err := Detect(ctx, "", nil); !errors.Is(err, ErrNoEngine) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "apt-get install podman") {
		t.Errorf("no engine: %v", err)
	}

	// Only docker installed: used without asking (its commands will say
	// what is wrong).
	fakePath(t, map[string]string{"docker": "exit 1"})
	if e, err := Detect(ctx, "", nil); err != nil || e.Name() != Docker {
		t.Errorf("docker only: %v %v", e, err)
	}

	// Both installed, docker's daemon down: podman answers and wins, even
	// when DOCKER_HOST would put docker first.
	fakePath(t, map[string]string{
		"docker": `echo '{"Client":{"Version":"28.2.2"},"Server":null}'; echo 'Cannot connect to the Docker daemon' >&2; exit 1`,
		"podman": podmanInfo,
	})
	t.Setenv("DOCKER_HOST", "unix:///nowhere.sock")
	e, err := Detect(ctx, "", nil)
	if err != nil || e.Name() != Podman {
		t.Fatalf("both: %v %v", e, err)
	}
	info, err := e.Info(ctx)
	if err != nil || info.Version != "4.3.1" || info.Details["runtime"] != "runc" || info.Details["networkBackend"] != "netavark" {
		t.Errorf("info %+v %v", info, err)
	}

	// Both installed, none answers: say so, with both reasons.
	fakePath(t, map[string]string{"docker": "echo nope >&2; exit 1", "podman": "echo 'Error: cannot connect' >&2; exit 125"})
	if _, err := Detect(ctx, "", nil); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "cannot connect") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("none answers: %v", err)
	}

	// A choice is used as given, and must exist.
	fakePath(t, map[string]string{"podman": podmanInfo, "docker": "exit 0"})
	if e, err := Detect(ctx, "docker", nil); err != nil || e.Name() != Docker {
		t.Errorf("choice docker: %v %v", e, err)
	}
	if _, err := Detect(ctx, "/opt/nowhere/podman", nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("missing choice: %v", err)
	}
	if _, err := Detect(ctx, "nerdctl", nil); err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("unknown choice: %v", err)
	}
}

func TestDockerInfo(t *testing.T) {
	fakePath(t, map[string]string{"docker": `echo '{"Client":{"Version":"28.2.2"},"Server":{"Version":"28.1.0","Os":"linux"}}'`})
	e, _ := New(Docker, "", nil)
	info, err := e.Info(context.Background())
	if err != nil || info.Version != "28.1.0" || info.Details["client"] != "28.2.2" {
		t.Errorf("%+v %v", info, err)
	}
}
