package build_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cpk/internal/base"
	"cpk/internal/base/basetest"
	"cpk/internal/build"
	"cpk/internal/engine"
)

func nonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fixture copies testdata/<name> to root/apps/<id>.
func fixture(t testing.TB, name, root, id string) build.Package {
	t.Helper()
	src := filepath.Join("testdata", name)
	dst := filepath.Join(root, "apps", id)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		info, _ := d.Info()
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return build.Package{ID: id, Dir: dst}
}

// removeImages removes every image of an app when the test ends.
func removeImages(t testing.TB, e engine.Engine, app string) {
	t.Cleanup(func() {
		ctx := context.Background()
		imgs, err := e.ListImages(ctx, engine.ImageFilter{Reference: build.Repo + "/*", Labels: map[string]string{build.LabelApp: app}})
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, img := range imgs {
			for _, tag := range img.Tags {
				if err := e.RemoveImage(ctx, tag); err != nil {
					t.Errorf("cleanup: %v", err)
				}
			}
		}
		// Untagged layers of interrupted builds carry the labels too.
		if e.Name() == engine.Podman {
			if _, err := engine.DefaultRunner.Run(ctx, engine.Command{Name: "podman", Args: []string{"image", "prune", "--force", "--filter", "label=" + build.LabelApp + "=" + app}}); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
}

// TestPodmanBuild builds the fixture package FROM the local base, runs it,
// finds it up to date the second time, and gets the same content hash
// after its image is removed (a clean store for the package).
func TestPodmanBuild(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root := t.TempDir()
	id := "hello-" + nonce()
	p := fixture(t, "hello", root, id)
	removeImages(t, e, id)
	o := build.Options{Engine: e, StateDir: filepath.Join(root, ".cpk"), Jobs: 2, Mapping: base.Mapping{Offline: true, LocalRef: baseRef}}

	res, err := build.Build(ctx, []build.Package{p}, o)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Status != build.Built {
		t.Fatalf("%s: %v\n%s", r.Status, r.Err, strings.Join(r.Tail, "\n"))
	}
	baseImg, err := e.InspectImage(ctx, baseRef)
	if err != nil {
		t.Fatal(err)
	}
	img, err := e.InspectImage(ctx, r.Image)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != r.Digest || img.Labels[build.LabelApp] != id || img.Labels[build.LabelContent] != r.Content || img.Labels[build.LabelBaseDigest] != baseImg.ID || r.BaseDigest != baseImg.ID {
		t.Errorf("image %s labels %v, result %+v", img.ID, img.Labels, r)
	}
	if got := regexp.MustCompile(`^localhost/cpk/` + id + `:[0-9a-f]{16}$`).MatchString(r.Image); !got {
		t.Errorf("tag %s", r.Image)
	}

	// The image runs as a Cloudron app would: read-only, fresh /tmp and /run.
	name := "cpk-test-" + id
	t.Cleanup(func() { _ = e.Remove(context.Background(), name) })
	if _, err := e.Run(ctx, engine.RunSpec{Name: name, Image: r.Image, Labels: map[string]string{"io.cpk.test": id}, ReadOnly: true, Tmpfs: []string{"/tmp", "/run"}}); err != nil {
		t.Fatal(err)
	}
	var page string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		out, err := e.Exec(ctx, name, engine.ExecSpec{Cmd: []string{"curl", "-sf", "http://127.0.0.1:8000/"}})
		if err == nil && out.ExitCode == 0 {
			page = string(out.Stdout)
			break
		}
	}
	if !strings.Contains(page, "hello from cpk") {
		t.Errorf("the app does not serve its page: %q", page)
	}
	if err := e.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}

	// Nothing changed: nothing built.
	res, err = build.Build(ctx, []build.Package{p}, o)
	if err != nil || res[0].Status != build.Cached || res[0].Image != r.Image || res[0].Digest != r.Digest {
		t.Fatalf("second build: %+v %v", res[0], err)
	}

	// A clean store (for the package) gives the same content hash. Under load
	// podman may still count the removed container as a user of the image
	// for a moment, so the removal is retried briefly.
	var rmErr error
	for try := 0; try < 20; try++ {
		if rmErr = e.RemoveImage(ctx, r.Image); rmErr == nil || !strings.Contains(rmErr.Error(), "in use") {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if rmErr != nil {
		t.Fatal(rmErr)
	}
	res, err = build.Build(ctx, []build.Package{p}, o)
	if err != nil || res[0].Status != build.Built || res[0].Image != r.Image || res[0].Content != r.Content {
		t.Fatalf("rebuild: %+v %v", res[0], err)
	}
}

// TestPodmanCancelledBuild interrupts a build in the middle of a RUN step:
// no tag, no alias, no build container and no build process may remain.
func TestPodmanCancelledBuild(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	root := t.TempDir()
	n := nonce()
	id := "slow-" + n
	marker := "cpk-marker-" + n
	dir := filepath.Join(root, "apps", id)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c\n"+
		"RUN echo "+n+" > /first\nRUN echo "+marker+" && sleep 600\n"), 0o644)
	removeImages(t, e, id)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := build.Options{Engine: e, StateDir: filepath.Join(root, ".cpk"), Mapping: base.Mapping{Offline: true, LocalRef: baseRef}}
	done := make(chan []*build.Result, 1)
	var err error
	go func() {
		var res []*build.Result
		res, err = build.Build(ctx, []build.Package{{ID: id, Dir: dir}}, o)
		done <- res
	}()
	// Wait until the RUN step is running, then interrupt (as Ctrl-C does).
	deadline := time.Now().Add(2 * time.Minute)
	for !processRunning(marker) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("the slow step never started")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	var res []*build.Result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the build did not stop within a minute")
	}
	if !errors.Is(err, context.Canceled) || res[0].Status != build.Cancelled {
		t.Fatalf("%v %+v", err, res[0])
	}

	bg := context.Background()
	if processRunning(marker) {
		t.Error("the RUN step still runs")
	}
	imgs, _ := e.ListImages(bg, engine.ImageFilter{Labels: map[string]string{build.LabelApp: id}})
	if len(imgs) > 0 {
		t.Errorf("an interrupted build left tags: %+v", imgs)
	}
	aliases, _ := e.ListImages(bg, engine.ImageFilter{Labels: map[string]string{base.LabelBase: ""}})
	for _, img := range aliases {
		for _, tag := range img.Tags {
			if strings.HasPrefix(tag, engine.AliasRepo+id) {
				t.Errorf("alias left: %s", tag)
			}
		}
	}
	// The build containers: named after the alias, or after an
	// intermediate image this build printed.
	logData, _ := os.ReadFile(res[0].Log)
	var owned []string
	for _, m := range regexp.MustCompile(`(?m)^--> (?:Using cache )?([0-9a-f]{11,})`).FindAllStringSubmatch(string(logData), -1) {
		owned = append(owned, m[1][:11])
	}
	if len(owned) == 0 {
		t.Errorf("the log shows no intermediate image; the test does not test what it should:\n%s", logData)
	}
	out, err := engine.DefaultRunner.Run(bg, engine.Command{Name: "podman", Args: []string{"ps", "--all", "--external", "--format", "{{.Names}}"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(out)) {
		if strings.Contains(name, id) {
			t.Errorf("build container left: %s", name)
		}
		for _, o := range owned {
			if strings.HasPrefix(name, o) {
				t.Errorf("build container left: %s", name)
			}
		}
	}
}

// processRunning says whether a process whose command line holds s runs.
func processRunning(s string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), s) && !strings.Contains(string(cmd), "go test") {
			return true
		}
	}
	return false
}
