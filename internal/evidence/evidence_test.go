package evidence

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/cpk"
)

func passed(app, hash string) *Evidence {
	e := &Evidence{Schema: Schema, App: app, Version: "1.0.1", ContentHash: hash, Tested: "2026-12-06T01:02:03Z", Where: "emulated",
		CPK: "test", Engine: Engine{Name: "podman", Version: "4.3.1"}, Base: Image{Ref: "localhost/cpk/base:x", Digest: "sha256:1"},
		Update: &Update{From: "1.0.0", Source: "git 1234567"}, Seconds: 10, Checks: []string{"the page answers"}}
	for _, s := range append(VerifiedSteps, cpk.StepUpdate) {
		e.Steps = append(e.Steps, Step{Name: s, Outcome: cpk.OutcomePassed, Seconds: 1.5, Checks: 2})
	}
	return e
}

func pkg(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"Dockerfile": "FROM x\n", "NOTES.md": "# notes\n", "cpk.yaml": "id: x\n", ".hidden": "h"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheck(t *testing.T) {
	dir := pkg(t)
	if st := Check(dir, ""); st.State != Missing {
		t.Fatalf("no file: %s", st.State)
	}
	hash, err := ContentHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, passed("x", hash)); err != nil {
		t.Fatal(err)
	}
	// Writing the evidence does not change the content it proves, and
	// neither do cpk.yaml and hidden files.
	if h2, _ := ContentHash(dir); h2 != hash {
		t.Fatal("the evidence file changed the content hash")
	}
	os.WriteFile(filepath.Join(dir, "cpk.yaml"), []byte("id: x\nnotes: y\n"), 0o644)
	if st := Check(dir, ""); st.State != Current {
		t.Fatalf("after writing: %s (%s)", st.State, st.Problem)
	}
	// A line appended to NOTES.md makes it stale.
	f, _ := os.OpenFile(filepath.Join(dir, "NOTES.md"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("more\n")
	f.Close()
	if st := Check(dir, ""); st.State != Stale || !strings.Contains(st.Problem, "run cpk test") {
		t.Fatalf("after an edit: %s (%s)", st.State, st.Problem)
	}
	// An edit by hand of the evidence is detected.
	path := filepath.Join(dir, File)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), `"seconds": 10`, `"seconds": 11`, 1)), 0o644)
	if st := Check(dir, ""); st.State != Tampered {
		t.Fatalf("edited by hand: %s", st.State)
	}
	os.WriteFile(path, []byte("{not json"), 0o644)
	if st := Check(dir, ""); st.State != Invalid {
		t.Fatalf("not JSON: %s", st.State)
	}
}

func TestPartialTestIsNotEvidence(t *testing.T) {
	dir := pkg(t)
	hash, _ := ContentHash(dir)
	e := passed("x", hash)
	e.Steps = e.Steps[:1] // install only (cpk test --step install)
	if err := Write(dir, e); err != nil {
		t.Fatal(err)
	}
	if st := Check(dir, hash); st.State != Invalid {
		t.Fatalf("a partial test: %s", st.State)
	}
}

func TestMarshalIsStable(t *testing.T) {
	a, err := passed("x", "h").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := passed("x", "h").Marshal()
	if string(a) != string(b) || !strings.HasSuffix(string(a), "}\n") {
		t.Fatalf("not stable:\n%s\n%s", a, b)
	}
	// Keys in a fixed order: schema first, digest last.
	s := string(a)
	if strings.Index(s, `"schema"`) > strings.Index(s, `"app"`) || !strings.Contains(s[strings.LastIndex(s, `"digest"`):], "sha256:") {
		t.Fatalf("key order:\n%s", s)
	}
}
