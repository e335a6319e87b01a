package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("grist/cpk.yaml", "id: grist\nname: Grist\nphase: 2\ncategory: database\nupstream:\n  source: npm\n  package: grist\n")
	write("grist/Dockerfile", "FROM x\n")
	write("planned/cpk.yaml", "id: planned\nname: P\nphase: 2\ncategory: database\n")
	write("broken/cpk.yaml", "id: broken\nname: B\nphase: 9\ncategory: database\n")
	write("broken/Dockerfile", "FROM x\n")

	sel, err := Select(dir, nil, Filter{Files: true})
	if err != nil || len(sel.Packages) != 1 || sel.Packages[0].ID != "grist" || sel.Packages[0].Upstream == nil || sel.Problems == nil {
		t.Fatalf("every package: %v %+v", err, sel)
	}
	// A typo gets a suggestion; the error is a SelectError (usage).
	_, err = Select(dir, []string{"grits"}, Filter{})
	var se *SelectError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "did you mean grist?") {
		t.Errorf("a typo: %v", err)
	}
	// A folder of the catalog is that application, with its upstream.
	sel, err = Select(dir, []string{filepath.Join(dir, "grist") + "/", "grist"}, Filter{Dockerfile: true})
	if err != nil || len(sel.Packages) != 1 || sel.Packages[0].Upstream == nil {
		t.Errorf("a folder and its id: %v %+v", err, sel)
	}
	// A folder outside the catalog is a package named after it.
	out := t.TempDir()
	sel, err = Select(dir, []string{out + "/"}, Filter{})
	if err != nil || sel.Packages[0].ID != filepath.Base(out) {
		t.Errorf("an outside folder: %v %+v", err, sel)
	}
	// An application whose cpk.yaml is broken stays addressable.
	sel, err = Select(dir, []string{"broken"}, Filter{Dockerfile: true})
	if err != nil || sel.Packages[0].Dir != filepath.Join(dir, "broken") {
		t.Errorf("a broken cpk.yaml: %v %+v", err, sel)
	}
	// Filters: a named package without what the command needs.
	for _, c := range []struct {
		arg  string
		f    Filter
		want string
	}{
		{"planned", Filter{Dockerfile: true}, "has no Dockerfile"},
		{"planned", Filter{Upstream: true}, "declares no upstream"},
		{"planned", Filter{Files: true}, "no package files"},
		// Its upstream is unknown, not missing: the message says why.
		{"broken", Filter{Upstream: true}, "has a cpk.yaml that cpk cannot read (CY001, line"},
	} {
		if _, err := Select(dir, []string{c.arg}, c.f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %+v: %v", c.arg, c.f, err)
		}
	}
}
