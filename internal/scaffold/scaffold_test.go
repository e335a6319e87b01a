package scaffold

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// combos are every archetype with every runtime it takes.
func combos() []Options {
	var out []Options
	for _, a := range Archetypes {
		if a == Static {
			out = append(out, Options{ID: "site", Archetype: a})
			continue
		}
		for _, r := range Runtimes {
			out = append(out, Options{ID: string(a) + "-" + string(r), Archetype: a, Runtime: r})
		}
	}
	return out
}

func fileMap(files []File) map[string]File {
	m := map[string]File{}
	for _, f := range files {
		m[f.Path] = f
	}
	return m
}

func TestRenderEveryCombination(t *testing.T) {
	for _, o := range combos() {
		for _, addons := range [][]string{nil, {"postgresql", "redis", "sendmail", "oidc", "scheduler"}} {
			if o.Archetype == Static && addons != nil {
				addons = []string{"proxyAuth"}
			}
			o.Addons = addons
			files, err := Render(o)
			if err != nil {
				t.Fatalf("%s/%s: %v", o.Archetype, o.Runtime, err)
			}
			m := fileMap(files)
			for _, want := range []string{"CloudronManifest.json", "Dockerfile", "start.sh", "NOTES.md", "DESCRIPTION.md", "CHANGELOG", ".dockerignore", "icon.png"} {
				if _, ok := m[want]; !ok {
					t.Errorf("%s/%s: no %s", o.Archetype, o.Runtime, want)
				}
			}
			if m["start.sh"].Mode != 0o755 {
				t.Errorf("%s/%s: start.sh mode %v", o.Archetype, o.Runtime, m["start.sh"].Mode)
			}
			if _, ok := m["cpk.yaml"]; ok {
				t.Errorf("%s/%s: cpk.yaml without a Spec", o.Archetype, o.Runtime)
			}
			// The manifest is JSON with the addons asked for (and localstorage).
			var mf struct {
				HTTPPort int                        `json:"httpPort"`
				Health   string                     `json:"healthCheckPath"`
				Addons   map[string]json.RawMessage `json:"addons"`
				SSO      bool                       `json:"optionalSso"`
			}
			if err := json.Unmarshal(m["CloudronManifest.json"].Data, &mf); err != nil {
				t.Fatalf("%s/%s: manifest: %v", o.Archetype, o.Runtime, err)
			}
			if mf.HTTPPort != 8000 || mf.Health == "" {
				t.Errorf("%s/%s: httpPort %d health %q", o.Archetype, o.Runtime, mf.HTTPPort, mf.Health)
			}
			_, hasData := mf.Addons["localstorage"]
			if hasData == (o.Archetype == Static) {
				t.Errorf("%s/%s: localstorage declared: %v", o.Archetype, o.Runtime, hasData)
			}
			for _, a := range addons {
				if _, ok := mf.Addons[a]; !ok {
					t.Errorf("%s/%s: addon %s missing", o.Archetype, o.Runtime, a)
				}
			}
			// The placeholder's checksum in the Dockerfile is the file's.
			var up File
			for _, f := range files {
				if strings.HasPrefix(f.Path, "upstream/") {
					up = f
				}
			}
			sum := sha256.Sum256(up.Data)
			if !strings.Contains(string(m["Dockerfile"].Data), "ARG UPSTREAM_SHA256="+hex.EncodeToString(sum[:])+"\n") {
				t.Errorf("%s/%s: the Dockerfile does not carry the checksum of %s", o.Archetype, o.Runtime, up.Path)
			}
			for _, f := range files {
				if strings.Contains(string(f.Data), "<no value>") {
					t.Errorf("%s/%s: %s has a missing template value", o.Archetype, o.Runtime, f.Path)
				}
			}
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	o := Options{ID: "app", Title: "App", Archetype: Web, Addons: []string{"redis", "postgresql"}}
	a, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	o.Addons = []string{"postgresql", "redis", "postgresql"} // order and repeats do not matter
	b, _ := Render(o)
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between renders", a[i].Path)
		}
	}
}

func TestArchetypeShapes(t *testing.T) {
	has := func(o Options) map[string]File {
		files, err := Render(o)
		if err != nil {
			t.Fatal(err)
		}
		return fileMap(files)
	}
	web := has(Options{ID: "w", Archetype: Web})
	if _, ok := web["nginx.conf"]; !ok || web["supervisor/w.conf"].Data == nil || web["supervisor/nginx.conf"].Data == nil {
		t.Error("web: nginx and supervisor expected")
	}
	if !strings.Contains(string(web["nginx.conf"].Data), "proxy_pass http://127.0.0.1:3000;") {
		t.Error("web: nginx does not proxy to the app")
	}
	api := has(Options{ID: "a", Archetype: API})
	if _, ok := api["nginx.conf"]; ok {
		t.Error("api: no nginx expected")
	}
	if !strings.Contains(string(api["start.sh"].Data), "exec gosu cloudron:cloudron python3 /app/code/server.py serve\n") {
		t.Errorf("api: start.sh does not exec the app:\n%s", api["start.sh"].Data)
	}
	worker := has(Options{ID: "k", Archetype: Worker, Runtime: Go})
	if worker["supervisor/k-worker.conf"].Data == nil || !strings.Contains(string(worker["start.sh"].Data), "HEARTBEAT=/run/app/heartbeat") {
		t.Error("worker: the worker program and its heartbeat expected")
	}
	if !strings.Contains(string(worker["Dockerfile"].Data), "AS build") {
		t.Error("go: a build stage expected")
	}
	static := has(Options{ID: "s", Archetype: Static})
	if !strings.Contains(string(static["start.sh"].Data), `exec /usr/sbin/nginx -g "daemon off;"`) || static["supervisor/nginx.conf"].Data != nil {
		t.Error("static: nginx alone expected")
	}
	java := has(Options{ID: "j", Archetype: API, Runtime: Java})
	if !strings.Contains(string(java["start.sh"].Data), "-XX:MaxRAM=") || !strings.Contains(string(java["CloudronManifest.json"].Data), `"memoryLimit": 536870912`) {
		t.Error("java: the heap from the memory limit expected")
	}
	php := has(Options{ID: "p", Archetype: Worker, Runtime: PHP})
	if php["php-fpm.conf"].Data == nil || php["supervisor/php-fpm.conf"].Data == nil || php["supervisor/p-worker.conf"].Data == nil || php["supervisor/p.conf"].Data != nil {
		t.Error("php worker: nginx, php-fpm and the worker expected")
	}
	// Optional variables (SSO) are read with a default; required ones are not.
	sso := has(Options{ID: "o", Archetype: Web, Addons: []string{"oidc", "postgresql"}})
	s := string(sso["start.sh"].Data)
	if !strings.Contains(s, "${CLOUDRON_OIDC_CLIENT_ID:-}") || !strings.Contains(s, "${CLOUDRON_POSTGRESQL_URL}\n") {
		t.Errorf("start.sh variables:\n%s", s)
	}
}

func TestRenderRejects(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{ID: "Bad_ID", Archetype: Web}, "id"},
		{Options{ID: "a", Archetype: "wbe"}, "did you mean web?"},
		{Options{ID: "a", Archetype: Web, Runtime: "pyton"}, "did you mean python?"},
		{Options{ID: "a", Archetype: Static, Runtime: Node}, "no runtime"},
		{Options{ID: "a", Archetype: Static, Addons: []string{"postgresql"}}, "static site has no app"},
		{Options{ID: "a", Archetype: API, Addons: []string{"postgres"}}, "did you mean postgresql?"},
		{Options{ID: "a", Archetype: API, Title: "two\nlines"}, "one line"},
	} {
		_, err := Render(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}

func TestTitleIsQuotedEverywhere(t *testing.T) {
	title := `Quote "this" $HOME & <b>`
	files, err := Render(Options{ID: "q", Title: title, Archetype: Web, Spec: &Spec{Phase: 4, Category: "experimental"}})
	if err != nil {
		t.Fatal(err)
	}
	m := fileMap(files)
	var mf struct{ Title string }
	if err := json.Unmarshal(m["CloudronManifest.json"].Data, &mf); err != nil || mf.Title != title {
		t.Errorf("manifest title %q %v", mf.Title, err)
	}
	if !strings.Contains(string(m["start.sh"].Data), `APP_TITLE=Quote "this" \$HOME & <b>`) {
		t.Errorf("start.sh:\n%s", m["start.sh"].Data)
	}
	if !strings.Contains(string(m["cpk.yaml"].Data), `name: "Quote \"this\" $HOME \u0026 \u003cb\u003e"`) {
		t.Errorf("cpk.yaml:\n%s", m["cpk.yaml"].Data)
	}
}

func TestIcon(t *testing.T) {
	for _, a := range Archetypes {
		b := Icon("grist", a)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if r := img.Bounds(); r.Dx() != IconSize || r.Dy() != IconSize {
			t.Errorf("%s: %v", a, r)
		}
		if !bytes.Equal(b, Icon("grist", a)) {
			t.Errorf("%s: not deterministic", a)
		}
	}
	if bytes.Equal(Icon("a", Web), Icon("b", Web)) {
		t.Error("different seeds, same icon")
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	files, err := Render(Options{ID: "app", Archetype: API})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Write(dir, files, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range got {
		if w.Action != Created {
			t.Errorf("%s: %s", w.Path, w.Action)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "start.sh"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("start.sh: %v %v", st, err)
	}

	// A second write without force refuses and changes nothing.
	notes := filepath.Join(dir, "NOTES.md")
	os.WriteFile(notes, []byte("my notes\n"), 0o644)
	_, err = Write(dir, files, WriteOptions{})
	var ee *ExistsError
	if !errors.As(err, &ee) || len(ee.Files) != len(files) {
		t.Fatalf("second write: %v", err)
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes\n" {
		t.Error("NOTES.md was overwritten")
	}

	// A dry run with force shows the diff and writes nothing.
	var diff bytes.Buffer
	got, err = Write(dir, files, WriteOptions{Force: true, DryRun: true, Diff: &diff})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes\n" {
		t.Error("the dry run wrote NOTES.md")
	}
	want := "--- a/NOTES.md\n+++ b/NOTES.md\n@@ -1 +1,"
	if !strings.HasPrefix(diff.String(), want) || !strings.Contains(diff.String(), "\n-my notes\n") {
		t.Errorf("diff:\n%s", diff.String())
	}
	for _, w := range got {
		if want := map[bool]Action{true: Replaced, false: Unchanged}[w.Path == "NOTES.md"]; w.Action != want {
			t.Errorf("%s: %s, want %s", w.Path, w.Action, want)
		}
	}

	// Force regenerates; a file of the package that is not a template stays.
	own := filepath.Join(dir, "extra.conf")
	os.WriteFile(own, []byte("x"), 0o644)
	if _, err := Write(dir, files, WriteOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(notes); string(b) == "my notes\n" {
		t.Error("force did not regenerate NOTES.md")
	}
	if _, err := os.Stat(own); err != nil {
		t.Error("force removed a file that is not a template")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	new := "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n"
	got := UnifiedDiff("f", []byte(old), []byte(new))
	want := "--- a/f\n+++ b/f\n@@ -1,6 +1,6 @@\n a\n b\n-c\n+C\n d\n e\n f\n@@ -8,3 +8,4 @@\n h\n i\n j\n+k\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if UnifiedDiff("f", []byte(old), []byte(old)) != "" {
		t.Error("equal files have a diff")
	}
	if got := UnifiedDiff("f", []byte("x"), []byte("y\n")); got != "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n" {
		t.Errorf("no final newline:\n%s", got)
	}
	if got := UnifiedDiff("f", nil, []byte("y\n")); got != "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+y\n" {
		t.Errorf("from empty:\n%s", got)
	}
	if got := UnifiedDiff("i.png", []byte{0x89, 0, 1}, []byte{0x89, 0, 2}); !regexp.MustCompile(`^Binary files`).MatchString(got) {
		t.Errorf("binary: %q", got)
	}
}
