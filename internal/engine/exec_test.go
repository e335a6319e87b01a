package engine

import (
	"bytes"
	"context"
	"cpk/internal/testenv"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunCapturesStdoutAndTypedErrors(t *testing.T) {
	r := &Runner{}
	out, err := r.Run(context.Background(), Command{Name: "sh", Args: []string{"-c", "echo hello; echo warn >&2"}})
	if err != nil || string(out) != "hello\n" {
		t.Fatalf("got %q, %v", out, err)
	}
	_, err = r.Run(context.Background(), Command{Name: "sh", Args: []string{"-c", "echo partial; echo 'Error: boom' >&2; exit 3"}})
	var ee *Error
	if !errors.As(err, &ee) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if ee.ExitCode != 3 || ee.Stderr != "Error: boom" || string(ee.stdout) != "partial\n" {
		t.Errorf("exit %d stderr %q stdout %q", ee.ExitCode, ee.Stderr, ee.stdout)
	}
	if msg := err.Error(); !strings.Contains(msg, "sh ") || !strings.Contains(msg, "exit status 3") || !strings.Contains(msg, "Error: boom") {
		t.Errorf("message %q", msg)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		t.Error("a plain failure matched a sentinel")
	}
}

func TestRunNotFoundOnlyForLookups(t *testing.T) {
	r := &Runner{}
	script := []string{"-c", "echo 'Error: inspecting object: nosuch: image not known' >&2; exit 125"}
	_, err := r.Run(context.Background(), Command{Name: "sh", Args: script, NotFound: true})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup: %v should be ErrNotFound", err)
	}
	_, err = r.Run(context.Background(), Command{Name: "sh", Args: script})
	if errors.Is(err, ErrNotFound) {
		t.Error("a build whose output says 'not known' is not a missing object")
	}
	for _, msg := range []string{
		"Error response from daemon: No such container: x",
		"Error: No such image: x",
		`Error: no container with name or ID "x" found: no such container`,
		"Error: unable to find network with name or ID x: network not found",
		`Error: no volume with name "x" found: no such volume`,
	} {
		if !notFoundPattern.MatchString(msg) {
			t.Errorf("%q not recognised as not found", msg)
		}
	}
}

func TestRunMissingProgramIsUnavailable(t *testing.T) {
	_, err := (&Runner{}).Run(context.Background(), Command{Name: "cpk-no-such-program"})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("got %v", err)
	}
}

func TestRunStreamsOutputAndEchoes(t *testing.T) {
	var log bytes.Buffer
	out, err := (&Runner{}).Run(context.Background(), Command{Name: "sh", Args: []string{"-c", "echo a; echo b >&2"}, Output: &log, Echo: true})
	if err != nil || out != nil {
		t.Fatalf("%q %v", out, err)
	}
	got := log.String()
	if !strings.HasPrefix(got, "+ sh -c 'echo a; echo b >&2'\n") || !strings.Contains(got, "a\n") || !strings.Contains(got, "b\n") {
		t.Errorf("log %q", got)
	}
}

func TestCancelInterruptsTheProcessGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	log := &testenv.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		// The child traps SIGINT and says so: it must get SIGINT, not SIGKILL.
		_, err := (&Runner{WaitDelay: 5 * time.Second}).Run(ctx, Command{Name: "sh", Args: []string{"-c", "trap 'echo got-int; exit 9' INT; echo ready; while :; do sleep 0.1; done"}, Output: log})
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "ready") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("want context.Canceled, got %v", err)
		}
		if !strings.Contains(err.Error(), "interrupted") {
			t.Errorf("message %q", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not stop")
	}
	if !strings.Contains(log.String(), "got-int") {
		t.Errorf("the process did not receive SIGINT: %q", log.String())
	}
}

func TestRedaction(t *testing.T) {
	args := []string{"run", "-e", "DB_PASSWORD=hunter22", "--env", "PLAIN=visible", "--env=API_TOKEN=tok-123456", "--build-arg", "NPM_AUTH=abcdef", "--label", "SECRET=not-an-env"}
	got := strings.Join(RedactArgs(args), " ")
	want := "run -e DB_PASSWORD=*** --env PLAIN=visible --env=API_TOKEN=*** --build-arg NPM_AUTH=*** --label SECRET=not-an-env"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if args[2] != "DB_PASSWORD=hunter22" {
		t.Error("RedactArgs changed its input")
	}
	// Secret values are also hidden in what the command printed.
	_, err := (&Runner{}).Run(context.Background(), Command{Name: "sh", Args: []string{"-c", "echo 'password hunter22 rejected' >&2; exit 1", "x", "--env", "DB_PASSWORD=hunter22"}})
	if err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("secret leaked: %v", err)
	}
	var traced string
	_, _ = (&Runner{Trace: func(l string) { traced = l }}).Run(context.Background(), Command{Name: "true", Args: []string{"-e", "MY_SECRET_KEY=s3cr3tvalue"}})
	if strings.Contains(traced, "s3cr3tvalue") || !strings.Contains(traced, "MY_SECRET_KEY=***") {
		t.Errorf("trace %q", traced)
	}
}

func TestShortCommand(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/podman build --iidfile /tmp/x --label a=b /ctx": "podman build … /ctx",
		"podman image inspect nosuch":                             "podman image inspect nosuch",
		"docker rm --force --volumes c1":                          "docker rm … c1",
		"podman version --format '{{json .}}'":                    "podman version …",
	} {
		if got := shortCommand(in); got != want {
			t.Errorf("shortCommand(%q) = %q, want %q", in, got, want)
		}
	}
}
