package rules

import (
	"os"
	"path/filepath"
	"slices"
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

// FuzzCommandWords checks commandWords, which takes words as slices of the
// line, against the plain version that builds every word.
func FuzzCommandWords(f *testing.F) {
	for _, s := range []string{`ln -s /run/x /var/log/x && chmod 777 "a b"`, `echo 'it''s' \
  done # c`, "a\\\nb c", `x="a\"b" 2>&1 | y; z || w &`, "\\", `'open`, `"open`, "a\\\n\\\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := commandWords(s), commandWordsByBuilder(s); !slices.Equal(got, want) {
			t.Errorf("commandWords(%q) = %q, want %q", s, got, want)
		}
	})
}

// commandWordsByBuilder is commandWords as it was: every word built.
func commandWordsByBuilder(s string) []string {
	var words []string
	var b strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, b.String())
			b.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c == '#' && !inWord:
			return words
		case c == '&' && (i > 0 && s[i-1] == '>' || i+1 < len(s) && s[i+1] == '>'):
			b.WriteByte(c) // a redirection: 2>&1, &>file
			inWord = true
		case c == ';' || c == '|' || c == '&':
			flush()
			op := string(c)
			if i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '&') && s[i+1] == c {
				op += string(c)
				i++
			}
			words = append(words, op)
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] != '\n' {
				b.WriteByte(s[i])
				inWord = true
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i+1:])
				i = len(s)
				break
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words
}
