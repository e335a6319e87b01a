package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"cpk/internal/cpk"
)

// Diagnosis is what cpk doctor learns about the container engine.
type Diagnosis struct {
	Engine Engine // nil when none can be used
	Info   *Info
	Checks []cpk.Check
}

// Diagnose opens the engine as Open does and checks what cpk needs from
// it, each problem with its fix. The caller closes d.Engine.
func Diagnose(ctx context.Context, choice string, api bool, r *Runner) *Diagnosis {
	d := &Diagnosis{}
	add := func(name string, st cpk.CheckStatus, detail, fix string) {
		d.Checks = append(d.Checks, cpk.Check{Name: name, Status: st, Detail: detail, Fix: fix})
	}
	var found []string
	for _, k := range []string{Podman, Docker} {
		if p, err := exec.LookPath(k); err == nil {
			found = append(found, k+" ("+p+")")
		}
	}
	how := "detected (order: " + strings.Join(Candidates(), ", ") + "; override with --engine or CPK_ENGINE)"
	if choice != "" {
		how = "chosen with --engine/CPK_ENGINE=" + choice
	}
	e, err := Detect(ctx, choice, r)
	if err != nil {
		fix := "apt-get install podman (then see the podman checks of cpk doctor), or set CPK_ENGINE"
		if choice != "" && len(found) > 0 {
			// The engine is installed, but the choice names another.
			fix = fmt.Sprintf("--engine/CPK_ENGINE=%s names no working engine: unset it to use the one found (%s), or point it at an installed engine", choice, strings.Join(found, ", "))
		}
		if errors.Is(err, ErrNoEngine) {
			add("engine", cpk.CheckFail, "no podman or docker on PATH", fix)
		} else {
			add("engine", cpk.CheckFail, fmt.Sprintf("%v; installed: %s", err, strings.Join(found, ", ")), fix)
		}
		return d
	}
	if api {
		ae, err := OpenAPI(ctx, e)
		if err != nil {
			info, _ := e.Info(ctx)
			d.Info = info
			add("engine API", cpk.CheckFail, err.Error(),
				"see why podman system service (or the docker daemon) does not start, or use the command line: --engine-api=false or CPK_ENGINE_API=0")
			return d
		}
		e = ae
	}
	info, err := e.Info(ctx)
	d.Info = info
	if err != nil {
		fix := "start the engine, or point CONTAINER_HOST / DOCKER_HOST at a running one"
		if e.Name() == Docker {
			fix = "start the docker daemon (or set DOCKER_HOST), or use podman: CPK_ENGINE=podman"
		}
		add("engine", cpk.CheckFail, fmt.Sprintf("%s %s: %v", e.Name(), how, err), fix)
		return d
	}
	d.Engine = e
	detail := fmt.Sprintf("%s %s (%s), %s", e.Name(), info.Version, info.Path, how)
	if info.Remote != "" {
		detail += ", remote " + info.Remote
	}
	add("engine", cpk.CheckOK, detail, "")
	switch {
	case info.Details["api"] != "":
		add("engine API", cpk.CheckOK, "REST API on "+info.Details["api"]+" (--engine-api=false or CPK_ENGINE_API=0: the command line)", "")
	case api:
		add("engine API", cpk.CheckOK, "the command line: the engine is remote over ssh, which its command reaches", "")
	default:
		add("engine API", cpk.CheckWarn, "the command line, one process per step (chosen with --engine-api=false or CPK_ENGINE_API=0): tests take longer", "drop --engine-api=false / CPK_ENGINE_API=0 to use the REST API")
	}
	if e.Name() == Podman && info.Remote == "" {
		d.Checks = append(d.Checks, podmanChecks(info)...)
	}
	return d
}

// SmokeCheck starts a container from a local image, execs into it and
// removes it: the proof that the engine runs containers here. An empty
// image skips the check.
func SmokeCheck(ctx context.Context, e Engine, image string) cpk.Check {
	c := cpk.Check{Name: "run a container"}
	switch err := smoke(ctx, e, image); {
	case image == "":
		c.Status, c.Detail, c.Fix = cpk.CheckSkip, "no local image to try yet", "cpk base build makes one"
	case err != nil:
		c.Status, c.Detail, c.Fix = cpk.CheckFail, err.Error(), runFix(e.Name(), err)
	default:
		c.Status, c.Detail = cpk.CheckOK, "run, exec and remove a read-only container from "+image
	}
	return c
}

// containersConf is where podman reads the settings cpk relies on.
var containersConf = "/etc/containers/containers.conf"

// podmanChecks look at the settings that make a local podman work on hosts
// like Debian 12 with cgroups v1 (see the README).
func podmanChecks(info *Info) []cpk.Check {
	var cs []cpk.Check
	add := func(name string, st cpk.CheckStatus, detail, fix string) {
		cs = append(cs, cpk.Check{Name: name, Status: st, Detail: detail, Fix: fix})
	}
	conf, _ := os.ReadFile(containersConf)
	rt := info.Details["runtime"]
	switch {
	case rt == "crun" && info.Details["cgroupVersion"] == "v1":
		add("podman runtime", cpk.CheckFail, "crun with cgroups v1 fails (\"cgroups in hybrid mode not supported\")",
			`apt-get install runc, and in `+containersConf+` under [engine]: runtime = "runc"`)
	default:
		add("podman runtime", cpk.CheckOK, rt+", cgroups "+info.Details["cgroupVersion"], "")
	}
	if info.Details["cgroupManager"] == "systemd" {
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			add("podman cgroup manager", cpk.CheckFail, "systemd, but systemd is not running",
				`in `+containersConf+` under [engine]: cgroup_manager = "cgroupfs"`)
		}
	}
	if info.Details["rootless"] == "false" && !regexp.MustCompile(`(?m)^\s*default_ulimits\s*=\s*\[\s*\]`).Match(conf) {
		add("podman ulimits", cpk.CheckWarn, "the default ulimits may fail with \"setrlimit RLIMIT_NPROC: Operation not permitted\" in containers",
			`in `+containersConf+` under [containers]: default_ulimits = []`)
	}
	if info.Remote == "" {
		if path := imageLister(Podman); path != "" {
			add("image listing", cpk.CheckOK, "by buildah ("+path+"), from podman's store", "")
		} else if _, err := exec.LookPath("buildah"); err != nil {
			add("image listing", cpk.CheckWarn, "by podman, which grows slow with a few hundred images (seconds per cpk build or test)", "apt-get install buildah")
		}
	}
	if info.Details["networkBackend"] == "netavark" {
		if _, err := exec.LookPath("iptables"); err != nil {
			add("podman networking", cpk.CheckFail, "netavark needs iptables, which is missing (\"netavark: No such file or directory\")", "apt-get install iptables")
		}
		if !helperExists("aardvark-dns") {
			add("podman networking", cpk.CheckWarn, "aardvark-dns is missing: containers on a network cannot resolve each other", "apt-get install aardvark-dns")
		}
	}
	return cs
}

func helperExists(name string) bool {
	for _, dir := range []string{"/usr/libexec/podman", "/usr/lib/podman", "/usr/local/libexec/podman", "/usr/local/lib/podman"} {
		if _, err := os.Stat(dir + "/" + name); err == nil {
			return true
		}
	}
	_, err := exec.LookPath(name)
	return err == nil
}

// smoke starts a labelled container, execs into it and removes it.
func smoke(ctx context.Context, e Engine, image string) (err error) {
	if image == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	name := fmt.Sprintf("cpk-doctor-%d", os.Getpid())
	id, err := e.Run(ctx, RunSpec{Name: name, Image: image, Cmd: []string{"sleep", "60"}, Labels: map[string]string{"io.cpk.doctor": "1"},
		ReadOnly: true, Tmpfs: []string{"/tmp", "/run"}})
	defer func() {
		if rerr := e.Remove(context.WithoutCancel(ctx), name); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err != nil {
		return err
	}
	res, err := e.Exec(ctx, id, ExecSpec{Cmd: []string{"sh", "-c", "echo ok > /tmp/x && cat /tmp/x"}})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 || strings.TrimSpace(string(res.Stdout)) != "ok" {
		return fmt.Errorf("exec in the container: exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

// runFix suggests the fix for a failed container start from its message.
func runFix(kind string, err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "setrlimit"):
		return `in ` + containersConf + ` under [containers]: default_ulimits = []`
	case strings.Contains(msg, "hybrid mode"):
		return `apt-get install runc, and in ` + containersConf + ` under [engine]: runtime = "runc"`
	case strings.Contains(msg, "netavark") && strings.Contains(msg, "No such file"):
		return "apt-get install iptables"
	case strings.Contains(msg, "systemd"), strings.Contains(msg, "dbus"):
		return `in ` + containersConf + ` under [engine]: cgroup_manager = "cgroupfs"`
	}
	return "try it by hand: " + kind + " run --rm IMAGE true"
}
