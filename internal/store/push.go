package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"cpk/internal/cpk"
)

// RecordPush keeps one push. It implements cpk.Pushes.
func (s *Store) RecordPush(ctx context.Context, p cpk.Push) error {
	if err := p.Validate(); err != nil {
		return err
	}
	err := s.retry(ctx, func() error {
		_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO pushes (app, hash, version, image, registry, reference, digest, size, pushed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			p.App, p.Hash, p.Version, p.Image, p.Registry, p.Reference, p.Digest, p.Size, p.Pushed.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("record the push of %s in %s: %w", p.App, s.where, err)
	}
	return nil
}

// Pushes returns the matching pushes, newest first. It implements cpk.Pushes.
func (s *Store) Pushes(ctx context.Context, q cpk.PushQuery) ([]cpk.Push, error) {
	var where []string
	var args []any
	for _, f := range []struct{ col, val string }{{"app", q.App}, {"hash", q.Hash}, {"registry", q.Registry}} {
		if f.val != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	query := "SELECT id, app, hash, version, image, registry, reference, digest, size, pushed FROM pushes"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY pushed DESC, id DESC"
	if q.Limit > 0 {
		query += " LIMIT " + strconv.Itoa(q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read pushes from %s: %w", s.where, err)
	}
	defer rows.Close()
	var out []cpk.Push
	for rows.Next() {
		var p cpk.Push
		var pushed int64
		if err := rows.Scan(&p.ID, &p.App, &p.Hash, &p.Version, &p.Image, &p.Registry, &p.Reference, &p.Digest, &p.Size, &pushed); err != nil {
			return nil, fmt.Errorf("read pushes from %s: %w", s.where, err)
		}
		p.Pushed = time.UnixMicro(pushed).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pushes from %s: %w", s.where, err)
	}
	return out, nil
}

// LastPush returns the newest push of an app's content hash (the package's
// catalog.App.ContentHash) to registry (HOST[:PORT]/NAMESPACE; "" for any),
// or an error wrapping cpk.ErrNoPush that says to run cpk push. This is
// what cpk deploy installs: Push.Reference (the tag) or Push.Pinned()
// (by digest).
func (s *Store) LastPush(ctx context.Context, app, hash, registry string) (cpk.Push, error) {
	return cpk.LastPush(ctx, s, app, hash, registry)
}

var _ cpk.Pushes = (*Store)(nil)
