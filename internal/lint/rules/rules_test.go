package rules

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/lint"
)

func TestRegistryIsValid(t *testing.T) {
	if _, err := Registry(); err != nil {
		t.Fatal(err)
	}
}

// expectation is one line of a fixture's want.txt: CODE file:line regexp.
type expectation struct {
	rule, file string
	line       int
	re         *regexp.Regexp
}

func readWant(t *testing.T, path string) []expectation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []expectation
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, " ", 3)
		file, ln, ok := strings.Cut(parts[1], ":")
		lineNo, err := strconv.Atoi(ln)
		if len(parts) != 3 || !ok || err != nil {
			t.Fatalf("%s:%d: want CODE file:line regexp", path, n)
		}
		out = append(out, expectation{parts[0], file, lineNo, regexp.MustCompile(parts[2])})
	}
	return out
}

// TestFixtures runs every rule over each package under testdata/ and
// compares the findings with its want.txt: a missing finding and an
// unexpected one both fail.
func TestFixtures(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("testdata/*")
	if len(dirs) == 0 {
		t.Fatal("no fixtures")
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if name == "fuzz" { // the fuzzer's corpus, not a package
			continue
		}
		t.Run(name, func(t *testing.T) {
			want := readWant(t, filepath.Join(dir, "want.txt"))
			got := reg.Run(lint.Package{ID: name, Dir: dir})
			used := make([]bool, len(got))
			for _, w := range want {
				found := false
				for i, f := range got {
					if !used[i] && f.Rule == w.rule && f.File == w.file && f.Line == w.line && w.re.MatchString(f.Message) {
						used[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("missing: %s %s:%d %s", w.rule, w.file, w.line, w.re)
				}
			}
			for i, f := range got {
				if !used[i] {
					t.Errorf("unexpected: %s", show(f))
				}
				if f.App != name {
					t.Errorf("finding app = %q, want %q", f.App, name)
				}
			}
		})
	}
}

func show(f cpk.Finding) string {
	return fmt.Sprintf("%s %s:%d:%d %s %q", f.Rule, f.File, f.Line, f.Column, f.Severity, f.Message)
}

// TestReadFileStaysInPackage: a file:// reference cannot make lint read
// outside the package folder.
func TestReadFileStaysInPackage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, lint.ManifestFile), []byte(`{"manifestVersion":2,"version":"1.0.0","httpPort":8000,"description":"file://../../../../etc/passwd","icon":"file:///etc/hostname"}`), 0o644)
	reg, _ := Registry()
	var refs int
	for _, f := range reg.Run(lint.Package{ID: "x", Dir: dir}) {
		if f.Rule == "PK005" || f.Rule == "PK003" {
			refs++
			if !strings.Contains(f.Message, "outside the package folder") {
				t.Errorf("%s", show(f))
			}
		}
	}
	if refs != 2 {
		t.Errorf("want 2 findings for references outside the package, got %d", refs)
	}
}

// TestREADMEListsEveryRule keeps the README's rule table true to the code.
func TestREADMEListsEveryRule(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range All() {
		if !strings.Contains(string(readme), "| "+r.Code+" |") {
			t.Errorf("README.md has no row for %s (%s)", r.Code, r.Title)
		}
	}
}
