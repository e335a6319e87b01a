package build_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/base"
	"cpk/internal/base/basetest"
	"cpk/internal/build"
	"cpk/internal/engine"
)

// BenchmarkUpToDate100 compares, in one run, the two ways of finding out
// that nothing changed in a catalog of 100 built packages:
//
//   - check: cpk's content-addressed check (hash the packages' files, list
//     the cpk images once, look the tags up), timed per catalog;
//   - engine: asking the engine to rebuild every package from its layer
//     cache (what a plain `podman build` per package costs), timed once.
//
// It reports both per catalog and their ratio (x-faster). The 100 tiny
// packages are built first (they share the base's layers; about a minute
// or two) and removed at the end.
//
//	go test -run='^$' -bench=UpToDate100 -benchtime=20x ./internal/build/
func BenchmarkUpToDate100(b *testing.B) {
	e := basetest.Engine(b)
	baseRef := basetest.Image(b, e)
	ctx := context.Background()
	root := b.TempDir()
	const n = 100
	prefix := "bench-" + nonce()
	var pkgs []build.Package
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		dir := filepath.Join(root, "apps", id)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c\n"+
			"COPY start.sh /app/code/start.sh\nCMD [\"/app/code/start.sh\"]\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "start.sh"), []byte(fmt.Sprintf("#!/bin/sh\necho package %d\n", i)), 0o755)
		pkgs = append(pkgs, build.Package{ID: id, Dir: dir})
	}
	b.Cleanup(func() {
		imgs, _ := e.ListImages(ctx, engine.ImageFilter{Reference: build.Repo + "/*", Labels: map[string]string{build.LabelApp: ""}})
		for _, img := range imgs {
			for _, tag := range img.Tags {
				if strings.HasPrefix(tag, build.Repo+"/"+prefix+"-") {
					// A build container of the engine's cached rebuilds may
					// still hold the image for a moment on a busy machine.
					err := e.RemoveImage(ctx, tag)
					for try := 0; err != nil && try < 3; try++ {
						time.Sleep(2 * time.Second)
						err = e.RemoveImage(ctx, tag)
					}
					if err != nil {
						b.Errorf("cleanup: %v", err)
					}
				}
			}
		}
	})
	o := build.Options{Engine: e, StateDir: filepath.Join(root, ".cpk"), Jobs: 2, Mapping: base.Mapping{Offline: true, LocalRef: baseRef}}
	start := time.Now()
	res, err := build.Build(ctx, pkgs, o)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		if r.Status != build.Built {
			b.Fatalf("%s: %s %v", r.App, r.Status, r.Err)
		}
	}
	b.Logf("built %d packages in %s", n, time.Since(start).Round(time.Second))

	// The engine's way: one cached rebuild per package, FROM the base as
	// the package would say it, with the same labels.
	var dockerfiles []string
	for _, p := range pkgs {
		df, _ := os.ReadFile(filepath.Join(p.Dir, "Dockerfile"))
		froms, _ := base.Froms(df, nil)
		out, err := base.Rewrite(df, froms, map[int]string{0: baseRef})
		if err != nil {
			b.Fatal(err)
		}
		f := filepath.Join(root, p.ID+".Dockerfile")
		os.WriteFile(f, out, 0o644)
		dockerfiles = append(dockerfiles, f)
	}
	start = time.Now()
	for i, p := range pkgs {
		var log strings.Builder
		_, err := e.BuildImage(ctx, engine.BuildSpec{ContextDir: p.Dir, Dockerfile: dockerfiles[i], Output: &log,
			Labels: map[string]string{build.LabelApp: p.ID, build.LabelContent: res[i].Content, build.LabelBaseDigest: res[i].BaseDigest}})
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(log.String(), "Using cache") {
			b.Fatalf("%s: the engine did not use its cache:\n%s", p.ID, log.String())
		}
	}
	engineTook := time.Since(start)

	var checks int
	checkStart := time.Now()
	for b.Loop() {
		planned, err := build.Check(ctx, pkgs, o)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range planned {
			if !p.UpToDate {
				b.Fatalf("%s is not up to date", p.ID)
			}
		}
		checks++
	}
	check := time.Since(checkStart) / time.Duration(checks)
	b.ReportMetric(float64(check.Microseconds())/1000, "check-ms/catalog")
	b.ReportMetric(float64(engineTook.Milliseconds()), "engine-ms/catalog")
	b.ReportMetric(float64(engineTook)/float64(check), "x-faster")
}
