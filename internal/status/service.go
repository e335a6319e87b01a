package status

import (
	"context"
	"time"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/lint"
)

// Service builds the report from its sources: the one place the status
// command and the dashboard get it from.
type Service struct {
	Rules *lint.Registry
	// Upstream returns the last upstream checks (nil when there are none).
	Upstream func() ([]cpk.UpstreamCheck, error)
	// Runs returns the recorded runs (nil without a results store).
	Runs func(ctx context.Context) ([]cpk.Run, error)
	// Warn hears about a source that could not be read: the report is
	// built without it.
	Warn func(error)
	// Cache keeps unchanged packages from being linted again (nil: none).
	Cache *Cache
}

// Report builds the catalog's report at now, and returns the runs it read.
func (s Service) Report(ctx context.Context, cat *catalog.Catalog, now time.Time) (*Report, []cpk.Run, error) {
	warn := s.Warn
	if warn == nil {
		warn = func(error) {}
	}
	var checks []cpk.UpstreamCheck
	if s.Upstream != nil {
		c, err := s.Upstream()
		if err != nil {
			warn(err)
		}
		checks = c
	}
	var runs []cpk.Run
	if s.Runs != nil {
		r, err := s.Runs(ctx)
		if err != nil {
			warn(err)
		}
		runs = r
	}
	rep, err := Build(cat, Options{Rules: s.Rules, Upstream: checks, History: runs, Now: now, Cache: s.Cache, Context: ctx})
	return rep, runs, err
}
