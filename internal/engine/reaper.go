package engine

import (
	"fmt"
	"strings"
)

// Reap watches over the containers, networks and volumes carrying labels:
// if this process dies before it calls the returned stop function
// (SIGKILL, a crash, an exit that skipped the clean-up), a small shell
// that the kernel signals on cpk's death removes them with the engine's
// command, so that nothing is left for cpk gc. stop ends the watch
// without removing anything. Engines other than podman's and docker's
// (test fakes) get a watch that does nothing.
func Reap(e Engine, labels map[string]string) (stop func(), err error) {
	ce := cliOf(e)
	if ce == nil || len(labels) == 0 {
		return func() {}, nil
	}
	d, err := startDaemon(ce.runner, Command{Name: "/bin/sh", Args: []string{"-c", reapScript(ce, labels)}})
	if err != nil {
		return nil, fmt.Errorf("watch over the run's containers: %w", err)
	}
	return d.kill, nil
}

// cliOf finds the command-line engine inside e (wrapped by a
// counter, or behind the API).
func cliOf(e Engine) *cliEngine {
	for {
		switch x := e.(type) {
		case *cliEngine:
			return x
		case *apiEngine:
			return x.cli
		case interface{ Unwrap() Engine }:
			e = x.Unwrap()
		default:
			return nil
		}
	}
}

// reapScript waits for SIGTERM (the parent-death signal) and then removes
// what carries the labels: containers with their anonymous volumes, then
// networks, then volumes.
func reapScript(e *cliEngine, labels map[string]string) string {
	p := shellQuote(e.path)
	var f []string
	for _, k := range sortedKeys(labels) {
		v := "label=" + k
		if labels[k] != "" {
			v += "=" + labels[k]
		}
		f = append(f, "--filter", shellQuote(v))
	}
	filters := strings.Join(f, " ")
	rm := p + " rm -f -v"
	if e.kind == Podman {
		rm += " -t 0"
	}
	return `reap() {
  ids=$(` + p + ` ps -aq ` + filters + `); [ -z "$ids" ] || ` + rm + ` $ids >/dev/null 2>&1
  ids=$(` + p + ` network ls -q ` + filters + `); [ -z "$ids" ] || ` + p + ` network rm $ids >/dev/null 2>&1
  ids=$(` + p + ` volume ls -q ` + filters + `); [ -z "$ids" ] || ` + p + ` volume rm $ids >/dev/null 2>&1
}
trap 'kill $pid 2>/dev/null; reap; exit 0' TERM HUP
sleep 2147483647 & pid=$!
wait $pid`
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
