package main

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden lists, for each package of cpk, the cpk packages it must not
// import: dependencies point from commands to services to the domain, and
// parsers and the manifest validator know nothing of the layers above them.
var forbidden = map[string][]string{
	"cpk/internal/cpk":      {"cpk/"}, // the domain: standard library only
	"cpk/internal/manifest": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/parse"},
	"cpk/internal/parse/":   {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/manifest", "cpk/internal/status", "cpk/internal/cli"},
	"cpk/internal/catalog":  {"cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest"},
	"cpk/internal/lint":     {"cpk/internal/catalog", "cpk/internal/status", "cpk/internal/cli"},
	"cpk/internal/status":   {"cpk/internal/cli"},
	"cpk/internal/fsx":      {"cpk/"}, // standard library only
	"cpk/internal/docs":     {"cpk/internal/cli", "cpk/internal/status"},
}

func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "cpk/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for prefix, banned := range forbidden {
			if pkg != prefix && !(strings.HasSuffix(prefix, "/") && strings.HasPrefix(pkg, prefix)) && !strings.HasPrefix(pkg, prefix+"/") {
				continue
			}
			for _, imp := range imports {
				for _, b := range banned {
					if strings.HasPrefix(imp, b) && imp != pkg {
						t.Errorf("%s imports %s", pkg, imp)
					}
				}
			}
		}
		for _, imp := range imports {
			if imp == "cpk/internal/cli" && pkg != "cpk/cmd/cpk" {
				t.Errorf("%s imports the command layer", pkg)
			}
		}
	}
}
