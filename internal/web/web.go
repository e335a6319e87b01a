// Package web is the read-only dashboard of cpk serve: the catalog table
// with filters and sorting, a page per application with its checks,
// history and logs, and the progress page with the plan's burn-up chart
// and success metrics. Pages are html/template (everything shown is
// escaped: package files are untrusted input) with embedded assets and no
// JavaScript; filters and sorting are query parameters.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/status"
)

// Data is one consistent view of the catalog: the status report and the
// states over time.
type Data struct {
	Report   *status.Report
	Timeline []status.Snapshot
	// TimelineSource says where the timeline comes from ("the git history
	// of main", "the recorded runs").
	TimelineSource string
	// HasStore is false when no results store is configured or created yet.
	HasStore  bool
	Generated time.Time
}

// Source gives the dashboard what it shows.
type Source interface {
	// Data returns the current report (it may be cached for a few seconds).
	Data(ctx context.Context) (*Data, error)
	// Findings lints one application now.
	Findings(ctx context.Context, app string) ([]cpk.Finding, error)
}

// Options configure the dashboard.
type Options struct {
	Source Source
	// Results are the recorded runs; nil without a store.
	Results cpk.Results
	// LogRoot is the only folder whose files are shown as run logs (the
	// repository's .cpk/); Root is what relative log paths start from.
	Root, LogRoot string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ErrorLog hears about failures while serving (default: discarded).
	ErrorLog *log.Logger
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Server is the dashboard's http.Handler.
type Server struct {
	opts      Options
	mux       *http.ServeMux
	pages     map[string]*template.Template
	assets    map[string]asset // by URL path
	styleURL  string
	staticTag string
}

type asset struct {
	data        []byte
	contentType string
}

// New builds the dashboard.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ErrorLog == nil {
		opts.ErrorLog = log.New(io.Discard, "", 0)
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), pages: map[string]*template.Template{}, assets: map[string]asset{}}
	// Assets are addressed by their content hash: cached for a year, and a
	// new cpk serves them under a new URL.
	h := sha256.New()
	err := fs.WalkDir(staticFiles, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFiles.ReadFile(path)
		h.Write([]byte(path))
		h.Write(data)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.staticTag = hex.EncodeToString(h.Sum(nil))[:12]
	for name, ct := range map[string]string{"style.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"} {
		data, err := staticFiles.ReadFile("static/" + name)
		if err != nil {
			return nil, err
		}
		s.assets["/static/"+s.staticTag+"/"+name] = asset{data, ct}
	}
	s.styleURL = "/static/" + s.staticTag + "/style.css"
	funcs := template.FuncMap{
		"static":    func(name string) string { return "/static/" + s.staticTag + "/" + name },
		"when":      s.when,
		"ago":       s.ago,
		"duration":  duration,
		"short":     func(h string) string { return h[:min(12, len(h))] },
		"percent":   percent,
		"levelName": func(l cpk.Level) string { return l.String() },
		"lvl":       levelNumber,
		"add":       func(a, b int) int { return a + b },
		"figure":    func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
	}
	for _, page := range []string{"catalog", "app", "run", "progress", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", page, err)
		}
		s.pages[page] = t
	}
	s.mux.HandleFunc("GET /{$}", s.catalog)
	s.mux.HandleFunc("GET /app/{id}", s.app)
	s.mux.HandleFunc("GET /run/{id}", s.run)
	s.mux.HandleFunc("GET /run/{id}/log", s.rawLog)
	s.mux.HandleFunc("GET /progress", s.progress)
	s.mux.HandleFunc("GET /progress/chart.svg", s.chartSVG)
	s.mux.HandleFunc("GET /static/", s.static)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	return s, nil
}

// securityHeaders are sent with every answer: no sniffing, no framing, no
// referrer, and a policy that allows no script at all.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "DENY",
	"Referrer-Policy":            "no-referrer",
	"Content-Security-Policy":    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
	"Cross-Origin-Opener-Policy": "same-origin",
}

// ServeHTTP answers GET and HEAD only; the dashboard changes nothing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, r, http.StatusMethodNotAllowed, "The dashboard is read-only: only GET and HEAD.")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets[r.URL.Path]
	if !ok {
		// An old or made-up hash: not cacheable.
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+s.staticTag+`"`)
	if r.Header.Get("If-None-Match") == `"`+s.staticTag+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.data)))
	if r.Method != http.MethodHead {
		w.Write(a.data)
	}
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, data); err != nil {
		s.opts.ErrorLog.Printf("render %s: %v", page, err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "the page could not be rendered; cpk serve's output says why\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Pages change with every run: revalidate every time.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

type errorPage struct {
	page
	Code    int
	Message string
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", errorPage{page{Title: http.StatusText(code), Now: s.opts.Now()}, code, msg})
}

func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	s.opts.ErrorLog.Printf("%s: %v", r.URL.Path, err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong reading the catalog or the results: "+err.Error())
}

// page is what every page's layout needs.
type page struct {
	Title string
	Nav   string
	Now   time.Time
}

func (s *Server) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func (s *Server) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := s.opts.Now().Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func percent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", *v*100)
}

// logTail reads the end of a run's log, only from inside LogRoot.
func (s *Server) logTail(path string, max int64) (text string, truncated bool, err error) {
	if path == "" {
		return "", false, errors.New("the run has no log")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.opts.Root, path)
	}
	outside := errors.New("the log lies outside the repository's .cpk folder and is not shown")
	inside := func(root, p string) bool {
		rel, err := filepath.Rel(root, p)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	if !inside(filepath.Clean(s.opts.LogRoot), filepath.Clean(path)) {
		return "", false, outside
	}
	// Again after symbolic links are resolved.
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", false, fmt.Errorf("the log is gone (%s)", filepath.Base(path))
	}
	root, err := filepath.EvalSymlinks(s.opts.LogRoot)
	if err != nil || !inside(root, real) {
		return "", false, outside
	}
	f, err := os.Open(real)
	if err != nil {
		return "", false, errors.New("the log cannot be read")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return "", false, errors.New("the log is not a file")
	}
	if st.Size() > max {
		truncated = true
		f.Seek(st.Size()-max, io.SeekStart)
	}
	data, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return "", false, errors.New("the log cannot be read")
	}
	return strings.ToValidUTF8(string(data), "\uFFFD"), truncated, nil
}

const logShown = 256 << 10

func (s *Server) loadRun(w http.ResponseWriter, r *http.Request) (cpk.Run, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, http.StatusNotFound, "Run ids are positive numbers.")
		return cpk.Run{}, false
	}
	if s.opts.Results == nil {
		s.fail(w, r, http.StatusNotFound, "No results store: nothing has been recorded yet.")
		return cpk.Run{}, false
	}
	run, err := s.opts.Results.Run(r.Context(), id)
	if errors.Is(err, cpk.ErrRunNotFound) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no run %d.", id))
		return cpk.Run{}, false
	}
	if err != nil {
		s.failErr(w, r, err)
		return cpk.Run{}, false
	}
	return run, true
}

type runPage struct {
	page
	Run       cpk.Run
	Figures   []kv
	Log       string
	LogError  string
	Truncated bool
}

type kv struct {
	Key   string
	Value float64
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	run, ok := s.loadRun(w, r)
	if !ok {
		return
	}
	p := runPage{page: page{Title: fmt.Sprintf("%s %s run %d", run.App, run.Kind, run.ID), Now: s.opts.Now()}, Run: run}
	for k, v := range run.Figures {
		p.Figures = append(p.Figures, kv{k, v})
	}
	slices.SortFunc(p.Figures, func(a, b kv) int { return strings.Compare(a.Key, b.Key) })
	if run.Log != "" {
		text, trunc, err := s.logTail(run.Log, logShown)
		if err != nil {
			p.LogError = err.Error()
		}
		p.Log, p.Truncated = text, trunc
	}
	s.render(w, r, http.StatusOK, "run", p)
}

// rawLog serves a run's log as plain text (never as HTML).
func (s *Server) rawLog(w http.ResponseWriter, r *http.Request) {
	run, ok := s.loadRun(w, r)
	if !ok {
		return
	}
	text, _, err := s.logTail(run.Log, 16<<20)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	if r.Method != http.MethodHead {
		io.WriteString(w, text)
	}
}

// levelNumber prints a level (or a pointer to one) as its number.
func levelNumber(v any) string {
	switch l := v.(type) {
	case cpk.Level:
		return strconv.Itoa(int(l))
	case *cpk.Level:
		if l != nil {
			return strconv.Itoa(int(*l))
		}
	}
	return "-"
}
