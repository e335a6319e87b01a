package cli

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/catalog"
	"cpk/internal/ci"
	"cpk/internal/cpk"
	"cpk/internal/git"
	"cpk/internal/lint"
	"cpk/internal/status"
	"cpk/internal/web"
)

type serveOptions struct {
	Addr string
}

func newServeCmd(g *Globals) *cobra.Command {
	var opts serveOptions
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the read-only dashboard: catalog, application pages, progress chart",
		Long: `Serve a read-only web dashboard of the catalog and its recorded results:

  /             the catalog table: tier, phase, state, quality level (with
                regressions), last test, upstream freshness, lint; filters
                and sorting through the query string
  /app/APP      an application's checks, lint findings, latest runs, history
  /run/ID       one run: steps, figures and its log
  /progress     the plan's burn-up (packages per state over time against the
                phase targets) and the four success metrics

It listens on 127.0.0.1:8080 unless --addr says otherwise; it has no
authentication, so think twice before binding to another interface. The
pages use no JavaScript. Ctrl-C stops it, letting requests in flight finish.`,
		Example: `  cpk serve
  cpk serve --addr 127.0.0.1:9000
  CPK_DB=postgres://cpk@db.example/cpk cpk serve`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if _, port, err := net.SplitHostPort(opts.Addr); err != nil || port == "" {
				return usageError("--addr %q: give HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)", opts.Addr)
			}
			return runServe(c.Context(), g, opts)
		},
	}
	c.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	return c
}

func runServe(ctx context.Context, g *Globals, opts serveOptions) error {
	root, err := g.rootDir()
	if err != nil {
		return err
	}
	reg, err := g.rules()
	if err != nil {
		return err
	}
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	errLog := log.New(g.IO.Err, "serve: ", log.LstdFlags)
	reports := g.reportService(reg, func(err error) { errLog.Printf("warning: %v", err) })
	reports.Runs = func(ctx context.Context) ([]cpk.Run, error) { return st.Runs(ctx, cpk.RunQuery{}) }
	src := &serveSource{root: root, reg: reg, reports: reports, ttl: 3 * time.Second, load: func() (*catalog.Catalog, []cpk.Package, error) {
		// Entries with problems are shown apart, with their problems.
		cat, le, err := g.catalog()
		if err != nil {
			return nil, nil, err
		}
		return cat, le.Entries(cat.Dir), nil
	}}
	handler, err := web.New(web.Options{
		Source: src, Results: st, Root: root, LogRoot: filepath.Join(root, ".cpk"),
		ErrorLog: errLog,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return envError(fmt.Errorf("listen on %s: %w (choose another address with --addr)", opts.Addr, err))
	}
	addr := ln.Addr().(*net.TCPAddr)
	if !addr.IP.IsLoopback() {
		fmt.Fprintf(g.IO.Err, "warning: listening on %s, beyond this machine: the dashboard has no authentication\n", addr)
	}
	fmt.Fprintf(g.IO.Err, "cpk dashboard on http://%s/ (results: %s; Ctrl-C stops it)\n", addr, st)
	return serveUntilDone(ctx, g.IO, ln, handler, errLog)
}

// serveUntilDone serves until the context ends (Ctrl-C), then shuts down
// gracefully.
func serveUntilDone(ctx context.Context, io *IO, ln net.Listener, handler http.Handler, errLog *log.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return envError(fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	fmt.Fprintln(io.Err, "dashboard stopped")
	return ctx.Err()
}

// serveSource builds the dashboard's data from the catalog, the last
// upstream check and the store, at most once every ttl.
type serveSource struct {
	root    string
	reg     *lint.Registry
	reports status.Service
	ttl     time.Duration
	load    func() (*catalog.Catalog, []cpk.Package, error)

	mu     sync.Mutex
	cached *web.Data
	cat    *catalog.Catalog
}

func (s *serveSource) Data(ctx context.Context) (*web.Data, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.cached != nil && now.Sub(s.cached.Generated) < s.ttl {
		return s.cached, nil
	}
	cat, unreadable, err := s.load()
	if err != nil {
		return nil, err
	}
	rep, runs, err := s.reports.Report(ctx, cat, now)
	if err != nil {
		return nil, err
	}
	rep.AddUnreadable(unreadable)
	s.cat = cat
	timeline, source := progress(ctx, s.root, cat, s.reg, rep, now)
	if timeline == nil {
		timeline, source = status.Timeline(cat, runs, status.SampleTimes(runs, now, 60)), "the recorded runs"
	}
	s.cached = &web.Data{
		Report:         rep,
		Timeline:       timeline,
		TimelineSource: source,
		HasStore:       len(runs) > 0,
		Generated:      now,
	}
	return s.cached, nil
}

func (s *serveSource) Findings(ctx context.Context, id string) ([]cpk.Finding, error) {
	if _, err := s.Data(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	a := s.cat.App(id)
	s.mu.Unlock()
	if a == nil {
		return nil, fmt.Errorf("no application %q", id)
	}
	return s.reg.Run(lint.Package{ID: a.ID, Dir: a.Dir}), nil
}

// progress is the catalog's states along main's git history (each commit's
// packages and their evidence), ending with the report's counts now: the
// same on every clone. nil when the root is not a git repository.
func progress(ctx context.Context, root string, cat *catalog.Catalog, reg *lint.Registry, rep *status.Report, now time.Time) ([]status.Snapshot, string) {
	repo, err := git.Open(ctx, root, nil)
	if err != nil {
		return nil, ""
	}
	ref := ci.Main
	if !repo.HasBranch(ctx, ref) {
		ref = "HEAD"
	}
	points, err := ci.Progress(ctx, repo, cat.Dir, ci.HistoryOptions{Ref: ref, Rules: reg, Cache: filepath.Join(root, ".cpk", "cache", "history"),
		Status: &status.Cache{Dir: filepath.Join(root, ".cpk", "cache", "status")}})
	if err != nil {
		return nil, ""
	}
	out := make([]status.Snapshot, 0, len(points)+1)
	for _, p := range points {
		out = append(out, p.Snapshot)
	}
	return append(out, status.Snapshot{At: now, States: rep.Total.States}), "the git history of " + ref
}
