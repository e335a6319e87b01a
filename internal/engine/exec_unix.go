//go:build unix

package engine

import (
	"os/exec"
	"syscall"
)

// interruptible runs cmd in its own process group and, when its context is
// cancelled, sends SIGINT to the whole group, so that an engine and the
// build steps it started get the chance to stop and clean up (Ctrl-C on a
// terminal reaches only cpk, which decides). After the runner's WaitDelay
// the process is killed.
func interruptible(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	}
}

// cleanupGroup kills what is left of a cancelled command's process group
// (children that ignored SIGINT). Only after a cancellation: a finished
// command may leave daemons behind on purpose (conmon, aardvark-dns).
func cleanupGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// pidAlive says whether a process with this id exists.
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
