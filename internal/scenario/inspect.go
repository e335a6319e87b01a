package scenario

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"cpk/internal/runtime"
)

// psScript lists the container's processes from /proc with nothing but
// the shell: "pid ppid uid comm cmdline", its own pid first.
const psScript = `echo "self $$"
for d in /proc/[0-9]*; do
  pid=${d#/proc/}; uid=; ppid=
  while read -r k v rest; do
    case $k in Uid:) uid=$v;; PPid:) ppid=$v;; esac
  done < "$d/status" 2>/dev/null || continue
  [ -n "$uid" ] || continue
  comm=$(cat "$d/comm" 2>/dev/null)
  cmd=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null)
  printf '%s\t%s\t%s\t%s\t%s\n' "$pid" "$ppid" "$uid" "$comm" "$cmd"
done`

// Process is one process of the app container.
type Process struct {
	PID, PPID int
	UID       int
	Comm, Cmd string
}

// managers may run as root by design (reference §4.2): process managers,
// shells waiting for their children, the masters of nginx, php-fpm and
// Apache (their workers drop privileges).
var managers = map[string]bool{"supervisord": true, "tini": true, "dumb-init": true, "s6-svscan": true, "s6-supervise": true,
	"runsvdir": true, "runsv": true, "cron": true, "sh": true, "bash": true, "dash": true}

// rootProcesses returns the processes that run as root and serve requests
// or run application code.
func rootProcesses(procs []Process, self int) []Process {
	byPID := map[int]Process{}
	for _, p := range procs {
		byPID[p.PID] = p
	}
	var out []Process
	for _, p := range procs {
		if p.UID != 0 || p.PID == self || p.PPID == self || managers[p.Comm] || fromOutside(p, byPID) {
			continue
		}
		if strings.HasPrefix(p.Comm, "python") && strings.Contains(p.Cmd, "supervisord") {
			continue
		}
		switch {
		case strings.HasPrefix(p.Cmd, "nginx: master process"), strings.HasPrefix(p.Cmd, "php-fpm: master process"):
			continue
		case p.Comm == "apache2" || p.Comm == "httpd":
			if parent := byPID[p.PPID]; parent.Comm != p.Comm {
				continue // the master; its children serve
			}
		}
		out = append(out, p)
	}
	return out
}

// fromOutside says whether p belongs to an exec from outside the
// container (this check's own, or a concurrent one's): the app's
// processes all descend from its PID 1, while an exec's first process
// has no parent in the container (PPID 0).
func fromOutside(p Process, byPID map[int]Process) bool {
	for range len(byPID) + 1 { // a parent loop in a torn listing ends too
		switch {
		case p.PID == 1:
			return false
		case p.PPID == 0:
			return true
		}
		parent, ok := byPID[p.PPID]
		if !ok {
			return false // gone meanwhile: judge the process itself
		}
		p = parent
	}
	return false
}

func parsePS(out string) ([]Process, int) {
	var procs []Process
	self := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "self ") {
			fmt.Sscanf(l, "self %d", &self)
			continue
		}
		f := strings.SplitN(l, "\t", 5)
		if len(f) != 5 {
			continue
		}
		var p Process
		fmt.Sscanf(f[0], "%d", &p.PID)
		fmt.Sscanf(f[1], "%d", &p.PPID)
		fmt.Sscanf(f[2], "%d", &p.UID)
		p.Comm, p.Cmd = f[3], strings.TrimSpace(f[4])
		procs = append(procs, p)
	}
	return procs, self
}

// checkNotRoot: the processes that serve requests or run application code
// do not run as root (§4.2).
func checkNotRoot(ctx context.Context, app *runtime.App) Check {
	c := Check{Name: "not root"}
	res, err := app.Exec(ctx, "", "/bin/sh", "-c", psScript)
	if err != nil {
		return c.fail("cannot list the processes: %v", err)
	}
	procs, self := parsePS(string(res.Stdout))
	if len(procs) == 0 {
		return c.warn("cannot list the processes (no /bin/sh or /proc in the container?)")
	}
	root := rootProcesses(procs, self)
	if len(root) == 0 {
		return c.pass("no process that serves requests runs as root")
	}
	var names []string
	for _, p := range root {
		names = append(names, fmt.Sprintf("pid %d %s", p.PID, firstWords(p.Cmd, 6)))
	}
	return c.fail("the app runs as root: %s; run it as cloudron (exec gosu cloudron:cloudron …), only process managers and the nginx, php-fpm or Apache masters may stay root (reference §4.2)", strings.Join(names, "; "))
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "…")
	}
	return strings.Join(f, " ")
}

// readOnlyLines are the log lines that say a write hit the read-only root.
func readOnlyLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "Read-only file system") || strings.Contains(l, "EROFS") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// checkLogs: the app logs to stdout/stderr (§4.6), and no write failed on
// the read-only root filesystem (§4.1).
func checkLogs(ctx context.Context, app *runtime.App) (logs, readOnly Check, hit bool) {
	logs, readOnly = Check{Name: "logs to stdout/stderr"}, Check{Name: "read-only root"}
	out, err := app.Logs(ctx)
	if err != nil {
		return logs.warn("cannot read the logs: %v", err), readOnly.pass("not checked"), false
	}
	if strings.TrimSpace(out) == "" {
		logs = logs.warn("the app wrote nothing to stdout/stderr: the platform shows only those (reference §4.6)")
	} else {
		logs = logs.pass("%d lines", strings.Count(out, "\n"))
	}
	if lines := readOnlyLines(out); len(lines) > 0 {
		if len(lines) > 3 {
			lines = lines[:3]
		}
		return logs, readOnly.fail("a write failed on the read-only root filesystem: %s", strings.Join(lines, " | ")), true
	}
	return logs, readOnly.pass("no write failed"), false
}

// writablePrefixes are what the platform lets an app write, and what the
// engine itself changes; the diagnosis leaves them out.
var writablePrefixes = []string{"/tmp", "/run", "/app/data", "/etc/certs", "/dev", "/proc", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv", "/.containerenv"}

// diagnoseReadOnly runs the app again with a writable root filesystem for a
// while (until it is healthy, exits or wait passes) and returns the paths
// it wrote outside the writable folders: what the read-only run could not.
func diagnoseReadOnly(ctx context.Context, app *runtime.App, wait time.Duration) ([]string, error) {
	d := app.Clone()
	d.ReadWrite = true
	if err := d.Start(ctx); err != nil {
		return nil, err
	}
	defer func() { _, _ = d.Stop(context.WithoutCancel(ctx)) }()
	_, _ = d.WaitHealthy(ctx, wait)
	changes, err := app.Box().Engine.Diff(ctx, d.Container)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, c := range changes {
		// "C /etc" is the engine's own hostname, hosts and resolv.conf.
		if c.Kind == "D" || underAny(c.Path, writablePrefixes) || c.Kind == "C" && c.Path == "/etc" {
			continue
		}
		paths = append(paths, c.Path)
	}
	sort.Strings(paths)
	// Keep the leaves: "C /app" and "C /app/code" only lead to "A /app/code/x".
	var leaves []string
	for i, p := range paths {
		if i+1 < len(paths) && strings.HasPrefix(paths[i+1], p+"/") {
			continue
		}
		leaves = append(leaves, p)
	}
	return leaves, nil
}

func underAny(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}
