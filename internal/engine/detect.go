package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Kind tells the engine a program is from its name: podman, podman-remote
// and paths to them are podman; docker and paths to it are docker.
func Kind(program string) (string, error) {
	base := strings.ToLower(filepath.Base(program))
	switch {
	case strings.Contains(base, Podman):
		return Podman, nil
	case strings.Contains(base, Docker):
		return Docker, nil
	}
	return "", fmt.Errorf("unknown engine %q: use podman or docker (or a path to one of them)", program)
}

// Candidates is the detection order: podman, then docker; docker first
// when DOCKER_HOST points at a daemon and CONTAINER_HOST is not set.
func Candidates() []string {
	if os.Getenv("DOCKER_HOST") != "" && os.Getenv("CONTAINER_HOST") == "" {
		return []string{Docker, Podman}
	}
	return []string{Podman, Docker}
}

// ErrNoEngine says no engine is installed; it matches ErrUnavailable.
var ErrNoEngine = Unavailable(errors.New("no container engine: install podman (apt-get install podman) or docker, or set CPK_ENGINE to the program to use (cpk doctor explains)"))

// probeTimeout bounds the question "does this engine answer?".
const probeTimeout = 20 * time.Second

// Detect returns the engine to use. choice is the --engine flag or
// CPK_ENGINE: "podman", "docker" or a path to one of them; "" detects.
// With a choice, that engine is used as given. Otherwise the first
// installed candidate that answers wins; when only one is installed it is
// used without asking (its commands will say what is wrong).
func Detect(ctx context.Context, choice string, r *Runner) (Engine, error) {
	if choice != "" {
		kind, err := Kind(choice)
		if err != nil {
			return nil, err
		}
		path, err := exec.LookPath(choice)
		if err != nil {
			return nil, Unavailable(fmt.Errorf("engine %q is not installed (%v): install it or choose another with --engine/CPK_ENGINE", choice, err))
		}
		return New(kind, path, r)
	}
	var installed []Engine
	for _, kind := range Candidates() {
		if path, err := exec.LookPath(kind); err == nil {
			e, _ := New(kind, path, r)
			installed = append(installed, e)
		}
	}
	switch len(installed) {
	case 0:
		return nil, ErrNoEngine
	case 1:
		return installed[0], nil
	}
	var errs []error
	for _, e := range installed {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_, err := e.Info(pctx)
		cancel()
		if err == nil {
			return e, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("no container engine answers (%w); run cpk doctor", errors.Join(errs...))
}
