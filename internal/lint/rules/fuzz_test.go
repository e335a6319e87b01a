package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/lint"
)

// FuzzLint runs every rule over a package whose manifest, Dockerfile, start
// script and icon are fuzzed: no input may make lint panic, and every finding must be
// well-formed.
func FuzzLint(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/*")
	for _, d := range dirs {
		m, _ := os.ReadFile(filepath.Join(d, lint.ManifestFile))
		df, _ := os.ReadFile(filepath.Join(d, "Dockerfile"))
		icon, _ := os.ReadFile(filepath.Join(d, "icon.png"))
		start, _ := os.ReadFile(filepath.Join(d, "start.sh"))
		f.Add(m, df, start, icon)
	}
	f.Add([]byte(`{"icon":"file://../x","description":"file:///etc/passwd"}`), []byte("FROM a\nCOPY [\"a\" \nCMD [\"\"]"), []byte("#!/bin/bash\nexec"), []byte{0x89, 'P', 'N', 'G'})
	reg, err := Registry()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, manifest, dockerfile, start, icon []byte) {
		dir := t.TempDir()
		for name, data := range map[string][]byte{lint.ManifestFile: manifest, "Dockerfile": dockerfile, "start.sh": start, "icon.png": icon} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
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

// FuzzPrefilters checks that the cheap filters before regular expressions
// never change an answer: each one lets through every text its expression
// matches.
func FuzzPrefilters(f *testing.F) {
	for _, s := range []string{
		"First login\n\nUse the Cloudron login.", "## Setup\nRun the setup wizard", "ſign in", "no words here\n", "LOG IN with\nadmin",
		"API_KEY=abc", "\u212aey: 1", "paſſword = x", "Pass", "nothing",
		"TODO: write", "Lorem Ipsum", "your-domain", "insert_name_here", "chmod 777 /app", "ChAnGe_Me",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := mentionsLogin(s), loginWords.MatchString(s); got != want {
			t.Errorf("mentionsLogin(%q) = %v, loginWords says %v", s, got, want)
		}
		if got, want := hasSecretWord(s), containsAny(strings.ToLower(s), secretWords); got != want {
			t.Errorf("hasSecretWord(%q) = %v, want %v", s, got, want)
		}
		if placeholderWords.MatchString(s) && !mayContainFold(s, placeholderHints) {
			t.Errorf("%q: placeholderWords matches, the hints filter it out", s)
		}
	})
}
