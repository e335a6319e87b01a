package cli

import (
	"context"
	"errors"
	"testing"
)

// A command that does not look at its context is still left behind after
// Ctrl-C: abandonable returns the interruption while it runs on.
func TestAbandonableReturnsOnInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	done := make(chan error, 1)
	go func() {
		done <- abandonable(ctx, func(context.Context) error {
			close(started)
			<-release // deaf to the context, like a long catalog load
			return nil
		})
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the interruption", err)
	}
	// Interrupted before it starts: the command does not run at all.
	ran := false
	if err := abandonable(ctx, func(context.Context) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("after Ctrl-C: %v, ran %v", err, ran)
	}
}
