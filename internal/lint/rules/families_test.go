package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/parse/nginx"
)

// TestEveryRuleHasAFixture: every rule, the framework's included, is
// expected by at least one fixture (CY001 is the catalog loader's, tested in
// internal/catalog and internal/cli).
func TestEveryRuleHasAFixture(t *testing.T) {
	var all strings.Builder
	filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(path, "testdata/fuzz/") {
			data, _ := os.ReadFile(path)
			all.Write(data)
		}
		return nil
	})
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reg.Rules() {
		if r.Code == CatalogRule {
			continue
		}
		if !regexp.MustCompile(`(want "|" "|^|\n)` + r.Code + ` `).MatchString(all.String()) {
			t.Errorf("%s (%s): no fixture expects it", r.Code, r.Title)
		}
	}
}

func TestListenPort(t *testing.T) {
	for arg, want := range map[string]int{
		"8000": 8000, "127.0.0.1:8080": 8080, "[::]:8000": 8000, "[::]": 80, "localhost": 80,
		"*:3000": 3000, "0.0.0.0:80": 80, "unix:/run/x.sock": -1, "${PORT}": -1, "$port": -1, "80000": -1,
	} {
		got, ok := listenPort(arg)
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("listenPort(%q) = %d, want %d", arg, got, want)
		}
	}
}

func TestMatchLocation(t *testing.T) {
	f, err := nginx.Parse("x", []byte(`
		location / { a; }
		location /api { b; }
		location ^~ /static { c; }
		location ~ \.php$ { d; }
		location = /health { e; }
		location ~* ^/API/v2 { f; }
		location @named { g; }
	`))
	if err != nil {
		t.Fatal(err)
	}
	for uri, want := range map[string]string{
		"/": "a", "/health": "e", "/healthz": "a", "/api/x": "b", "/api/v2/x": "f",
		"/static/x.php": "c", "/x.php": "d", "/api/x.php": "d",
	} {
		got := matchLocation(f.Directives, uri)
		if got == nil || got.Block[0].Name != want {
			t.Errorf("matchLocation(%q) = %v, want location with %s", uri, got, want)
		}
	}
}

func TestCommandWords(t *testing.T) {
	got := strings.Join(commandWords(`exec gosu a:b /x -g "daemon off; pid /run/n.pid;" 'q w' a\ b 2>&1 && y || z; w # c`), "|")
	want := `exec|gosu|a:b|/x|-g|daemon off; pid /run/n.pid;|q w|a b|2>&1|&&|y||||z|;|w`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	words := commandWords(`env A=1 /usr/local/bin/gosu cloudron:cloudron node server.js`)
	if i := programOf(words); i < 0 || words[i] != "node" || !dropsRoot(words) {
		t.Errorf("programOf = %d in %q", i, words)
	}
	if words := commandWords("gosu root /bin/app"); dropsRoot(words) {
		t.Error("gosu root drops root")
	}
}

func TestScriptLines(t *testing.T) {
	lines := scriptLines("#!/bin/sh\nRUN a \\\n# comment\n    && b\n\nc\n")
	if len(lines) != 2 || lines[0].line != 2 || lines[1].line != 6 {
		t.Fatalf("lines = %+v", lines)
	}
	if l, c := lines[0].at(strings.Index(lines[0].text, "&& b")); l != 4 || c != 5 {
		t.Errorf("at = %d:%d, want 4:5", l, c)
	}
}

func TestWorldWritable(t *testing.T) {
	for mode, want := range map[string]bool{
		"777": true, "0777": true, "0666": true, "1777": true, "755": false, "0644": false, "775": false,
		"a+rwx": true, "o+w": true, "u+x,o+w": true, "ugo=rwx": true, "+w": false, "g+w": false, "o-w": false, "R": false,
	} {
		if got := worldWritable(mode); got != want {
			t.Errorf("worldWritable(%q) = %v", mode, got)
		}
	}
}

func TestCurlInsecure(t *testing.T) {
	for line, want := range map[string]bool{
		"curl -k https://x":          true,
		"curl -fsSLk https://x":      true,
		"curl --insecure https://x":  true,
		"curl -fsSL https://x":       false,
		"curl -o k https://x":        false,
		"curl -ok https://x":         false, // -o with the value k
		"curl -fsSL x | tar -xk":     false,
		"wget -q x; curl -sS -k y":   true,
		"echo curl; ls -k /tmp/curl": false,
	} {
		if got := curlInsecure(line) >= 0; got != want {
			t.Errorf("curlInsecure(%q) = %v", line, got)
		}
	}
}

func TestSecretValues(t *testing.T) {
	for v, want := range map[string]bool{
		"hunter2-prod": true, "${DB_PASSWORD}": false, "%(ENV_X)s": false, "{{ .Password }}": false,
		"<password>": false, "changeme": false, "xxxxxx": false, "********": false, "your-password": false,
		"/run/secrets/db": false, "true": false, "s3cr3t-Pa55": true,
		"##DB_PASSWORD##": false, "__SECRET__": false, "@ADMIN_PASS@": false, "DB_PASSWORD": false,
		"SESSION_SECRET_TEMPLATE": false, "your-secret-here": false, "api-key-here": false,
		"Db_Pass2024": true, "k9#Tq2!vX": true, "ThisTokenIsNotSoSecretChangeIt": false,
	} {
		if got := !referenceValue(v) && !placeholderValue(v); got != want {
			t.Errorf("secret(%q) = %v", v, got)
		}
	}
}

func TestRelinks(t *testing.T) {
	for run, want := range map[string]bool{
		"rm -rf /var/log/nginx && ln -s /run/nginx /var/log/nginx":       true,
		"ln -sf /dev/stdout /var/log/nginx/access.log":                   true,
		"ln -sfn /tmp/nginx /var/lib/nginx/":                             true,
		"ln -s /app/data/nginx /var/log/nginx":                           false,
		"rm -rf /var/log/nginx; mkdir /var/log/nginx":                    false,
		"ln /run/nginx /var/log/nginx":                                   false, // not symbolic
		"ln -s /run/nginx/app.conf /etc/nginx/sites-enabled/app.conf":    false,
		"sed -e 's,^logfile=.*$,logfile=/run/s.log,' -i /etc/x.conf; ln": false,
	} {
		dir := "/var/log/nginx"
		if strings.Contains(run, "/var/lib/nginx") {
			dir = "/var/lib/nginx"
		}
		if got := relinks(run, dir); got != want {
			t.Errorf("relinks(%q) = %v", run, got)
		}
	}
}

func TestSupervisorFlags(t *testing.T) {
	for a, want := range map[string]bool{"-n": true, "--nodaemon": true, "-kn": true, "-c": false, "-cn": false, "n": false} {
		if nodaemonFlag(a) != want {
			t.Errorf("nodaemonFlag(%q) != %v", a, want)
		}
	}
	for v, want := range map[string]bool{"0": true, "0MB": true, "00": true, "10MB": false, "": false, "50": false} {
		if zeroBytes(v) != want {
			t.Errorf("zeroBytes(%q) != %v", v, want)
		}
	}
}

// FuzzConfigRules runs every rule over the reference package with its nginx
// site, supervisor program and start script fuzzed: no input may make lint
// panic, and every finding is well-formed.
func FuzzConfigRules(f *testing.F) {
	ref := "testdata/reference"
	site, _ := os.ReadFile(filepath.Join(ref, "nginx.conf"))
	prog, _ := os.ReadFile(filepath.Join(ref, "supervisor/notes.conf"))
	start, _ := os.ReadFile(filepath.Join(ref, "start.sh"))
	f.Add(site, prog, start)
	f.Add([]byte("server { listen ${X}; location = /healthcheck { return 200; } }"), []byte("[program:x]\ncommand=nginx\n[supervisord]\n"), []byte("exec supervisord -l /x"))
	f.Add([]byte("http { include /etc/nginx/sites-enabled/*; include /etc/nginx/nginx.conf; }"), []byte("[inet_http_server]\nport=:\n"), []byte("nginx -g 'pid /x;'"))
	reg, err := Registry()
	if err != nil {
		f.Fatal(err)
	}
	files := map[string][]byte{}
	filepath.WalkDir(ref, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "icon.png" { // FuzzLint fuzzes the icon; decoding it here only slows the fuzzer
			rel, _ := filepath.Rel(ref, path)
			files[rel], _ = os.ReadFile(path)
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, site, prog, start []byte) {
		dir := t.TempDir()
		for rel, data := range files {
			switch filepath.ToSlash(rel) {
			case "nginx.conf":
				data = site
			case "supervisor/notes.conf":
				data = prog
			case "start.sh":
				data = start
			}
			os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, fd := range reg.Run(lint.Package{ID: "fuzz", Dir: dir}) {
			if fd.Rule == "" || fd.Message == "" || fd.File == "" || fd.Line < 0 || fd.Column < 0 || fd.Severity > cpk.Error {
				t.Errorf("malformed finding %+v", fd)
			}
		}
	})
}
