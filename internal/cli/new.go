package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
	"cpk/internal/scaffold"
)

type newOptions struct {
	Archetype  string
	Runtime    string
	Addons     []string
	Name       string
	Phase      int
	Category   string
	ManifestID string
	Force      bool
	DryRun     bool
	Yes        bool
	Format     string
}

// newNewCmdLong is the help text of the command.
const newNewCmdLong = `Write a complete package into apps/<APP>/: the manifest with the addons and
a health check, a Dockerfile on the digest-pinned base image with a pinned,
checksummed upstream step, a start script following the platform's
conventions (first-run setup, configuration written into /run from the
environment on every start, migrations, exec gosu), nginx and supervisor
configuration where the archetype needs them, build notes, a changelog and
a 256×256 icon.

The package is lint-clean as written, and builds and runs with a placeholder
app in place of the upstream release: a small program for the runtime,
shipped in upstream/ and verified by its SHA-256 like a download. NOTES.md
says how to replace it with the real release.

Archetypes:
  web      nginx on port 8000 proxies to the app; supervisor runs both
  api      the app listens on port 8000 itself
  worker   a background worker and a status server whose health check
           follows the worker's heartbeat; supervisor runs both
  static   nginx serves the files of the site

Runtimes (not for static): node (the default for web), python (the default
for api and worker), php (nginx and PHP-FPM), java (heap from the memory
limit), go (compiled in a build stage), binary (a prebuilt executable).

Addons: localstorage is always declared (not for static); --addons adds
postgresql, mysql, mongodb, redis, sendmail, recvmail, ldap, oidc,
scheduler or proxyAuth.

An application of the catalog keeps its cpk.yaml (its name becomes the
title); for a new one cpk new writes cpk.yaml with --phase and --category.
Existing files are never overwritten: --force regenerates them, printing a
unified diff of each change first; --dry-run prints the diff and writes
nothing.`

func newNewCmd(g *Globals) *cobra.Command {
	var opts newOptions
	c := &cobra.Command{
		Use:   "new APP --archetype web|api|worker|static [--addons A,B] [--runtime R]",
		Short: "Write a new package from a template: lint-clean, buildable, with a placeholder app",
		Long:  newNewCmdLong,
		Example: `  cpk new healthchecks --archetype web --addons postgresql,sendmail
  cpk new my-api --archetype api --runtime go --addons postgresql,redis
  cpk new jobs --archetype worker --addons redis,scheduler --phase 3 --category dev-tools
  cpk new docs-site --archetype static
  cpk new my-api --archetype api --runtime go --force     # regenerate, showing the diff`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if opts.Archetype == "" {
				return usageError("--archetype is required: one of web, api, worker, static")
			}
			return runNew(g, args[0], opts, c.Flags().Changed("phase") || c.Flags().Changed("category"))
		},
	}
	formatFlag(c, &opts.Format)
	f := c.Flags()
	f.StringVar(&opts.Archetype, "archetype", "", "web, api, worker or static")
	f.StringVar(&opts.Runtime, "runtime", "", "node, python, php, java, go or binary (default: node for web, python for api and worker)")
	f.StringSliceVar(&opts.Addons, "addons", nil, "addons beyond localstorage, comma-separated: "+strings.Join(scaffold.Addons, ","))
	f.StringVar(&opts.Name, "name", "", "the app's name (default: the catalog's name, else the id)")
	f.IntVar(&opts.Phase, "phase", 4, "plan phase of a new catalog entry (2, 3 or 4)")
	f.StringVar(&opts.Category, "category", "experimental", "category of a new catalog entry")
	f.StringVar(&opts.ManifestID, "manifest-id", "", "the manifest's reverse-domain id (default io.cpk.<APP>)")
	f.BoolVar(&opts.Force, "force", false, "regenerate existing files, printing a diff of each change first")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print what would change (with diffs) and write nothing")
	f.BoolVar(&opts.Yes, "yes", false, "with --force on a terminal: replace without asking")
	_ = c.RegisterFlagCompletionFunc("archetype", cobra.FixedCompletions([]string{"web", "api", "worker", "static"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("runtime", cobra.FixedCompletions([]string{"node", "python", "php", "java", "go", "binary"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("addons", cobra.FixedCompletions(scaffold.Addons, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("category", cobra.FixedCompletions(catalog.Categories, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// newReport is the JSON shape of cpk new.
type newReport struct {
	App       string               `json:"app"`
	Dir       string               `json:"dir"`
	Archetype string               `json:"archetype"`
	Runtime   string               `json:"runtime,omitempty"`
	Addons    []string             `json:"addons"`
	DryRun    bool                 `json:"dryRun,omitempty"`
	Files     []scaffold.Written   `json:"files"`
	Diff      string               `json:"diff,omitempty"`
	Catalog   *newCatalogEntryJSON `json:"catalogEntry,omitempty"`
}

type newCatalogEntryJSON struct {
	Phase    int    `json:"phase"`
	Category string `json:"category"`
}

func runNew(g *Globals, id string, opts newOptions, specFlags bool) error {
	appsDir, err := g.appsDir()
	if err != nil {
		return err
	}
	so, err := newScaffoldOptions(g, appsDir, id, opts, specFlags)
	if err != nil {
		return err
	}
	if so, err = scaffold.Normalize(so); err != nil {
		return usageError("%v", err)
	}
	files, err := scaffold.Render(so)
	if err != nil {
		return err
	}
	if opts.Force && !opts.DryRun && !opts.Yes && g.IO.InTTY {
		if ok, err := confirmReplace(g.IO, filepath.Join(appsDir, id), files); err != nil || !ok {
			return err
		}
	}
	var diff bytes.Buffer
	written, err := scaffold.Write(filepath.Join(appsDir, id), files, scaffold.WriteOptions{Force: opts.Force, DryRun: opts.DryRun, Diff: &diff})
	var ee *scaffold.ExistsError
	switch {
	case errors.As(err, &ee):
		return usageError("apps/%s already has %s: cpk new never overwrites files (--force regenerates them, printing a diff first)", id, strings.Join(ee.Files, ", "))
	case err != nil:
		return envError(err)
	}
	rep := newReport{App: id, Dir: "apps/" + id, Archetype: string(so.Archetype), Runtime: string(so.Runtime), Addons: so.Addons, DryRun: opts.DryRun, Files: written, Diff: diff.String()}
	if rep.Addons == nil {
		rep.Addons = []string{}
	}
	if so.Spec != nil {
		rep.Catalog = &newCatalogEntryJSON{so.Spec.Phase, so.Spec.Category}
	}
	if opts.Format == "json" {
		return g.IO.writeJSON(rep)
	}
	printNew(g.IO, so, rep, diff.Bytes())
	return nil
}

// confirmReplace shows what --force would replace and asks on the terminal;
// a no writes nothing and exits 1.
func confirmReplace(io *IO, dir string, files []scaffold.File) (bool, error) {
	var diff bytes.Buffer
	plan, err := scaffold.Write(dir, files, scaffold.WriteOptions{Force: true, DryRun: true, Diff: &diff})
	if err != nil {
		return false, envError(err)
	}
	var replaced []string
	for _, w := range plan {
		if w.Action == scaffold.Replaced {
			replaced = append(replaced, w.Path)
		}
	}
	if len(replaced) == 0 {
		return true, nil
	}
	io.Out.Write(diff.Bytes())
	fmt.Fprintf(io.Err, "replace %d file(s) (%s)? each is kept as FILE.orig [y/N] ", len(replaced), strings.Join(replaced, ", "))
	answer, _ := bufio.NewReader(io.In).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a == "y" || a == "yes" {
		return true, nil
	}
	fmt.Fprintln(io.Err, "nothing written")
	return false, silentFailure
}

// newScaffoldOptions says what to write: an entry of the catalog keeps its
// cpk.yaml (its name is the title, its upstream the website); a new one
// gets a cpk.yaml from --phase and --category.
func newScaffoldOptions(g *Globals, appsDir, id string, opts newOptions, specFlags bool) (scaffold.Options, error) {
	so := scaffold.Options{
		ID: id, Title: opts.Name, Archetype: scaffold.Archetype(opts.Archetype), Runtime: scaffold.Runtime(opts.Runtime),
		Addons: opts.Addons, ManifestID: opts.ManifestID,
	}
	cat, le, err := g.catalog()
	if err != nil {
		return so, err
	}
	if app := cat.App(id); app != nil {
		if specFlags {
			return so, usageError("%s is in the catalog already: --phase and --category are for new entries (edit apps/%s/cpk.yaml)", id, id)
		}
		if so.Title == "" {
			so.Title = app.Name
		}
		so.Website = app.Upstream.Link()
		return so, nil
	}
	dir := filepath.Join(appsDir, id)
	if _, err := os.Stat(filepath.Join(dir, catalog.SpecFile)); err == nil {
		// The entry exists but does not load: say why rather than overwrite it.
		if le != nil {
			for _, p := range le.Problems {
				if filepath.Dir(p.File) == dir {
					return so, usageError("apps/%s/%s has problems; fix them first:\n  %v", id, catalog.SpecFile, p)
				}
			}
		}
		return so, usageError("apps/%s/%s exists but is not in the catalog; fix it first (cpk lint %s)", id, catalog.SpecFile, id)
	}
	if !slices.Contains(catalog.Phases, opts.Phase) {
		return so, usageError("--phase %d: the plan's phases are 2, 3 and 4", opts.Phase)
	}
	if !slices.Contains(catalog.Categories, opts.Category) {
		return so, usageError("--category %q: use one of %s", opts.Category, strings.Join(catalog.Categories, ", "))
	}
	so.Spec = &scaffold.Spec{Phase: opts.Phase, Category: opts.Category}
	return so, nil
}

// printNew shows what cpk new wrote (or would write) and what comes next.
func printNew(io *IO, so scaffold.Options, rep newReport, diff []byte) {
	id := rep.App
	io.Out.Write(diff)
	t := &table{io: io}
	for _, w := range rep.Files {
		action := string(w.Action)
		if rep.DryRun && w.Action != scaffold.Unchanged {
			action = "would be " + action
		}
		where := "apps/" + id + "/" + w.Path
		if w.Backup != "" {
			where += " (was kept as " + w.Backup + ")"
		}
		t.row(io.paint(newActionStyle[w.Action], action), where)
	}
	t.flush()
	if rep.DryRun {
		fmt.Fprintln(io.Err, "dry run: nothing written")
		return
	}
	desc := string(so.Archetype) + " archetype"
	if so.Runtime != scaffold.None {
		desc += ", " + string(so.Runtime) + " runtime"
	}
	if so.Spec != nil {
		fmt.Fprintf(io.Err, "new catalog entry: phase %s, category %s (edit apps/%s/cpk.yaml)\n", strconv.Itoa(so.Spec.Phase), so.Spec.Category, id)
	}
	fmt.Fprintf(io.Err, "apps/%s: %s, with a placeholder app in place of the release (NOTES.md says how to put the real one in)\nnext: cpk lint %s && cpk build %s --offline\n", id, desc, id, id)
}

var newActionStyle = map[scaffold.Action]string{scaffold.Created: green, scaffold.Replaced: yellow, scaffold.Unchanged: dim}
