package runtime_test

import (
	"strings"
	"testing"

	"cpk/internal/engine"
	"cpk/internal/manifest"
)

// TestTurnAddon installs an app with the turn add-on, reaches the TURN
// server from the app at the variables' address, and has coturn's own
// client allocate a relay with the secret the app got (and fail with a
// wrong one). The relay peer is on the loopback, which the box's coturn
// allows.
func TestTurnAddon(t *testing.T) {
	ctx, e, b, baseRef := testBox(t, "runtime-turn")
	doc, errs := manifest.Decode([]byte(`{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "addons": {"turn": {}}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	app := b.NewApp(baseRef, doc.Manifest(), "call")
	app.Cmd = []string{"/bin/sh", "-c", `exec python3 -m http.server 8000 --directory /run`}
	if err := app.Install(ctx); err != nil {
		t.Fatal(err)
	}
	env := app.Env()
	if env["CLOUDRON_TURN_SERVER"] != "turn" || env["CLOUDRON_TURN_PORT"] != "3478" || env["CLOUDRON_TURN_TLS_PORT"] != "5349" || len(env["CLOUDRON_TURN_SECRET"]) < 16 {
		t.Fatalf("turn variables: %v", env)
	}
	res, err := app.Exec(ctx, "cloudron", "/bin/sh", "-c", `python3 -c 'import os, socket; socket.create_connection((os.environ["CLOUDRON_TURN_SERVER"], int(os.environ["CLOUDRON_TURN_PORT"])), 2)'`)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("the app reaches the TURN server: %v %s", err, res.Stderr)
	}
	allocate := func(secret string) string {
		res, err := e.Exec(ctx, "cpk-"+b.RunID+"-turn", engine.ExecSpec{Cmd: []string{"turnutils_uclient", "-W", secret, "-y", "-n", "1", "-m", "1", "-c", "127.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Stdout) + string(res.Stderr)
	}
	if out := allocate(env["CLOUDRON_TURN_SECRET"]); !strings.Contains(out, "Total lost packets 0") {
		t.Errorf("an allocation with the app's secret failed:\n%s", out)
	}
	if out := allocate("not-the-secret"); !strings.Contains(out, "Cannot complete Allocation") {
		t.Errorf("an allocation with a wrong secret:\n%s", out)
	}
	if _, err := app.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
}
