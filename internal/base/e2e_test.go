package base_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"cpk/internal/base"
	"cpk/internal/base/basetest"
	"cpk/internal/engine"
)

// TestBaseImageConventions builds (or reuses) the local base and checks
// the conventions of cloudron/base inside a container made from it.
func TestBaseImageConventions(t *testing.T) {
	e := basetest.Engine(t)
	ref := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	plan, err := base.NewPlan(base.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := e.InspectImage(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if img.Labels[base.LabelBase] != plan.Suite || img.Labels[base.LabelHash] != plan.Hash {
		t.Errorf("labels %v", img.Labels)
	}

	// A second build finds the image and does nothing.
	res, err := (&base.Builder{Engine: e, Runner: engine.DefaultRunner}).Build(ctx, base.Options{StateDir: t.TempDir()})
	if err != nil || res.Status != "cached" || res.ID != img.ID {
		t.Fatalf("second build: %+v %v", res, err)
	}

	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "cpk-test-base-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { _ = e.Remove(context.Background(), name) })
	if _, err := e.Run(ctx, engine.RunSpec{Name: name, Image: ref, Cmd: []string{"sleep", "600"}, Labels: map[string]string{"io.cpk.test": name}, ReadOnly: true, Tmpfs: []string{"/tmp", "/run"}}); err != nil {
		t.Fatal(err)
	}
	check := func(what, script, want string) {
		t.Helper()
		r, err := e.Exec(ctx, name, engine.ExecSpec{Cmd: []string{"bash", "-c", script}})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := strings.TrimSpace(string(r.Stdout)); r.ExitCode != 0 || got != want {
			t.Errorf("%s: exit %d, %q (want %q) %s", what, r.ExitCode, got, want, r.Stderr)
		}
	}
	check("user cloudron", `echo "$(id -u cloudron):$(id -g cloudron) $(getent passwd cloudron | cut -d: -f6)"`, "1000:1000 /home/cloudron")
	check("gosu", `gosu cloudron:cloudron id -un`, "cloudron")
	check("gosu path", `readlink -f /usr/local/bin/gosu >/dev/null && test -x /usr/local/bin/gosu && echo ok`, "ok")
	check("/app", `stat -c '%n %U' /app/code /app/data | tr '\n' ' '`, "/app/code root /app/data cloudron")
	check("tools", `for p in supervisord nginx python3 node npm curl git psql mysql redis-cli sqlite3 jq; do command -v $p >/dev/null || echo missing $p; done; echo done`, "done")
	check("supervisord path", `command -v supervisord`, "/usr/bin/supervisord")
	for _, ca := range plan.CAs {
		// Each extra CA is in the image and in the bundle OpenSSL reads.
		line := strings.Split(strings.TrimSpace(string(ca.Data)), "\n")[1]
		check("CA "+ca.Name, `test -f /usr/local/share/ca-certificates/cpk/`+ca.Name+` && grep -cF '`+line+`' /etc/ssl/certs/ca-certificates.crt`, "1")
	}
}
