package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IO is where commands read and write: results to Out, progress and
// warnings to Err. Colour and aligned tables only on a terminal.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// OutTTY is true when Out is a terminal: aligned tables instead of
	// tab-separated rows. Color adds ANSI colours (never with NO_COLOR).
	OutTTY, Color bool
	// ErrTTY is true when Err is a terminal: live progress displays
	// instead of one line per event.
	ErrTTY bool
	// InTTY is true when In is a terminal: a command may ask before it
	// does something that cannot be undone.
	InTTY bool
}

// System returns the process's streams, detecting terminals and NO_COLOR.
func System() *IO {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutTTY: tty, Color: tty && !noColor && os.Getenv("TERM") != "dumb",
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())) && os.Getenv("TERM") != "dumb",
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
	}
}

// Test returns streams writing to the given buffers, as when piped.
func Test(out, err io.Writer) *IO { return &IO{In: nil, Out: out, Err: err} }

// ANSI styles; paint leaves text alone when colour is off.
const (
	bold   = "1"
	dim    = "2"
	red    = "31"
	green  = "32"
	yellow = "33"
	blue   = "34"
	cyan   = "36"
)

func (s *IO) paint(style, text string) string {
	if !s.Color || text == "" {
		return text
	}
	return "\x1b[" + style + "m" + text + "\x1b[0m"
}
