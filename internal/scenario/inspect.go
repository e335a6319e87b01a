package scenario

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"cpk/internal/engine"
	"cpk/internal/runtime"
)

// managers may run as root by design (reference §4.2): process managers,
// shells waiting for their children, the masters of nginx, php-fpm and
// Apache (their workers drop privileges).
var managers = map[string]bool{"supervisord": true, "tini": true, "dumb-init": true, "s6-svscan": true, "s6-supervise": true,
	"runsvdir": true, "runsv": true, "cron": true, "sh": true, "bash": true, "dash": true}

// rootProcesses returns the processes that run as root and serve requests
// or run application code. Processes of an exec from outside (a check's
// running at the same time) are not the app's.
func rootProcesses(ps *engine.Processes) []engine.Process {
	byPID := map[int]engine.Process{}
	for _, p := range ps.List {
		byPID[p.PID] = p
	}
	var out []engine.Process
	for _, p := range ps.List {
		if p.User != "root" || managers[p.Comm] || fromOutside(p, byPID, ps.Init) {
			continue
		}
		if strings.HasPrefix(p.Comm, "python") && strings.Contains(p.Args, "supervisord") {
			continue
		}
		switch {
		case strings.HasPrefix(p.Args, "nginx: master process"), strings.HasPrefix(p.Args, "php-fpm: master process"):
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
// container: the app's processes all descend from its first one (init),
// while an exec's first process has its parent outside the container.
func fromOutside(p engine.Process, byPID map[int]engine.Process, init int) bool {
	for range len(byPID) + 1 { // a parent loop in a torn listing ends too
		if p.PID == init {
			return false
		}
		parent, ok := byPID[p.PPID]
		if !ok {
			return true
		}
		p = parent
	}
	return false
}

// checkNotRoot: the processes that serve requests or run application code
// do not run as root (§4.2).
func checkNotRoot(ctx context.Context, app *runtime.App) Check {
	c := Check{Name: "not root"}
	ps, err := app.Top(ctx)
	if err != nil {
		return c.fail("cannot list the processes: %v", err)
	}
	if len(ps.List) == 0 {
		return c.warn("cannot list the processes (the engine lists none)")
	}
	root := rootProcesses(ps)
	if len(root) == 0 {
		return c.pass("no process that serves requests runs as root")
	}
	var names []string
	for _, p := range root {
		names = append(names, fmt.Sprintf("pid %d %s", p.PID, firstWords(p.Args, 6)))
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
