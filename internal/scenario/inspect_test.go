package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootProcesses(t *testing.T) {
	ps := "self 99\n" + strings.Join([]string{
		"1\t0\t0\tsupervisord\t/usr/bin/python3 /usr/bin/supervisord --nodaemon",
		"7\t1\t0\tnginx\tnginx: master process /usr/sbin/nginx -g daemon off;",
		"8\t7\t33\tnginx\tnginx: worker process",
		"9\t1\t0\tphp-fpm8.2\tphp-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)",
		"10\t9\t1000\tphp-fpm8.2\tphp-fpm: pool www",
		"11\t1\t0\tapache2\t/usr/sbin/apache2 -DFOREGROUND",
		"12\t11\t33\tapache2\t/usr/sbin/apache2 -DFOREGROUND",
		"13\t11\t0\tapache2\t/usr/sbin/apache2 -DFOREGROUND",
		"14\t1\t0\tnode\tnode /app/code/server.js",
		"15\t1\t0\tbash\t/bin/bash /app/pkg/start.sh",
		"99\t0\t0\tsh\t/bin/sh -c …",
		"100\t99\t0\ttr\ttr \\0",
		// Another exec at the same time (a check's), at two depths.
		"120\t0\t0\truncinit\t/usr/bin/runc init",
		"130\t0\t0\tstat\tstat -c %U /app/data/hooks.json",
		"131\t130\t0\tcat\tcat /app/data/x",
	}, "\n")
	procs, self := parsePS(ps)
	if self != 99 || len(procs) != 15 {
		t.Fatalf("%d %d", self, len(procs))
	}
	var got []int
	for _, p := range rootProcesses(procs, self) {
		got = append(got, p.PID)
	}
	if len(got) != 2 || got[0] != 13 || got[1] != 14 {
		t.Errorf("root offenders %v, want the apache child 13 and node 14", got)
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
