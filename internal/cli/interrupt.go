package cli

import (
	"context"
	"time"

	"cpk/internal/fsx"
)

// interruptGrace is how long a read-only catalog command may take to stop
// after Ctrl-C before cpk leaves it behind.
const interruptGrace = 500 * time.Millisecond

// abandonable runs a command that only reads the catalog and writes files
// atomically (lint, status, docs, upstream check) so that Ctrl-C ends it
// within interruptGrace, even inside a step that does not check the
// context (loading or hashing thousands of packages). Past the grace, the
// temporary files of unfinished atomic writes are removed and the
// interruption is returned; the work dies with the process, and what it
// had not written whole was never visible. Commands that must clean up
// after themselves (test, build, push, deploy, box) are never abandoned.
func abandonable(ctx context.Context, run func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(interruptGrace):
		fsx.RemovePending()
		return ctx.Err()
	}
}
