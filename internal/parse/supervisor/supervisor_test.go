package supervisor

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := "\uFEFF; supervisor config\n" +
		"[supervisord]\n" +
		"logfile=/run/supervisord.log ; inline comment\n" +
		"pidfile = /run/supervisord.pid # also a comment\n" +
		"\n" +
		"[program:web]\n" +
		"command=/usr/sbin/nginx -g \"daemon off;\"\n" +
		"Environment=A=\"1\",\n" +
		"    B=\"%(ENV_HOME)s\"\n" +
		"\n" +
		"    C=\"3\"\n" +
		"# a comment does not end the value\n" +
		"    D=4\n" +
		"stdout_logfile: /dev/stdout\n" +
		"url=http://x/#frag\n" +
		"empty=\n" +
		"\n" +
		"[include]\n" +
		"files = conf.d/*.conf\n" +
		"        other/*.ini\n" +
		"[program:web]\n" +
		"autorestart=true\n" +
		"command=/bin/true\r\n"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sections) != 3 {
		t.Fatalf("sections %v", f.Sections)
	}
	sd := f.Section("supervisord")
	for name, want := range map[string]string{"logfile": "/run/supervisord.log", "pidfile": "/run/supervisord.pid"} {
		if v, _ := sd.Value(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	web := f.Programs()
	if len(web) != 1 || web[0].Line != 6 {
		t.Fatalf("programs %v", web)
	}
	if kind, name := web[0].Kind(); kind != "program" || name != "web" {
		t.Errorf("kind %q name %q", kind, name)
	}
	for name, want := range map[string]string{
		"command":        "/bin/true", // the repeated section's value wins
		"environment":    "A=\"1\",\nB=\"%(ENV_HOME)s\"\n\nC=\"3\"\nD=4",
		"stdout_logfile": "/dev/stdout",
		"url":            "http://x/#frag",
		"autorestart":    "true",
		"empty":          "",
	} {
		if v, ok := web[0].Value(name); v != want || !ok {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	env := web[0].Get("environment")
	if env.Line != 8 || env.Col != 1 || env.ValueLine != 8 || env.ValueCol != 13 {
		t.Errorf("environment at %d:%d value %d:%d", env.Line, env.Col, env.ValueLine, env.ValueCol)
	}
	pid := sd.Get("pidfile")
	if pid.ValueCol != 11 {
		t.Errorf("pidfile value col %d", pid.ValueCol)
	}
	if v, _ := f.Section("include").Value("files"); v != "conf.d/*.conf\nother/*.ini" {
		t.Errorf("files = %q", v)
	}
	if _, ok := web[0].Value("missing"); ok {
		t.Error("missing key is set")
	}
	var nilSection *Section
	if nilSection.Get("x") != nil {
		t.Error("nil section has keys")
	}
}

func TestParseErrors(t *testing.T) {
	src := "command=x\n[program:a]\njust words\n=value\n[]\nok=1\n"
	f, err := Parse([]byte(src))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 4 {
		t.Fatalf("err = %v", err)
	}
	for i, want := range []string{"line 1: \"command=x\" comes before any [section]", "line 3: \"just words\" is not a key = value", "line 4: \"=value\" has no key", "line 5: bad section header"} {
		if !strings.Contains(errs[i].Error(), want) {
			t.Errorf("error %d = %v, want %q", i, errs[i], want)
		}
	}
	if v, _ := f.Section("program:a").Value("ok"); v != "1" {
		t.Errorf("parsing did not go on after errors: %q", v)
	}
}
