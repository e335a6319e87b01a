package scenario

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/runtime"
)

// TestStopCheck: exit 0 and 143 are clean stops; the SIGKILL after the
// grace period and a death by another signal (a crash) fail; another
// non-zero exit warns; each message says what happened and what to do.
func TestStopCheck(t *testing.T) {
	for _, c := range []struct {
		name   string
		res    runtime.StopResult
		err    error
		status string
		want   []string
	}{
		{"clean exit", runtime.StopResult{Took: time.Second, Inspected: true}, nil, Passed, []string{"in 1s (exit 0)"}},
		{"died of SIGTERM", runtime.StopResult{Took: 300 * time.Millisecond, ExitCode: 143, Inspected: true}, nil, Passed, []string{"exit 143"}},
		{"unknown exit", runtime.StopResult{Took: time.Second}, nil, Passed, []string{"exit code unknown"}},
		{"stop error", runtime.StopResult{}, errors.New("stop x: boom"), Failed, []string{"boom"}},
		{"ignored SIGTERM", runtime.StopResult{Took: 10 * time.Second, ExitCode: 137, Inspected: true, Killed: true}, nil, Failed, []string{"ignored SIGTERM", "exec the final process"}},
		{"segfault", runtime.StopResult{Took: 900 * time.Millisecond, ExitCode: 139, Inspected: true, LastOutput: "Segmentation fault\n"}, nil, Failed,
			[]string{"exit 139", "128+11", "SIGSEGV", "900ms after SIGTERM", "crashed while shutting down", "may be lost", "(below)", "exit 0 or 143"}},
		{"abort", runtime.StopResult{Took: time.Second, ExitCode: 134, Inspected: true}, nil, Failed, []string{"SIGABRT", "crashed", "stop it by hand"}},
		{"out of memory", runtime.StopResult{Took: time.Second, ExitCode: 137, Inspected: true, OOMKilled: true}, nil, Failed, []string{"SIGKILL", "before the grace period", "memoryLimit"}},
		{"exit 1", runtime.StopResult{Took: 200 * time.Millisecond, ExitCode: 1, Inspected: true, LastOutput: "FATAL\n"}, nil, Warning, []string{"exit 1 200ms after SIGTERM", "not 0 or 143", "error at shutdown", "(below)"}},
		{"exit 255", runtime.StopResult{Took: time.Second, ExitCode: 255, Inspected: true}, nil, Warning, []string{"exit 255"}},
	} {
		got := stopCheck(c.res, c.err)
		if got.Name != "stops on SIGTERM" || got.Status != c.status {
			t.Errorf("%s: %s %s: %s, want %s", c.name, got.Name, got.Status, got.Message, c.status)
		}
		for _, w := range c.want {
			if !strings.Contains(got.Message, w) {
				t.Errorf("%s: %q does not say %q", c.name, got.Message, w)
			}
		}
	}
}

// TestStopOutputInLog: the end of the output of an app that crashed on
// SIGTERM goes to the test log under its check (its container is gone),
// and fails the step; a clean stop adds no output.
func TestStopOutputInLog(t *testing.T) {
	var log bytes.Buffer
	s := &state{recorder: recorder{log: &log, cur: &StepResult{Outcome: cpk.OutcomePassed}}}
	s.addStop(runtime.StopResult{Took: time.Second, Inspected: true, ExitCode: 143, LastOutput: "bye\n"}, nil)
	if strings.Contains(log.String(), "bye") || s.cur.Outcome != cpk.OutcomePassed {
		t.Errorf("a clean stop: %s %s", s.cur.Outcome, log.String())
	}
	s.addStop(runtime.StopResult{Took: time.Second, Inspected: true, ExitCode: 139, LastOutput: "Shutting down tier 0\nEOF found in spawn pipe.\n"}, nil)
	if want := "SIGSEGV"; !strings.Contains(log.String(), want) || s.cur.Outcome != cpk.OutcomeFailed {
		t.Errorf("a crash: %s %s", s.cur.Outcome, log.String())
	}
	if want := "   the app's last output before it ended:\n     Shutting down tier 0\n     EOF found in spawn pipe.\n"; !strings.Contains(log.String(), want) {
		t.Errorf("the log %q does not hold %q", log.String(), want)
	}
}

// TestPreviousStop: the update step's stop of the previous version warns
// of a crash (the version under test cannot change it) and still fails
// when that version needed the SIGKILL.
func TestPreviousStop(t *testing.T) {
	var log bytes.Buffer
	s := &state{recorder: recorder{log: &log, cur: &StepResult{Outcome: cpk.OutcomePassed}}}
	s.addPreviousStop(runtime.StopResult{Took: time.Second, Inspected: true, ExitCode: 139, LastOutput: "Shutting down tier 0\n"}, nil, "abc123 1.0.1")
	c := s.cur.Checks[0]
	if c.Status != Warning || s.cur.Outcome != cpk.OutcomePassed || !strings.Contains(c.Message, "the previous version abc123 1.0.1: the app ended with exit 139") || !strings.Contains(c.Message, "SIGSEGV") {
		t.Errorf("a crash of the previous version: %s %+v", s.cur.Outcome, c)
	}
	if !strings.Contains(log.String(), "     Shutting down tier 0") {
		t.Errorf("the log %q has not the previous version's last output", log.String())
	}
	s.addPreviousStop(runtime.StopResult{Took: 10 * time.Second, Inspected: true, ExitCode: 137, Killed: true}, nil, "abc123 1.0.1")
	if c := s.cur.Checks[1]; c.Status != Failed || s.cur.Outcome != cpk.OutcomeFailed {
		t.Errorf("the previous version killed after the grace period: %s %+v", s.cur.Outcome, c)
	}
}
