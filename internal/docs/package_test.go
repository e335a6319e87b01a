package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
)

// fixtureApp copies a lint fixture into apps/<id>/ of a new catalog.
func fixtureApp(t *testing.T, fixture, id string) (*catalog.Catalog, *catalog.App) {
	t.Helper()
	apps := t.TempDir()
	dir := filepath.Join(apps, id)
	from := filepath.Join("..", "lint", "rules", "testdata", fixture)
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if rel == "want.txt" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(filepath.Join(dir, rel), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := "id: " + id + "\nname: Notes app\ntier: 2\nphase: 3\ncategory: productivity\nupstream:\n  source: github\n  repo: example/notes\n"
	os.MkdirAll(filepath.Join(apps, "planned-one"), 0o755)
	os.WriteFile(filepath.Join(apps, "planned-one", catalog.SpecFile), []byte("id: planned-one\nname: Planned | one\nphase: 2\ncategory: database\n"), 0o644)
	if err := os.WriteFile(filepath.Join(dir, catalog.SpecFile), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(apps)
	if err != nil {
		t.Fatal(err)
	}
	return cat, cat.App(id)
}

func TestPackageReadme(t *testing.T) {
	_, a := fixtureApp(t, "reference", "notes")
	got, ok, err := PackageReadme(a)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	text := string(got)
	for _, want := range []string{
		BeginMarker, EndMarker, "# Notes\n", "Shared notes for teams",
		"Notes is a shared notebook for teams", // DESCRIPTION.md
		"| Package | `notes` version 1.2.0",
		"[github.com/example/notes](https://github.com/example/notes)",
		"**3.4.5** (Dockerfile:7 ARG UPSTREAM_VERSION)",
		"512 MB (memoryLimit 536870912)",
		"| postgresql | - | `CLOUDRON_POSTGRESQL_URL` |",
		"`CLOUDRON_MAIL_SMTP_SERVER`",
		"listens on **8000** (`httpPort`)",
		"The first account that signs up becomes the administrator", // NOTES.md's First login
		"> The first user to sign up",                               // POSTINSTALL.md
		"`/app/data` (the localstorage addon) is in every backup",
		"cpk build notes", "cpk history notes",
		"[NOTES.md](NOTES.md): Notes — build notes · Upstream · Layout · Addons · First login · Testing by hand.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README lacks %q", want)
		}
	}
	again, _, _ := PackageReadme(a)
	if string(again) != text {
		t.Error("not deterministic")
	}
	if cur, _ := PackageCurrent(a); cur {
		t.Error("current before it was written")
	}
	if changed, err := SyncPackage(a, true); err != nil || !changed {
		t.Errorf("check: %v %v", changed, err)
	}
	if _, err := os.Stat(filepath.Join(a.Dir, ReadmeFile)); err == nil {
		t.Fatal("check wrote the README")
	}
	if _, err := SyncPackage(a, false); err != nil {
		t.Fatal(err)
	}
	if cur, err := PackageCurrent(a); !cur || err != nil {
		t.Errorf("current after writing: %v %v", cur, err)
	}
	// A manifest change makes it stale.
	mf := filepath.Join(a.Dir, "CloudronManifest.json")
	data, _ := os.ReadFile(mf)
	os.WriteFile(mf, []byte(strings.Replace(string(data), `"httpPort": 8000`, `"httpPort": 8080`, 1)), 0o644)
	if cur, _ := PackageCurrent(a); cur {
		t.Error("current after a manifest change")
	}
}

func TestHandWrittenPartsAreKept(t *testing.T) {
	_, a := fixtureApp(t, "good", "app")
	path := filepath.Join(a.Dir, ReadmeFile)
	// A hand-written README without markers: the generated part goes on top.
	os.WriteFile(path, []byte("# My notes\n\nHand-written <b>text</b>.\n"), 0o644)
	if _, err := SyncPackage(a, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	text := string(data)
	if !strings.HasPrefix(text, BeginMarker+"\n") || !strings.HasSuffix(text, EndMarker+"\n\n# My notes\n\nHand-written <b>text</b>.\n") {
		t.Errorf("spliced:\n%s", text)
	}
	// Text above and below the markers stays; the part between is replaced.
	edited := "Intro above.\n" + strings.Replace(text, "## Ports", "## Ports (edited by hand)", 1) + "Footer below.\n"
	os.WriteFile(path, []byte(edited), 0o644)
	if cur, _ := PackageCurrent(a); cur {
		t.Error("a hand edit inside the markers went unnoticed")
	}
	SyncPackage(a, false)
	data, _ = os.ReadFile(path)
	got := string(data)
	if !strings.HasPrefix(got, "Intro above.\n"+BeginMarker) || !strings.HasSuffix(got, "Hand-written <b>text</b>.\nFooter below.\n") || strings.Contains(got, "(edited by hand)") {
		t.Errorf("rewritten:\n%s", got)
	}
	for name, bad := range map[string]string{
		"begin only": BeginMarker + "\nx\n",
		"end first":  EndMarker + "\n" + BeginMarker + "\n",
		"two begins": BeginMarker + "\n" + BeginMarker + "\n" + EndMarker + "\n",
	} {
		os.WriteFile(path, []byte(bad), 0o644)
		if _, _, err := PackageReadme(a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNoReadmeForPlannedApps(t *testing.T) {
	cat, _ := fixtureApp(t, "good", "app")
	p := cat.App("planned-one")
	if _, ok, err := PackageReadme(p); ok || err != nil {
		t.Errorf("planned app: %v %v", ok, err)
	}
	// A README alone does not make a package.
	os.WriteFile(filepath.Join(p.Dir, ReadmeFile), []byte("# x\n"), 0o644)
	if _, ok, _ := PackageReadme(p); ok {
		t.Error("README.md alone made a package")
	}
}

func TestCatalogPage(t *testing.T) {
	cat, _ := fixtureApp(t, "reference", "notes")
	page, err := CatalogPage(cat)
	if err != nil {
		t.Fatal(err)
	}
	text := string(page)
	for _, want := range []string{
		"2 applications of the plan (target 100); 1 have package files",
		"## Phase 2 — 1 applications, target 25",
		"| [planned-one](planned-one/) | Planned \\| one | - | database | - | - | - | planned |",
		"## Phase 3 — 1 applications, target 50",
		"| [notes](notes/README.md) | Notes app | 2 | productivity | - | - | [github](https://github.com/example/notes) | package 1.2.0 (upstream 3.4.5), not verified: never tested (cpk test notes) |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("index lacks %q:\n%s", want, text)
		}
	}
}

func TestCLIPages(t *testing.T) {
	root := &cobra.Command{Use: "cpk", Short: "root"}
	sub := &cobra.Command{Use: "build [APP]", Short: "Build | things", Long: "Long text.", Example: "  cpk build x", RunE: func(*cobra.Command, []string) error { return nil }}
	sub.Flags().IntP("jobs", "j", 8, "builds at a time")
	sub.Flags().SetAnnotation("jobs", DocDefault, []string{"half the CPUs"})
	hidden := &cobra.Command{Use: "secret", Hidden: true, RunE: sub.RunE}
	root.PersistentFlags().String("root", "", "repository root")
	root.AddCommand(sub, hidden)
	pages := CLIPages(root)
	if len(pages) != 3 || pages["cpk_secret.md"] != nil {
		t.Fatalf("pages: %v", keys(pages))
	}
	b := string(pages["cpk_build.md"])
	for _, want := range []string{"# cpk build\n", "cpk build [APP] [flags]", "Long text.", "  cpk build x", "(default half the CPUs)", "## Global flags", "--root string", "[cpk](cpk.md)"} {
		if !strings.Contains(b, want) {
			t.Errorf("build page lacks %q:\n%s", want, b)
		}
	}
	if !strings.Contains(string(pages["README.md"]), "| [cpk build](cpk_build.md) | Build \\| things |") {
		t.Errorf("index:\n%s", pages["README.md"])
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRepoReadme(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	for id, spec := range map[string]string{
		"alpha": "id: alpha\nname: Alpha\nphase: 2\ncategory: database\nneedsNetwork: GitHub releases of o/alpha\n",
		"beta":  "id: beta\nname: Beta\nphase: 3\ncategory: database\nstate: blocked\nreason: needs MongoDB\n",
	} {
		os.MkdirAll(filepath.Join(apps, id), 0o755)
		os.WriteFile(filepath.Join(apps, id, "cpk.yaml"), []byte(spec), 0o644)
	}
	cat, err := catalog.Load(apps)
	if err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(root, "README.md")
	os.WriteFile(readme, []byte("# Repo\n"), 0o644)
	if _, ok, _ := RepoReadme(cat, readme); ok {
		t.Error("a README without markers is written")
	}
	os.WriteFile(readme, []byte("# Repo\n\n"+BeginMarker+"\n"+EndMarker+"\n\nafter\n"), 0o644)
	out, ok, err := RepoReadme(cat, readme)
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	for _, want := range []string{"| [alpha](apps/alpha/) | Alpha | - | 2 | planned | its release source cannot be reached from the project's machines: GitHub releases of o/alpha |",
		"| [beta](apps/beta/) | Beta | - | 3 | blocked | needs MongoDB |", "2 applications: 0 verified, 0 packaged but not verified, 1 planned, 1 blocked", "\nafter\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}
