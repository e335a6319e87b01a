package fsx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "f.txt")
	if err := WriteFile(path, []byte("one"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(data) != "two" || st.Mode().Perm() != 0o600 {
		t.Errorf("got %q %v", data, st.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A folder in the way: the error is returned and nothing is left behind.
	if err := WriteFile(dir, []byte("x"), 0o644); err == nil {
		t.Error("writing over a folder succeeded")
	}
	entries, _ = os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if filepath.Ext(e.Name()) != "" && e.Name()[0] == '.' {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestReadYAML(t *testing.T) {
	dir := t.TempDir()
	type conf struct {
		Jobs int `yaml:"jobs"`
	}
	var c conf
	if found, err := ReadYAML(filepath.Join(dir, "none.yaml"), &c); found || err != nil {
		t.Errorf("a missing file: found %v, %v", found, err)
	}
	for _, tc := range []struct{ text, err string }{
		{"", ""},
		{"jobs: 3\n", ""},
		{"jobs: 3\njbos: 4\n", "line 2: field jbos not found"},
		{"jobs: [\n", "did not find expected node content"},
	} {
		path := filepath.Join(dir, "c.yaml")
		os.WriteFile(path, []byte(tc.text), 0o644)
		c = conf{}
		found, err := ReadYAML(path, &c)
		switch {
		case !found:
			t.Errorf("%q: not found", tc.text)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), path+": ")):
			t.Errorf("%q: error %v, want %q after the path", tc.text, err, tc.err)
		}
	}
	if c.Jobs != 0 {
		t.Errorf("jobs %d", c.Jobs)
	}
}

// RemovePending removes the temporary file of a write under way, and only
// that: finished writes are untouched.
func TestRemovePending(t *testing.T) {
	dir := t.TempDir()
	done := filepath.Join(dir, "done.txt")
	if err := WriteFile(done, []byte("whole\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".half.txt.tmp-1")
	os.WriteFile(tmp, []byte("ha"), 0o644)
	pending.Store(tmp, true)
	defer pending.Delete(tmp)
	RemovePending()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("the unfinished write's temporary file is still there: %v", err)
	}
	if data, _ := os.ReadFile(done); string(data) != "whole\n" {
		t.Errorf("a finished file changed: %q", data)
	}
}
