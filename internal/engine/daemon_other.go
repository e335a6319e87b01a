//go:build !linux

package engine

import (
	"os"
	"os/exec"
)

// startDetached starts cmd; without a parent-death signal here, the
// daemon's own idle timeout ends it when cpk is gone.
func startDetached(cmd *exec.Cmd) error { return cmd.Start() }

func terminate(p *os.Process) error { return p.Signal(os.Interrupt) }
