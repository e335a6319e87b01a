package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
	Config  string
	Targets []string
}

// lintFormats are the output formats of cpk lint.
var lintFormats = []string{"text", "json", "sarif", "github"}

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
Exits 1 when any error-level finding remains.

Findings are silenced, with a reason, by a comment on the line above:
  # cpk:ignore DF004 -- the installer insists; start.sh moves it
or, for files without comments (the JSON manifest), by a line of the
package's .cpk-ignore file:
  MF005 CloudronManifest.json:12 -- reviewed with upstream
A suppression without a reason, or one that silences nothing, is a finding.
The repository's cpk-lint.yaml disables rules and changes severities:
  disable: [PK004]
  severity: {DOC001: info}

Formats: text (file:line:col: CODE severity: message), json, sarif (SARIF
2.1.0 for code-scanning UIs), github (GitHub Actions annotations).`,
		Example: `  cpk lint                      the whole catalog
  cpk lint grist jenkins        two applications
  cpk lint ./my-package         a package folder outside the catalog
  cpk lint --format json grist
  cpk lint --format sarif > cpk.sarif
  cpk lint --explain PK002      why a rule exists, with examples
  cpk lint --list-rules         every rule`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if !slices.Contains(lintFormats, opts.Format) {
				return usageError("--format %q: use %s", opts.Format, strings.Join(lintFormats, ", "))
			}
			opts.Targets = args
			return abandonable(c.Context(), func(ctx context.Context) error { return runLint(ctx, g, opts) })
		},
	}
	c.Flags().StringVar(&opts.Format, "format", "text", "output format: "+strings.Join(lintFormats, ", "))
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(lintFormats, cobra.ShellCompDirectiveNoFileComp))
	c.Flags().StringVar(&opts.Explain, "explain", "", "print the documentation of one rule `CODE`")
	c.Flags().BoolVar(&opts.List, "list-rules", false, "list every rule")
	c.Flags().StringVar(&opts.Config, "config", "", "lint configuration `FILE` (default: cpk-lint.yaml at the repository root)")
	return c
}

// lintReport is the JSON shape of cpk lint.
type lintReport struct {
	Findings []cpk.Finding `json:"findings"`
}

func runLint(ctx context.Context, g *Globals, opts lintOptions) error {
	reg, err := rules.Registry()
	if err != nil {
		return err
	}
	if err := configureLint(g, reg, opts.Config); err != nil {
		return err
	}
	switch {
	case opts.Explain != "":
		return explainRule(g.IO, reg, opts)
	case opts.List:
		return listRules(g.IO, reg, opts.Format)
	}
	pkgs, display, err := lintTargets(g, opts.Targets)
	if err != nil {
		return err
	}
	results, err := reg.RunContext(ctx, pkgs, runtime.GOMAXPROCS(0))
	if err != nil {
		return err // interrupted: nothing recorded, nothing reported
	}
	findings := []cpk.Finding{}
	for _, r := range results {
		findings = append(findings, r.Findings...)
	}
	runs := recordLint(ctx, g, reg, pkgs, results)
	if err := writeFindings(g.IO, reg, opts.Format, findings, pkgs, display, runs); err != nil {
		return err
	}
	for _, f := range findings {
		if f.Severity == cpk.Error {
			return silentFailure
		}
	}
	return nil
}

// writeFindings reports the findings in the chosen format; display names
// each package's folder as the user knows it.
func writeFindings(io *IO, reg *lint.Registry, format string, findings []cpk.Finding, pkgs []lint.Package, display map[string]string, runs []cpk.Run) error {
	path := func(f cpk.Finding) string {
		dir, ok := display[f.App]
		if !ok {
			dir = "apps/" + f.App
		}
		return dir + "/" + f.File
	}
	switch format {
	case "json":
		return io.writeJSON(lintReport{findings})
	case "sarif":
		return io.writeJSON(toSARIF(reg, findings, path))
	case "github":
		for _, f := range findings {
			fmt.Fprintln(io.Out, githubAnnotation(f, path(f)))
		}
		return nil
	}
	dirs := map[string]string{}
	for _, p := range pkgs {
		dirs[p.ID] = p.Dir
	}
	printFindings(io, findings, path, len(pkgs), func(f cpk.Finding) string {
		if dir, ok := dirs[f.App]; ok && f.File != "" {
			return filepath.Join(dir, filepath.FromSlash(f.File))
		}
		return ""
	})
	printFailedChecks(io, runs)
	return nil
}

// lintTargets resolves the arguments into packages (catalog.Select;
// folders alone outside a repository). display maps an app id to the
// folder shown in text output. Problems of the selected cpk.yaml files
// become CY001 findings.
func lintTargets(g *Globals, targets []string) (pkgs []lint.Package, display map[string]string, err error) {
	display = map[string]string{}
	shown := map[string]string{} // folder → as typed
	for _, t := range targets {
		if st, err := os.Stat(t); err == nil && st.IsDir() {
			if abs, err := filepath.Abs(t); err == nil {
				shown[abs] = filepath.Clean(t)
			}
		}
	}
	dir, rootErr := g.appsDir()
	if rootErr != nil {
		// Outside a repository: package folders only.
		if len(targets) == 0 || len(shown) < len(targets) {
			return nil, nil, rootErr
		}
		for _, t := range targets {
			abs, _ := filepath.Abs(t)
			pkgs = append(pkgs, lint.Package{ID: filepath.Base(abs), Dir: abs})
			display[filepath.Base(abs)] = shown[abs]
		}
		return pkgs, display, nil
	}
	// Entries whose cpk.yaml is broken are linted too: CY001 reports their
	// problems in the pass, like every rule.
	f := catalog.Filter{Files: len(targets) == 0, Broken: true}
	sel, err := g.selectPackages(targets, f)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range sel.Packages {
		pkgs = append(pkgs, p)
		display[p.ID] = filepath.ToSlash(filepath.Join(filepath.Base(dir), filepath.Base(p.Dir)))
		if s, ok := shown[p.Dir]; ok {
			display[p.ID] = s
		}
	}
	return pkgs, display, nil
}

// printExcerpt shows the finding's source line with a caret under its
// column, as compilers do (on a terminal only).
func printExcerpt(io *IO, f cpk.Finding, path string, cache map[string][]string) {
	if path == "" {
		return
	}
	text, ok := cache[path]
	if !ok {
		if data, err := readLimited(path, 1<<20); err == nil && len(data) <= 1<<20 {
			text = strings.Split(string(data), "\n")
		}
		cache[path] = text
	}
	if f.Line > len(text) {
		return
	}
	line := strings.TrimRight(text[f.Line-1], "\r")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	line = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, line)
	gutter := fmt.Sprintf("%5d | ", f.Line)
	fmt.Fprintf(io.Out, "%s%s\n", io.paint(dim, gutter), line)
	if f.Column > 0 && f.Column <= len(line)+1 {
		fmt.Fprintf(io.Out, "%s%s%s\n", io.paint(dim, "      | "), strings.Repeat(" ", len([]rune(line[:f.Column-1]))), io.paint(severityStyle[f.Severity], "^"))
	}
}

// maxNamed is how many packages one line names; the rest are counted.
const maxNamed = 10

// printFailedChecks names the recorded checks that failed without a
// finding (the docs), so that the summary counts every failure a run
// records.
func printFailedChecks(io *IO, runs []cpk.Run) {
	var docs []string
	for _, r := range runs {
		if s, ok := r.Step(cpk.StepDocs); ok && s.Outcome == cpk.OutcomeFailed && s.Message != "no NOTES.md" {
			docs = append(docs, r.App)
		}
	}
	switch {
	case len(docs) > maxNamed:
		fmt.Fprintf(io.Err, "%d package(s) with a missing or stale README.md (recorded as failed docs): %s and %d more; run cpk docs\n", len(docs), strings.Join(docs[:maxNamed], ", "), len(docs)-maxNamed)
	case len(docs) > 0:
		fmt.Fprintf(io.Err, "%d package(s) with a missing or stale README.md (recorded as failed docs): %s; run cpk docs %s\n", len(docs), strings.Join(docs, ", "), strings.Join(docs, " "))
	}
}

var severityStyle = map[cpk.Severity]string{cpk.Error: red, cpk.Warning: yellow, cpk.Info: cyan}

func printFindings(io *IO, findings []cpk.Finding, path func(cpk.Finding) string, packages int, file func(cpk.Finding) string) {
	var errs, warns int
	lines := map[string][]string{} // file → its lines, read once
	for _, f := range findings {
		loc := path(f)
		if f.Line > 0 {
			loc += fmt.Sprintf(":%d", f.Line)
			if f.Column > 0 {
				loc += fmt.Sprintf(":%d", f.Column)
			}
		}
		fmt.Fprintf(io.Out, "%s: %s %s: %s\n", io.paint(bold, safe(loc)), io.paint(dim, f.Rule), io.paint(severityStyle[f.Severity], f.Severity.String()), safe(f.Message))
		if io.OutTTY && f.Line > 0 {
			printExcerpt(io, f, file(f), lines)
		}
		switch f.Severity {
		case cpk.Error:
			errs++
		case cpk.Warning:
			warns++
		}
	}
	fmt.Fprintf(io.Err, "%d error(s), %d warning(s) in %d package(s)\n", errs, warns, packages)
}

// rules returns the lint rules with the repository's configuration
// (cpk-lint.yaml) applied: what every command that lints uses.
func (g *Globals) rules() (*lint.Registry, error) {
	reg, err := rules.Registry()
	if err != nil {
		return nil, err
	}
	if err := configureLint(g, reg, ""); err != nil {
		return nil, err
	}
	return reg, nil
}

// configureLint applies the repository's lint configuration (or --config).
func configureLint(g *Globals, reg *lint.Registry, file string) error {
	if file == "" {
		dir, err := g.appsDir()
		if err != nil {
			return nil // outside a repository: no configuration
		}
		file = filepath.Join(filepath.Dir(dir), lint.ConfigFile)
	} else if _, err := os.Stat(file); err != nil {
		return usageError("--config %s: %s", file, cleanPathErr(err))
	}
	cfg, err := lint.LoadConfig(file)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if err := reg.Configure(cfg); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return nil
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
		return usageError("no rule %q: %scpk lint --list-rules lists them", opts.Explain, hint)
	}
	if opts.Format != "text" {
		return io.writeJSON(ruleInfo(reg, r))
	}
	fmt.Fprintf(io.Out, "%s %s (%s)\n\n%s\n", io.paint(bold, r.Code), r.Title, reg.Severity(r), r.Doc)
	return nil
}

type ruleJSON struct {
	Code     string       `json:"code"`
	Title    string       `json:"title"`
	Severity cpk.Severity `json:"severity"`
	Doc      string       `json:"doc"`
}

func ruleInfo(reg *lint.Registry, r *lint.Rule) ruleJSON {
	return ruleJSON{r.Code, r.Title, reg.Severity(r), r.Doc}
}

func listRules(io *IO, reg *lint.Registry, format string) error {
	if format != "text" {
		var out []ruleJSON
		for _, r := range reg.Rules() {
			out = append(out, ruleInfo(reg, r))
		}
		return io.writeJSON(out)
	}
	t := &table{io: io}
	for _, r := range reg.Rules() {
		state := ""
		if !reg.Enabled(r.Code) {
			state = "(disabled)"
		}
		t.row(r.Code, reg.Severity(r).String(), r.Title, state)
	}
	t.flush()
	return nil
}
