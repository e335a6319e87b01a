package rules

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"cpk/internal/parse/shell"
)

func TestMemoryFlags(t *testing.T) {
	for text, want := range map[string]float64{
		"java -Xmx2g -jar x.jar":                      2 << 30,
		`JAVA_OPTS="-Xms512m"`:                        512 << 20,
		"node --max-old-space-size=1536 server.js":    1536 << 20,
		"NODE_OPTIONS=--max_old_space_size=300":       300 << 20,
		"java -Xmx${HEAP} -jar x.jar":                 -1, // computed at start: not judged
		"java -XX:MaxRAMPercentage=75 -jar x.jar":     -1,
		"echo -Xmxfoo":                                -1,
		"java -Xmx1048576 -jar x.jar":                 1 << 20, // bytes
		"exec gosu cloudron java -Xss1m -Xmx64m -jar": 64 << 20,
	} {
		m := memoryFlag.FindStringSubmatch(text)
		got := float64(-1)
		if m != nil {
			got = flagBytes(m)
		}
		if got != want {
			t.Errorf("%q: %v bytes, want %v", text, got, want)
		}
	}
}

func TestListenPorts(t *testing.T) {
	for text, want := range map[string]int{
		"gunicorn --bind 0.0.0.0:5000 app:app":          5000,
		"uvicorn app:app --port=8080":                   8080,
		`environment=NODE_ENV="production",PORT="3000"`: 3000,
		"server --listen :9090":                         9090,
		"java -Dserver.port=8081 -jar app.jar":          8081,
		"DB_PORT=5432 psql":                             -1, // another service's port
		"redis-cli -p 6379 ping":                        -1,
		"gunicorn --bind unix:/run/app.sock app:app":    -1,
	} {
		got := -1
		if ps := listenPorts(text); len(ps) > 0 {
			got = ps[0][1]
		}
		if got != want {
			t.Errorf("%q: port %d, want %d", text, got, want)
		}
	}
}

func TestSwitchUser(t *testing.T) {
	for cmd, want := range map[string]string{
		"exec /usr/local/bin/gosu cloudron:cloudron node server.js": "cloudron:cloudron",
		"runuser -u www-data -- php artisan migrate":                "www-data",
		"setpriv --reuid=app --regid=app --init-groups x":           "app:app",
		"su-exec 1000:1000 /app/code/bin/server":                    "1000:1000",
		"chpst -u git:git sshd":                                     "git:git",
		"node server.js":                                            "",
	} {
		if got := switchUser(strings.Fields(cmd)); got != want {
			t.Errorf("%q: %q, want %q", cmd, got, want)
		}
	}
}

func TestNounsetAndInline(t *testing.T) {
	for src, want := range map[string]int{
		"#!/bin/bash\nset -eu\necho $X\n":           2,
		"#!/bin/bash -eu\necho $X\n":                1,
		"#!/bin/bash\nset -o nounset\necho $X\n":    2,
		"#!/bin/bash\nset -e\necho $X\n":            0,
		"#!/bin/bash\nf() { set -u; }\necho $X\n":   0, // inside a function: not the script's option
		"#!/bin/bash\nset -euo pipefail\necho $X\n": 2,
	} {
		sc, err := shell.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if on, _ := nounsetFrom(sc); on != want {
			t.Errorf("%q: set -u from line %d, want %d", src, on, want)
		}
	}
	sc, _ := shell.Parse([]byte(`exec gosu cloudron:cloudron bash -c 'echo x > /etc/y'` + "\nsu - app -c \"touch /opt/z\"\nbash /app/pkg/x.sh\n"))
	var got []string
	for _, c := range sc.Commands {
		if w, ok := inlineScript(c); ok {
			got = append(got, w.Value)
		}
	}
	if strings.Join(got, "|") != "echo x > /etc/y|touch /opt/z" {
		t.Errorf("inline scripts %q", got)
	}
}

// hasWord is the regular expression it replaced, on valid text, and it
// takes any bytes (the fuzzer found a user name that is not UTF-8).
func TestHasWord(t *testing.T) {
	for _, c := range []struct {
		text, word string
		want       bool
	}{
		{"useradd -r app", "app", true}, {"useradd -r appx", "app", false}, {"x_app", "app", false},
		{"cp app.sh /x", "app.sh", true}, {"cp my.app.sh /x", "app.sh", false}, {"app-2", "app", false},
		{"a app", "app", true}, {"app", "app", true}, {"", "app", false}, {"cloudro\x83n", "cloudro\x83n", true},
	} {
		got := hasWord(c.text, c.word, ".-", "-")
		if got != c.want {
			t.Errorf("hasWord(%q, %q) = %v", c.text, c.word, got)
		}
		if !utf8.ValidString(c.word) {
			continue
		}
		re := regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(c.word) + `($|[^A-Za-z0-9_-])`)
		if re.MatchString(c.text) != got {
			t.Errorf("%q %q: the regular expression says %v", c.text, c.word, !got)
		}
	}
}
