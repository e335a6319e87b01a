package runtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"cpk/internal/engine"
	"cpk/internal/manifest"
)

// App is one installed app in the box: its container (re-created on every
// start, with fresh /tmp and /run), its /app/data volume when it declares
// localstorage, and its add-ons.
type App struct {
	box      *Box
	ID       string // the app id: a UUID, also the hostname and network alias
	Location string // the subdomain: the app lives at Location.Domain
	Image    string
	Manifest manifest.Manifest
	// Container is the running container's name ("" when stopped).
	Container string
	// HostPort is where httpPort is published on 127.0.0.1.
	HostPort int
	// PinPort publishes httpPort on this host port at every start (a
	// long-lived box keeps each app's address); 0 = any free port.
	PinPort int
	// DataVolume holds /app/data ("" without localstorage).
	DataVolume string
	// ReadWrite runs the container with a writable root filesystem (the
	// read-only diagnosis; debug mode).
	ReadWrite bool
	// Cmd replaces the image's command when set.
	Cmd []string
	// Raw is the manifest as written (config.json of backups).
	Raw json.RawMessage

	addonEnv map[string]string
	portEnv  map[string]string
	ports    []engine.Port
	// volumes are named /tmp and /run volumes of a container an earlier
	// cpk made (adopted from its record); cpk's own are anonymous.
	volumes    []string
	seq        int
	creds      *credentials
	setUp      map[string]bool   // add-ons set up
	restored   map[string]string // /app/data as the restore left it, for the Snapshot after it
	data       *dataHelper       // shared by Clone
	adopted    bool              // taken over from an earlier process (Adopt): it may have a data helper
	Started    time.Time         // when the current container was started
	HealthTook time.Duration     // how long the last WaitHealthy waited
	StartTook  time.Duration     // how long the engine took to start the current container
}

// NewAppID returns a platform-style app id (a random UUID).
func NewAppID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NewApp prepares an app (nothing is created yet): Install sets it up.
func (b *Box) NewApp(image string, m manifest.Manifest, location string) *App {
	return &App{box: b, ID: NewAppID(), Location: location, Image: image, Manifest: m, setUp: map[string]bool{}, data: &dataHelper{}}
}

// Box is the box the app lives in.
func (a *App) Box() *Box { return a.box }

// FQDN is the app's domain name.
func (a *App) FQDN() string { return a.Location + "." + a.box.Domain }

// Install sets the app's add-ons up (databases, /app/data, credentials)
// and starts its container. It does not wait for health: WaitHealthy does.
func (a *App) Install(ctx context.Context) error {
	if err := a.setupAddons(ctx); err != nil {
		return err
	}
	return a.Start(ctx)
}

// setupAddons provisions every add-on of the manifest that is not set up
// yet (an update may add some) and computes their variables.
func (a *App) setupAddons(ctx context.Context) error {
	if a.creds == nil {
		c, err := loadCredentials(a.box, a.ID)
		if err != nil {
			return err
		}
		a.creds = c
	}
	names := make([]string, 0, len(a.Manifest.Addons))
	for n := range a.Manifest.Addons {
		names = append(names, n)
	}
	sort.Strings(names)
	env := map[string]string{}
	for _, n := range names {
		ad, err := lookupAddon(n)
		if err != nil {
			return err
		}
		vars, err := ad.Setup(ctx, a, a.Manifest.Addons[n])
		if err != nil {
			return fmt.Errorf("set up the %s add-on: %w", n, err)
		}
		a.setUp[n] = true
		for k, v := range vars {
			env[k] = v
		}
	}
	a.addonEnv = env
	return nil
}

// Env is the app's environment in the platform's order: the generic
// variables, the add-ons', the ports' (§2.2).
func (a *App) Env() map[string]string {
	env := map[string]string{}
	p := "CLOUDRON_"
	if a.Manifest.ManifestVersion <= 1 {
		p = ""
	}
	env["CLOUDRON"] = "1"
	env["CLOUDRON_PROXY_IP"] = a.box.Gateway
	env["CLOUDRON_APP_HOSTNAME"] = a.ID
	env[p+"APP_DOMAIN"] = a.FQDN()
	env[p+"APP_ORIGIN"] = "https://" + a.FQDN()
	env[p+"API_ORIGIN"] = "https://my." + a.box.Domain
	env[p+"WEBADMIN_ORIGIN"] = "https://my." + a.box.Domain
	for k, v := range a.addonEnv {
		if p == "" {
			k = strings.TrimPrefix(k, "CLOUDRON_")
		}
		env[k] = v
	}
	for k, v := range a.portEnv {
		env[k] = v
	}
	return env
}

// MemoryLimit is the app's memory limit in bytes as the platform computes
// it (§4.3): the manifest's memoryLimit, at least 256 MB; -1 = unlimited.
func MemoryLimit(m manifest.Manifest) int64 {
	const floor = 256 << 20
	var limit int64
	switch v := m.MemoryLimit.(type) {
	case float64:
		limit = int64(v)
	case string:
		limit, _ = manifest.ParseByteString(v)
	}
	if limit == -1 {
		return -1
	}
	return max(limit, floor)
}

// Capabilities is the platform's capability set for the manifest's
// capabilities (§4.2, §11): Docker's defaults without NET_RAW, plus
// NET_ADMIN (net_admin), IPC_LOCK (mlock), NET_RAW (ping); vaapi maps
// /dev/dri.
func Capabilities(m manifest.Manifest) (add []string, devices []string) {
	add = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
	for _, c := range m.Capabilities {
		switch c {
		case "net_admin":
			add = append(add, "NET_ADMIN")
		case "mlock":
			add = append(add, "IPC_LOCK")
		case "ping":
			add = append(add, "NET_RAW")
		case "vaapi":
			devices = append(devices, "/dev/dri")
		}
	}
	return add, devices
}

// Spec is the app container as the platform runs it (§11). /tmp and /run
// are anonymous volumes, fresh for each container and removed with it
// (§2, the platform's own way), unless vols names two volumes for them.
func (a *App) Spec(name string, vols []string) engine.RunSpec {
	limit := MemoryLimit(a.Manifest)
	caps, devices := Capabilities(a.Manifest)
	spec := engine.RunSpec{
		Name: name, Image: a.Image, Cmd: a.Cmd, Env: a.Env(), Labels: a.box.Labels("app"),
		Hostname: a.ID, Network: a.box.Network, Aliases: []string{a.ID},
		ReadOnly: !a.ReadWrite, CPUShares: 512, CapDrop: []string{"ALL"}, CapAdd: caps, Devices: devices, TTY: true,
		Volumes: []engine.Mount{{Target: "/tmp"}, {Target: "/run"}},
	}
	if len(vols) == 2 {
		spec.Volumes = []engine.Mount{{Source: vols[0], Target: "/tmp"}, {Source: vols[1], Target: "/run"}}
	}
	spec.Labels["io.cpk.appid"] = a.ID
	if limit > 0 {
		spec.Memory, spec.MemorySwap = limit/2, limit
	}
	if a.DataVolume != "" {
		spec.Volumes = append(spec.Volumes, engine.Mount{Source: a.DataVolume, Target: "/app/data"})
	}
	if dir := a.certDir(); dir != "" {
		spec.Volumes = append(spec.Volumes, engine.Mount{Source: dir, Target: "/etc/certs", ReadOnly: true})
	}
	if a.Manifest.HTTPPort > 0 {
		spec.Ports = append(spec.Ports, engine.Port{HostIP: "127.0.0.1", HostPort: a.PinPort, ContainerPort: a.Manifest.HTTPPort})
	}
	spec.Ports = append(spec.Ports, a.ports...)
	return spec
}

// Start creates and starts a fresh container: new /tmp and /run volumes,
// the current image, manifest, location and add-on variables.
func (a *App) Start(ctx context.Context) error {
	if a.Container != "" {
		return fmt.Errorf("app %s is already running", a.ID)
	}
	a.restored = nil
	if err := a.allocatePorts(); err != nil {
		return err
	}
	if a.addonEnv == nil {
		// An adopted app (Adopt) computes its add-ons' variables again.
		if err := a.setupAddons(ctx); err != nil {
			return err
		}
	}
	a.seq++
	name := fmt.Sprintf("%s-%d", a.ID, a.seq)
	a.box.own("container "+name, func(ctx context.Context) error { return a.box.Engine.Remove(ctx, name) })
	a.box.logf("start %s from %s (%s)", name, a.Image, a.FQDN())
	a.Started = time.Now()
	_, err := a.box.Engine.Run(ctx, a.Spec(name, nil))
	a.StartTook = time.Since(a.Started)
	if err != nil {
		// Nothing of the failed start stays (a long-lived box never
		// closes): the container, with its /tmp and /run.
		_ = a.box.Engine.Remove(context.WithoutCancel(ctx), name)
		return fmt.Errorf("start the app container: %w", err)
	}
	a.Container = name
	if a.Manifest.HTTPPort > 0 {
		info, err := a.box.Engine.InspectContainer(ctx, name)
		if err != nil {
			return err
		}
		a.HostPort = info.Ports[fmt.Sprintf("%d/tcp", a.Manifest.HTTPPort)]
		if a.HostPort == 0 && info.Running {
			return fmt.Errorf("httpPort %d is not published", a.Manifest.HTTPPort)
		}
		a.route()
	}
	return nil
}

// createVolume creates a labelled volume and registers its removal.
func (b *Box) createVolume(ctx context.Context, name, role string) error {
	b.own("volume "+name, func(ctx context.Context) error { return b.Engine.RemoveVolume(ctx, name) })
	if err := b.Engine.CreateVolume(ctx, engine.VolumeSpec{Name: name, Labels: b.Labels(role)}); err != nil {
		return fmt.Errorf("create the volume %s: %w", name, err)
	}
	return nil
}

// allocatePorts gives each tcpPorts/udpPorts entry a free host port (once)
// and sets <KEY>=<host port> (§2.3).
func (a *App) allocatePorts() error {
	if a.portEnv != nil {
		return nil
	}
	a.portEnv = map[string]string{}
	for _, proto := range []string{"tcp", "udp"} {
		ports := a.Manifest.TCPPorts
		if proto == "udp" {
			ports = a.Manifest.UDPPorts
		}
		keys := make([]string, 0, len(ports))
		for k := range ports {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := ports[k]
			count := max(p.PortCount, 1)
			host, err := freePorts(proto, count)
			if err != nil {
				return fmt.Errorf("find a free host port for %s: %w", k, err)
			}
			a.portEnv[k] = strconv.Itoa(host[0])
			if p.PortCount > 0 {
				a.portEnv[k+"_COUNT"] = strconv.Itoa(p.PortCount)
			}
			for i, h := range host {
				cp := h
				if p.ContainerPort > 0 {
					cp = p.ContainerPort + i
				}
				a.ports = append(a.ports, engine.Port{HostIP: "127.0.0.1", HostPort: h, ContainerPort: cp, Protocol: proto})
			}
		}
	}
	return nil
}

// freePorts finds n consecutive free ports.
func freePorts(proto string, n int) ([]int, error) {
	for try := 0; try < 20; try++ {
		first, err := freePort(proto)
		if err != nil {
			return nil, err
		}
		out := []int{first}
		for i := 1; i < n; i++ {
			if !portFree(proto, first+i) {
				break
			}
			out = append(out, first+i)
		}
		if len(out) == n {
			return out, nil
		}
	}
	return nil, errors.New("no range of free ports")
}

func freePort(proto string) (int, error) {
	if proto == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(proto string, port int) bool {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if proto == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
	}
	return err == nil
}

// StopResult is how a container stopped.
type StopResult struct {
	Took time.Duration `json:"took"`
	// ExitCode is the container's exit code as the engine reports it
	// after the stop (known when Inspected).
	ExitCode int `json:"exitCode"`
	// Inspected: the engine was asked for the exit code after the stop
	// (false when the stopped container could not be inspected).
	Inspected bool `json:"inspected"`
	// Killed: the app did not end on SIGTERM within the grace period.
	Killed bool `json:"killed"`
	// OOMKilled: the engine says the kernel killed the app for want of
	// memory.
	OOMKilled bool `json:"oomKilled,omitempty"`
	// LastOutput is the end of the app's output when it did not stop
	// cleanly (Clean): the container, and its logs, go with the stop.
	LastOutput string `json:"lastOutput,omitempty"`
	// Err is the stop's own error (Uninstall's includes it).
	Err error `json:"-"`
}

// ExitSIGTERM is the exit code of a process that died of SIGTERM
// (128+15), or of a shell that returns the status of a child that did.
const ExitSIGTERM = 128 + 15

// Signal is the signal the exit code stands for, 0 for none: a code of
// 128+n (n from 1 to 64) is how a process that died of signal n ends,
// and how a shell ends that returns the status of a child that did.
func (r StopResult) Signal() int {
	if n := r.ExitCode - 128; r.Inspected && n >= 1 && n <= 64 {
		return n
	}
	return 0
}

// Clean says the app ended on SIGTERM as the platform expects: exit 0,
// or 143 (SIGTERM's own end), within the grace period. An exit code the
// engine could not tell counts as clean.
func (r StopResult) Clean() bool {
	return !r.Killed && (!r.Inspected || r.ExitCode == 0 || r.ExitCode == ExitSIGTERM)
}

// linuxSignals names Linux's signals by number: the numbers of a
// container's exit codes are Linux's whatever system cpk runs on.
var linuxSignals = [...]string{1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
	"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",
	"SIGIO", "SIGPWR", "SIGSYS"}

// SignalName names Linux signal n ("SIGSEGV", "SIGRTMIN+3").
func SignalName(n int) string {
	switch {
	case n > 0 && n < len(linuxSignals):
		return linuxSignals[n]
	case n >= 34 && n <= 64:
		return fmt.Sprintf("SIGRTMIN+%d", n-34)
	}
	return fmt.Sprintf("signal %d", n)
}

// StopGrace is the platform's grace period between SIGTERM and SIGKILL.
const StopGrace = 10 * time.Second

// stopOutputLines is how much of the app's output a stop that was not
// clean keeps.
const stopOutputLines = 30

// Stop stops and removes the container (SIGTERM, SIGKILL after 10 s) and
// says how the app ended: whether it needed the SIGKILL, its exit code
// and, when it did not end cleanly, the end of its output.
func (a *App) Stop(ctx context.Context) (StopResult, error) {
	var res StopResult
	if a.Container == "" {
		return res, nil
	}
	name := a.Container
	start := time.Now()
	err := a.box.Engine.Stop(ctx, name, StopGrace)
	res.Took = time.Since(start)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return res, fmt.Errorf("stop %s: %w", name, err)
	}
	if info, ierr := a.box.Engine.InspectContainer(ctx, name); ierr == nil {
		res.ExitCode, res.OOMKilled, res.Inspected = info.ExitCode, info.OOMKilled, true
	}
	// 137 = 128+SIGKILL; the grace period is the other witness (an app
	// may exit 137 on its own).
	res.Killed = res.ExitCode == 137 && res.Took >= StopGrace-time.Second
	a.box.logf("stopped %s in %s (exit %d)", name, res.Took.Round(100*time.Millisecond), res.ExitCode)
	if !res.Clean() {
		var buf bytes.Buffer
		if a.box.Engine.Logs(ctx, name, engine.LogsSpec{Tail: stopOutputLines}, &buf) == nil {
			res.LastOutput = buf.String()
		}
	}
	return res, a.removeContainer(ctx)
}

// removeContainer removes the current container and, with it, its /tmp
// and /run.
func (a *App) removeContainer(ctx context.Context) error {
	var errs []error
	if a.Container != "" {
		errs = append(errs, a.box.Engine.Remove(ctx, a.Container))
	}
	for _, v := range a.volumes {
		errs = append(errs, a.box.Engine.RemoveVolume(ctx, v))
	}
	a.Container, a.volumes, a.HostPort = "", nil, 0
	return errors.Join(errs...)
}

// Restart stops the app (measured) and starts a fresh container.
func (a *App) Restart(ctx context.Context) (StopResult, error) {
	res, err := a.Stop(ctx)
	if err != nil {
		return res, err
	}
	return res, a.Start(ctx)
}

// Reconfigure stops the app, switches to image, manifest and location
// (update, move), sets the add-ons up again with the same credentials
// and data, and starts it.
func (a *App) Reconfigure(ctx context.Context, image string, m manifest.Manifest, location string) (StopResult, error) {
	res, err := a.Stop(ctx)
	if err != nil {
		return res, err
	}
	old := a.Manifest
	a.Image, a.Manifest, a.Location = image, m, location
	for n := range old.Addons {
		if _, ok := m.Addons[n]; !ok && a.setUp[n] {
			if ad, err := lookupAddon(n); err == nil {
				if err := ad.Teardown(ctx, a); err != nil {
					return res, fmt.Errorf("tear down the %s add-on: %w", n, err)
				}
			}
			delete(a.setUp, n)
		}
	}
	if err := a.setupAddons(ctx); err != nil {
		return res, err
	}
	return res, a.Start(ctx)
}

// Uninstall stops the app, tears its add-ons down (databases dropped,
// /app/data removed) and forgets its credentials.
func (a *App) Uninstall(ctx context.Context) (StopResult, error) {
	a.restored = nil
	gone := a.dropHelper(ctx) // beside the stop
	res, err := a.Stop(ctx)
	res.Err = err
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if err := a.helperGone(gone); err != nil {
		errs = append(errs, err)
	}
	names := make([]string, 0, len(a.setUp))
	for n := range a.setUp {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if ad, err := lookupAddon(n); err == nil {
			if err := ad.Teardown(ctx, a); err != nil {
				errs = append(errs, fmt.Errorf("tear down the %s add-on: %w", n, err))
			}
		}
		delete(a.setUp, n)
	}
	if a.creds != nil {
		errs = append(errs, a.creds.remove())
	}
	return res, errors.Join(errs...)
}

// Top lists the processes of the running container.
func (a *App) Top(ctx context.Context) (*engine.Processes, error) {
	if a.Container == "" {
		return nil, fmt.Errorf("app %s is not running", a.ID)
	}
	return a.box.Engine.Top(ctx, a.Container)
}

// Exec runs a command in the running container.
func (a *App) Exec(ctx context.Context, user string, cmd ...string) (*engine.ExecResult, error) {
	if a.Container == "" {
		return nil, fmt.Errorf("app %s is not running", a.ID)
	}
	return a.box.Engine.Exec(ctx, a.Container, engine.ExecSpec{Cmd: cmd, User: user})
}

// Logs returns the current container's output.
func (a *App) Logs(ctx context.Context) (string, error) {
	if a.Container == "" {
		return "", nil
	}
	var buf bytes.Buffer
	err := a.box.Engine.Logs(ctx, a.Container, engine.LogsSpec{}, &buf)
	return buf.String(), err
}

// State inspects the current container.
func (a *App) State(ctx context.Context) (*engine.ContainerInfo, error) {
	if a.Container == "" {
		return nil, fmt.Errorf("app %s is not running", a.ID)
	}
	return a.box.Engine.InspectContainer(ctx, a.Container)
}

// Clone returns a stopped copy of the app sharing its add-ons, data and
// credentials: the read-only diagnosis runs it with a writable root.
func (a *App) Clone() *App {
	c := *a
	c.Container, c.volumes, c.HostPort = "", nil, 0
	c.seq = a.seq + 100
	return &c
}

// AppRecord is what a long-lived box keeps of an app from one process to
// the next (Record, Adopt): its identity, image and manifest, its current
// container and volumes, the add-ons set up and the host ports given.
type AppRecord struct {
	ID         string            `json:"id"`
	Location   string            `json:"location"`
	Image      string            `json:"image"`
	Raw        json.RawMessage   `json:"manifest"`
	Container  string            `json:"container,omitempty"`
	Volumes    []string          `json:"volumes,omitempty"`
	HostPort   int               `json:"hostPort,omitempty"`
	PinPort    int               `json:"pinPort,omitempty"`
	DataVolume string            `json:"dataVolume,omitempty"`
	Seq        int               `json:"seq"`
	SetUp      []string          `json:"addons,omitempty"`
	PortEnv    map[string]string `json:"portEnv,omitempty"`
	Ports      []engine.Port     `json:"ports,omitempty"`
}

// Record returns what Adopt needs to take the app over in another process.
func (a *App) Record() AppRecord {
	return AppRecord{ID: a.ID, Location: a.Location, Image: a.Image, Raw: a.Raw, Container: a.Container,
		Volumes: append([]string(nil), a.volumes...), HostPort: a.HostPort, PinPort: a.PinPort, DataVolume: a.DataVolume,
		Seq: a.seq, SetUp: sortedAddons(a), PortEnv: a.portEnv, Ports: a.ports}
}

// Adopt takes over an app recorded by an earlier process of the same run
// (Options.RunID): m is its manifest, decoded from r.Raw. Nothing is
// created; its add-ons' variables are computed again at its next start.
func (b *Box) Adopt(r AppRecord, m manifest.Manifest) *App {
	a := &App{box: b, ID: r.ID, Location: r.Location, Image: r.Image, Manifest: m, Raw: r.Raw, Container: r.Container,
		volumes: r.Volumes, HostPort: r.HostPort, PinPort: r.PinPort, DataVolume: r.DataVolume, seq: r.Seq,
		portEnv: r.PortEnv, ports: r.Ports, setUp: map[string]bool{}, data: &dataHelper{}, adopted: true}
	for _, n := range r.SetUp {
		a.setUp[n] = true
	}
	return a
}

// NewAppWithID prepares an app under a given id (a restore in place keeps
// the app's id); nothing is created yet.
func (b *Box) NewAppWithID(id, image string, m manifest.Manifest, location string) *App {
	a := b.NewApp(image, m, location)
	a.ID = id
	return a
}
