package cli

import (
	"bytes"
	"context"
	"cpk/internal/catalog"
	"cpk/internal/testenv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func TestExplainUnknownRuleNamesARealFlag(t *testing.T) {
	_, errOut, code := run(t, repo, "", "lint", "--explain", "XX999")
	if code != ExitUsage || !strings.Contains(errOut, "cpk lint --list-rules") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out, _, code := run(t, repo, "", "lint", "--list-rules"); code != 0 || !strings.Contains(out, "PK001") {
		t.Errorf("the flag it names: exit %d", code)
	}
}

// A wrong CPK_ENGINE with an engine installed: the fix is to unset or
// correct the variable, not to install podman.
func TestDoctorWithAWrongEnginePath(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "podman"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	t.Setenv("PATH", bin)
	t.Setenv("CPK_ENGINE", filepath.Join(t.TempDir(), "podman"))
	out, _, code := run(t, repo, "", "doctor")
	if code != ExitEnvironment || strings.Contains(out, "apt-get install podman") || !strings.Contains(out, "unset it") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, code := run(t, "", "", args...)
		if code != 0 || !strings.HasPrefix(out, "cpk ") {
			t.Errorf("%v: exit %d %q", args, code, out)
		}
	}
	out, _, _ := run(t, "", "", "version", "--format", "json")
	var v struct{ Version string }
	if json.Unmarshal([]byte(out), &v) != nil || v.Version == "" {
		t.Errorf("json: %s", out)
	}
}

// An invalid manifest is not valid for the App Store either.
func TestAppstoreOfAnInvalidManifest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "CloudronManifest.json")
	os.WriteFile(file, []byte(`{"manifestVersion": 2, "id": "io.example.app", "title": "App", "author": "A <a@example.org>", "description": "d", "tagline": "t", "version": "1.0", "healthCheckPath": "/", "httpPort": 8000, "website": "https://example.org", "contactEmail": "a@example.org", "icon": "file://icon.png", "tags": ["x"], "mediaLinks": ["https://example.org/a.png"], "changelog": "c", "postInstallMessage": "p", "minBoxVersion": "7.0.0"}`), 0o644)
	out, _, code := run(t, "", "", "manifest", "check", "--appstore", "--format", "json", file)
	var res []struct {
		Valid    bool
		Appstore struct{ Valid bool }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	if code != 1 || res[0].Valid || res[0].Appstore.Valid {
		t.Errorf("exit %d, valid %v, appstore.valid %v", code, res[0].Valid, res[0].Appstore.Valid)
	}
}

// Without a network: one line, exit 3, nothing recorded.
func TestUpstreamCheckWithoutNetwork(t *testing.T) {
	root := t.TempDir()
	for _, id := range []string{"one", "two", "three"} {
		dir := filepath.Join(root, "apps", id)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "cpk.yaml"), []byte("id: "+id+"\nname: "+id+"\nphase: 2\ncategory: dev-tools\nupstream:\n  source: github\n  repo: owner/"+id+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nARG UPSTREAM_VERSION=1.0.0\n"), 0o644)
	}
	t.Setenv("CPK_GITHUB_API", "http://127.0.0.1:9")
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GH_TOKEN", "")
	out, errOut, code := run(t, root, "", "upstream", "check")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	last := lines[len(lines)-1]
	if code != ExitEnvironment || out != "" || !strings.Contains(last, "no upstream source could be reached (3 packages") || len(lines) != 2 {
		t.Errorf("exit %d\nstdout %q\nstderr %s", code, out, errOut)
	}
	for _, f := range []string{".cpk/upstream.json", ".cpk/results.db"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			t.Errorf("%s was written", f)
		}
	}
}

// camelKeys reports every object key of a JSON document that does not
// start with a lower-case letter.
func camelKeys(v any, path string, bad map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k != "" && !(k[0] >= 'a' && k[0] <= 'z') {
				bad[path+"."+k] = true
			}
			// Maps keyed by data (states, figures) are not field names.
			if k == "states" || k == "figures" {
				continue
			}
			camelKeys(e, path+"."+k, bad)
		}
	case []any:
		for _, e := range x {
			camelKeys(e, path+"[]", bad)
		}
	}
}

func TestJSONKeysAreCamelCase(t *testing.T) {
	for _, args := range [][]string{
		{"status", "--format", "json"},
		{"lint", "--format", "json", "webhook"},
		{"ci", "plan", "--format", "json"},
		{"doctor", "--format", "json"},
		{"version", "--format", "json"},
	} {
		out, errOut, _ := run(t, repo, "", args...)
		var doc any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Errorf("%v: %v\n%s", args, err, errOut)
			continue
		}
		bad := map[string]bool{}
		camelKeys(doc, "", bad)
		if len(bad) > 0 {
			var keys []string
			for k := range bad {
				keys = append(keys, k)
			}
			t.Errorf("%v: keys not in camelCase: %v", args, keys)
		}
	}
}

// A lint run that records failed docs says so in its summary.
func TestLintSummaryCountsFailedDocs(t *testing.T) {
	root := t.TempDir()
	testenv.CopyTree(t, filepath.Join(repo, "apps", "webhook"), filepath.Join(root, "apps", "webhook"))
	os.Remove(filepath.Join(root, "apps", "webhook", "README.md"))
	_, errOut, _ := run(t, root, "", "lint", "webhook")
	if !strings.Contains(errOut, "1 package(s) with a missing or stale README.md (recorded as failed docs): webhook; run cpk docs webhook") {
		t.Errorf("summary: %s", errOut)
	}
}

// Each package's lint run in the history has its own start and finish,
// not the whole command's.
func TestHistoryDurationsArePerPackage(t *testing.T) {
	t.Setenv("CPK_DB", "") // this repository's own store, not the tests' shared one
	root := t.TempDir()
	for _, id := range []string{"webhook", "mediawiki", "redmine"} {
		testenv.CopyTree(t, filepath.Join(repo, "apps", id), filepath.Join(root, "apps", id))
	}
	if _, errOut, code := run(t, root, "", "lint"); code != 0 {
		t.Fatalf("lint: exit %d %s", code, errOut)
	}
	out, _, _ := run(t, root, "", "history", "--format", "json")
	var doc struct {
		Runs []struct {
			App               string
			Started, Finished string
		}
	}
	err := json.Unmarshal([]byte(out), &doc)
	runs := doc.Runs
	if err != nil || len(runs) != 3 {
		t.Fatalf("%v: %d runs: %+v", err, len(runs), runs)
	}
	spans := map[string]bool{}
	for _, r := range runs {
		spans[r.Started+" "+r.Finished] = true
	}
	if len(spans) != 3 {
		t.Errorf("the runs share their times: %+v", runs)
	}
}

// On a terminal a finding shows its source line with a caret under the
// column; piped, only the finding.
func TestFindingsShowTheSourceOnATerminal(t *testing.T) {
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join("..", "lint", "rules", "testdata", "bad-manifest"), filepath.Join(dir, "pkg"))
	var out, errb bytes.Buffer
	io := Test(&out, &errb)
	io.OutTTY = true
	Main(context.Background(), io, []string{"lint", filepath.Join(dir, "pkg") + "/"})
	text := out.String()
	// CloudronManifest.json:3:14 is the "1.0" of "version".
	if !strings.Contains(text, "    3 |   \"version\": \"1.0\",\n      |              ^\n") {
		t.Errorf("no excerpt with a caret:\n%s", text)
	}
	piped, _, _ := run(t, "", "", "lint", filepath.Join(dir, "pkg")+"/")
	if strings.Contains(piped, " | ") {
		t.Errorf("an excerpt when piped:\n%s", piped)
	}
}

// The help examples of cpk new and cpk upstream name applications as the
// bundled catalog has them: upstream examples name packages that exist,
// and cpk new (without --force) one that has no package files yet.
func TestHelpExamplesWorkOnTheCatalog(t *testing.T) {
	cat, err := catalog.Load(filepath.Join(repo, "apps"))
	if err != nil {
		t.Fatal(err)
	}
	root := NewRoot(Test(&bytes.Buffer{}, &bytes.Buffer{}))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, line := range strings.Split(c.Example, "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) > 2 && f[0] == "cpk" && f[1] == "new" && !strings.Contains(line, "--force"):
				if a := cat.App(f[2]); a != nil {
					if files, _ := a.PackageFiles(); len(files) > 0 {
						t.Errorf("%q: %s has package files already", strings.TrimSpace(line), f[2])
					}
				}
			case len(f) > 3 && f[0] == "cpk" && f[1] == "upstream" && (f[2] == "check" || f[2] == "bump" || f[2] == "clone"):
				for _, id := range f[3:] {
					if strings.HasPrefix(id, "-") || strings.Contains(id, "=") || strings.HasPrefix(id, "#") {
						break
					}
					if cat.App(id) == nil {
						t.Errorf("%q: no application %s in the catalog", strings.TrimSpace(line), id)
					}
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// CY001 goes through the lint pass: the same verdict by id, by folder and
// for the whole catalog, and the configuration applies to it.
func TestCatalogProblemsGoThroughThePass(t *testing.T) {
	root := t.TempDir()
	testenv.CopyTree(t, filepath.Join(repo, "apps", "webhook"), filepath.Join(root, "apps", "webhook"))
	spec := filepath.Join(root, "apps", "webhook", "cpk.yaml")
	data, _ := os.ReadFile(spec)
	os.WriteFile(spec, append(data, []byte("tire: 1\n")...), 0o644)
	for _, args := range [][]string{{"lint"}, {"lint", "webhook"}, {"lint", filepath.Join(root, "apps", "webhook") + "/"}} {
		out, _, code := run(t, root, "", append(args, "--format", "json")...)
		if code != 1 || !strings.Contains(out, `"rule": "CY001"`) || !strings.Contains(out, "unknown key tire") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	os.WriteFile(filepath.Join(root, "cpk-lint.yaml"), []byte("severity:\n  CY001: warning\n"), 0o644)
	if out, _, code := run(t, root, "", "lint", "webhook", "--format", "json"); code != 0 || !strings.Contains(out, `"severity": "warning"`) {
		t.Errorf("configured as a warning: exit %d\n%s", code, out)
	}
}

// The evidence travels: a copy of a package with its committed evidence is
// verified without any recorded run, and a line appended to its NOTES.md
// makes it not verified (the evidence goes stale, and lint says so).
func TestEvidenceTravelsWithThePackage(t *testing.T) {
	t.Setenv("CPK_DB", "") // a fresh clone has no results store
	root := t.TempDir()
	testenv.CopyTree(t, filepath.Join(repo, "apps", "webhook"), filepath.Join(root, "apps", "webhook"))
	state := func() (string, string) {
		out, errOut, _ := run(t, root, "", "status", "--format", "json")
		var rep struct {
			Apps []struct{ ID, State, Evidence string }
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Apps) != 1 {
			t.Fatalf("%v: %s %s", err, out, errOut)
		}
		return rep.Apps[0].State, rep.Apps[0].Evidence
	}
	if s, e := state(); s != "verified" || e != "current" {
		t.Fatalf("a fresh copy: %s, evidence %s", s, e)
	}
	if _, err := os.Stat(filepath.Join(root, ".cpk", "results.db")); err == nil {
		t.Error("status created a results store")
	}
	f, _ := os.OpenFile(filepath.Join(root, "apps", "webhook", "NOTES.md"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\nOne more line.\n")
	f.Close()
	if s, e := state(); s != "packaged" || e != "stale" {
		t.Errorf("after an edit: %s, evidence %s", s, e)
	}
	out, _, _ := run(t, root, "", "lint", "webhook")
	if !strings.Contains(out, "PK008") {
		t.Errorf("lint does not report the stale evidence:\n%s", out)
	}
}

// cpk status applies the repository's lint configuration, as cpk lint does.
func TestStatusHonoursTheLintConfiguration(t *testing.T) {
	t.Setenv("CPK_DB", "")
	root := t.TempDir()
	testenv.CopyTree(t, filepath.Join(repo, "apps", "webhook"), filepath.Join(root, "apps", "webhook"))
	f, _ := os.OpenFile(filepath.Join(root, "apps", "webhook", "NOTES.md"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\nOne more line.\n") // the evidence goes stale: PK008, a warning
	f.Close()
	warnings := func() int {
		out, _, _ := run(t, root, "", "status", "--format", "json")
		var rep struct{ Apps []struct{ LintWarnings int } }
		json.Unmarshal([]byte(out), &rep)
		return rep.Apps[0].LintWarnings
	}
	if n := warnings(); n != 1 {
		t.Fatalf("%d warnings, want PK008's", n)
	}
	os.WriteFile(filepath.Join(root, "cpk-lint.yaml"), []byte("disable: [PK008]\n"), 0o644)
	if n := warnings(); n != 0 {
		t.Errorf("PK008 disabled: %d warnings", n)
	}
}

func TestServeBadAddressIsAUsageError(t *testing.T) {
	for _, addr := range []string{"garbage", "127.0.0.1", ":"} {
		if _, errOut, code := run(t, repo, "", "serve", "--addr", addr); code != ExitUsage || !strings.Contains(errOut, "HOST:PORT") {
			t.Errorf("--addr %s: exit %d %s", addr, code, errOut)
		}
	}
}

// A package with a FIFO, a start script linked to /dev/zero, a link to
// /etc and a dangling link: status, lint and docs finish, report the
// package's entries on the package (PK010) and cover the other packages.
func TestHostileEntriesDoNotHang(t *testing.T) {
	t.Setenv("CPK_DB", "")
	root := t.TempDir()
	for _, id := range []string{"webhook", "mediawiki"} {
		testenv.CopyTree(t, filepath.Join(repo, "apps", id), filepath.Join(root, "apps", id))
	}
	dir := filepath.Join(root, "apps", "webhook")
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	os.Remove(filepath.Join(dir, "start.sh"))
	os.Symlink("/dev/zero", filepath.Join(dir, "start.sh"))
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd"))
	os.Symlink("nowhere", filepath.Join(dir, "gone"))
	for _, args := range [][]string{{"status", "--format", "json"}, {"lint", "--format", "json"}, {"docs", "--check"}} {
		done := make(chan struct{})
		var out, errOut string
		var code int
		go func() {
			defer close(done)
			out, errOut, code = run(t, root, "", args...)
		}()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%v hangs", args)
		}
		switch args[0] {
		case "status":
			if code != 0 || !strings.Contains(out, `"id": "mediawiki"`) || !strings.Contains(out, `"id": "webhook"`) {
				t.Errorf("status: exit %d %s", code, errOut)
			}
		case "lint":
			for _, entry := range []string{"pipe", "start.sh", "passwd", "gone"} {
				if !strings.Contains(out, `"file": "`+entry+`"`) {
					t.Errorf("lint does not report %s:\n%s", entry, out)
				}
			}
		}
	}
}

// Text from outside cpk cannot reach the terminal raw: a file name with a
// newline and an escape sequence is printed escaped.
func TestTextOutputIsTerminalSafe(t *testing.T) {
	if got := safe("v1.0\x1b[2J\nnext\tcell"); got != `v1.0\x1b[2J\x0anext cell` {
		t.Errorf("safe: %q", got)
	}
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join("..", "lint", "rules", "testdata", "good"), filepath.Join(dir, "pkg"))
	bad := filepath.Join(dir, "pkg", "evil\n::error::x\x1b[2J")
	if err := os.Symlink("/etc/passwd", bad); err != nil {
		t.Skip(err)
	}
	out, _, _ := run(t, "", "", "lint", filepath.Join(dir, "pkg")+"/")
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\n::error") {
		t.Errorf("raw control characters in the output:\n%q", out)
	}
}

// Ctrl-C stops lint, status and docs on a large catalog: exit 130, and lint
// records nothing for an interrupted run.
func TestInterruptStopsCatalogCommands(t *testing.T) {
	t.Setenv("CPK_DB", "")
	root := t.TempDir()
	for i := range 300 {
		id := fmt.Sprintf("app%03d", i)
		testenv.CopyTree(t, filepath.Join(repo, "apps", "webhook"), filepath.Join(root, "apps", id))
		spec := filepath.Join(root, "apps", id, "cpk.yaml")
		data, _ := os.ReadFile(spec)
		os.WriteFile(spec, []byte(strings.Replace(string(data), "id: webhook", "id: "+id, 1)), 0o644)
	}
	for _, args := range [][]string{{"lint"}, {"status"}, {"docs", "--check"}} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // Ctrl-C before the work starts: nothing may run to the end
		var out, errb bytes.Buffer
		code := Main(ctx, Test(&out, &errb), append([]string{"--root", root}, args...))
		if code != ExitInterrupted {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, ExitInterrupted, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".cpk", "results.db")); err == nil {
		t.Error("an interrupted lint recorded runs")
	}
}

// Exit codes follow the README's table for every command: a flag that does
// not exist is a usage error (2); outside a repository a command that needs
// the catalog is an environment problem (3).
func TestExitCodesOfEveryCommand(t *testing.T) {
	root := NewRoot(Test(&bytes.Buffer{}, &bytes.Buffer{}))
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Runnable() && !c.Hidden && c.Name() != "help" && c.Name() != "completion" {
			paths = append(paths, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(root, nil)
	if len(paths) < 20 {
		t.Fatalf("only %d commands found", len(paths))
	}
	for _, p := range paths {
		if _, errOut, code := run(t, "", "", append(p, "--no-such-flag")...); code != ExitUsage {
			t.Errorf("cpk %s --no-such-flag: exit %d, want %d: %s", strings.Join(p, " "), code, ExitUsage, errOut)
		}
	}
	empty := t.TempDir()
	t.Chdir(empty)
	t.Setenv("CPK_ROOT", "")
	t.Setenv("CPK_DB", "") // the store is then the repository's
	for _, args := range [][]string{{"status"}, {"lint"}, {"docs"}, {"ci", "plan"}, {"gate", "main"}, {"upstream", "check"}, {"history"}} {
		if _, errOut, code := run(t, "", "", args...); code != ExitEnvironment {
			t.Errorf("cpk %s outside a repository: exit %d, want %d: %s", strings.Join(args, " "), code, ExitEnvironment, errOut)
		}
	}
}

// cpk docs writes no README from a manifest that does not parse: it names
// the input and exits 1 (--check too), and the other packages get theirs;
// status still reports on every package.
func TestDocsRefuseWhatTheyCannotRead(t *testing.T) {
	t.Setenv("CPK_DB", "")
	root := t.TempDir()
	for _, id := range []string{"webhook", "mediawiki"} {
		testenv.CopyTree(t, filepath.Join(repo, "apps", id), filepath.Join(root, "apps", id))
	}
	readme := filepath.Join(root, "apps", "webhook", "README.md")
	before, _ := os.ReadFile(readme)
	os.WriteFile(filepath.Join(root, "apps", "webhook", "CloudronManifest.json"), []byte(`{"version": "1.0.0",`), 0o644)
	os.Remove(filepath.Join(root, "apps", "mediawiki", "README.md"))
	for _, args := range [][]string{{"docs", "webhook", "mediawiki"}, {"docs", "--check", "webhook"}} {
		_, errOut, code := run(t, root, "", args...)
		if code != 1 || !strings.Contains(errOut, "apps/webhook/CloudronManifest.json") || !strings.Contains(errOut, "no README is written from it") {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
	if after, _ := os.ReadFile(readme); string(after) != string(before) {
		t.Error("a README was written from a manifest that does not parse")
	}
	if _, err := os.Stat(filepath.Join(root, "apps", "mediawiki", "README.md")); err != nil {
		t.Error("the other package got no README")
	}
	if _, errOut, code := run(t, root, "", "status"); code != 0 {
		t.Errorf("status: exit %d %s", code, errOut)
	}
}
