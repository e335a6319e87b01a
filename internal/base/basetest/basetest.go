// Package basetest gives end-to-end tests a container engine (podman) and
// the local base image, built once: its tag is content-addressed, so later
// test runs (and the other test packages of the same run, which wait for
// the first through a lock) reuse it. The base image is kept on purpose.
package basetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"cpk/internal/base"
	"cpk/internal/engine"
	"cpk/internal/testenv"
)

// Engine returns podman, or skips the test (fails it when CPK_REQUIRE_ENGINE=1).
func Engine(t testing.TB) engine.Engine {
	t.Helper()
	testenv.SkipShort(t, "needs a container engine")
	testenv.LookPath(t, "podman")
	e, err := engine.New(engine.Podman, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := e.Info(ctx); err != nil {
		testenv.Unavailable(t, "podman does not answer: "+err.Error())
	}
	return e
}

// Image returns the local base image made with the default options,
// building it when it does not exist (a couple of minutes, once).
func Image(t testing.TB, e engine.Engine) string {
	t.Helper()
	plan, err := base.NewPlan(base.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if _, err := e.InspectImage(ctx, plan.Ref); err == nil {
		return plan.Ref
	}
	if err := base.CanDebootstrap(); err != nil {
		testenv.Unavailable(t, err.Error())
	}
	b := &base.Builder{Engine: e, Runner: engine.DefaultRunner}
	start := time.Now()
	res, err := b.Build(ctx, base.Options{StateDir: t.TempDir(), Progress: logWriter{t}})
	if err != nil {
		t.Fatalf("build the base image: %v", err)
	}
	t.Logf("base image %s: %s in %s", res.Ref, res.Status, time.Since(start).Round(time.Second))
	return res.Ref
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
