package scenario

import (
	"os"
	"path/filepath"
	"testing"

	"cpk/internal/engine"
)

func TestRootProcesses(t *testing.T) {
	row := func(pid, ppid int, user, comm, args string) engine.Process {
		return engine.Process{PID: pid, PPID: ppid, User: user, Comm: comm, Args: args}
	}
	for _, tc := range []struct {
		name string
		init int
		off  int // how the numbers are shifted: podman's in the container, docker's on the host
	}{{"in the container", 1, 0}, {"on the host", 4001, 4000}} {
		n := func(pid int) int { return pid + tc.off }
		ps := &engine.Processes{Init: tc.init, List: []engine.Process{
			row(n(1), 0, "root", "supervisord", "/usr/bin/python3 /usr/bin/supervisord --nodaemon"),
			row(n(7), n(1), "root", "nginx", "nginx: master process /usr/sbin/nginx -g daemon off;"),
			row(n(8), n(7), "www-data", "nginx", "nginx: worker process"),
			row(n(9), n(1), "root", "php-fpm8.2", "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"),
			row(n(10), n(9), "cloudron", "php-fpm8.2", "php-fpm: pool www"),
			row(n(11), n(1), "root", "apache2", "/usr/sbin/apache2 -DFOREGROUND"),
			row(n(12), n(11), "www-data", "apache2", "/usr/sbin/apache2 -DFOREGROUND"),
			row(n(13), n(11), "root", "apache2", "/usr/sbin/apache2 -DFOREGROUND"),
			row(n(14), n(1), "root", "node", "node /app/code/server.js"),
			row(n(15), n(1), "root", "bash", "/bin/bash /app/pkg/start.sh"),
			// Execs from outside at the same time (checks'), at two depths:
			// their first process's parent is not in the container.
			row(n(120), 0, "root", "runc:[2:INIT]", "runc init"),
			row(n(130), 0, "root", "stat", "stat -c %U /app/data/hooks.json"),
			row(n(131), n(130), "root", "cat", "cat /app/data/x"),
		}}
		if tc.off > 0 {
			for i := range ps.List {
				if ps.List[i].PPID == 0 {
					ps.List[i].PPID = 900 // the engine's shim, on the host
				}
			}
		}
		var got []int
		for _, p := range rootProcesses(ps) {
			got = append(got, p.PID-tc.off)
		}
		if len(got) != 2 || got[0] != 13 || got[1] != 14 {
			t.Errorf("%s: root offenders %v, want the apache child 13 and node 14", tc.name, got)
		}
	}
}

func TestLoadChecks(t *testing.T) {
	dir := t.TempDir()
	if pc, err := LoadChecks(dir); err != nil || len(pc.Checks) != 0 {
		t.Fatalf("no file: %v %v", pc, err)
	}
	write := func(s string) {
		os.MkdirAll(filepath.Join(dir, "test"), 0o755)
		os.WriteFile(filepath.Join(dir, "test", "checks.yaml"), []byte(s), 0o644)
	}
	write("checks:\n  - name: x\n    http: {path: /}\n    steps: [install, move]\n")
	if pc, err := LoadChecks(dir); err != nil || len(pc.Checks) != 1 || pc.Checks[0].HTTP.Path != "/" {
		t.Errorf("%+v %v", pc, err)
	}
	write("checks:\n  - task: reminders\n    contains: sent\n")
	if pc, err := LoadChecks(dir); err != nil || pc.Checks[0].Task != "reminders" || pc.Checks[0].title() != "scheduler task reminders" {
		t.Errorf("a task check: %+v %v", pc, err)
	}
	write("data:\n  - deliver: {to: app, from: a@example.net, subject: Hello, body: text}\n")
	if pc, err := LoadChecks(dir); err != nil || pc.Data[0].Deliver.To != "app" || pc.Data[0].title() != "deliver Hello" {
		t.Errorf("a delivery: %+v %v", pc, err)
	}
	for _, bad := range []string{"checks:\n  - deliver: {to: app}\n", "checks:\n  - deliver: {subject: x}\n", "checks:\n  - deliver: {to: app, subject: x}\n    mail: {subject: x}\n",
		"checks:\n  - deliver: {to: app, subject: x, cc: y}\n"} {
		write(bad)
		if _, err := LoadChecks(dir); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	for _, bad := range []string{"checks:\n  - name: x\n    htp: {}\n", "checks:\n  - name: x\n", "checks:\n  - http: {path: /}\n    exec: [true]\n", "checks:\n  - http: {path: /}\n    steps: [deploy]\n", "checks:\n  - task: t\n    exec: [true]\n"} {
		write(bad)
		if _, err := LoadChecks(dir); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
