package rules

import (
	"path/filepath"
	"testing"

	"cpk/internal/cpk"
	"cpk/internal/lint"
)

// TestPrecisionCorpus: the packages under testdata/prec-* are written the way
// the platform vendor writes its own (nginx + php-fpm, node, python, java;
// with mysql, postgresql, redis, ldap, oidc, sendmail). Lint must find no
// error in any of them: an error there is a false alarm.
func TestPrecisionCorpus(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("testdata/prec-*")
	if len(dirs) < 4 {
		t.Fatalf("want at least 4 precision packages, found %d", len(dirs))
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			findings := reg.Run(lint.Package{ID: name, Dir: dir})
			warnings := 0
			for _, f := range findings {
				switch f.Severity {
				case cpk.Error:
					t.Errorf("error-level finding on a well-kept package: %s", show(f))
				case cpk.Warning:
					warnings++
				}
			}
			t.Logf("%d finding(s), %d warning(s)", len(findings), warnings)
		})
	}
}
