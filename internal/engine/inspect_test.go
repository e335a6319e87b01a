package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestParseContainerInspect(t *testing.T) {
	podman := `[{"Id":"abc","Name":"app","State":{"Status":"exited","Running":false,"ExitCode":137,"OOMKilled":false,
		"StartedAt":"2026-11-25T21:43:33.367509637Z","FinishedAt":"2026-11-25T21:43:43.1Z"},
		"Config":{"Image":"localhost/cpk/x:1","Labels":{"io.cpk.run":"r1"},"Env":["A=1","B=2"]},
		"NetworkSettings":{"Ports":{"8000/tcp":[{"HostIp":"127.0.0.1","HostPort":"37503"}],"9/udp":null}}}]`
	c, err := parseContainerInspect([]byte(podman), "app")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "app" || c.State != "exited" || c.ExitCode != 137 || c.Ports["8000/tcp"] != 37503 || c.Labels["io.cpk.run"] != "r1" || len(c.Env) != 2 || c.Env[1] != "B=2" || c.Started.IsZero() || c.Finished.Sub(c.Started) <= 0 {
		t.Errorf("%+v", c)
	}
	docker := `[{"Id":"abc","Name":"/app","State":{"Status":"running","Running":true},"Config":{"Image":"img"},"NetworkSettings":{"Ports":{}}}]`
	if c, err := parseContainerInspect([]byte(docker), "app"); err != nil || c.Name != "app" || !c.Running {
		t.Errorf("%+v %v", c, err)
	}
}

func TestParseNetworkInspectAndLabels(t *testing.T) {
	p := `[{"name":"n","subnets":[{"subnet":"10.89.0.0/24","gateway":"10.89.0.1"}],"labels":{"io.cpk.run":"r"}}]`
	d := `[{"Name":"n","IPAM":{"Config":[{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]},"Labels":{"io.cpk.run":"r"}}]`
	for in, gw := range map[string]string{p: "10.89.0.1", d: "172.18.0.1"} {
		n, err := parseNetworkInspect([]byte(in), "n")
		if err != nil || n.Gateway != gw || n.Name != "n" || n.Labels["io.cpk.run"] != "r" {
			t.Errorf("%+v %v", n, err)
		}
	}
	want := map[string]string{"io.cpk.run": "r", "io.cpk.pid": "12"}
	for _, raw := range []string{`{"io.cpk.run":"r","io.cpk.pid":"12"}`, `"io.cpk.run=r,io.cpk.pid=12"`} {
		if got := parseLabels(raw); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v", raw, got)
		}
	}
	if got := parseDiff([]byte("C /etc\nA /app/code/x\n\n")); len(got) != 2 || got[1] != (Change{"A", "/app/code/x"}) {
		t.Errorf("%v", got)
	}
}

// TestCarrying: a resource listed by labels carries all of them (podman
// 4's volume ls matches any of several label filters).
func TestCarrying(t *testing.T) {
	rs := []Resource{
		{Kind: KindVolume, Name: "data", Labels: map[string]string{"run": "1", "role": "data"}},
		{Kind: KindContainer, Name: "made", Labels: map[string]string{"run": "1", "owner": "app"}},
		{Kind: KindContainer, Name: "other", Labels: map[string]string{"run": "2", "owner": "app"}},
	}
	got := carrying(rs, map[string]string{"run": "1", "owner": ""})
	if len(got) != 1 || got[0].Name != "made" {
		t.Errorf("carrying: %+v", got)
	}
}

// TestRetryTop: a listing that fails (podman's EOF while a process ends)
// is asked again, up to three times; a missing container only once.
func TestRetryTop(t *testing.T) {
	ctx := context.Background()
	calls := 0
	got, err := retryTop(ctx, func() (int, error) {
		calls++
		if calls < 3 {
			return 0, errors.New("EOF")
		}
		return 7, nil
	})
	if got != 7 || err != nil || calls != 3 {
		t.Errorf("got %d, %v after %d calls; want 7 after 3", got, err, calls)
	}
	calls = 0
	_, err = retryTop(ctx, func() (int, error) { calls++; return 0, errors.New("EOF") })
	if err == nil || calls != 3 {
		t.Errorf("a listing that always fails: %v after %d calls, want an error after 3", err, calls)
	}
	calls = 0
	_, err = retryTop(ctx, func() (int, error) { calls++; return 0, fmt.Errorf("container x: %w", ErrNotFound) })
	if !errors.Is(err, ErrNotFound) || calls != 1 {
		t.Errorf("a missing container: %v after %d calls, want ErrNotFound after 1", err, calls)
	}
}

// TestAgainStopsOnCancel: a cancelled context ends the retries with its
// own error, not the listing's.
func TestAgainStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	_, err := again(ctx, 5, func(int) time.Duration { return time.Hour }, func(error) bool { return true },
		func() (int, error) { calls++; return 0, errors.New("EOF") })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("%v after %d calls, want context.Canceled after 1", err, calls)
	}
}
