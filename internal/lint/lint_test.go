package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/cpk"
)

// lineRule reports every line of file that contains word.
func lineRule(code, file, word string) *Rule {
	return &Rule{
		Code: code, Title: "test rule " + code, Severity: cpk.Error, Doc: "Bad:\n\n    x\n\nGood:\n\n    y",
		Run: func(p *Pass) {
			data, err := p.ReadFile(file)
			if err != nil {
				return
			}
			for i, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, word) {
					p.Reportf(file, i+1, 1, "found %s", word)
				}
			}
		},
	}
}

func pkgWith(t *testing.T, files map[string]string) Package {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Package{ID: "p", Dir: dir}
}

func codes(fs []cpk.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+"@"+f.File+":"+string(rune('0'+f.Line)))
	}
	return strings.Join(out, " ")
}

func TestRegistryValidates(t *testing.T) {
	good := lineRule("TT001", "a", "x")
	for name, rules := range map[string][]*Rule{
		"duplicate": {good, lineRule("TT001", "a", "y")},
		"bad code":  {lineRule("T1", "a", "x")},
		"no doc":    {{Code: "TT002", Title: "t", Run: good.Run}},
		"no run":    {{Code: "TT003", Title: "t", Doc: good.Doc}},
	} {
		if _, err := NewRegistry(rules...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	r, err := NewRegistry(good)
	if err != nil || r.Rule("tt001") != good || r.Rule(SuppressionUnused) == nil {
		t.Errorf("registry: %v", err)
	}
}

func TestSuppressions(t *testing.T) {
	r, _ := NewRegistry(lineRule("TT001", "start.sh", "BAD"), lineRule("TT002", "start.sh", "WORSE"), lineRule("TT003", "CloudronManifest.json", "oops"))
	pkg := pkgWith(t, map[string]string{
		"start.sh": strings.Join([]string{
			"# cpk:ignore TT001 -- upstream needs it", // 1
			"BAD",                         // 2: silenced
			"BAD",                         // 3: reported
			"# cpk:ignore TT001,TT002",    // 4: no reason
			"BAD WORSE",                   // 5: both silenced
			"# cpk:ignore TT002 -- stale", // 6: silences nothing
			"fine",                        // 7
		}, "\n"),
		"CloudronManifest.json": "{\n \"oops\": 1\n}\n",
		IgnoreFile:              "# sidecar\nTT003 CloudronManifest.json:2 -- the store wants it\nTT001 nothing.txt -- never matches\n",
	})
	got := codes(r.Run(pkg))
	want := "SUP002@.cpk-ignore:3 TT001@start.sh:3 SUP001@start.sh:4 SUP002@start.sh:6"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigFile)
	os.WriteFile(path, []byte("disable: [TT002]\nseverity:\n  tt001: info\n"), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewRegistry(lineRule("TT001", "f", "BAD"), lineRule("TT002", "f", "BAD"))
	if err := r.Configure(cfg); err != nil {
		t.Fatal(err)
	}
	fs := r.Run(pkgWith(t, map[string]string{"f": "BAD"}))
	if len(fs) != 1 || fs[0].Rule != "TT001" || fs[0].Severity != cpk.Info {
		t.Errorf("findings %+v", fs)
	}
	if r.Enabled("TT002") {
		t.Error("TT002 should be disabled")
	}

	if err := r.Configure(Config{Disable: []string{"TT01"}}); err == nil || !strings.Contains(err.Error(), "did you mean TT001") {
		t.Errorf("unknown code: %v", err)
	}
	os.WriteFile(path, []byte("disabled: [TT002]\n"), 0o644)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("unknown key: %v", err)
	}
	os.WriteFile(path, []byte("severity:\n  TT001: loud\n"), 0o644)
	if _, err := LoadConfig(path); err == nil {
		t.Error("bad severity accepted")
	}
	os.WriteFile(path, nil, 0o644)
	if _, err := LoadConfig(path); err != nil {
		t.Errorf("empty file: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err != nil {
		t.Errorf("missing file: %v", err)
	}
}
