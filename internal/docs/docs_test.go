package docs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cpk/internal/lint/rules"
)

// TestRulePagesAreCurrent fails when docs/rules no longer matches the rule
// definitions: run `go run ./cmd/cpk docs` and commit the result.
func TestRulePagesAreCurrent(t *testing.T) {
	reg, err := rules.Registry()
	if err != nil {
		t.Fatal(err)
	}
	stale, err := Sync(filepath.Join("..", "..", RulesDir), RulePages(reg.Rules()), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("docs/rules is stale (%s): run go run ./cmd/cpk docs", strings.Join(stale, ", "))
	}
}

func TestSync(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "OLD001.md"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644)
	pages := map[string][]byte{"README.md": []byte("index"), "A001.md": []byte("a")}
	stale, err := Sync(dir, pages, true)
	if err != nil || strings.Join(stale, " ") != "A001.md OLD001.md README.md" {
		t.Fatalf("check: %v %v", stale, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err == nil {
		t.Fatal("check wrote a file")
	}
	if _, err := Sync(dir, pages, false); err != nil {
		t.Fatal(err)
	}
	if stale, _ := Sync(dir, pages, true); len(stale) != 0 {
		t.Errorf("still stale after writing: %v", stale)
	}
	if _, err := os.Stat(filepath.Join(dir, "OLD001.md")); err == nil {
		t.Error("stale page kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Error("a file that is not a page was removed")
	}
}
