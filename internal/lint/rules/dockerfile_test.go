package rules

import (
	"regexp"
	"testing"

	"cpk/internal/parse/shell"
)

func TestDockerIgnorePatterns(t *testing.T) {
	di := parseDockerIgnore([]byte("# docs\n*.md\n!README.md\ndocs/**/*.png\n/node_modules\n"))
	for path, want := range map[string]bool{
		"NOTES.md": true, "README.md": false, "sub/NOTES.md": false, "docs/a/b/c.png": true, "docs/c.png": true,
		"node_modules/x/index.js": true, "start.sh": false,
	} {
		if got := di.Excluded(path); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestDockerIgnoreLiterals checks that a pattern without wildcards, matched
// as a path, matches what its regular expression matches.
func TestDockerIgnoreLiterals(t *testing.T) {
	paths := []string{"", "test", "test/", "test/a", "tests", "atest", "test/a\nb", "sub/test", "node_modules/x", "NOTES.md", "NOTES.mdx", "a.b/c"}
	for _, pattern := range []string{"test", "/test/", "node_modules", "NOTES.md", "a.b", "/", "sub/test"} {
		di := parseDockerIgnore([]byte(pattern + "\n"))
		if len(di.rules) != 1 || di.rules[0].re != nil {
			t.Fatalf("%q: not taken as a path: %+v", pattern, di.rules)
		}
		re := regexp.MustCompile("^" + globRegexp(di.rules[0].lit) + "(/.*)?$")
		for _, path := range paths {
			if got, want := di.Excluded(path), re.MatchString(path); got != want {
				t.Errorf("pattern %q, path %q: excluded %v, the regular expression says %v", pattern, path, got, want)
			}
		}
	}
}

func TestUnpinnedURLs(t *testing.T) {
	for url, pinned := range map[string]bool{
		"https://github.com/o/r/releases/latest/download/x.tgz":       false,
		"https://github.com/o/r/archive/refs/heads/main.tar.gz":       false,
		"https://github.com/o/r/archive/master.zip":                   false,
		"https://raw.githubusercontent.com/o/r/main/install.sh":       false,
		"https://wordpress.org/latest.tar.gz":                         false,
		"https://github.com/o/r/releases/download/v1.2.3/x.tgz":       true,
		"https://github.com/o/r/archive/refs/tags/v1.2.3.tar.gz":      true,
		"https://example.com/downloads/app-2.3.4.tar.gz":              true,
		"https://github.com/o/latest-news/releases/download/v1/x.tgz": true,
	} {
		if got := unpinnedWhy(url) == ""; got != pinned {
			t.Errorf("%s: pinned = %v, want %v", url, got, pinned)
		}
	}
}

func TestModeExecutable(t *testing.T) {
	for mode, want := range map[string]bool{"0755": true, "755": true, "0644": false, "u+x": true, "a+rx,go-w": true, "go-w": false, "": false} {
		if got := modeExecutable(mode); got != want {
			t.Errorf("modeExecutable(%q) = %v", mode, got)
		}
	}
}

func TestLaunchUser(t *testing.T) {
	for src, want := range map[string]struct {
		user, prog string
	}{
		"exec gosu cloudron:cloudron node server.js":             {"cloudron:cloudron", "node"},
		"exec /usr/local/bin/gosu www-data php-fpm8.3 -F":        {"www-data", "php-fpm8.3"},
		"exec tini -- gosu cloudron node server.js":              {"cloudron", "node"},
		"exec setpriv --reuid=1000 --regid=1000 --init-groups x": {"1000", "x"},
		"exec env NODE_ENV=production node server.js":            {"", "node"},
		"exec /usr/bin/supervisord --nodaemon":                   {"", "/usr/bin/supervisord"},
	} {
		s, err := shell.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		user, prog, known := launchUser(s.Commands[0].ExecArgs())
		if !known || user != want.user || len(prog) == 0 || prog[0].Value != want.prog {
			t.Errorf("%s: user %q prog %+v known %v", src, user, prog, known)
		}
	}
}
