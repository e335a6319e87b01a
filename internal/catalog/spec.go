package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"cpk/internal/cpk"
)

// App is one application of the catalog: its cpk.yaml plus where it lives.
type App struct {
	ID         string        `yaml:"id" json:"id"`
	Name       string        `yaml:"name" json:"name"`
	Tier       int           `yaml:"tier,omitempty" json:"tier,omitempty"` // 1 (business critical) to 4; 0 = untiered
	Phase      int           `yaml:"phase" json:"phase"`                   // plan phase 2, 3 or 4
	Category   string        `yaml:"category" json:"category"`
	Complexity string        `yaml:"complexity,omitempty" json:"complexity,omitempty"`
	Estimate   string        `yaml:"estimate,omitempty" json:"estimate,omitempty"` // hours, "6-8" or "4"
	Upstream   *cpk.Upstream `yaml:"upstream,omitempty" json:"upstream,omitempty"`
	Tracker    int           `yaml:"tracker,omitempty" json:"tracker,omitempty"`
	Notes      string        `yaml:"notes,omitempty" json:"notes,omitempty"`
	// State is set by hand only to blocked (with Reason) or retired;
	// every other state is derived.
	State  cpk.State `yaml:"state,omitempty" json:"-"`
	Reason string    `yaml:"reason,omitempty" json:"reason,omitempty"`
	// NeedsNetwork names the release source that cannot be reached from the
	// project's machines (GitHub releases, a vendor's download site…): the
	// package waits only for network access to be built and verified.
	NeedsNetwork string `yaml:"needsNetwork,omitempty" json:"needsNetwork,omitempty"`

	Dir    string `yaml:"-" json:"-"` // the package folder
	File   string `yaml:"-" json:"-"` // the cpk.yaml path
	idLine int    // where cpk.yaml sets the id
}

// Categories are the plan's headings.
var Categories = []string{
	"api-gateway", "ci-cd", "database", "job-scheduler", "code-review", "governance",
	"lab-management", "emergency-management", "infrastructure", "monitoring", "security",
	"backup-storage", "dev-tools", "productivity", "communication", "project-management",
	"document-management", "analytics", "integration-automation", "industry-specific", "experimental",
}

// Complexities are the task list's ratings.
var Complexities = []string{"low", "medium", "high", "very-high"}

// Sources are the upstream kinds a cpk.yaml may name.
var Sources = cpk.UpstreamSources

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	estimatePattern = regexp.MustCompile(`^[0-9]+(-[0-9]+)?$`)
)

// fieldError is a problem in one cpk.yaml at a line and column.
type fieldError struct {
	line, col int
	msg       string
}

// decodeSpec strictly decodes one cpk.yaml document: unknown keys, wrong types
// and out-of-range values are reported with their positions, all of them.
func decodeSpec(data []byte) (*App, []fieldError) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []fieldError{yamlError(err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, []fieldError{{1, 1, "the file is empty: it needs at least id, name, phase and category"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, []fieldError{{root.Line, root.Column, "cpk.yaml must be a mapping of keys to values"}}
	}
	var errs []fieldError
	errs = append(errs, checkKeys(root, appKeys, "")...)
	var upstreamNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k, v := root.Content[i], root.Content[i+1]; k.Value == "upstream" && v.Kind == yaml.MappingNode {
			upstreamNode = v
			errs = append(errs, checkKeys(v, upstreamKeys, "upstream.")...)
		}
	}
	var app App
	if err := root.Decode(&app); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, append(errs, yamlError(err))
		}
		for _, msg := range te.Errors {
			errs = append(errs, yamlError(errors.New(msg)))
		}
	}
	pos := positions(root)
	if n, ok := pos["id"]; ok {
		app.idLine = n.Line
	}
	at := func(key string) (int, int) {
		if n, ok := pos[key]; ok {
			return n.Line, n.Column
		}
		return root.Line, root.Column
	}
	typeErrLines := map[int]bool{}
	for _, e := range errs {
		typeErrLines[e.line] = true
	}
	bad := func(key, format string, args ...any) {
		l, c := at(key)
		if typeErrLines[l] {
			return // the value's type is already reported
		}
		errs = append(errs, fieldError{l, c, fmt.Sprintf(format, args...)})
	}
	switch {
	case app.ID == "":
		bad("id", "id is required")
	case !idPattern.MatchString(app.ID):
		bad("id", "id %q must be lower-case letters, digits and dashes", app.ID)
	}
	if strings.TrimSpace(app.Name) == "" {
		bad("name", "name is required")
	}
	if app.Tier < 0 || app.Tier > 4 {
		bad("tier", "tier %d is out of range: use 1 to 4, or leave it out for an untiered app", app.Tier)
	}
	if app.Phase < 2 || app.Phase > 4 {
		bad("phase", "phase must be 2, 3 or 4 (got %d)", app.Phase)
	}
	if !contains(Categories, app.Category) {
		bad("category", "category %q is not one of the plan's: %s", app.Category, strings.Join(Categories, ", "))
	}
	if app.Complexity != "" && !contains(Complexities, app.Complexity) {
		bad("complexity", "complexity %q is not one of %s", app.Complexity, strings.Join(Complexities, ", "))
	}
	if app.Estimate != "" {
		if !estimatePattern.MatchString(app.Estimate) {
			bad("estimate", "estimate %q must be hours, like 4 or 6-8", app.Estimate)
		} else if lo, hi := EstimateRange(app.Estimate); lo > hi {
			bad("estimate", "estimate %q is an empty range", app.Estimate)
		}
	}
	if app.Tracker < 0 {
		bad("tracker", "tracker must be a positive issue number")
	}
	if u := app.Upstream; u != nil && upstreamNode != nil {
		// Each problem sits at its key's value, or at the block when the
		// key is missing.
		upos := positions(upstreamNode)
		for _, p := range u.Problems() {
			l, c := at("upstream")
			if n, ok := upos[p.Key]; ok {
				l, c = n.Line, n.Column
			}
			if !typeErrLines[l] {
				errs = append(errs, fieldError{l, c, p.Message})
			}
		}
	}
	switch app.State {
	case "":
	case cpk.Blocked:
		if strings.TrimSpace(app.Reason) == "" {
			bad("state", "state blocked needs a reason: say what blocks the package")
		}
	case cpk.Retired:
	default:
		bad("state", "state %q cannot be set by hand: only blocked (with a reason) and retired; the others are derived", app.State)
	}
	if app.NeedsNetwork != "" && app.State == cpk.Blocked {
		bad("needsNetwork", "needsNetwork is for a package that waits only for network access; a blocked one has its reason")
	}
	if app.Reason != "" && app.State == "" {
		bad("reason", "reason is only for state: blocked or retired")
	}
	return &app, errs
}

// EstimateRange returns the low and high hours of an estimate ("6-8" → 6, 8).
func EstimateRange(s string) (lo, hi int) {
	a, b, ok := strings.Cut(s, "-")
	lo, _ = strconv.Atoi(a)
	hi = lo
	if ok {
		hi, _ = strconv.Atoi(b)
	}
	return lo, hi
}

func yamlError(err error) fieldError {
	// yaml.v3 errors read "yaml: line N: message" (type errors without the
	// "yaml: "); keep the line, drop the prefix.
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, rest, _ := strings.Cut(msg, ": ")
		return fieldError{line, 0, rest}
	}
	return fieldError{0, 0, msg}
}

func checkKeys(m *yaml.Node, known []string, prefix string) []fieldError {
	var errs []fieldError
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if first, dup := seen[k.Value]; dup {
			errs = append(errs, fieldError{k.Line, k.Column, fmt.Sprintf("duplicate key %s%s (first at line %d)", prefix, k.Value, first)})
			continue
		}
		seen[k.Value] = k.Line
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key %s%s", prefix, k.Value)
			if s := cpk.Suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %s%s?)", prefix, s)
			} else {
				msg += " (known keys: " + strings.Join(known, ", ") + ")"
			}
			errs = append(errs, fieldError{k.Line, k.Column, msg})
		}
	}
	return errs
}

func positions(m *yaml.Node) map[string]*yaml.Node {
	p := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		p[m.Content[i].Value] = m.Content[i+1]
	}
	return p
}

// The keys of cpk.yaml and of its upstream block, as the struct tags name them.
var (
	appKeys      = []string{"id", "name", "tier", "phase", "category", "complexity", "estimate", "upstream", "tracker", "notes", "state", "reason", "needsNetwork"}
	upstreamKeys = cpk.UpstreamKeys
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
