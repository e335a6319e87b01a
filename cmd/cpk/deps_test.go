package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed lists, for every package of cpk, the cpk packages it may import
// (paths below cpk/internal/). Dependencies point from the commands to the
// services to the domain (cpk); adapters (engine, store, upstream sources,
// git) depend only on the domain and the standard helpers, never on each
// other or on a service; only cmd/cpk knows the command layer. A package
// missing here, or an import not listed, fails the test: a new dependency
// is a decision, written down here.
var allowed = map[string][]string{
	// The domain and the standard helpers: nothing of cpk.
	"cpk": {}, "fsx": {}, "steps": {}, "testenv": {},
	// Parsers know no rules and no layer above them.
	"parse/dockerfile": {}, "parse/nginx": {}, "parse/supervisor": {},
	"parse/shell": {"parse/dockerfile"},
	// What the parsers' benchmarks share.
	"parse/parsetest": {"testenv"},
	// Adapters: the domain (and fsx) only; git goes through the engine's
	// exec door, the one adapter it may use.
	"engine":            {"cpk"},
	"engine/enginetest": {"engine"},
	"store":             {"cpk"},
	"upstream":          {"cpk", "fsx", "upstream/version"},
	"upstream/version":  {},
	"git":               {"engine"},
	"manifest":          {"cpk"},
	// Registries: pushes with go-containerregistry; the test registry.
	"registry":              {},
	"registry/registrytest": {"testenv"},
	// The Cloudron REST API: its published description (data only) and
	// the contract that checks exchanges against it.
	"cloudronapi/openapi":  {},
	"cloudronapi/contract": {"cloudronapi/openapi"},
	// The API client knows the domain only; its stand-in server for tests
	// checks itself with the contract.
	"cloudronapi":              {},
	"cloudronapi/cloudrontest": {"cloudronapi/contract"},
	// Services.
	"evidence":      {"cpk", "fsx"},
	"catalog":       {"cpk", "evidence", "fsx"},
	"lint":          {"cpk", "fsx", "manifest", "parse/dockerfile"},
	"lint/rules":    {"cpk", "evidence", "fsx", "lint", "manifest", "parse/dockerfile", "parse/nginx", "parse/shell", "parse/supervisor"},
	"bump":          {"cpk", "git", "manifest", "parse/dockerfile", "upstream", "upstream/version"},
	"docs":          {"bump", "catalog", "evidence", "fsx", "lint", "manifest", "parse/dockerfile"},
	"status":        {"catalog", "cpk", "docs", "evidence", "fsx", "lint"},
	"scaffold":      {"cpk", "fsx"},
	"base":          {"cpk", "engine", "fsx", "parse/dockerfile", "steps"},
	"base/basetest": {"base", "engine", "testenv"},
	"build":         {"base", "cpk", "engine", "fsx", "steps"},
	"runtime":       {"dockerproxy", "engine", "fsx", "manifest", "sso"},
	"sso":           {},
	"dockerproxy":   {},
	"deploy":        {"cloudronapi"},
	"push":          {"base", "build", "cpk", "engine", "manifest", "registry"},
	"scenario":      {"base", "build", "cloudronapi", "cpk", "deploy", "dockerproxy", "engine", "evidence", "fsx", "git", "manifest", "runtime", "steps"},
	"ci":            {"catalog", "cpk", "docs", "evidence", "fsx", "git", "lint", "manifest", "status"},
	"web":           {"catalog", "cpk", "status"},
	"box":           {"engine", "fsx", "manifest", "runtime"},
	// The command layer may use every service; only cmd/cpk uses it.
	"cli": {"base", "box", "build", "bump", "catalog", "ci", "cloudronapi", "cpk", "deploy", "dockerproxy", "docs", "engine", "evidence", "fsx", "git", "lint", "lint/rules",
		"manifest", "push", "registry", "runtime", "scaffold", "scenario", "sso", "status", "store", "upstream", "web"},
}

// execDoor lists the packages that run subprocesses only through the
// engine's Runner (the one exec door): none of them may import os/exec.
var execDoor = []string{"git", "ci", "base", "build", "steps", "runtime", "scenario", "box", "push", "registry"}

func TestDependencyAllowList(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "cpk/...").Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		t.Fatalf("go list: %s", msg)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		if pkg == "cpk/cmd/cpk" {
			for _, imp := range imports {
				if strings.HasPrefix(imp, "cpk/") && imp != "cpk/internal/cli" {
					t.Errorf("cmd/cpk imports %s: it only wires the command layer", imp)
				}
			}
			continue
		}
		name := strings.TrimPrefix(pkg, "cpk/internal/")
		seen[name] = true
		may, ok := allowed[name]
		if !ok {
			t.Errorf("%s is not in the allow-list: add it, with the packages it may import", name)
			continue
		}
		for _, imp := range imports {
			if imp == "os/exec" && slices.Contains(execDoor, name) {
				t.Errorf("%s imports os/exec: run subprocesses through engine.Runner", name)
			}
			own, ok := strings.CutPrefix(imp, "cpk/internal/")
			if !ok || own == name {
				continue
			}
			if !slices.Contains(may, own) {
				t.Errorf("%s imports %s, which its allow-list does not name", name, own)
			}
		}
	}
	for name := range allowed {
		if !seen[name] {
			t.Errorf("the allow-list names %s, which no longer exists", name)
		}
	}
}
