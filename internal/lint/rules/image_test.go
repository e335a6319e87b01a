package rules

import (
	"testing"

	"cpk/internal/lint"
)

// TestImageScope: the files that reach the image, and the image's ENV as
// every rule resolves it (img-scope fixture).
func TestImageScope(t *testing.T) {
	var got map[string]bool
	var env map[string]string
	probe := &lint.Rule{Code: "ZZ999", Title: "probe", Doc: "Bad: Good:", Run: func(p *lint.Pass) {
		env = imageEnv(p)
		got = map[string]bool{}
		for _, f := range p.Files() {
			got[f] = inImage(p, f)
		}
	}}
	reg2, err := lint.NewRegistry(append(All(), probe)...)
	if err != nil {
		t.Fatal(err)
	}
	reg2.Run(lint.Package{ID: "img-scope", Dir: "testdata/img-scope"})
	for file, want := range map[string]bool{
		"Dockerfile": true, "CloudronManifest.json": true, "start.sh": true, "app/server.js": true, "app/env.sh": true,
		"app/test/server.test.js": false, "app/locales/de.po": false, "tools/dev.js": false,
		".github/workflows/ci.yml": false, "NOTES.md": false,
	} {
		if got[file] != want {
			t.Errorf("inImage(%s) = %v, want %v", file, got[file], want)
		}
	}
	if env["APP_CODE_DIR"] != "/app/code" || env["NODE_ENV"] != "production" {
		t.Errorf("imageEnv = %v, want APP_CODE_DIR=/app/code (from ARG CODE) and NODE_ENV=production", env)
	}
	if _, ok := env["CODE"]; ok {
		t.Errorf("imageEnv has the ARG CODE, which does not last into the container")
	}
}

func TestDevFile(t *testing.T) {
	for rel, want := range map[string]bool{
		".gitlab-ci.yml": true, "docker-compose.dev.yml": true, "compose.yaml": true, "package-lock.json": true,
		"src/i18n/app_de.arb": true, "public/css/site.css": true, "docs/install.md": true, "spec/app_spec.rb": true,
		"src/app.test.ts": true, "test_app.py": true, "translations/de/LC_MESSAGES/messages.po": true,
		"start.sh": false, "nginx/app.conf": false, "src/server.js": false, "config/settings.py": false,
		"supervisor/app.conf": false, "testing.js": false,
	} {
		if got := devFile(rel); got != want {
			t.Errorf("devFile(%s) = %v, want %v", rel, got, want)
		}
	}
}

// TestSetNames: the names a package's own files set are not read as
// platform variables (XF001).
func TestSetNames(t *testing.T) {
	for text, want := range map[string]bool{
		"CLOUDRON_X_MODE=web\n":                                    true,
		"export CLOUDRON_X_MODE=web\n":                             true,
		"environment=HOME=\"/app/data\",CLOUDRON_X_MODE=\"web\"\n": true,
		"process.env.CLOUDRON_X_MODE = 'web';\n":                   true,
		"os.environ['CLOUDRON_X_MODE'] = 'web'\n":                  true,
		"os.environ.setdefault('CLOUDRON_X_MODE', 'web')\n":        true,
		"putenv('CLOUDRON_X_MODE=web');\n":                         true,
		"const m = process.env.CLOUDRON_X_MODE;\n":                 false,
		"if (process.env.CLOUDRON_X_MODE == 'web') {}\n":           false,
		"url = os.environ['CLOUDRON_X_MODE']\n":                    false,
	} {
		got := map[string]bool{}
		setNames(text, got)
		if got["CLOUDRON_X_MODE"] != want {
			t.Errorf("setNames(%q) = %v, want %v", text, got["CLOUDRON_X_MODE"], want)
		}
	}
}
