package scenario

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cpk/internal/engine"
	"cpk/internal/engine/enginetest"
	"cpk/internal/fsx"
	"cpk/internal/manifest"
	"cpk/internal/testenv"
)

// TestEarlierImage: the update starts from the newest earlier tested image
// of a lower version that still exists; the others are named.
func TestEarlierImage(t *testing.T) {
	e := enginetest.New()
	s := &Suite{Engine: e, StateDir: t.TempDir()}
	raw := func(version string) []byte {
		return []byte(`{"id": "org.example.notes", "title": "Notes", "version": "` + version + `", "manifestVersion": 2, "httpPort": 8000, "healthCheckPath": "/"}`)
	}
	// Records as remember writes them, tested a minute apart, oldest first.
	tested := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	record := func(image, version string, exists bool) {
		t.Helper()
		if exists {
			e.AddImage(image, nil)
		}
		tested = tested.Add(time.Minute)
		data, _ := json.Marshal(versionRecord{Image: image, Label: version, Manifest: raw(version), Tested: tested})
		name := filepath.Join(s.StateDir, "test", "notes", "versions", image[strings.LastIndex(image, ":")+1:]+".json")
		if err := fsx.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	record("localhost/cpk/notes:a", "0.9.0", true)
	record("localhost/cpk/notes:b", "1.0.0", true)
	record("localhost/cpk/notes:c", "1.0.0", false) // tested later, image removed since
	record("localhost/cpk/notes:d", "1.0.1", true)  // the same version as the current one
	record("localhost/cpk/notes:e", "1.0.1", true)  // the current image itself
	record("localhost/cpk/notes:f", "1.2.0", true)  // a later version
	doc, _ := manifest.Decode(raw("1.0.1"))
	cur := &Version{Image: "localhost/cpk/notes:e", Manifest: doc.Manifest()}
	v, why := s.earlierImage(context.Background(), Package{ID: "notes"}, cur)
	if v == nil || v.Image != "localhost/cpk/notes:b" || v.Manifest.Version != "1.0.0" {
		t.Fatalf("got %+v, passed over %q", v, why)
	}
	// Nothing below the current version: none, and each one passed over is
	// named with the reason.
	doc, _ = manifest.Decode(raw("0.9.0"))
	v, why = s.earlierImage(context.Background(), Package{ID: "notes"}, &Version{Image: "localhost/cpk/notes:a", Manifest: doc.Manifest()})
	got := strings.Join(why, "\n")
	if v != nil || len(why) != 5 {
		t.Errorf("below 0.9.0: %+v, passed over %q", v, got)
	}
	for _, want := range []string{"notes:f: version 1.2.0 is not below 0.9.0", "notes:d: version 1.0.1 is not below 0.9.0", "notes:b: version 1.0.0", "notes:c: image localhost/cpk/notes:c"} {
		if !strings.Contains(got, want) {
			t.Errorf("passed over %q, want %q", got, want)
		}
	}
}

// TestPreviousCommit: the update starts from the newest commit where the
// package's version is lower than the working tree's (a lower version as it
// was last committed); commits of the current version are passed over.
func TestPreviousCommit(t *testing.T) {
	git := testenv.LookPath(t, "git")
	root := t.TempDir()
	pkg := filepath.Join(root, "apps", "notes")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-c", "user.name=cpk", "-c", "user.email=cpk@cloudron.test"}, args...)...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	commit := func(version, dockerfile string) string {
		t.Helper()
		os.WriteFile(filepath.Join(pkg, "CloudronManifest.json"), []byte(`{"id": "org.example.notes", "title": "Notes", "version": "`+version+`", "manifestVersion": 2, "httpPort": 8000}`), 0o644)
		os.WriteFile(filepath.Join(pkg, "Dockerfile"), []byte(dockerfile), 0o644)
		run("add", ".")
		run("commit", "-q", "-m", version)
		return run("rev-parse", "HEAD")
	}
	run("init", "-q")
	commit("0.9.0", "FROM scratch\n")
	commit("1.0.0", "FROM scratch\n")
	v100 := commit("1.0.0", "FROM scratch\n# a fix without a version bump\n")
	commit("1.0.1", "FROM scratch\n")
	v101 := commit("1.0.1", "FROM scratch\n# a comment\n")
	s := &Suite{Runner: engine.DefaultRunner, Root: root}
	p := Package{ID: "notes", Dir: pkg}
	version := func(v string) *Version {
		doc, _ := manifest.Decode([]byte(`{"version": "` + v + `"}`))
		return &Version{Manifest: doc.Manifest()}
	}
	for _, c := range []struct{ cur, want string }{
		{"1.0.1", v100}, // committed: from 1.0.0 as last committed, not from an earlier 1.0.1
		{"1.0.2", v101}, // a bump in the working tree: from the newest 1.0.1
		{"0.9.0", ""},   // nothing lower
	} {
		got, err := s.previousCommit(context.Background(), p, version(c.cur))
		if err != nil || got != c.want {
			t.Errorf("current %s: %q %v, want %q", c.cur, got, err, c.want)
		}
	}
}
