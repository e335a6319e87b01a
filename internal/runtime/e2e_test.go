package runtime_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/engine"
	"cpk/internal/manifest"
	"cpk/internal/runtime"
)

// TestAddonsEndToEnd installs a small app with every add-on cpk provides
// into a box, checks its environment and its add-ons from inside, backs it
// up, restores it into a fresh app with fresh add-ons, compares the data,
// runs a scheduler task, and leaves nothing labelled behind.
func TestAddonsEndToEnd(t *testing.T) {
	for _, api := range []bool{false, true} {
		t.Run(map[bool]string{false: "cli", true: "api"}[api], func(t *testing.T) { addonsEndToEnd(t, api) })
	}
}

func addonsEndToEnd(t *testing.T, api bool) {
	ctx, e, b, baseRef := testBoxAPI(t, "runtime-e2e", api)
	doc, errs := manifest.Decode([]byte(`{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "healthCheckPath": "/",
	  "title": "Probe", "memoryLimit": "300MB",
	  "tcpPorts": {"SSH_PORT": {"title": "ssh", "description": "ssh", "defaultValue": 2222, "containerPort": 22}},
	  "addons": {"localstorage": {"sqlite": {"paths": ["/app/data/db.sqlite"]}}, "postgresql": {}, "mysql": {}, "redis": {},
	    "sendmail": {"supportsDisplayName": true}, "ldap": {}, "tls": {},
	    "scheduler": {"tick": {"schedule": "*/5 * * * *", "command": "test -f /run/x && test -f /tmp/x && date > /app/data/tick"}}}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	m := doc.Manifest()
	app := b.NewApp(baseRef, m, "probe")
	app.Cmd = []string{"/bin/sh", "-c", `mkdir -p /app/data/x && echo hi > /app/data/x/f && sqlite3 /app/data/db.sqlite 'create table if not exists t(v); insert into t values (1)' && exec python3 -m http.server 8000 --directory /run`}
	if err := app.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.WaitHealthy(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	env := app.Env()
	for _, k := range []string{"CLOUDRON_APP_ORIGIN", "CLOUDRON_POSTGRESQL_URL", "CLOUDRON_MYSQL_URL", "CLOUDRON_REDIS_URL", "CLOUDRON_MAIL_SMTP_SERVER", "CLOUDRON_MAIL_FROM_DISPLAY_NAME", "CLOUDRON_LDAP_BIND_DN", "SSH_PORT"} {
		if env[k] == "" {
			t.Errorf("no %s in %v", k, env)
		}
	}
	script := `set -e
PGPASSWORD=$CLOUDRON_POSTGRESQL_PASSWORD psql -h $CLOUDRON_POSTGRESQL_HOST -U $CLOUDRON_POSTGRESQL_USERNAME -d $CLOUDRON_POSTGRESQL_DATABASE -c 'create table notes(v text); insert into notes values ($$pg$$)'
mysql --user=$CLOUDRON_MYSQL_USERNAME --password=$CLOUDRON_MYSQL_PASSWORD --host=$CLOUDRON_MYSQL_HOST $CLOUDRON_MYSQL_DATABASE -e "create table notes(v text); insert into notes values ('my')"
REDISCLI_AUTH=$CLOUDRON_REDIS_PASSWORD redis-cli -h $CLOUDRON_REDIS_HOST set k v
python3 - <<'PY'
import os, smtplib
s = smtplib.SMTP(os.environ["CLOUDRON_MAIL_SMTP_SERVER"], int(os.environ["CLOUDRON_MAIL_SMTP_PORT"]))
s.login(os.environ["CLOUDRON_MAIL_SMTP_USERNAME"], os.environ["CLOUDRON_MAIL_SMTP_PASSWORD"])
s.sendmail(os.environ["CLOUDRON_MAIL_FROM"], ["someone@example.com"], "Subject: hello from cpk\n\nbody\n")
s.quit()
PY
test -r /etc/certs/tls_cert.pem && test -r /etc/certs/tls_key.pem
! touch /app/code/x 2>/dev/null
touch /tmp/x /run/x /app/data/y
python3 -c "import socket; socket.create_connection(('ldap', 3002), 2)"
`
	res, err := app.Exec(ctx, "", "/bin/bash", "-c", script)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("inside the app: %v %d\n%s\n%s", err, res.ExitCode, res.Stdout, res.Stderr)
	}
	mails, err := b.Mails(ctx)
	if err != nil || len(mails) != 1 || mails[0].Subject != "hello from cpk" {
		t.Errorf("mails: %+v %v", mails, err)
	}
	// The task sees what the app wrote in its /run and /tmp (VolumesFrom).
	tr, err := app.RunTask(ctx, app.Tasks()[0], time.Minute)
	if err != nil || tr.ExitCode != 0 {
		t.Errorf("task: %+v %v", tr, err)
	}

	bk, err := app.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bk.Archive); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(bk.Files, ","); got != "config.json,mysqldump,postgresqldump,dump.rdb" {
		t.Errorf("backup files %s", got)
	}
	if _, err := app.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := b.NewApp(bk.Image, bk.Manifest, "probe")
	fresh.Cmd = []string{"/bin/sh", "-c", `exec python3 -m http.server 8000 --directory /run`}
	if err := fresh.RestoreFrom(ctx, bk); err != nil {
		t.Fatal(err)
	}
	snap, err := fresh.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := bk.Snapshot.Diff(snap); len(d) > 0 {
		t.Errorf("restored data differs: %v", d)
	}
	if len(snap.Files) < 4 || len(snap.Addons) != 3 {
		t.Errorf("snapshot %+v", snap)
	}
	if err := fresh.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.WaitHealthy(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	res, err = fresh.Exec(ctx, "", "/bin/sh", "-c", `PGPASSWORD=$CLOUDRON_POSTGRESQL_PASSWORD psql -At -h postgresql -U $CLOUDRON_POSTGRESQL_USERNAME -d $CLOUDRON_POSTGRESQL_DATABASE -c 'select v from notes'`)
	if err != nil || strings.TrimSpace(string(res.Stdout)) != "pg" {
		t.Errorf("restored postgresql: %v %s %s", err, res.Stdout, res.Stderr)
	}
	if _, err := fresh.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	var _ engine.Engine = e
}

// testBox makes a box for an end-to-end test (the engine, the local base
// image and the add-on image ready), closes it when the test ends and
// checks that nothing labelled with its run is left behind.
func testBox(t *testing.T, app string) (context.Context, engine.Engine, *runtime.Box, string) {
	t.Helper()
	return testBoxAPI(t, app, false)
}

// testBoxAPI is testBox with, when api is set, the engine driven through
// its REST API (cpk's default; for podman a service cpk starts), its calls
// counted, as cpk test has it.
func testBoxAPI(t *testing.T, app string, api bool) (context.Context, engine.Engine, *runtime.Box, string) {
	t.Helper()
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	if api {
		ae, err := engine.OpenAPI(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = engine.Close(ae) })
		e = engine.NewCounter(ae)
	}
	if _, err := runtime.EnsureAddonImage(ctx, e, baseRef, func(s string) { t.Log(s) }); err != nil {
		t.Fatal(err)
	}
	b, err := runtime.New(ctx, runtime.Options{Engine: e, App: app, BaseImage: baseRef, StateDir: t.TempDir(), Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		left, err := e.ListResources(context.Background(), map[string]string{runtime.LabelRun: b.RunID})
		if err != nil || len(left) > 0 {
			t.Errorf("left behind: %v %v", left, err)
		}
	})
	return ctx, e, b, baseRef
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
