package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// apiEngine talks to podman's or docker's Docker-compatible REST API on a
// local socket (github.com/moby/moby/client): one HTTP request instead of
// one engine process per verb. Image builds and imports stay on the
// command line (cli): the engines' compat build endpoints want the whole
// context as a tar stream and lose podman's build settings (chroot
// isolation, layers, the clean-up of interrupted builds).
type apiEngine struct {
	cli  *cliEngine
	c    *client.Client
	host string   // the socket, for messages
	svc  *service // the podman service cpk started; nil when it was running already

	mu  sync.Mutex
	tty map[string]bool // containers this engine ran, by name and id: whether they have a TTY
}

var _ Engine = (*apiEngine)(nil)

func (e *apiEngine) Name() string { return e.cli.kind }

// Close stops the service cpk started (if any) and closes the client.
func (e *apiEngine) Close() error {
	err := e.c.Close()
	if e.svc != nil {
		err = errors.Join(err, e.svc.stop())
	}
	return err
}

// fail turns a client error into an *Error that names the call; a missing
// object matches ErrNotFound, an engine that does not answer ErrUnavailable.
func (e *apiEngine) fail(ctx context.Context, verb, object string, err error) error {
	if err == nil {
		return nil
	}
	ee := &Error{Command: e.cli.kind + " api " + verb + " " + object, ExitCode: -1, Err: err, notFound: cerrdefs.IsNotFound(err)}
	if cerr := ctx.Err(); cerr != nil {
		ee.Err = cerr
	}
	if client.IsErrConnectionFailed(err) {
		return Unavailable(fmt.Errorf("%w (socket %s)", ee, e.host))
	}
	return ee
}

func (e *apiEngine) Info(ctx context.Context) (*Info, error) {
	v, err := e.c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return &Info{Name: e.cli.kind, Path: e.cli.path}, Unavailable(fmt.Errorf("the %s API on %s does not answer: %w", e.cli.kind, e.host, err))
	}
	info, err := e.cli.Info(ctx)
	if info == nil {
		info = &Info{Name: e.cli.kind, Path: e.cli.path, Details: map[string]string{}}
	}
	if info.Details == nil {
		info.Details = map[string]string{}
	}
	if info.Version == "" {
		info.Version = v.Version
	}
	how := "running already"
	if e.svc != nil {
		how = "started by cpk"
	}
	info.Details["api"] = e.host + " (" + how + "), API " + v.APIVersion
	return info, err
}

// --- images: builds, imports and saves on the command line ---

func (e *apiEngine) BuildImage(ctx context.Context, spec BuildSpec) (string, error) {
	return e.cli.BuildImage(ctx, spec)
}

func (e *apiEngine) ImportImage(ctx context.Context, spec ImportSpec) (string, error) {
	return e.cli.ImportImage(ctx, spec)
}

// SaveImage writes a docker-archive with the engine's command, like builds.
func (e *apiEngine) SaveImage(ctx context.Context, ref, path string) error {
	return e.cli.SaveImage(ctx, ref, path)
}

func (e *apiEngine) InspectImage(ctx context.Context, ref string) (*Image, error) {
	res, err := e.c.ImageInspect(ctx, ref)
	if err != nil {
		return nil, e.fail(ctx, "image inspect", ref, err)
	}
	img := &Image{ID: normalizeID(res.ID), Tags: res.RepoTags, Size: res.Size, Created: parseTime(res.Created)}
	if res.Config != nil {
		img.Labels = res.Config.Labels
	}
	if len(res.RepoDigests) > 0 {
		if _, d, ok := strings.Cut(res.RepoDigests[0], "@"); ok {
			img.Digest = d
		}
	}
	return img, nil
}

func (e *apiEngine) ListImages(ctx context.Context, f ImageFilter) ([]Image, error) {
	if e.cli.lister != "" {
		// buildah reads a local podman's store much faster than podman
		// lists a few hundred images, through its API too.
		return e.cli.ListImages(ctx, f)
	}
	filters := labelFilter(f.Labels)
	if f.Reference != "" {
		filters.Add("reference", f.Reference)
	}
	res, err := e.c.ImageList(ctx, client.ImageListOptions{Filters: filters})
	if err != nil {
		return nil, e.fail(ctx, "images", f.Reference, err)
	}
	var out []Image
	for _, s := range res.Items {
		var tags []string
		for _, t := range s.RepoTags {
			if t != "" && !strings.HasPrefix(t, "<none>") {
				tags = append(tags, t)
			}
		}
		if len(tags) > 0 {
			out = append(out, Image{ID: normalizeID(s.ID), Tags: tags})
		}
	}
	return out, nil
}

func (e *apiEngine) TagImage(ctx context.Context, image, ref string) error {
	unlock, err := e.cli.lockNames(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = e.c.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: ref})
	return e.fail(ctx, "tag", ref, err)
}

// UntagImage removes the tag: both engines delete only the name when the
// image has others.
func (e *apiEngine) UntagImage(ctx context.Context, ref string) error {
	unlock, err := e.cli.lockNames(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = e.c.ImageRemove(ctx, ref, client.ImageRemoveOptions{})
	return ignoreMissing(e.fail(ctx, "untag", ref, err))
}

func (e *apiEngine) RemoveImage(ctx context.Context, ref string) error {
	unlock, err := e.cli.lockNames(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = e.c.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true})
	return ignoreMissing(e.fail(ctx, "image rm", ref, err))
}

// --- containers ---

// createOptions is the container as the API wants it.
func (e *apiEngine) createOptions(spec RunSpec) (client.ContainerCreateOptions, error) {
	cfg := &container.Config{Image: spec.Image, Cmd: spec.Cmd, Labels: spec.Labels, User: spec.User, Hostname: spec.Hostname,
		WorkingDir: spec.WorkDir, Tty: spec.TTY}
	for _, k := range sortedKeys(spec.Env) {
		cfg.Env = append(cfg.Env, k+"="+spec.Env[k])
	}
	hc := &container.HostConfig{ReadonlyRootfs: spec.ReadOnly, CapDrop: spec.CapDrop, CapAdd: spec.CapAdd}
	hc.Memory, hc.MemorySwap, hc.CPUShares = spec.Memory, spec.MemorySwap, int64(spec.CPUShares)
	for _, d := range spec.Devices {
		host, ctr, _ := strings.Cut(d, ":")
		if ctr == "" {
			ctr = host
		}
		hc.Devices = append(hc.Devices, container.DeviceMapping{PathOnHost: host, PathInContainer: ctr, CgroupPermissions: "rwm"})
	}
	if len(spec.Tmpfs) > 0 {
		hc.Tmpfs = map[string]string{}
		for _, t := range spec.Tmpfs {
			path, opts, _ := strings.Cut(t, ":")
			hc.Tmpfs[path] = opts
		}
	}
	if spec.ReadOnly && e.cli.kind == Podman && len(spec.VolumesFrom) == 0 {
		// (With VolumesFrom, the containers it names provide /tmp and /run:
		// a tmpfs here would hide them, as it hid the app's /run from its
		// scheduler tasks.)
		// podman's compat API mounts writable tmpfs on /tmp, /run and
		// /var/tmp of a read-only container (its CLI's --read-only-tmpfs,
		// which the API cannot turn off); cpk says exactly which paths are
		// writable: the others get an empty read-only tmpfs.
		for _, p := range []string{"/tmp", "/run", "/var/tmp"} {
			if !mounted(spec, p) {
				if hc.Tmpfs == nil {
					hc.Tmpfs = map[string]string{}
				}
				hc.Tmpfs[p] = "ro"
			}
		}
	}
	for _, m := range spec.Volumes {
		if m.Source == "" {
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[m.Target] = struct{}{}
			continue
		}
		b := m.Source + ":" + m.Target
		if m.ReadOnly {
			b += ":ro"
		}
		hc.Binds = append(hc.Binds, b)
	}
	hc.VolumesFrom = spec.VolumesFrom
	if len(spec.Ports) > 0 {
		cfg.ExposedPorts = network.PortSet{}
		hc.PortBindings = network.PortMap{}
		for _, p := range spec.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = "tcp"
			}
			port, err := network.ParsePort(strconv.Itoa(p.ContainerPort) + "/" + proto)
			if err != nil {
				return client.ContainerCreateOptions{}, fmt.Errorf("port %s: %w", p, err)
			}
			var b network.PortBinding
			if p.HostIP != "" {
				ip, err := netip.ParseAddr(p.HostIP)
				if err != nil {
					return client.ContainerCreateOptions{}, fmt.Errorf("port %s: %w", p, err)
				}
				b.HostIP = ip
			}
			if p.HostPort != 0 {
				b.HostPort = strconv.Itoa(p.HostPort)
			}
			cfg.ExposedPorts[port] = struct{}{}
			hc.PortBindings[port] = append(hc.PortBindings[port], b)
		}
	}
	var nc *network.NetworkingConfig
	switch spec.Network {
	case "":
	case "none", "host", "bridge":
		hc.NetworkMode = container.NetworkMode(spec.Network)
	default:
		hc.NetworkMode = container.NetworkMode(spec.Network)
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{spec.Network: {Aliases: spec.Aliases}}}
	}
	return client.ContainerCreateOptions{Name: spec.Name, Config: cfg, HostConfig: hc, NetworkingConfig: nc}, nil
}

// mounted says whether the spec mounts something on path.
func mounted(spec RunSpec, path string) bool {
	for _, m := range spec.Volumes {
		if m.Target == path {
			return true
		}
	}
	for _, t := range spec.Tmpfs {
		if p, _, _ := strings.Cut(t, ":"); p == path {
			return true
		}
	}
	return false
}

func (e *apiEngine) Run(ctx context.Context, spec RunSpec) (string, error) {
	if spec.ReadOnly && e.cli.kind == Podman && len(spec.VolumesFrom) > 0 {
		// podman mounts its writable tmpfs on /tmp, /run and /var/tmp of a
		// read-only container even where VolumesFrom provides them, which
		// hides what the other container shares there (the app's /run, with
		// the configuration its start wrote, from its scheduler tasks):
		// those volumes are mounted again by name.
		shared, err := e.sharedTmp(ctx, spec)
		if err != nil {
			return "", err
		}
		spec.Volumes = append(slices.Clone(spec.Volumes), shared...)
	}
	opts, err := e.createOptions(spec)
	if err != nil {
		return "", err
	}
	res, err := e.c.ContainerCreate(ctx, opts)
	if err != nil {
		return "", e.fail(ctx, "create", spec.Name, redactEnv(err, spec.Env))
	}
	e.mu.Lock()
	if e.tty == nil {
		e.tty = map[string]bool{}
	}
	e.tty[res.ID] = spec.TTY
	if spec.Name != "" {
		e.tty[spec.Name] = spec.TTY
	}
	e.mu.Unlock()
	if _, err := e.c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		return "", e.fail(ctx, "start", spec.Name, redactEnv(err, spec.Env))
	}
	return res.ID, nil
}

// redactEnv hides secret-looking variables' values in an engine's message.
func redactEnv(err error, env map[string]string) error {
	var secrets []string
	for k, v := range env {
		if secretKey.MatchString(k) {
			secrets = append(secrets, v)
		}
	}
	msg := err.Error()
	if red := redactText(msg, secrets); red != msg {
		return errors.New(red)
	}
	return err
}

// Exec runs the command through an exec instance: create, attach (its
// output demultiplexed, its input copied and then closed), inspect for
// the exit code.
func (e *apiEngine) Exec(ctx context.Context, ctr string, spec ExecSpec) (*ExecResult, error) {
	opts := client.ExecCreateOptions{Cmd: spec.Cmd, User: spec.User, WorkingDir: spec.WorkDir,
		AttachStdout: true, AttachStderr: true, AttachStdin: spec.Stdin != nil}
	for _, k := range sortedKeys(spec.Env) {
		opts.Env = append(opts.Env, k+"="+spec.Env[k])
	}
	object := ctr + " " + strings.Join(RedactArgs(spec.Cmd), " ")
	created, err := e.c.ExecCreate(ctx, ctr, opts)
	if err != nil {
		return nil, e.fail(ctx, "exec", object, err)
	}
	att, err := e.c.ExecAttach(ctx, created.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, e.fail(ctx, "exec", object, err)
	}
	defer att.Close()
	stop := context.AfterFunc(ctx, func() { att.Close() })
	defer stop()
	inErr := make(chan error, 1)
	if spec.Stdin != nil {
		go func() {
			_, err := io.Copy(att.Conn, spec.Stdin)
			if cerr := att.CloseWrite(); err == nil {
				err = cerr
			}
			inErr <- err
		}()
	} else {
		inErr <- nil
	}
	var stdout, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
	if ctx.Err() != nil {
		return nil, e.fail(ctx, "exec", object, ctx.Err())
	}
	if err != nil {
		return nil, e.fail(ctx, "exec", object, err)
	}
	if err := <-inErr; err != nil && !errors.Is(err, net.ErrClosed) && !isBrokenPipe(err) {
		return nil, e.fail(ctx, "exec", object, fmt.Errorf("write its input: %w", err))
	}
	res := &ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	// The exit code is set a moment after the output ends.
	for i := 0; ; i++ {
		ins, err := e.c.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
		if err != nil {
			return nil, e.fail(ctx, "exec", object, err)
		}
		if !ins.Running || i == 50 {
			res.ExitCode = ins.ExitCode
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, e.fail(ctx, "exec", object, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (e *apiEngine) Top(ctx context.Context, ctr string) (*Processes, error) {
	// podman reads psgo descriptors and numbers the processes in the
	// container (its first is 1); docker hands its arguments to ps on its
	// host, whose numbers are the host's.
	args, init := []string{topColumns}, 1
	if e.cli.kind == Docker {
		info, err := e.InspectContainer(ctx, ctr)
		if err != nil {
			return nil, err
		}
		args, init = []string{"-o", topColumns}, info.Pid
	}
	res, err := retryTop(ctx, func() (client.ContainerTopResult, error) {
		return e.c.ContainerTop(ctx, ctr, client.ContainerTopOptions{Arguments: args})
	})
	if err != nil {
		return nil, e.fail(ctx, "top", ctr, err)
	}
	return parseTop(res.Processes, init), nil
}

// sharedTmp returns the volumes that spec's VolumesFrom containers have
// on /tmp, /run and /var/tmp (where spec mounts nothing itself).
func (e *apiEngine) sharedTmp(ctx context.Context, spec RunSpec) ([]Mount, error) {
	var out []Mount
	for _, from := range spec.VolumesFrom {
		name, mode, _ := strings.Cut(from, ":")
		res, err := e.c.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
		if err != nil {
			return nil, e.fail(ctx, "inspect", name, err)
		}
		for _, m := range res.Container.Mounts {
			switch m.Destination {
			case "/tmp", "/run", "/var/tmp":
			default:
				continue
			}
			taken := slices.ContainsFunc(out, func(o Mount) bool { return o.Target == m.Destination })
			if m.Type != mount.TypeVolume || m.Name == "" || taken || mounted(spec, m.Destination) {
				continue
			}
			out = append(out, Mount{Source: m.Name, Target: m.Destination, ReadOnly: mode == "ro" || !m.RW})
		}
	}
	return out, nil
}

func isBrokenPipe(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "connection reset"))
}

// hasTTY says whether a container has a TTY (its output is then not
// multiplexed): known for the containers this engine ran, inspected for others.
func (e *apiEngine) hasTTY(ctx context.Context, ctr string) (bool, error) {
	e.mu.Lock()
	tty, ok := e.tty[ctr]
	e.mu.Unlock()
	if ok {
		return tty, nil
	}
	res, err := e.c.ContainerInspect(ctx, ctr, client.ContainerInspectOptions{})
	if err != nil {
		return false, e.fail(ctx, "logs", ctr, err)
	}
	return res.Container.Config != nil && res.Container.Config.Tty, nil
}

func (e *apiEngine) Logs(ctx context.Context, ctr string, spec LogsSpec, w io.Writer) error {
	tty, err := e.hasTTY(ctx, ctr)
	if err != nil {
		return err
	}
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: spec.Timestamps}
	if spec.Tail > 0 {
		opts.Tail = strconv.Itoa(spec.Tail)
	}
	if !spec.Since.IsZero() {
		opts.Since = strconv.FormatInt(spec.Since.Unix(), 10)
	}
	r, err := e.c.ContainerLogs(ctx, ctr, opts)
	if err != nil {
		return e.fail(ctx, "logs", ctr, err)
	}
	defer r.Close()
	if tty {
		_, err = io.Copy(w, r)
	} else {
		_, err = stdcopy.StdCopy(w, w, r)
	}
	return e.fail(ctx, "logs", ctr, err)
}

func (e *apiEngine) Start(ctx context.Context, ctr string) error {
	_, err := e.c.ContainerStart(ctx, ctr, client.ContainerStartOptions{})
	return e.fail(ctx, "start", ctr, err)
}

func (e *apiEngine) Stop(ctx context.Context, ctr string, grace time.Duration) error {
	secs := int((grace + time.Second - 1) / time.Second)
	_, err := e.c.ContainerStop(ctx, ctr, client.ContainerStopOptions{Timeout: &secs})
	return e.fail(ctx, "stop", ctr, err)
}

func (e *apiEngine) Remove(ctx context.Context, ctr string) error {
	return ignoreMissing(e.remove(ctx, ctr))
}

// remove kills a running container at once (podman's forced removal
// would first wait 10 s for one that ignores SIGTERM) and removes it
// with its anonymous volumes.
func (e *apiEngine) remove(ctx context.Context, ctr string) error {
	if e.cli.kind == Podman {
		if _, err := e.c.ContainerKill(ctx, ctr, client.ContainerKillOptions{Signal: "KILL"}); cerrdefs.IsNotFound(err) {
			return e.fail(ctx, "rm", ctr, err)
		}
	}
	_, err := e.c.ContainerRemove(ctx, ctr, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err == nil {
		e.mu.Lock()
		delete(e.tty, ctr)
		e.mu.Unlock()
	}
	return e.fail(ctx, "rm", ctr, err)
}

// labelFilter is a label filter of the API ("k" or "k=v" each).
func labelFilter(labels map[string]string) client.Filters {
	f := client.Filters{}
	for _, k := range sortedKeys(labels) {
		if v := labels[k]; v != "" {
			f.Add("label", k+"="+v)
		} else {
			f.Add("label", k)
		}
	}
	return f
}

func (e *apiEngine) ListContainers(ctx context.Context, labels map[string]string) ([]Container, error) {
	res, err := e.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelFilter(labels)})
	if err != nil {
		return nil, e.fail(ctx, "ps", "", err)
	}
	var out []Container
	for _, c := range res.Items {
		out = append(out, Container{ID: c.ID, Name: containerName(c.Names), Image: c.Image, State: normalizeState(string(c.State))})
	}
	return out, nil
}

func containerName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return strings.TrimPrefix(names[0], "/")
}

func (e *apiEngine) InspectContainer(ctx context.Context, ctr string) (*ContainerInfo, error) {
	res, err := e.c.ContainerInspect(ctx, ctr, client.ContainerInspectOptions{})
	if err != nil {
		return nil, e.fail(ctx, "inspect", ctr, err)
	}
	c := res.Container
	info := &ContainerInfo{ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), Ports: map[string]int{}, Networks: map[string]string{}}
	if c.Config != nil {
		info.Image, info.Labels, info.Env = c.Config.Image, c.Config.Labels, c.Config.Env
	}
	if s := c.State; s != nil {
		info.State, info.Running, info.ExitCode, info.OOMKilled, info.Pid = strings.ToLower(string(s.Status)), s.Running, s.ExitCode, s.OOMKilled, s.Pid
		info.Started, info.Finished = parseTime(s.StartedAt), parseTime(s.FinishedAt)
	}
	if c.NetworkSettings != nil {
		for port, binds := range c.NetworkSettings.Ports {
			for _, b := range binds {
				if n, err := strconv.Atoi(b.HostPort); err == nil && n > 0 {
					info.Ports[port.String()] = n
					break
				}
			}
		}
		for name, ep := range c.NetworkSettings.Networks {
			if ep != nil {
				info.Networks[name] = ""
				if ep.IPAddress.IsValid() {
					info.Networks[name] = ep.IPAddress.String()
				}
			}
		}
	}
	return info, nil
}

func (e *apiEngine) Diff(ctx context.Context, ctr string) ([]Change, error) {
	res, err := e.c.ContainerDiff(ctx, ctr, client.ContainerDiffOptions{})
	if err != nil {
		return nil, e.fail(ctx, "diff", ctr, err)
	}
	var out []Change
	for _, c := range res.Changes {
		out = append(out, Change{Kind: c.Kind.String(), Path: c.Path})
	}
	return out, nil
}

// --- networks and volumes ---

func (e *apiEngine) CreateNetwork(ctx context.Context, spec NetworkSpec) error {
	_, err := e.c.NetworkCreate(ctx, spec.Name, client.NetworkCreateOptions{Driver: "bridge", Labels: spec.Labels, Internal: spec.Internal})
	return e.fail(ctx, "network create", spec.Name, err)
}

func (e *apiEngine) RemoveNetwork(ctx context.Context, name string) error {
	_, err := e.c.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
	return ignoreMissing(e.fail(ctx, "network rm", name, err))
}

func (e *apiEngine) ListNetworks(ctx context.Context, labels map[string]string) ([]string, error) {
	res, err := e.c.NetworkList(ctx, client.NetworkListOptions{Filters: labelFilter(labels)})
	if err != nil {
		return nil, e.fail(ctx, "network ls", "", err)
	}
	var out []string
	for _, n := range res.Items {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out, nil
}

func (e *apiEngine) InspectNetwork(ctx context.Context, name string) (*NetworkInfo, error) {
	res, err := e.c.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil {
		return nil, e.fail(ctx, "network inspect", name, err)
	}
	n := res.Network
	info := &NetworkInfo{Name: n.Name, Labels: n.Labels}
	for _, c := range n.IPAM.Config {
		if c.Gateway.IsValid() {
			info.Gateway = c.Gateway.String()
			break
		}
	}
	return info, nil
}

func (e *apiEngine) CreateVolume(ctx context.Context, spec VolumeSpec) error {
	_, err := e.c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: spec.Name, Labels: spec.Labels})
	return e.fail(ctx, "volume create", spec.Name, err)
}

func (e *apiEngine) RemoveVolume(ctx context.Context, name string) error {
	_, err := e.c.VolumeRemove(ctx, name, client.VolumeRemoveOptions{Force: true})
	return ignoreMissing(e.fail(ctx, "volume rm", name, err))
}

func (e *apiEngine) ListVolumes(ctx context.Context, labels map[string]string) ([]string, error) {
	res, err := e.c.VolumeList(ctx, client.VolumeListOptions{Filters: labelFilter(labels)})
	if err != nil {
		return nil, e.fail(ctx, "volume ls", "", err)
	}
	var out []string
	for _, v := range res.Items {
		out = append(out, v.Name)
	}
	sort.Strings(out)
	return out, nil
}

func (e *apiEngine) ListResources(ctx context.Context, labels map[string]string) ([]Resource, error) {
	f := labelFilter(labels)
	var out []Resource
	cs, err := e.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, e.fail(ctx, "ps", "", err)
	}
	for _, c := range cs.Items {
		out = append(out, Resource{Kind: KindContainer, Name: containerName(c.Names), Labels: c.Labels})
	}
	ns, err := e.c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, e.fail(ctx, "network ls", "", err)
	}
	for _, n := range ns.Items {
		out = append(out, Resource{Kind: KindNetwork, Name: n.Name, Labels: n.Labels})
	}
	vs, err := e.c.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return nil, e.fail(ctx, "volume ls", "", err)
	}
	for _, v := range vs.Items {
		out = append(out, Resource{Kind: KindVolume, Name: v.Name, Labels: v.Labels})
	}
	return carrying(out, labels), nil
}

// RemoveLabelled lists what carries the labels and removes it, the
// containers of a kind at once (in parallel), then networks and volumes.
func (e *apiEngine) RemoveLabelled(ctx context.Context, labels map[string]string) ([]Resource, error) {
	all, err := e.ListResources(ctx, labels)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, kind := range []string{KindContainer, KindNetwork, KindVolume} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, r := range all {
			if r.Kind != kind {
				continue
			}
			wg.Add(1)
			go func(name string) {
				defer wg.Done()
				var err error
				switch kind {
				case KindContainer:
					err = e.Remove(ctx, name)
				case KindNetwork:
					err = e.RemoveNetwork(ctx, name)
				case KindVolume:
					err = e.RemoveVolume(ctx, name)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}(r.Name)
		}
		wg.Wait()
	}
	return all, errors.Join(errs...)
}

// isNotFound says whether err is the engine's "no such object", from its
// API or its command line.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) || cerrdefs.IsNotFound(err) }
