package rules

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
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

// expectation is one expected finding: its file and line, and a regexp
// matched against "CODE message".
type expectation struct {
	file string
	line int
	re   *regexp.Regexp
}

// readWant reads a fixture's want.txt: lines "CODE file:line regexp" (for
// files that cannot carry comments, such as the JSON manifest).
func readWant(t *testing.T, path string) []expectation {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
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
		out = append(out, expectation{file, lineNo, regexp.MustCompile(regexp.QuoteMeta(parts[0]) + " (?:.*)" + parts[2])})
	}
	return out
}

// wantComment is an inline expectation: # want "regexp" ["regexp"…], one
// finding expected per string.
var (
	wantComment = regexp.MustCompile(`#\s*want((?:\s+"(?:[^"\\]|\\.)*")+)\s*$`)
	wantString  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// readInlineWants collects the # want "regexp" comments of every file of a
// fixture. A comment at the end of a line expects a finding on that line; a
// comment alone on its line expects one on the next line that is not itself
// a want comment (for Dockerfiles, whose comments must stand alone).
func readInlineWants(t *testing.T, dir string) []expectation {
	t.Helper()
	var out []expectation
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "want.txt" || !d.Type().IsRegular() {
			return err // links and special files carry no comments (PK010 fixtures)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		var pending []*regexp.Regexp
		for i, line := range strings.Split(string(data), "\n") {
			m := wantComment.FindStringSubmatch(line)
			if m == nil {
				for _, re := range pending {
					out = append(out, expectation{filepath.ToSlash(rel), i + 1, re})
				}
				pending = nil
				continue
			}
			for _, quoted := range wantString.FindAllString(m[1], -1) {
				pattern, err := strconv.Unquote(quoted)
				if err != nil {
					t.Fatalf("%s:%d: bad want string: %v", path, i+1, err)
				}
				re := regexp.MustCompile(pattern)
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					pending = append(pending, re)
				} else {
					out = append(out, expectation{filepath.ToSlash(rel), i + 1, re})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
			want := append(readWant(t, filepath.Join(dir, "want.txt")), readInlineWants(t, dir)...)
			got := reg.Run(lint.Package{ID: name, Dir: dir})
			used := make([]bool, len(got))
			for _, w := range want {
				found := false
				for i, f := range got {
					if !used[i] && f.File == w.file && f.Line == w.line && w.re.MatchString(f.Rule+" "+f.Message) {
						used[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("missing: %s:%d %s", w.file, w.line, w.re)
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

// TestPNGChunks: PK003's structural check finds what a full decode finds
// on damaged files (truncation, flipped bytes, a missing end), without
// decoding the pixels.
func TestPNGChunks(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if err := pngChunks(good); err != nil {
		t.Fatalf("intact PNG: %v", err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	for name, data := range map[string][]byte{
		"truncated":  good[:len(good)-100],
		"flipped":    flipped,
		"no IEND":    good[:len(good)-12],
		"not a PNG":  []byte("GIF89a"),
		"huge chunk": append(bytes.Clone(good[:8]), 0xff, 0xff, 0xff, 0xf0, 'I', 'H', 'D', 'R'),
	} {
		if err := pngChunks(data); err == nil {
			t.Errorf("%s: no error", name)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: the full decoder accepts it, so the check should too", name)
		}
	}
}
