package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
	"cpk/internal/docs"
	"cpk/internal/lint/rules"
)

type docsOptions struct {
	Check bool
	Apps  []string
}

func newDocsCmd(g *Globals) *cobra.Command {
	var opts docsOptions
	c := &cobra.Command{
		Use:   "docs [APP...]",
		Short: "Generate the package READMEs, the catalog index and the reference pages",
		Long: `Generate what is written from the code and the package files:

  apps/<id>/README.md   for each application with package files: what it is,
                        upstream and pinned version, addons and the variables
                        it reads, ports, memory, first login, backup, how to
                        build and test it with cpk, and a pointer to NOTES.md.
                        Only the part between <!-- cpk:begin generated -->
                        and <!-- cpk:end generated --> is rewritten; the rest
                        is the packager's and is kept.
  apps/README.md        the catalog index, every application by phase
  docs/rules/           one page per lint rule, and their index
  docs/cli/             one page per command, and their index

With APP arguments only those packages' READMEs. Generated files hold only
facts that change with the files (no results, no dates), so they go stale
only when something was edited. --check changes nothing and exits 1 when a
file is stale (CI runs it). NOTES.md stays the packager's hand-written notes;
build-notes coverage in cpk status counts packages with NOTES.md and a
current README.md.`,
		Example: `  cpk docs
  cpk docs grist
  cpk docs --check`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Apps = args
			return abandonable(c.Context(), func(ctx context.Context) error { return runDocs(ctx, g, opts) })
		},
	}
	c.Flags().BoolVar(&opts.Check, "check", false, "only report stale files (exit 1 when any)")
	return c
}

// docTree is the command tree as the reference shows it: completion
// included, machine-dependent flag defaults replaced by words.
func docTree(io *IO) *cobra.Command {
	root := NewRoot(io)
	root.InitDefaultCompletionCmd()
	if b, _, err := root.Find([]string{"build"}); err == nil && b.Flags().Lookup("jobs") != nil {
		_ = b.Flags().SetAnnotation("jobs", docs.DocDefault, []string{"half the CPUs"})
	}
	return root
}

func runDocs(ctx context.Context, g *Globals, opts docsOptions) error {
	appsDir, err := g.appsDir()
	if err != nil {
		return err
	}
	root := filepath.Dir(appsDir)
	sel, err := g.selectPackages(opts.Apps, catalog.Filter{})
	if err != nil {
		return err
	}
	var refused []string // inputs no doc is written from
	if sel.Problems != nil {
		for _, p := range sel.Problems.Problems {
			refused = append(refused, p.Error()+": no docs are written for this entry")
		}
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	stale, packages, bad, err := syncReadmes(ctx, sel, opts.Check, rel)
	if err != nil {
		return err
	}
	refused = append(refused, bad...)
	summary := fmt.Sprintf("%d package README(s)", packages)
	if len(opts.Apps) == 0 {
		more, what, err := syncReferences(g, sel.Catalog, root, opts.Check, rel)
		if err != nil {
			return err
		}
		stale = append(stale, more...)
		summary += ", " + what
	}
	for _, r := range refused {
		fmt.Fprintln(g.IO.Err, safe(r))
	}
	switch {
	case len(stale) == 0 && len(refused) > 0:
		return silentFailure
	case len(stale) == 0:
		fmt.Fprintf(g.IO.Err, "up to date: %s\n", summary)
	case opts.Check:
		fmt.Fprintf(g.IO.Err, "stale: %s\nrun cpk docs to regenerate them\n", strings.Join(stale, ", "))
		return silentFailure
	default:
		fmt.Fprintf(g.IO.Err, "wrote %d file(s): %s\n", len(stale), strings.Join(stale, ", "))
	}
	if len(refused) > 0 {
		return silentFailure
	}
	return nil
}

// syncReadmes writes (or with check, compares) the selected packages'
// READMEs; it returns the stale ones and how many packages have one.
// Packages whose inputs cannot be read or parsed get no README; bad says
// which.
func syncReadmes(ctx context.Context, sel *catalog.Selection, check bool, rel func(string) string) (stale []string, packages int, bad []string, err error) {
	for _, p := range sel.Packages {
		if err := ctx.Err(); err != nil {
			return nil, 0, nil, err // Ctrl-C: each README written so far is whole (atomic writes)
		}
		a := sel.Catalog.App(p.ID)
		if a == nil {
			if len(p.EntryProblems) > 0 {
				continue // a broken cpk.yaml: reported with the catalog's problems
			}
			return nil, 0, nil, usageError("%s is not an application of the catalog: cpk docs writes the catalog's READMEs", p.Dir)
		}
		want, ok, err := docs.PackageReadme(a)
		var ie *docs.InputError
		if errors.As(err, &ie) {
			bad = append(bad, ie.Error())
			continue
		}
		if err != nil {
			return nil, 0, nil, fmt.Errorf("%s: %w", a.ID, err)
		}
		if !ok {
			continue
		}
		packages++
		s, err := docs.SyncFiles(map[string][]byte{filepath.Join(a.Dir, docs.ReadmeFile): want}, check)
		if err != nil {
			return nil, 0, nil, err
		}
		for _, p := range s {
			stale = append(stale, rel(p))
		}
	}
	return stale, packages, bad, nil
}

// syncReferences writes (or compares) the catalog index, the rule pages
// and the CLI reference; what names them for the summary.
func syncReferences(g *Globals, cat *catalog.Catalog, root string, check bool, rel func(string) string) (stale []string, what string, err error) {
	index, err := docs.CatalogPage(cat)
	if err != nil {
		return nil, "", err
	}
	files := map[string][]byte{filepath.Join(cat.Dir, docs.CatalogIndex): index}
	readme := filepath.Join(root, "README.md")
	if content, ok, err := docs.RepoReadme(cat, readme); err != nil {
		return nil, "", fmt.Errorf("%s: %w", readme, err)
	} else if ok {
		files[readme] = content
	}
	s, err := docs.SyncFiles(files, check)
	if err != nil {
		return nil, "", err
	}
	for _, p := range s {
		stale = append(stale, rel(p))
	}
	reg, err := rules.Registry()
	if err != nil {
		return nil, "", err
	}
	for _, set := range []struct {
		dir   string
		pages map[string][]byte
	}{
		{docs.RulesDir, docs.RulePages(reg.Rules())},
		{docs.CLIDir, docs.CLIPages(docTree(g.IO))},
	} {
		s, err := docs.Sync(filepath.Join(root, filepath.FromSlash(set.dir)), set.pages, check)
		if err != nil {
			return nil, "", err
		}
		for _, p := range s {
			stale = append(stale, set.dir+"/"+p)
		}
	}
	return stale, fmt.Sprintf("apps/%s, %s (%d rules), %s", docs.CatalogIndex, docs.RulesDir, len(reg.Rules()), docs.CLIDir), nil
}
