package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Command is one subprocess: a program, its arguments and where its output goes.
type Command struct {
	Name  string
	Args  []string
	Dir   string
	Env   []string // added to the process's environment
	Stdin io.Reader
	// Output, when set, receives stdout and stderr as they come (a build
	// log); Run then returns no stdout. Otherwise stdout is returned.
	Output io.Writer
	// Stderr, when set, also receives the error output (Run captures it in
	// any case for the typed error).
	Stderr io.Writer
	// NotFound marks a lookup (inspect, rm, logs…): a failure whose message
	// says the object does not exist becomes ErrNotFound.
	NotFound bool
	// Echo writes the command line (redacted) to Output before running it,
	// so that a log says what ran.
	Echo bool
	// Secrets are extra values to hide in error messages and traces, beside
	// the values of secret-looking KEY=VALUE arguments.
	Secrets []string
}

// Runner is the one door every subprocess of engine, base and build goes
// through: it honours the context (SIGINT to the process group first, then
// SIGKILL after WaitDelay), captures stderr into a typed *Error and redacts
// secrets from everything it reports.
type Runner struct {
	// Trace, when set, receives each command line (redacted) before it runs.
	Trace func(line string)
	// WaitDelay is how long a cancelled command may take to stop after
	// SIGINT before it is killed (default 10 s).
	WaitDelay time.Duration
}

// DefaultRunner is used when a nil *Runner is given.
var DefaultRunner = &Runner{}

// Sentinels, matched with errors.Is.
var (
	// ErrNotFound: the image, container, network or volume does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the program is not installed or the engine does not answer.
	ErrUnavailable = errors.New("unavailable")
)

// Unavailable marks err as ErrUnavailable without changing its message.
func Unavailable(err error) error { return &markedError{err, ErrUnavailable} }

type markedError struct{ err, mark error }

func (m *markedError) Error() string   { return m.err.Error() }
func (m *markedError) Unwrap() []error { return []error{m.err, m.mark} }

// Error is a failed subprocess.
type Error struct {
	Command  string // the command line, secrets redacted
	ExitCode int    // -1 when the process did not start or was killed by a signal
	Stderr   string // the end of its error output, secrets redacted
	Err      error  // the underlying error (*exec.ExitError, context.Canceled…)
	notFound bool
	stdout   []byte // what the command printed before failing
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(shortCommand(e.Command))
	b.WriteString(": ")
	switch {
	case errors.Is(e.Err, context.Canceled):
		b.WriteString("interrupted")
	case errors.Is(e.Err, context.DeadlineExceeded):
		b.WriteString("timed out")
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	if msg := lastLines(e.Stderr, 3); msg != "" {
		b.WriteString(": ")
		b.WriteString(strings.ReplaceAll(msg, "\n", " | "))
	}
	return b.String()
}

// Unwrap exposes the cause (so context.Canceled reaches the exit code).
func (e *Error) Unwrap() error { return e.Err }

// Is matches ErrNotFound for lookups of missing objects and ErrUnavailable
// for programs that are not installed.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.notFound
	case ErrUnavailable:
		return errors.Is(e.Err, exec.ErrNotFound)
	}
	return false
}

var notFoundPattern = regexp.MustCompile(`(?i)no such (image|container|object|network|volume)|image not known|network not found|unable to find network|no container with name or id|no volume with name|not found: manifest unknown`)

// stderrLimit bounds the captured error output.
const stderrLimit = 64 << 10

// Run runs c and returns its standard output (nil when c.Output is set).
func (r *Runner) Run(ctx context.Context, c Command) ([]byte, error) {
	if r == nil {
		r = DefaultRunner
	}
	line := commandLine(c)
	if r.Trace != nil {
		r.Trace(line)
	}
	if c.Echo && c.Output != nil {
		fmt.Fprintf(c.Output, "+ %s\n", line)
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Command: line, ExitCode: -1, Err: err}
	}
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Dir = c.Dir
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	cmd.Stdin = c.Stdin
	stderr := &tailBuffer{limit: stderrLimit}
	var stdout bytes.Buffer
	if c.Output != nil {
		out := &lockedWriter{w: c.Output}
		cmd.Stdout = out
		cmd.Stderr = io.MultiWriter(out, stderr)
	} else {
		cmd.Stdout = &stdout
		cmd.Stderr = stderr
		if c.Stderr != nil {
			cmd.Stderr = io.MultiWriter(stderr, c.Stderr)
		}
	}
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 10 * time.Second
	}
	interruptible(cmd)
	err := cmd.Run()
	if ctx.Err() != nil {
		cleanupGroup(cmd)
	}
	if err == nil {
		if c.Output != nil {
			return nil, nil
		}
		return stdout.Bytes(), nil
	}
	e := &Error{Command: line, ExitCode: -1, Err: err, Stderr: redactText(strings.TrimSpace(stderr.String()), secretValues(c)), stdout: stdout.Bytes()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		e.ExitCode = ee.ExitCode()
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e.Err = ctxErr
	}
	if errors.Is(err, exec.ErrNotFound) {
		e.Err = fmt.Errorf("%s is not installed (%w)", c.Name, exec.ErrNotFound)
	}
	e.notFound = c.NotFound && ctx.Err() == nil && notFoundPattern.MatchString(stderr.String())
	return nil, e
}

// shortCommand keeps what a message needs of a command line: the program's
// name, the verb (leading words) and the last argument (the object).
func shortCommand(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return line
	}
	out := []string{filepath.Base(f[0])}
	i := 1
	for ; i < len(f) && !strings.HasPrefix(f[i], "-") && len(out) < 4; i++ {
		out = append(out, f[i])
	}
	if i < len(f) {
		if last := f[len(f)-1]; !strings.HasPrefix(last, "-") && !strings.HasSuffix(last, "'") {
			out = append(out, "…", last)
		} else {
			out = append(out, "…")
		}
	}
	return strings.Join(out, " ")
}

// commandLine renders c for messages: program and arguments, secrets redacted,
// arguments with spaces quoted.
func commandLine(c Command) string {
	args := RedactArgs(c.Args)
	parts := make([]string, 0, len(args)+1)
	parts = append(parts, c.Name)
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return redactText(strings.Join(parts, " "), c.Secrets)
}

// secretKey matches environment and build-argument names whose values must
// never be shown.
var secretKey = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|cookie|salt|session|private|cert`)

// flagsWithAssignments take KEY=VALUE values that may hold secrets.
var flagsWithAssignments = map[string]bool{"-e": true, "--env": true, "--build-arg": true, "--secret": true}

// RedactArgs replaces the values of secret-looking KEY=VALUE assignments
// given to -e, --env and --build-arg (as a separate argument or with =).
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if flagsWithAssignments[a] && i+1 < len(out) {
			out[i+1] = redactAssignment(out[i+1])
			i++
			continue
		}
		for f := range flagsWithAssignments {
			if strings.HasPrefix(a, f+"=") {
				out[i] = f + "=" + redactAssignment(strings.TrimPrefix(a, f+"="))
			}
		}
	}
	return out
}

func redactAssignment(kv string) string {
	k, _, ok := strings.Cut(kv, "=")
	if ok && secretKey.MatchString(k) {
		return k + "=***"
	}
	return kv
}

// secretValues lists the values the runner must hide in c's output.
func secretValues(c Command) []string {
	vals := append([]string(nil), c.Secrets...)
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		var kv string
		switch {
		case flagsWithAssignments[a] && i+1 < len(c.Args):
			kv = c.Args[i+1]
			i++
		case strings.HasPrefix(a, "--env="), strings.HasPrefix(a, "--build-arg="):
			_, kv, _ = strings.Cut(a, "=")
		default:
			continue
		}
		if k, v, ok := strings.Cut(kv, "="); ok && secretKey.MatchString(k) && len(v) >= 4 {
			vals = append(vals, v)
		}
	}
	return vals
}

func redactText(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}

func lastLines(s string, n int) string {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	limit int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.limit {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.limit:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lockedWriter serialises writes from stdout and stderr copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// LookPath finds a program on PATH (no subprocess: the one exec door stays
// the only place that imports os/exec).
func LookPath(name string) (string, error) { return exec.LookPath(name) }

// daemon is a background process started through the exec door (the
// podman service): it outlives the call that started it, not cpk.
type daemon struct {
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *tailBuffer
}

// startDaemon starts c in the background in its own process group (a
// Ctrl-C on the terminal does not reach it) and, where the system allows
// it, asks the kernel to send it SIGTERM when cpk dies, however it dies.
func startDaemon(r *Runner, c Command) (*daemon, error) {
	if r == nil {
		r = DefaultRunner
	}
	if r.Trace != nil {
		r.Trace(commandLine(c) + " &")
	}
	cmd := exec.Command(c.Name, c.Args...)
	d := &daemon{cmd: cmd, done: make(chan struct{}), stderr: &tailBuffer{limit: stderrLimit}}
	cmd.Stderr = d.stderr
	if err := startDetached(cmd); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// wait waits at most timeout for the process to end.
func (d *daemon) wait(timeout time.Duration) {
	select {
	case <-d.done:
	case <-time.After(timeout):
	}
}

// stop sends SIGTERM and, after grace, SIGKILL, and waits for the end.
func (d *daemon) stop(grace time.Duration) {
	if d.exited() {
		return
	}
	_ = terminate(d.cmd.Process)
	select {
	case <-d.done:
	case <-time.After(grace):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// kill ends the daemon's whole process group at once (SIGKILL: no trap
// runs) and waits for it.
func (d *daemon) kill() {
	if d.exited() {
		return
	}
	cleanupGroup(d.cmd)
	_ = d.cmd.Process.Kill()
	<-d.done
}
