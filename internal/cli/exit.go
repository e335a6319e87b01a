package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, documented in the README and `cpk --help`.
const (
	ExitOK          = 0   // success
	ExitFindings    = 1   // findings at error level, an invalid manifest, a failed test
	ExitUsage       = 2   // bad flags or arguments
	ExitEnvironment = 3   // something outside cpk is missing or broken (no engine, unreadable catalog)
	ExitInterrupted = 130 // Ctrl-C
)

// ExitError carries an exit code up to main. A nil Err means the command has
// already said everything (e.g. it printed findings) and only the code matters.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks a bad invocation (exit 2).
func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// envError marks a problem outside cpk's control (exit 3).
func envError(err error) error { return &ExitError{Code: ExitEnvironment, Err: err} }

// silentFailure ends a command that has reported its findings with exit 1.
var silentFailure = &ExitError{Code: ExitFindings}

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ee):
		return ee.Code
	}
	return ExitFindings
}
