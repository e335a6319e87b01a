package web

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/status"
)

// Filter is the catalog table's query: every field comes from the URL and
// is checked against the values it may take.
type Filter struct {
	Q         string // in the id, name or category
	Tier      string // 1-4, "untiered" or ""
	Phase     string
	State     string
	MinLevel  string
	Regressed bool
	Sort      string
	Desc      bool
}

// sortKeys are the catalog table's sortable columns.
var sortKeys = []string{"app", "tier", "phase", "category", "state", "level", "test", "upstream", "lint"}

func parseFilter(q url.Values) Filter {
	f := Filter{Q: strings.TrimSpace(q.Get("q")), Sort: "app"}
	if len(f.Q) > 100 {
		f.Q = f.Q[:100]
	}
	if v := q.Get("tier"); slices.Contains([]string{"1", "2", "3", "4", "untiered"}, v) {
		f.Tier = v
	}
	if v := q.Get("phase"); slices.Contains([]string{"2", "3", "4"}, v) {
		f.Phase = v
	}
	for _, s := range cpk.States {
		if q.Get("state") == string(s) {
			f.State = q.Get("state")
		}
	}
	if n, err := strconv.Atoi(q.Get("level")); err == nil && n >= 1 && n <= int(cpk.MaxLevel) {
		f.MinLevel = q.Get("level")
	}
	f.Regressed = q.Get("regressed") == "1"
	if v := q.Get("sort"); slices.Contains(sortKeys, v) {
		f.Sort = v
	}
	f.Desc = q.Get("dir") == "desc"
	return f
}

func (f Filter) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", f.Q)
	set("tier", f.Tier)
	set("phase", f.Phase)
	set("state", f.State)
	set("level", f.MinLevel)
	if f.Regressed {
		v.Set("regressed", "1")
	}
	return v
}

// SortURL is the link of a column header: sort by it, ascending, or flip
// the direction when it is the current sort.
func (f Filter) SortURL(key string) string {
	v := f.values()
	v.Set("sort", key)
	if f.Sort == key && !f.Desc {
		v.Set("dir", "desc")
	}
	return "/?" + v.Encode()
}

// SortMark is the arrow shown beside the current sort column.
func (f Filter) SortMark(key string) string {
	switch {
	case f.Sort != key:
		return ""
	case f.Desc:
		return "▼"
	}
	return "▲"
}

// Active reports whether any filter narrows the table.
func (f Filter) Active() bool {
	return f.Q != "" || f.Tier != "" || f.Phase != "" || f.State != "" || f.MinLevel != "" || f.Regressed
}

func (f Filter) keep(a status.App) bool {
	if f.Q != "" {
		q := strings.ToLower(f.Q)
		if !strings.Contains(strings.ToLower(a.ID), q) && !strings.Contains(strings.ToLower(a.Name), q) && !strings.Contains(a.Category, q) {
			return false
		}
	}
	switch {
	case f.Tier == "untiered" && a.Tier != 0,
		f.Tier != "" && f.Tier != "untiered" && strconv.Itoa(a.Tier) != f.Tier,
		f.Phase != "" && strconv.Itoa(a.Phase) != f.Phase,
		f.State != "" && string(a.State) != f.State,
		f.Regressed && !a.Regressed:
		return false
	}
	if n, err := strconv.Atoi(f.MinLevel); err == nil && int(a.Level) < n {
		return false
	}
	return true
}

var stateOrder = func() map[cpk.State]int {
	m := map[cpk.State]int{}
	for i, s := range cpk.States {
		m[s] = i
	}
	return m
}()

var freshOrder = map[string]int{"fresh": 0, "stale": 1, "unknown": 2}

func (f Filter) compare(a, b status.App) int {
	c := 0
	switch f.Sort {
	case "app":
		c = strings.Compare(a.ID, b.ID)
	case "tier":
		ta, tb := a.Tier, b.Tier
		if ta == 0 {
			ta = 5
		}
		if tb == 0 {
			tb = 5
		}
		c = cmp.Compare(ta, tb)
	case "phase":
		c = cmp.Compare(a.Phase, b.Phase)
	case "category":
		c = strings.Compare(a.Category, b.Category)
	case "state":
		c = cmp.Compare(stateOrder[a.State], stateOrder[b.State])
	case "level":
		c = cmp.Compare(a.Level, b.Level)
	case "test":
		var ta, tb int64
		if a.LastTest != nil {
			ta = a.LastTest.Finished.UnixNano()
		}
		if b.LastTest != nil {
			tb = b.LastTest.Finished.UnixNano()
		}
		c = cmp.Compare(ta, tb)
	case "upstream":
		c = cmp.Compare(freshOrder[a.Freshness], freshOrder[b.Freshness])
	case "lint":
		c = cmp.Or(cmp.Compare(a.Errors, b.Errors), cmp.Compare(a.Warnings, b.Warnings))
	}
	if f.Desc {
		c = -c
	}
	return cmp.Or(c, strings.Compare(a.ID, b.ID))
}

// option is one entry of a filter's select.
type option struct {
	Value, Label string
	Selected     bool
}

type catalogPage struct {
	page
	Data       *Data
	Filter     Filter
	Apps       []status.App
	Tiers      []option
	Phases     []option
	States     []option
	Levels     []option
	Regressed  int
	MaxLevel   cpk.Level
	StateNames []cpk.State
}

func options(values, labels []string, selected string) []option {
	out := []option{{"", labels[0], selected == ""}}
	for i, v := range values {
		out = append(out, option{v, labels[i+1], v == selected})
	}
	return out
}

func (s *Server) catalog(w http.ResponseWriter, r *http.Request) {
	data, err := s.opts.Source.Data(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	f := parseFilter(r.URL.Query())
	p := catalogPage{page: page{Title: "Catalog", Nav: "catalog", Now: s.opts.Now()}, Data: data, Filter: f, MaxLevel: cpk.MaxLevel, StateNames: cpk.States}
	for _, a := range data.Report.Apps {
		if a.Regressed {
			p.Regressed++
		}
		if f.keep(a) {
			p.Apps = append(p.Apps, a)
		}
	}
	slices.SortStableFunc(p.Apps, f.compare)
	p.Tiers = options([]string{"1", "2", "3", "4", "untiered"}, []string{"any tier", "tier 1", "tier 2", "tier 3", "tier 4", "untiered"}, f.Tier)
	p.Phases = options([]string{"2", "3", "4"}, []string{"any phase", "phase 2", "phase 3", "phase 4"}, f.Phase)
	var sv, sl []string
	for _, st := range cpk.States {
		sv, sl = append(sv, string(st)), append(sl, string(st))
	}
	p.States = options(sv, append([]string{"any state"}, sl...), f.State)
	var lv, ll []string
	for _, l := range cpk.Levels()[1:] {
		lv, ll = append(lv, strconv.Itoa(int(l))), append(ll, "level ≥ "+strconv.Itoa(int(l))+": "+l.String())
	}
	p.Levels = options(lv, append([]string{"any level"}, ll...), f.MinLevel)
	s.render(w, r, http.StatusOK, "catalog", p)
}

// check is one line of an application's level breakdown.
type check struct {
	Level cpk.Level
	Need  string
	Met   bool
}

type appPage struct {
	page
	App      status.App
	Checks   []check
	Findings []cpk.Finding
	LintErr  string
	Runs     []cpk.Run
	Latest   []cpk.Run // the newest run of each kind
	HasStore bool
	RunsErr  string
}

func (s *Server) app(w http.ResponseWriter, r *http.Request) {
	data, err := s.opts.Source.Data(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	id := r.PathValue("id")
	var app *status.App
	for i := range data.Report.Apps {
		if data.Report.Apps[i].ID == id {
			app = &data.Report.Apps[i]
		}
	}
	if app == nil {
		s.fail(w, r, http.StatusNotFound, "There is no application "+strconv.Quote(id)+" in the catalog.")
		return
	}
	p := appPage{page: page{Title: app.Name, Nav: "catalog", Now: s.opts.Now()}, App: *app, HasStore: s.opts.Results != nil}
	e := app.Evidence
	p.Checks = []check{
		{1, "package files and a valid manifest", app.Hash != "" && e.ManifestValid},
		{2, "no lint errors", app.Hash != "" && e.LintClean},
		{3, "the latest build of this content passed", e.Builds},
		{4, "installs and turns healthy (lifecycle test)", e.Installs},
		{5, "backup and restore give identical data", e.BackupRestore},
		{6, "updates from the previous package version", e.Updates},
		{7, "NOTES.md and a current README.md (cpk docs)", e.DocsCurrent},
		{7, "within a month of upstream (cpk upstream check)", e.UpstreamFresh},
	}
	if app.Hash != "" {
		p.Findings, err = s.opts.Source.Findings(r.Context(), id)
		if err != nil {
			p.LintErr = err.Error()
		}
	}
	if s.opts.Results != nil {
		p.Runs, err = s.opts.Results.Runs(r.Context(), cpk.RunQuery{App: id, Limit: 50})
		if err != nil {
			p.RunsErr = err.Error()
		}
		for _, k := range cpk.RunKinds {
			if rs, err := s.opts.Results.Runs(r.Context(), cpk.RunQuery{App: id, Kind: k, Limit: 1}); err == nil && len(rs) > 0 {
				p.Latest = append(p.Latest, rs[0])
			}
		}
	}
	s.render(w, r, http.StatusOK, "app", p)
}

type metricRow struct {
	Name, Value, Detail string
	Met                 bool
}

type phaseRow struct {
	Name                   string
	Target, CumTarget      int
	Total, Clean, Verified int
}

type progressPage struct {
	page
	Chart    template.HTML
	Metrics  []metricRow
	Phases   []phaseRow
	Levels   []levelCount
	Samples  int
	HasStore bool
	Source   string
}

type levelCount struct {
	Level cpk.Level
	Count int
}

func (s *Server) progress(w http.ResponseWriter, r *http.Request) {
	data, err := s.opts.Source.Data(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	rep := data.Report
	p := progressPage{page: page{Title: "Progress", Nav: "progress", Now: s.opts.Now()}, Samples: len(data.Timeline), HasStore: data.HasStore, Source: data.TimelineSource}
	p.Chart = template.HTML(BurnUp(data.Timeline, rep.Total.Total)) // built from numbers and fixed text only
	m := rep.Metrics
	p.Metrics = []metricRow{
		{"Packages", strconv.Itoa(m.Packages.Count) + " of " + strconv.Itoa(m.Packages.Target), "lint-clean packages (packaged or verified)", m.Packages.Count >= m.Packages.Target},
		{"Deploy success", percent(m.SuccessRate.Value), strconv.Itoa(m.SuccessRate.Count) + " verified of " + strconv.Itoa(m.SuccessRate.Of) + " packaged; target above 90%", m.SuccessRate.Value != nil && *m.SuccessRate.Value > m.SuccessRate.Target},
		{"Build notes", percent(m.BuildNotes.Value), strconv.Itoa(m.BuildNotes.Count) + " of " + strconv.Itoa(m.BuildNotes.Of) + " packages with NOTES.md and a current README.md; target 100%", m.BuildNotes.Value != nil && *m.BuildNotes.Value >= 1},
	}
	fresh := metricRow{Name: "Upstream freshness", Value: "unknown", Detail: "no upstream check recorded yet (cpk upstream check)"}
	if f := m.UpstreamFreshness; f.Known {
		fresh.Value = percent(f.Value)
		fresh.Detail = strconv.Itoa(f.Count) + " of " + strconv.Itoa(f.Of) + " checked packages within a month of upstream"
		fresh.Met = f.Value != nil && *f.Value >= 1
	}
	p.Metrics = append(p.Metrics, fresh)
	cum := 0
	for i, g := range rep.Phases {
		cum += g.Target
		p.Phases = append(p.Phases, phaseRow{Name: g.Name, Target: g.Target, CumTarget: cum, Total: g.Total,
			Clean: g.States[cpk.Packaged] + g.States[cpk.Verified], Verified: g.States[cpk.Verified]})
		_ = i
	}
	counts := make([]int, cpk.MaxLevel+1)
	for _, a := range rep.Apps {
		if a.Hash != "" {
			counts[a.Level]++
		}
	}
	for _, l := range cpk.Levels() {
		p.Levels = append(p.Levels, levelCount{l, counts[l]})
	}
	s.render(w, r, http.StatusOK, "progress", p)
}

// chartSVG serves the burn-up chart alone, as an SVG document.
func (s *Server) chartSVG(w http.ResponseWriter, r *http.Request) {
	data, err := s.opts.Source.Data(r.Context())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	svg := BurnUp(data.Timeline, data.Report.Total.Total)
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(svg)))
	if r.Method != http.MethodHead {
		w.Write([]byte(svg))
	}
}

// phaseTargets are the cumulative plan targets drawn on the chart.
func phaseTargets() []struct {
	Phase, Target int
} {
	var out []struct{ Phase, Target int }
	cum := 0
	for _, p := range catalog.Phases {
		cum += catalog.PhaseTargets[p]
		out = append(out, struct{ Phase, Target int }{p, cum})
	}
	return out
}
