package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/build"
	"cpk/internal/engine"
	"cpk/internal/testenv"
)

// TestHostileCatalog: a catalog as a careless or malicious contributor
// leaves it — dangling, looping and escaping links (of files and of
// folders), a FIFO, a link to /dev/zero, a 1 GB sparse file, a 10 MB &&
// chain, a broken cpk.yaml, a duplicate id, a manifest that cannot be read
// — and status, lint, docs, upstream check, build --changed and the
// dashboard still finish, report each problem on its own package, cover the
// intact package, and write nothing from outside the packages. The
// dashboard serves every page.
func TestHostileCatalog(t *testing.T) {
	root := t.TempDir()
	t.Setenv("CPK_DB", filepath.Join(t.TempDir(), "results.db"))
	apps := filepath.Join(root, "apps")
	copyApp := func(from, to, id string) string {
		dir := filepath.Join(apps, to)
		testenv.CopyTree(t, filepath.Join(repo, "apps", from), dir)
		spec := filepath.Join(dir, "cpk.yaml")
		data, _ := os.ReadFile(spec)
		os.WriteFile(spec, []byte(strings.Replace(string(data), "id: "+from, "id: "+id, 1)), 0o644)
		return dir
	}
	copyApp("mediawiki", "mediawiki", "mediawiki") // intact
	links := copyApp("webhook", "links", "links")
	if err := syscall.Mkfifo(filepath.Join(links, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.Remove(filepath.Join(links, "start.sh"))
	os.Symlink("/dev/zero", filepath.Join(links, "start.sh"))
	os.Symlink("nowhere", filepath.Join(links, "dangling"))
	os.Symlink("loop", filepath.Join(links, "loop"))
	os.Symlink(".", filepath.Join(links, "self"))
	os.Symlink("/etc", filepath.Join(links, "conf"))
	big, _ := os.Create(filepath.Join(links, "big.bin"))
	big.Truncate(1 << 30) // sparse: no disk used
	big.Close()
	chain := copyApp("webhook", "chain", "chain")
	os.WriteFile(filepath.Join(chain, "start.sh"), []byte("#!/bin/sh\n"+strings.Repeat("echo hi && ", 10<<20/11)+"true\n"), 0o755)
	escape := copyApp("webhook", "escape", "escape")
	mf := filepath.Join(escape, "CloudronManifest.json")
	data, _ := os.ReadFile(mf)
	os.WriteFile(mf, []byte(strings.Replace(string(data), `"postInstallMessage": "file://POSTINSTALL.md"`, `"postInstallMessage": "file://conf/passwd"`, 1)), 0o644)
	os.Symlink("/etc", filepath.Join(escape, "conf"))
	unreadable := copyApp("webhook", "unreadable", "unreadable")
	os.Remove(filepath.Join(unreadable, "CloudronManifest.json"))
	os.Symlink("/etc/passwd", filepath.Join(unreadable, "CloudronManifest.json"))
	broken := copyApp("webhook", "broken", "broken")
	os.WriteFile(filepath.Join(broken, "cpk.yaml"), []byte("id: [broken\n"), 0o644)
	copyApp("mediawiki", "mediawiki-copy", "mediawiki") // the same id again
	if git, err := exec.LookPath("git"); err == nil {
		exec.Command(git, "-C", root, "init", "-q").Run()
	}

	finish := func(args ...string) (string, string, int) {
		t.Helper()
		type result struct {
			out, errOut string
			code        int
		}
		done := make(chan result, 1)
		go func() {
			out, errOut, code := run(t, root, "", args...)
			done <- result{out, errOut, code}
		}()
		select {
		case r := <-done:
			if strings.Contains(r.errOut, "panic") || strings.Contains(r.errOut, "goroutine ") {
				t.Errorf("%v crashed: %s", args, r.errOut)
			}
			return r.out, r.errOut, r.code
		case <-time.After(2 * time.Minute):
			t.Fatalf("cpk %v does not finish", args)
		}
		return "", "", 0
	}
	secret := func(where string, text string) {
		t.Helper()
		if strings.Contains(text, "root:x:0:0") {
			t.Errorf("%s shows /etc/passwd", where)
		}
	}

	// status reports every package: the broken cpk.yaml and the duplicate
	// id on their own folders (exit 1: the catalog has problems).
	out, errOut, code := finish("status", "--format", "json")
	secret("status", out)
	if code != 1 || !strings.Contains(out, `"id": "mediawiki"`) {
		t.Errorf("status: exit %d, intact package missing: %s", code, errOut)
	}
	var rep struct {
		Apps       []struct{ ID string }
		Unreadable []struct{ ID string }
	}
	json.Unmarshal([]byte(out), &rep)
	shown := map[string]bool{}
	for _, a := range rep.Apps {
		shown[a.ID] = true
	}
	for _, u := range rep.Unreadable {
		shown["unreadable:"+u.ID] = true
	}
	for _, id := range []string{"mediawiki", "links", "chain", "escape", "unreadable", "unreadable:broken", "unreadable:mediawiki-copy"} {
		if !shown[id] {
			t.Errorf("status leaves out %s", id)
		}
	}

	out, _, _ = finish("lint", "--format", "json")
	secret("lint", out)
	for _, want := range []string{`"file": "pipe"`, `"file": "start.sh"`, `"file": "dangling"`, `"file": "loop"`, `"file": "conf"`, `"file": "big.bin"`} {
		if !strings.Contains(out, want) {
			t.Errorf("lint does not report %s", want)
		}
	}
	if !strings.Contains(out, `"rule": "CY001"`) {
		t.Error("lint does not report the broken cpk.yaml (CY001)")
	}
	for _, id := range []string{"broken", "links"} {
		if _, errOut, code := finish("lint", id); code == ExitUsage {
			t.Errorf("lint %s: the package is not addressable by its folder: %s", id, errOut)
		}
	}

	finish("docs")
	for _, id := range []string{"mediawiki", "links", "chain", "escape", "unreadable", "broken"} {
		data, _ := os.ReadFile(filepath.Join(apps, id, "README.md"))
		secret("apps/"+id+"/README.md", string(data))
	}
	if _, _, code := finish("docs", "--check"); code == 0 {
		t.Error("docs --check says up to date on a catalog whose inputs cannot all be read")
	}
	// upstream check reaches no network here: it only has to finish, and
	// not as a usage error.
	if _, errOut, code := finish("upstream", "check", "--format", "json"); code == ExitUsage {
		t.Errorf("upstream check: a usage error: %s", errOut)
	}

	// build --changed, with every package but the hostile ones and one
	// tiny package committed: each hostile package fails on its own, with
	// its problem named and without the engine building it; the tiny one
	// is built. (Needs the engine; the dashboard's part below does not.)
	t.Run("build --changed", func(t *testing.T) {
		e := basetest.Engine(t)
		if _, err := exec.LookPath("git"); err != nil {
			testenv.Unavailable(t, "git is not installed")
		}
		git := func(args ...string) {
			t.Helper()
			cmd := exec.Command("git", append([]string{"-C", root, "-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		git("add", "apps/mediawiki")
		git("commit", "-q", "-m", "the intact package")
		var b [4]byte
		_, _ = rand.Read(b[:])
		tiny := "tiny-" + hex.EncodeToString(b[:])
		dir := copyApp("webhook", tiny, tiny)
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY start.sh /start.sh\n"), 0o644)
		t.Cleanup(func() {
			ctx := context.Background()
			imgs, _ := e.ListImages(ctx, engine.ImageFilter{Reference: build.Repo + "/" + tiny})
			for _, img := range imgs {
				for _, tag := range img.Tags {
					_ = e.RemoveImage(ctx, tag)
				}
			}
		})

		out, errOut, code := finish("build", "--changed", "--format", "json")
		secret("build --changed", out+errOut)
		if code != ExitFindings {
			t.Errorf("build --changed: exit %d, want %d (failed builds)\n%s", code, ExitFindings, errOut)
		}
		var results []build.Result
		if err := json.Unmarshal([]byte(out), &results); err != nil {
			t.Fatalf("build --changed: %v\n%s\n%s", err, out, errOut)
		}
		got := map[string]build.Result{}
		for _, r := range results {
			got[r.App] = r
		}
		for id, problem := range map[string]string{
			"links":          "pipe is not a regular file",
			"chain":          "start.sh has 10485",
			"escape":         "conf is a symbolic link that leaves the package",
			"unreadable":     "CloudronManifest.json is a symbolic link that leaves the package",
			"broken":         "cpk.yaml is not a valid catalog entry (CY001",
			"mediawiki-copy": "duplicate id",
		} {
			r, ok := got[id]
			switch {
			case !ok:
				t.Errorf("build --changed leaves out %s: %s", id, out)
			case r.Status != build.Failed || !strings.Contains(r.Error, problem):
				t.Errorf("%s: %s %q, want failed with %q", id, r.Status, r.Error, problem)
			case !strings.Contains(errOut, id+": "):
				t.Errorf("%s: its problem is not on stderr:\n%s", id, errOut)
			}
		}
		for _, want := range []string{"dangling", "loop", "self", "conf", "big.bin", "start.sh"} {
			if !strings.Contains(got["links"].Error, want) {
				t.Errorf("links: %s is not named: %s", want, got["links"].Error)
			}
		}
		if r := got[tiny]; r.Status != build.Built {
			t.Errorf("the intact changed package is not built: %+v\n%s", r, errOut)
		}
		if _, ok := got["mediawiki"]; ok {
			t.Error("build --changed builds the unchanged package")
		}
	})

	base, stop := startServe(t, root, filepath.Join(t.TempDir(), "serve.db"))
	defer stop()
	for _, page := range []string{"/", "/progress", "/app/mediawiki", "/app/links", "/app/chain", "/app/escape", "/app/unreadable", "/app/broken"} {
		res, err := http.Get(base + page)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		secret(page, string(body))
		if res.StatusCode >= 500 {
			t.Errorf("GET %s: %d", page, res.StatusCode)
		}
		if page == "/" && !strings.Contains(string(body), `data-unreadable="broken"`) {
			t.Error("the catalog page does not show the entry whose cpk.yaml is broken")
		}
	}
}
