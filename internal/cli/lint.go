package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/lint/rules"
)

type lintOptions struct {
	Format  string
	Explain string
	List    bool
	Targets []string
}

func newLintCmd(g *Globals) *cobra.Command {
	var opts lintOptions
	c := &cobra.Command{
		Use:   "lint [APP_OR_DIR...]",
		Short: "Check packages against the platform's rules",
		Long: `Check packages against Cloudron's rules: the manifest exactly as the official
validator sees it, the files a package needs (Dockerfile, the start script its
CMD runs, the icon as a real PNG, file:// references, build notes).

Arguments are catalog ids (apps/<id>) or package folders. Without arguments
every application of the catalog that has package files is checked.
Exits 1 when any error-level finding remains.`,
		Example: `  cpk lint                      the whole catalog
  cpk lint grist jenkins        two applications
  cpk lint ./my-package         a package folder outside the catalog
  cpk lint --format json grist
  cpk lint --explain PK002      why a rule exists, with examples
  cpk lint --rules              every rule`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			opts.Targets = args
			return runLint(g, opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().StringVar(&opts.Explain, "explain", "", "print the documentation of one rule `CODE`")
	c.Flags().BoolVar(&opts.List, "rules", false, "list every rule")
	return c
}

// lintReport is the JSON shape of cpk lint.
type lintReport struct {
	Findings []cpk.Finding `json:"findings"`
}

func runLint(g *Globals, opts lintOptions) error {
	reg, err := rules.Registry()
	if err != nil {
		return err
	}
	switch {
	case opts.Explain != "":
		return explainRule(g.IO, reg, opts)
	case opts.List:
		return listRules(g.IO, reg, opts.Format)
	}
	pkgs, display, findings, err := lintTargets(g, opts.Targets)
	if err != nil {
		return err
	}
	for _, fs := range reg.RunAll(pkgs, runtime.GOMAXPROCS(0)) {
		findings = append(findings, fs...)
	}
	if findings == nil {
		findings = []cpk.Finding{}
	}
	if opts.Format == "json" {
		if err := g.IO.writeJSON(lintReport{findings}); err != nil {
			return err
		}
	} else {
		printFindings(g.IO, findings, display, len(pkgs))
	}
	for _, f := range findings {
		if f.Severity == cpk.Error {
			return silentFailure
		}
	}
	return nil
}

// lintTargets resolves the arguments into packages. display maps an app id
// to the folder shown in text output. Problems of cpk.yaml files become
// CY001 findings.
func lintTargets(g *Globals, targets []string) (pkgs []lint.Package, display map[string]string, findings []cpk.Finding, err error) {
	display = map[string]string{}
	var cat *catalog.Catalog
	loadCatalog := func() error {
		if cat != nil {
			return nil
		}
		dir, err := g.appsDir()
		if err != nil {
			return err
		}
		var le *catalog.LoadError
		cat, err = catalog.Load(dir)
		if errors.As(err, &le) {
			findings = append(findings, catalogFindings(dir, le)...)
		} else if err != nil {
			return envError(err)
		}
		return nil
	}
	add := func(id, dir, shown string) {
		pkgs = append(pkgs, lint.Package{ID: id, Dir: dir})
		display[id] = shown
	}
	if len(targets) == 0 {
		if err := loadCatalog(); err != nil {
			return nil, nil, nil, err
		}
		for _, a := range cat.Apps {
			files, err := a.PackageFiles()
			if err != nil {
				return nil, nil, nil, err
			}
			if len(files) > 0 {
				add(a.ID, a.Dir, "apps/"+a.ID)
			}
		}
		return pkgs, display, findings, nil
	}
	for _, t := range targets {
		if st, err := os.Stat(t); err == nil && st.IsDir() && (strings.ContainsRune(t, os.PathSeparator) || t == ".") {
			abs, err := filepath.Abs(t)
			if err != nil {
				return nil, nil, nil, err
			}
			add(filepath.Base(abs), abs, filepath.Clean(t))
			continue
		}
		if err := loadCatalog(); err != nil {
			return nil, nil, nil, err
		}
		a := cat.App(t)
		if a == nil {
			var ids []string
			for _, a := range cat.Apps {
				ids = append(ids, a.ID)
			}
			hint := ""
			if s := cpk.Suggest(t, ids); s != "" {
				hint = fmt.Sprintf("did you mean %s? ", s)
			}
			return nil, nil, nil, usageError("%q is neither an application of the catalog nor a folder: %s(a folder needs a /, like ./%s)", t, hint, t)
		}
		add(a.ID, a.Dir, "apps/"+a.ID)
	}
	return pkgs, display, findings, nil
}

func catalogFindings(appsDir string, le *catalog.LoadError) []cpk.Finding {
	var out []cpk.Finding
	for _, p := range le.Problems {
		rel, err := filepath.Rel(appsDir, p.File)
		if err != nil {
			rel = p.File
		}
		app, file, _ := strings.Cut(filepath.ToSlash(rel), "/")
		out = append(out, cpk.Finding{Rule: rules.CatalogRule, Severity: cpk.Error, App: app, File: file, Line: p.Line, Column: p.Column, Message: p.Message})
	}
	return out
}

var severityStyle = map[cpk.Severity]string{cpk.Error: red, cpk.Warning: yellow, cpk.Info: cyan}

func printFindings(io *IO, findings []cpk.Finding, display map[string]string, packages int) {
	var errs, warns int
	for _, f := range findings {
		dir, ok := display[f.App]
		if !ok {
			dir = "apps/" + f.App
		}
		loc := dir + "/" + f.File
		if f.Line > 0 {
			loc += fmt.Sprintf(":%d", f.Line)
			if f.Column > 0 {
				loc += fmt.Sprintf(":%d", f.Column)
			}
		}
		fmt.Fprintf(io.Out, "%s: %s %s %s\n", io.paint(bold, loc), io.paint(severityStyle[f.Severity], f.Severity.String()), io.paint(dim, f.Rule), f.Message)
		switch f.Severity {
		case cpk.Error:
			errs++
		case cpk.Warning:
			warns++
		}
	}
	fmt.Fprintf(io.Err, "%d error(s), %d warning(s) in %d package(s)\n", errs, warns, packages)
}

func explainRule(io *IO, reg *lint.Registry, opts lintOptions) error {
	r := reg.Rule(opts.Explain)
	if r == nil {
		var codes []string
		for _, r := range reg.Rules() {
			codes = append(codes, r.Code)
		}
		hint := ""
		if s := cpk.Suggest(opts.Explain, codes); s != "" {
			hint = fmt.Sprintf("did you mean %s? ", s)
		}
		return usageError("no rule %q: %scpk lint --rules lists them", opts.Explain, hint)
	}
	if opts.Format == "json" {
		return io.writeJSON(ruleInfo(r))
	}
	fmt.Fprintf(io.Out, "%s %s (%s)\n\n%s\n", io.paint(bold, r.Code), r.Title, r.Severity, r.Doc)
	return nil
}

type ruleJSON struct {
	Code     string       `json:"code"`
	Title    string       `json:"title"`
	Severity cpk.Severity `json:"severity"`
	Doc      string       `json:"doc"`
}

func ruleInfo(r *lint.Rule) ruleJSON { return ruleJSON{r.Code, r.Title, r.Severity, r.Doc} }

func listRules(io *IO, reg *lint.Registry, format string) error {
	if format == "json" {
		var out []ruleJSON
		for _, r := range reg.Rules() {
			out = append(out, ruleInfo(r))
		}
		return io.writeJSON(out)
	}
	t := &table{io: io}
	for _, r := range reg.Rules() {
		t.row(r.Code, r.Severity.String(), r.Title)
	}
	t.flush()
	return nil
}
