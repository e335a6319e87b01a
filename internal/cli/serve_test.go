package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/store"
	"cpk/internal/testenv"
)

// dashboardRepo is the bundled catalog with package files given to a
// dozen applications and three months of recorded runs, as a team's
// repository would look partway through phase 2.
func dashboardRepo(t *testing.T) (root string, dsn string) {
	t.Helper()
	root = t.TempDir()
	testenv.CopyTree(t, filepath.Join(repo, "apps"), filepath.Join(root, "apps"))
	fixtures := filepath.Join(repo, "internal", "lint", "rules", "testdata")
	packaged := map[string]string{
		"grist": "reference", "jenkins": "reference", "healthchecks": "reference", "goalert": "reference",
		"fleet": "good", "elabftw": "good", "drawio": "good", "huginn": "reference",
		"inventree": "broken-files", "datahub": "broken-files", "apisix": "good", "easy-gate": "good",
	}
	for id, fx := range packaged {
		// The fixture replaces whatever package files the catalog has for
		// the application; its cpk.yaml stays.
		dir := filepath.Join(root, "apps", id)
		spec, err := os.ReadFile(filepath.Join(dir, catalog.SpecFile))
		if err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(dir)
		testenv.CopyTree(t, filepath.Join(fixtures, fx), dir)
		os.Remove(filepath.Join(dir, "want.txt"))
		os.WriteFile(filepath.Join(dir, catalog.SpecFile), spec, 0o644)
	}
	if _, errOut, code := run(t, root, "", "docs"); code != 0 {
		t.Fatalf("docs: %s", errOut)
	}
	dsn = filepath.Join(root, ".cpk", "results.db")
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := catalog.Load(filepath.Join(root, "apps"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	start := now.Add(-90 * 24 * time.Hour)
	ids := []string{"grist", "jenkins", "healthchecks", "goalert", "fleet", "elabftw", "drawio", "huginn", "apisix", "easy-gate", "inventree", "datahub"}
	record := func(r cpk.Run) {
		if r.Finished.IsZero() {
			r.Finished = r.Started.Add(90 * time.Second)
		}
		if err := st.Record(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	ok := cpk.OutcomePassed
	step := func(name string, o cpk.Outcome) cpk.Step {
		return cpk.Step{Name: name, Outcome: o, Duration: 20 * time.Second}
	}
	for i, id := range ids {
		hash, _ := cat.App(id).ContentHash()
		day := func(d int) time.Time { return start.Add(time.Duration(d*24+i) * time.Hour) }
		// A first draft with lint errors, then clean packages, one by one.
		record(cpk.Run{App: id, Kind: cpk.KindLint, Hash: "draft-" + id, Started: day(5 + i*6), Outcome: cpk.OutcomeFailed})
		if i >= 10 {
			record(cpk.Run{App: id, Kind: cpk.KindLint, Hash: hash, Started: day(70 + i), Outcome: cpk.OutcomeFailed,
				Steps: []cpk.Step{step(cpk.StepManifest, ok), step("rules", cpk.OutcomeFailed), step(cpk.StepDocs, cpk.OutcomeFailed)}})
			continue
		}
		record(cpk.Run{App: id, Kind: cpk.KindLint, Hash: hash, Started: day(9 + i*6), Outcome: ok,
			Steps: []cpk.Step{step(cpk.StepManifest, ok), step("rules", ok), step(cpk.StepDocs, ok)}})
		record(cpk.Run{App: id, Kind: cpk.KindBuild, Hash: hash, Started: day(10 + i*6), Outcome: ok, Figures: map[string]float64{"seconds": 210}})
		if i < 7 {
			record(cpk.Run{App: id, Kind: cpk.KindTest, Hash: hash, Started: day(12 + i*6), Outcome: ok,
				Steps: []cpk.Step{step(cpk.StepInstall, ok), step(cpk.StepRestart, ok), step(cpk.StepBackup, ok), step(cpk.StepRestore, ok),
					step(cpk.StepMove, ok), step(cpk.StepUpdate, ok), step(cpk.StepUninstall, ok)}})
		}
		up := ok
		if i%3 == 0 {
			up = cpk.OutcomeFailed
		}
		record(cpk.Run{App: id, Kind: cpk.KindUpstream, Hash: hash, Started: day(80), Outcome: up,
			Steps: []cpk.Step{{Name: "check", Outcome: up, Message: "pinned 3.4.5, newest 3.4.5"}}})
	}
	// A restore that broke this week: a regression.
	hash, _ := cat.App("goalert").ContentHash()
	record(cpk.Run{App: "goalert", Kind: cpk.KindTest, Hash: hash, Started: now.Add(-2 * time.Hour), Outcome: cpk.OutcomeFailed,
		Steps: []cpk.Step{step(cpk.StepInstall, ok), step(cpk.StepBackup, ok), {Name: cpk.StepRestore, Outcome: cpk.OutcomeFailed, Message: "files differ after restore"}}})
	return root, dsn
}

// startServe runs cpk serve on an ephemeral localhost port; it returns the
// base URL and a function that stops it and returns the exit code.
func startServe(t *testing.T, root, dsn string) (string, func() (int, string)) {
	t.Helper()
	t.Setenv("CPK_DB", dsn)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb testenv.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Test(&out, &errb), []string{"--root", root, "serve", "--addr", "127.0.0.1:0"})
	}()
	deadline := time.Now().Add(20 * time.Second)
	addr := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/`)
	for time.Now().Before(deadline) {
		if m := addr.FindString(errb.String()); m != "" {
			stop := func() (int, string) {
				cancel()
				select {
				case code := <-done:
					return code, errb.String()
				case <-time.After(10 * time.Second):
					t.Fatal("cpk serve did not stop")
				}
				return 0, ""
			}
			t.Cleanup(func() { cancel() })
			return strings.TrimSuffix(m, "/"), stop
		}
		select {
		case code := <-done:
			t.Fatalf("cpk serve exited %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("cpk serve did not say where it listens: %s", errb.String())
	return "", nil
}

func TestServe(t *testing.T) {
	root, dsn := dashboardRepo(t)
	base, stop := startServe(t, root, dsn)
	get := func(path string) (*http.Response, string) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	start := time.Now()
	res, body := get("/")
	took := time.Since(start)
	if res.StatusCode != 200 || strings.Count(body, "data-app=") != testenv.CatalogSize(t, filepath.Join(repo, "apps")) {
		t.Fatalf("catalog: %d, %d rows", res.StatusCode, strings.Count(body, "data-app="))
	}
	t.Logf("catalog page: %d bytes in %s (first request, report built)", len(body), took.Round(time.Millisecond))
	if !strings.Contains(body, "row-regressed") || !strings.Contains(body, "1 regressed") {
		t.Error("the broken restore of goalert is not shown as a regression")
	}
	// The verified rows: the packages the recorded runs verify, and those
	// whose committed evidence does (as cpk status counts them).
	_, body = get("/?state=verified&sort=level&dir=desc")
	out, _, _ := run(t, root, "", "--db", dsn, "status", "--format", "json")
	var rep struct {
		Total struct{ States map[string]int }
	}
	json.Unmarshal([]byte(out), &rep)
	if n := strings.Count(body, "data-app="); n != rep.Total.States["verified"] || n < 6 {
		t.Errorf("verified: %d rows, cpk status says %d", n, rep.Total.States["verified"])
	}
	_, body = get("/app/goalert")
	if !strings.Contains(body, "files differ after restore") || !strings.Contains(body, "regressed from 6") {
		t.Error("goalert's page lacks the failed restore")
	}
	_, body = get("/progress")
	if !strings.Contains(body, `class="area area-verified"`) || !strings.Contains(body, "phase 2 target: 25") {
		t.Error("progress page without the chart")
	}
	code, errOut := stop()
	if code != ExitInterrupted || !strings.Contains(errOut, "dashboard stopped") {
		t.Errorf("stop: exit %d: %s", code, errOut)
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("still serving after Ctrl-C")
	}
}

func TestServeAddressInUse(t *testing.T) {
	root, dsn := dashboardRepo(t)
	base, stop := startServe(t, root, dsn)
	defer stop()
	_, errOut, code := run(t, root, "", "serve", "--addr", strings.TrimPrefix(base, "http://"))
	if code != ExitEnvironment || !strings.Contains(errOut, "--addr") {
		t.Errorf("second server on the same port: exit %d: %s", code, errOut)
	}
}

// chromium runs headless Debian Chromium with the flags this machine needs
// (no sandbox as root, no background connections to the closed network).
func chromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// TestDashboardInChromium loads the dashboard over the bundled catalog in
// headless Chromium, checks that the catalog table and the burn-up chart
// render, and saves screenshots under .cpk/artifacts/ (CI keeps them).
func TestDashboardInChromium(t *testing.T) {
	testenv.SkipShort(t, "needs chromium")
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		testenv.Unavailable(t, "chromium is not installed (Debian package chromium; .ci/run installs it)")
	}
	root, dsn := dashboardRepo(t)
	base, stop := startServe(t, root, dsn)
	defer stop()

	dom := chromium(t, bin, "--dump-dom", base+"/")
	for _, want := range []string{`<table class="catalog" id="catalog">`, `data-app="grist"`, `data-app="wireviz-web"`, "verified", "regressed"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered catalog lacks %q", want)
		}
	}
	if n, want := strings.Count(dom, "data-app="), testenv.CatalogSize(t, filepath.Join(repo, "apps")); n != want {
		t.Errorf("rendered catalog has %d rows, want %d", n, want)
	}
	dom = chromium(t, bin, "--dump-dom", base+"/progress")
	if !strings.Contains(dom, "<svg") || strings.Count(dom, "<polygon") != 3 || !strings.Contains(dom, "phase 3 target: 75") || !strings.Contains(dom, `id="metrics"`) {
		t.Errorf("rendered progress page lacks the chart or the metrics")
	}
	artifacts, err := filepath.Abs(filepath.Join(repo, ".cpk", "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"dashboard.png": "/", "dashboard-progress.png": "/progress", "dashboard-app.png": "/app/goalert"} {
		file := filepath.Join(artifacts, name)
		os.Remove(file)
		chromium(t, bin, "--screenshot="+file, "--window-size=1280,900", base+path)
		st, err := os.Stat(file)
		if err != nil || st.Size() < 10_000 {
			t.Errorf("screenshot %s: %v", file, err)
			continue
		}
		png, _ := os.ReadFile(file)
		if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s is not a PNG", file)
		}
		fmt.Fprintf(os.Stderr, "dashboard screenshot: %s (%d bytes)\n", file, st.Size())
	}
}
