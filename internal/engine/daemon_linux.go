package engine

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

// startDetached starts cmd in its own process group with SIGTERM as its
// parent-death signal. The kernel sends that signal when the thread that
// started the process ends, so the start happens on a locked thread that
// goes back to the pool (Go keeps pool threads for the process's life).
func startDetached(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Start()
}

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
