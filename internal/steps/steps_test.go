package steps

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type state struct{ ran []string }

func step(name string, err error) Step[state] {
	return Step[state]{Name: name, Run: func(_ context.Context, s *state) error {
		s.ran = append(s.ran, name)
		return err
	}}
}

func TestRun(t *testing.T) {
	var log bytes.Buffer
	obs := LogObserver{W: &log, Clock: func() time.Time { return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) }}
	s := &state{}
	skipped := step("skipped", nil)
	skipped.Skip = func(*state) string { return "not needed" }
	boom := errors.New("boom")
	err := Run(context.Background(), []Step[state]{step("one", nil), skipped, step("two", boom), step("three", nil)}, s, obs)
	if !errors.Is(err, boom) || err.Error() != "two: boom" {
		t.Errorf("err %v", err)
	}
	if strings.Join(s.ran, ",") != "one,two" {
		t.Errorf("ran %v", s.ran)
	}
	want := "cpk 12:00:00 == one\ncpk 12:00:00 == one done in 0s\ncpk 12:00:00 == skipped skipped: not needed\ncpk 12:00:00 == two\ncpk 12:00:00 == two failed after 0s: boom\n"
	if log.String() != want {
		t.Errorf("log:\n%s", log.String())
	}

	s = &state{}
	if err := Run(context.Background(), []Step[state]{step("one", Stop), step("two", nil)}, s, nil); err != nil || len(s.ran) != 1 {
		t.Errorf("Stop: %v %v", err, s.ran)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, []Step[state]{step("one", nil)}, &state{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
