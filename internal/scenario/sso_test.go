package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadChecksOIDCLogin(t *testing.T) {
	for _, tc := range []struct{ yaml, err string }{
		{"checks:\n  - oidcLogin: {start: /login, form: /oauth/, user: user, contains: x, then: [{path: /me, contains: user}]}\n", ""},
		{"checks:\n  - oidcLogin: {start: /login, form: oauth}\n", "form, when given, is a path"},
		{"checks:\n  - oidcLogin: {start: login}\n", "oidcLogin needs start"},
		{"checks:\n  - oidcLogin: {start: /login, user: bob}\n", "the test users are admin and user"},
		{"checks:\n  - oidcLogin: {start: /login}\n    http: {path: /}\n", "exactly one of"},
		{"checks:\n  - oidcLogin: {start: /login, wrong: 1}\n", "wrong"},
	} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "test"), 0o755)
		os.WriteFile(filepath.Join(dir, "test", "checks.yaml"), []byte(tc.yaml), 0o644)
		pc, err := LoadChecks(dir)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case tc.err == "" && (len(pc.Checks) != 1 || pc.Checks[0].OIDCLogin.Then[0].Path != "/me" || pc.Checks[0].title() != "sign-in at /login"):
			t.Errorf("%q: decoded %+v", tc.yaml, pc.Checks)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.err)
		}
	}
}

func TestProtectedPath(t *testing.T) {
	for opt, want := range map[string]string{"": "/", "/admin": "/admin", "!/public": "/", "!/": ""} {
		opts := map[string]any{}
		if opt != "" {
			opts["path"] = opt
		}
		if got := protectedPath(opts); got != want {
			t.Errorf("path %q: %s, want %s", opt, got, want)
		}
	}
}
