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
	"cpk/internal/status":   {"cpk/internal/cli", "cpk/internal/store", "cpk/internal/web"},
	"cpk/internal/fsx":      {"cpk/"}, // no cpk package: the standard library and yaml.v3
	"cpk/internal/docs":     {"cpk/internal/cli", "cpk/internal/status", "cpk/internal/store", "cpk/internal/web"},
	// upstream sources are an adapter: the domain, fsx and the standard library only.
	"cpk/internal/upstream": {"cpk/internal/catalog", "cpk/internal/manifest", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/parse", "cpk/internal/bump", "cpk/internal/docs", "cpk/internal/engine", "cpk/internal/store", "cpk/internal/web"},
	// bump edits package files: manifest, the Dockerfile parser and upstream, not the catalog or the layers above.
	"cpk/internal/bump": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/docs", "cpk/internal/engine"},
	// The container engine is an adapter: the domain and the standard library only.
	"cpk/internal/engine": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest",
		"cpk/internal/parse", "cpk/internal/docs", "cpk/internal/base", "cpk/internal/build", "cpk/internal/steps", "cpk/internal/fsx", "cpk/internal/upstream", "cpk/internal/bump", "cpk/internal/store", "cpk/internal/web"},
	// The base image and builds use the engine's interface; neither knows the catalog or the commands.
	"cpk/internal/base":  {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest", "cpk/internal/docs", "cpk/internal/build", "cpk/internal/upstream", "cpk/internal/bump"},
	"cpk/internal/build": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest", "cpk/internal/docs", "cpk/internal/upstream", "cpk/internal/bump"},
	"cpk/internal/steps": {"cpk/"}, // standard library only
	// The emulated Cloudron: the engine's interface, the manifest's typed view, fsx; no catalog, builds or commands.
	"cpk/internal/runtime": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/docs",
		"cpk/internal/build", "cpk/internal/base", "cpk/internal/upstream", "cpk/internal/bump", "cpk/internal/store", "cpk/internal/web", "cpk/internal/scenario"},
	// Lifecycle tests: builds, the runtime and the domain; not the catalog, the store or the commands.
	"cpk/internal/scenario": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/docs",
		"cpk/internal/upstream", "cpk/internal/bump", "cpk/internal/store", "cpk/internal/web"},
	// The results store is an adapter: the domain (cpk.Run, cpk.Recorder, cpk.Results) and the standard library only.
	"cpk/internal/store": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest",
		"cpk/internal/parse", "cpk/internal/docs", "cpk/internal/engine", "cpk/internal/base", "cpk/internal/build", "cpk/internal/steps",
		"cpk/internal/fsx", "cpk/internal/upstream", "cpk/internal/bump", "cpk/internal/web"},
	// The scaffold renders embedded templates: the domain, fsx and the standard library only.
	"cpk/internal/scaffold": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest",
		"cpk/internal/parse", "cpk/internal/docs", "cpk/internal/engine", "cpk/internal/base", "cpk/internal/build", "cpk/internal/upstream",
		"cpk/internal/bump", "cpk/internal/store", "cpk/internal/web"},
	// Evidence is a service of the domain: what a package's content is and what proves it; cpk and fsx only.
	"cpk/internal/evidence": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest",
		"cpk/internal/parse", "cpk/internal/docs", "cpk/internal/engine", "cpk/internal/base", "cpk/internal/build", "cpk/internal/scenario",
		"cpk/internal/runtime", "cpk/internal/upstream", "cpk/internal/bump", "cpk/internal/store", "cpk/internal/web", "cpk/internal/git", "cpk/internal/ci"},
	// git runs through the exec door (engine.Runner) and knows nothing else of cpk.
	"cpk/internal/git": {"cpk/internal/catalog", "cpk/internal/lint", "cpk/internal/status", "cpk/internal/cli", "cpk/internal/manifest",
		"cpk/internal/parse", "cpk/internal/docs", "cpk/internal/base", "cpk/internal/build", "cpk/internal/scenario", "cpk/internal/runtime",
		"cpk/internal/upstream", "cpk/internal/bump", "cpk/internal/store", "cpk/internal/web", "cpk/internal/evidence", "cpk/internal/ci"},
	// CI planning and gates: catalog, evidence, git, lint, docs; not the commands, the store or the dashboard.
	"cpk/internal/ci": {"cpk/internal/cli", "cpk/internal/store", "cpk/internal/web"},
	// The dashboard reads the report and the domain's Results interface; it knows no store, engine or command.
	"cpk/internal/web": {"cpk/internal/cli", "cpk/internal/store", "cpk/internal/lint", "cpk/internal/manifest", "cpk/internal/parse",
		"cpk/internal/docs", "cpk/internal/engine", "cpk/internal/base", "cpk/internal/build", "cpk/internal/upstream", "cpk/internal/bump"},
}

// execDoor lists the packages that run subprocesses only through the
// engine's Runner (the one exec door): none of them may import os/exec.
var execDoor = []string{"cpk/internal/git", "cpk/internal/ci", "cpk/internal/base", "cpk/internal/build", "cpk/internal/steps", "cpk/internal/runtime", "cpk/internal/scenario"}

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
			for _, p := range execDoor {
				if imp == "os/exec" && (pkg == p || strings.HasPrefix(pkg, p+"/")) {
					t.Errorf("%s imports os/exec: run subprocesses through engine.Runner", pkg)
				}
			}
		}
	}
}
