package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cpk/internal/base/basetest"
	"cpk/internal/build"
	"cpk/internal/engine"
	"cpk/internal/scaffold"
)

// emptyRepo is a repository with an empty catalog.
func emptyRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// lintFindings runs cpk lint --format json on the whole catalog and returns
// every finding, whatever its severity.
func lintFindings(t *testing.T, root string, args ...string) []string {
	t.Helper()
	out, errOut, code := run(t, root, "", append([]string{"lint", "--format", "json"}, args...)...)
	var rep struct {
		Findings []struct {
			Rule, App, File, Message string
			Line                     int
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("lint: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	var fs []string
	for _, f := range rep.Findings {
		fs = append(fs, f.App+"/"+f.File+":"+itoa(f.Line)+": "+f.Rule+" "+f.Message)
	}
	if code != 0 && len(fs) == 0 {
		t.Fatalf("lint: exit %d without findings: %s", code, errOut)
	}
	return fs
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestNewIsLintClean is the acceptance check of cpk new: every archetype,
// with every runtime it takes, with no extra addon and with every addon it
// may declare, gives ZERO lint findings of any severity.
func TestNewIsLintClean(t *testing.T) {
	root := emptyRepo(t)
	all := strings.Join(scaffold.Addons, ",")
	n := 0
	for _, a := range scaffold.Archetypes {
		runtimes := scaffold.Runtimes
		addonSets := []string{"", all}
		if a == scaffold.Static {
			runtimes = []scaffold.Runtime{scaffold.None}
			addonSets = []string{"", "proxyAuth"}
		}
		for _, r := range runtimes {
			for i, addons := range addonSets {
				id := string(a)
				if r != scaffold.None {
					id += "-" + string(r)
				}
				if i > 0 {
					id += "-addons"
				}
				args := []string{"new", id, "--archetype", string(a)}
				if r != scaffold.None {
					args = append(args, "--runtime", string(r))
				}
				if addons != "" {
					args = append(args, "--addons", addons)
				}
				if _, errOut, code := run(t, root, "", args...); code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, errOut)
				}
				n++
			}
		}
	}
	if fs := lintFindings(t, root); len(fs) > 0 {
		t.Errorf("cpk new wrote findings:\n%s", strings.Join(fs, "\n"))
	}
	// Every package counts as packaged: lint-clean, with build notes.
	out, _, code := run(t, root, "", "status", "--format", "json")
	var rep struct {
		Apps []struct{ ID, State string } `json:"apps"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || len(rep.Apps) != n {
		t.Fatalf("status: exit %d %v: %d apps of %d", code, err, len(rep.Apps), n)
	}
	for _, a := range rep.Apps {
		if a.State != "packaged" {
			t.Errorf("%s: %s", a.ID, a.State)
		}
	}
}

func TestNewFillsACatalogEntry(t *testing.T) {
	root := emptyRepo(t)
	dir := filepath.Join(root, "apps", "notes")
	os.MkdirAll(dir, 0o755)
	spec := "id: notes\nname: Team Notes\nphase: 3\ncategory: productivity\nupstream:\n  source: github\n  repo: example/notes\n"
	os.WriteFile(filepath.Join(dir, "cpk.yaml"), []byte(spec), 0o644)

	if _, errOut, code := run(t, root, "", "new", "notes", "--archetype", "web", "--phase", "2"); code != ExitUsage || !strings.Contains(errOut, "edit apps/notes/cpk.yaml") {
		t.Errorf("--phase on an existing entry: exit %d %s", code, errOut)
	}
	out, errOut, code := run(t, root, "", "new", "notes", "--archetype", "web", "--addons", "postgresql", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep newReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Archetype != "web" || rep.Runtime != "node" || strings.Join(rep.Addons, ",") != "localstorage,postgresql" || rep.Catalog != nil || len(rep.Files) == 0 {
		t.Errorf("report: %+v", rep)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cpk.yaml")); string(b) != spec {
		t.Errorf("cpk.yaml changed:\n%s", b)
	}
	var mf struct{ Title, Website string }
	b, _ := os.ReadFile(filepath.Join(dir, "CloudronManifest.json"))
	if err := json.Unmarshal(b, &mf); err != nil || mf.Title != "Team Notes" || mf.Website != "https://github.com/example/notes" {
		t.Errorf("manifest: %+v %v", mf, err)
	}
	if fs := lintFindings(t, root, "notes"); len(fs) > 0 {
		t.Errorf("findings:\n%s", strings.Join(fs, "\n"))
	}
}

func TestNewNeverOverwrites(t *testing.T) {
	root := emptyRepo(t)
	out, errOut, code := run(t, root, "", "new", "tool", "--archetype", "api", "--runtime", "go", "--phase", "3", "--category", "dev-tools")
	if code != 0 || !strings.Contains(out, "created\tapps/tool/Dockerfile") || !strings.Contains(errOut, "phase 3, category dev-tools") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	spec, _ := os.ReadFile(filepath.Join(root, "apps", "tool", "cpk.yaml"))
	if !strings.Contains(string(spec), "phase: 3\ncategory: dev-tools\n") {
		t.Errorf("cpk.yaml:\n%s", spec)
	}
	notes := filepath.Join(root, "apps", "tool", "NOTES.md")
	os.WriteFile(notes, []byte("# my notes\n"), 0o644)

	_, errOut, code = run(t, root, "", "new", "tool", "--archetype", "api", "--runtime", "go")
	if code != ExitUsage || !strings.Contains(errOut, "never overwrites") || !strings.Contains(errOut, "--force") {
		t.Errorf("second cpk new: exit %d %s", code, errOut)
	}
	out, errOut, code = run(t, root, "", "new", "tool", "--archetype", "api", "--runtime", "go", "--force", "--dry-run")
	if code != 0 || !strings.Contains(out, "--- a/NOTES.md\n+++ b/NOTES.md\n") || !strings.Contains(out, "-# my notes") ||
		!strings.Contains(out, "would be replaced\tapps/tool/NOTES.md") || !strings.Contains(out, "unchanged\tapps/tool/Dockerfile") || !strings.Contains(errOut, "nothing written") {
		t.Errorf("--dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(notes); string(b) != "# my notes\n" {
		t.Error("--dry-run wrote")
	}
	// --force: the diff first, then the file is regenerated.
	out, _, code = run(t, root, "", "new", "tool", "--archetype", "api", "--runtime", "go", "--force")
	if code != 0 || strings.Index(out, "-# my notes") > strings.Index(out, "replaced\tapps/tool/NOTES.md") {
		t.Errorf("--force: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(notes); string(b) == "# my notes\n" {
		t.Error("--force did not regenerate NOTES.md")
	}
	if b, _ := os.ReadFile(notes + ".orig"); string(b) != "# my notes\n" || !strings.Contains(out, "(was kept as NOTES.md.orig)") {
		t.Errorf("--force kept no backup of NOTES.md: %q\n%s", b, out)
	}
	// On a terminal --force asks first; no answer, or no, writes nothing.
	os.WriteFile(notes, []byte("# my notes, again\n"), 0o644)
	ask := func(answer string) (string, int) {
		var o, e bytes.Buffer
		io := Test(&o, &e)
		io.In, io.InTTY = strings.NewReader(answer), true
		code := Main(context.Background(), io, []string{"--root", root, "new", "tool", "--archetype", "api", "--runtime", "go", "--force"})
		return e.String(), code
	}
	if errOut, code := ask("n\n"); code != 1 || !strings.Contains(errOut, "replace 1 file(s) (NOTES.md)?") || !strings.Contains(errOut, "nothing written") {
		t.Errorf("answered no: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(notes); string(b) != "# my notes, again\n" {
		t.Error("a no wrote")
	}
	if errOut, code := ask("y\n"); code != 0 {
		t.Errorf("answered yes: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(notes + ".orig.2"); string(b) != "# my notes, again\n" {
		t.Errorf("the second backup: %q", b)
	}
	// Another archetype over the same package: the changed files are
	// replaced, and the go build stage leaves the Dockerfile.
	out, _, code = run(t, root, "", "new", "tool", "--archetype", "api", "--force")
	if code != 0 || !strings.Contains(out, "-FROM cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c AS build") {
		t.Errorf("--force to python: exit %d\n%s", code, out)
	}
}

func TestNewUsage(t *testing.T) {
	root := emptyRepo(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"new", "x"}, "--archetype is required"},
		{[]string{"new"}, "accepts 1 arg"},
		{[]string{"new", "x", "--archetype", "wbe"}, "did you mean web?"},
		{[]string{"new", "x", "--archetype", "static", "--runtime", "node"}, "no runtime"},
		{[]string{"new", "x", "--archetype", "api", "--addons", "postgress"}, "did you mean postgresql?"},
		{[]string{"new", "X_Y", "--archetype", "api"}, "lower-case"},
		{[]string{"new", "x", "--archetype", "api", "--category", "nope"}, "--category"},
		{[]string{"new", "x", "--archetype", "api", "--phase", "7"}, "--phase 7"},
		{[]string{"new", "x", "--archetype", "api", "--format", "yaml"}, "--format"},
	} {
		_, errOut, code := run(t, root, "", c.args...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "apps")); len(entries) != 0 {
		t.Errorf("usage errors wrote %d folders", len(entries))
	}
}

// TestNewPassesTheLifecycleTest is the acceptance path for every archetype
// (with its default runtime) and for every other runtime: cpk new → cpk lint
// (no finding) → cpk build → cpk test, which installs, restarts, backs up,
// restores, moves and uninstalls the placeholder app in the emulated
// Cloudron with its add-ons, checks it stops on SIGTERM, serves as a user
// other than root and writes only where it may, and runs the package's own
// checks (test/checks.yaml). A second version (0.1.1) of each archetype's
// package is then tested too, so that the update step runs from the first.
func TestNewPassesTheLifecycleTest(t *testing.T) {
	e := basetest.Engine(t)
	basetest.Image(t, e)
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := hex.EncodeToString(b[:])
	root := emptyRepo(t)
	t.Cleanup(func() {
		ctx := context.Background()
		imgs, _ := e.ListImages(ctx, engine.ImageFilter{Reference: build.Repo + "/*"})
		for _, img := range imgs {
			for _, tag := range img.Tags {
				if strings.Contains(tag, n) {
					_ = e.RemoveImage(ctx, tag)
				}
			}
		}
	})
	// The add-ons cpk test provides locally (oidc and proxyAuth are not).
	addons := map[scaffold.Archetype]string{scaffold.Web: "postgresql,redis,sendmail,ldap", scaffold.API: "postgresql", scaffold.Worker: "mysql,redis,scheduler", scaffold.Static: ""}
	cases := []struct {
		a scaffold.Archetype
		r scaffold.Runtime
	}{
		{scaffold.Web, ""}, {scaffold.API, ""}, {scaffold.Worker, ""}, {scaffold.Static, ""},
		{scaffold.Web, scaffold.PHP}, {scaffold.API, scaffold.Java}, {scaffold.Worker, scaffold.Go}, {scaffold.API, scaffold.Binary},
	}
	var ids, archetypes []string
	for _, c := range cases {
		id := string(c.a) + "-" + n
		args := []string{"new", id, "--archetype", string(c.a)}
		if c.r != "" {
			id = string(c.a) + "-" + string(c.r) + "-" + n
			args = []string{"new", id, "--archetype", string(c.a), "--runtime", string(c.r)}
		} else {
			archetypes = append(archetypes, id)
		}
		ids = append(ids, id)
		if addons[c.a] != "" {
			args = append(args, "--addons", addons[c.a])
		}
		if _, errOut, code := run(t, root, "", args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
	}
	if fs := lintFindings(t, root); len(fs) > 0 {
		t.Fatalf("findings:\n%s", strings.Join(fs, "\n"))
	}
	type step struct {
		Name, Outcome, Message string
	}
	test := func(ids []string, wantUpdate string, extra ...string) {
		t.Helper()
		out, errOut, code := run(t, root, "", append(append([]string{"test", "--offline", "--format", "json"}, extra...), ids...)...)
		var results []struct {
			App, Outcome, Error, Log string
			Steps                    []step
		}
		if err := json.Unmarshal([]byte(out), &results); err != nil || len(results) != len(ids) {
			t.Fatalf("cpk test: exit %d %v\n%s\n%s", code, err, out, errOut)
		}
		for _, r := range results {
			var summary []string
			for _, s := range r.Steps {
				summary = append(summary, s.Name+" "+s.Outcome)
				notSelected := s.Outcome == "skipped" && strings.Contains(s.Message, "not selected")
				if s.Outcome != "passed" && !notSelected && !(s.Name == "update" && wantUpdate == "skipped") {
					t.Errorf("%s: %s %s: %s (log %s)", r.App, s.Name, s.Outcome, s.Message, r.Log)
				}
				if s.Name == "update" && s.Outcome != wantUpdate {
					t.Errorf("%s: update %s, want %s: %s", r.App, s.Outcome, wantUpdate, s.Message)
				}
			}
			if r.Outcome != "passed" {
				t.Errorf("%s: %s %s: %s (log %s)", r.App, r.Outcome, r.Error, strings.Join(summary, ", "), r.Log)
			}
			t.Logf("%s: %s", r.App, strings.Join(summary, ", "))
		}
		if code != 0 && !t.Failed() {
			t.Errorf("cpk test: exit %d\n%s", code, errOut)
		}
	}
	// The first version: no earlier version to update from.
	test(ids, "skipped")
	if t.Failed() {
		return
	}
	// cpk status: each package is verified, and its build (made by cpk
	// test) and every step but update passed on its current content.
	sout, _, _ := run(t, root, "", "status", "--format", "json")
	var rep struct {
		Apps []struct {
			ID, State string
			Lifecycle []struct {
				Step    string
				Current bool `json:"passedOnCurrent"`
			}
		}
	}
	if err := json.Unmarshal([]byte(sout), &rep); err != nil {
		t.Fatalf("status: %v\n%s", err, sout)
	}
	seen := 0
	for _, a := range rep.Apps {
		if !slices.Contains(ids, a.ID) {
			continue
		}
		seen++
		var missing []string
		for _, st := range a.Lifecycle {
			if !st.Current && st.Step != "update" {
				missing = append(missing, st.Step)
			}
		}
		if a.State != "verified" || len(missing) > 0 || len(a.Lifecycle) == 0 {
			t.Errorf("status of %s: %s, not passed on the current content: %v", a.ID, a.State, missing)
		}
	}
	if seen != len(ids) {
		t.Errorf("cpk status lists %d of the %d packages", seen, len(ids))
	}
	// With --require-update, having no previous version fails the package.
	static := archetypes[len(archetypes)-1]
	out, _, code := run(t, root, "", "test", "--offline", "--format", "json", "--require-update", "--step", "update", static)
	if code == 0 || !strings.Contains(out, `"outcome": "failed"`) || !strings.Contains(out, "no previous version") {
		t.Errorf("--require-update without a previous version: exit %d\n%s", code, out)
	}
	// A second version of each package: the update step runs from the first
	// (install and uninstall always run; the other steps passed above).
	for _, id := range archetypes {
		dir := filepath.Join(root, "apps", id)
		m, _ := os.ReadFile(filepath.Join(dir, "CloudronManifest.json"))
		os.WriteFile(filepath.Join(dir, "CloudronManifest.json"), []byte(strings.Replace(string(m), `"version": "0.1.0"`, `"version": "0.1.1"`, 1)), 0o644)
		cl, _ := os.ReadFile(filepath.Join(dir, "CHANGELOG"))
		os.WriteFile(filepath.Join(dir, "CHANGELOG"), append(cl, []byte("\n[0.1.1]\n* A second version, to test the update\n")...), 0o644)
	}
	// The first version's evidence is stale now (PK008), as it should be
	// until the second is tested: nothing else may be found.
	var fs []string
	for _, f := range lintFindings(t, root) {
		if !strings.Contains(f, " PK008 ") {
			fs = append(fs, f)
		}
	}
	if len(fs) > 0 {
		t.Fatalf("findings in the second version:\n%s", strings.Join(fs, "\n"))
	}
	test(archetypes, "passed", "--step", "update")
}
