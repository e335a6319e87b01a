package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Podman and Docker are the engines cpk knows.
const (
	Podman = "podman"
	Docker = "docker"
)

// cliEngine drives an engine's command line. Podman and docker share almost
// every argument; the differences are in the few methods that check kind.
type cliEngine struct {
	kind   string // Podman or Docker
	path   string // the program
	runner *Runner
	// lister is buildah, which lists a local podman's images from the same
	// store (containers/storage) ten times faster than podman 4 does with
	// a few hundred images; "" lists with podman.
	lister string
}

// New returns the engine of this kind ("podman" or "docker") run from path
// (default: the kind's name on PATH).
func New(kind, path string, r *Runner) (Engine, error) {
	if kind != Podman && kind != Docker {
		return nil, fmt.Errorf("unknown engine %q: use podman or docker", kind)
	}
	if path == "" {
		path = kind
	}
	if r == nil {
		r = DefaultRunner
	}
	return &cliEngine{kind: kind, path: path, runner: r, lister: imageLister(kind)}, nil
}

// imageLister is buildah's path when it can list a podman engine's images:
// podman is local (not CONTAINER_HOST or a connection) and buildah is
// installed. CPK_IMAGE_LISTER=podman turns it off.
func imageLister(kind string) string {
	if kind != Podman || os.Getenv("CONTAINER_HOST") != "" || os.Getenv("CONTAINER_CONNECTION") != "" || os.Getenv("CPK_IMAGE_LISTER") == Podman {
		return ""
	}
	path, err := exec.LookPath("buildah")
	if err != nil {
		return ""
	}
	return path
}

func (e *cliEngine) Name() string { return e.kind }

func (e *cliEngine) run(ctx context.Context, c Command) ([]byte, error) {
	c.Name = e.path
	return e.runner.Run(ctx, c)
}

func (e *cliEngine) out(ctx context.Context, args ...string) ([]byte, error) {
	return e.run(ctx, Command{Args: args})
}

// lookup runs a command whose "no such object" failure is ErrNotFound.
func (e *cliEngine) lookup(ctx context.Context, args ...string) ([]byte, error) {
	return e.run(ctx, Command{Args: args, NotFound: true})
}

// ignoreMissing turns ErrNotFound into success: removals are idempotent.
func ignoreMissing(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (e *cliEngine) Info(ctx context.Context) (*Info, error) {
	info := &Info{Name: e.kind, Path: e.path, Details: map[string]string{}}
	if e.kind == Podman {
		info.Remote = os.Getenv("CONTAINER_HOST")
		out, err := e.out(ctx, "info", "--format", "json")
		if err != nil {
			return info, Unavailable(fmt.Errorf("podman does not answer: %w", err))
		}
		var v struct {
			Host struct {
				CgroupManager  string `json:"cgroupManager"`
				CgroupVersion  string `json:"cgroupVersion"`
				NetworkBackend string `json:"networkBackend"`
				OCIRuntime     struct {
					Name string `json:"name"`
				} `json:"ociRuntime"`
				Security struct {
					Rootless bool `json:"rootless"`
				} `json:"security"`
			} `json:"host"`
			Store struct {
				GraphDriverName string `json:"graphDriverName"`
			} `json:"store"`
			Version struct {
				Version string `json:"Version"`
			} `json:"version"`
		}
		if err := json.Unmarshal(out, &v); err != nil {
			return info, fmt.Errorf("podman info: %w", err)
		}
		info.Version = v.Version.Version
		info.Details["runtime"] = v.Host.OCIRuntime.Name
		info.Details["cgroupManager"] = v.Host.CgroupManager
		info.Details["cgroupVersion"] = v.Host.CgroupVersion
		info.Details["networkBackend"] = v.Host.NetworkBackend
		info.Details["storageDriver"] = v.Store.GraphDriverName
		info.Details["rootless"] = strconv.FormatBool(v.Host.Security.Rootless)
		return info, nil
	}
	info.Remote = os.Getenv("DOCKER_HOST")
	out, err := e.out(ctx, "version", "--format", "{{json .}}")
	var v struct {
		Client struct{ Version string }
		Server *struct {
			Version string
			Os      string
		}
	}
	if jerr := json.Unmarshal(bytes.TrimSpace(out), &v); jerr == nil {
		info.Details["client"] = v.Client.Version
		if v.Server != nil {
			info.Version = v.Server.Version
		}
	}
	if err != nil || info.Version == "" {
		if err == nil {
			err = errors.New("no server version")
		}
		return info, Unavailable(fmt.Errorf("the docker daemon does not answer: %w", err))
	}
	return info, nil
}

// --- images ---

// buildArgs is the build command line; iidfile receives the image id.
func (e *cliEngine) buildArgs(spec BuildSpec, iidfile string) []string {
	args := []string{"build", "--iidfile", iidfile}
	if e.kind == Podman {
		// chroot isolation runs RUN steps as children of podman, in its
		// process group, so an interrupt stops them; with the OCI runtime
		// podman 4 leaves them running when it is interrupted.
		if os.Getenv("BUILDAH_ISOLATION") == "" {
			args = append(args, "--isolation", "chroot")
		}
		args = append(args, "--layers", "--force-rm")
	}
	if spec.Dockerfile != "" {
		args = append(args, "--file", spec.Dockerfile)
	}
	for _, k := range sortedKeys(spec.BuildArgs) {
		args = append(args, "--build-arg", k+"="+spec.BuildArgs[k])
	}
	for _, k := range sortedKeys(spec.Labels) {
		args = append(args, "--label", k+"="+spec.Labels[k])
	}
	return append(args, spec.ContextDir)
}

// buildEnv is the environment a build runs with: plain progress (one line
// per event) from BuildKit.
func (e *cliEngine) buildEnv() []string {
	if e.kind == Docker {
		return []string{"BUILDKIT_PROGRESS=plain"}
	}
	return nil
}

func (e *cliEngine) BuildImage(ctx context.Context, spec BuildSpec) (string, error) {
	if e.kind == Podman && len(spec.Labels) > 0 && plainLabels(spec.Labels) {
		// podman turns every --label into a build step of its own, each
		// leaving an intermediate image behind (and every image makes
		// podman's listings slower): one LABEL line does the same work.
		df, err := withLabels(spec)
		if err != nil {
			return "", err
		}
		defer os.Remove(df)
		spec.Dockerfile, spec.Labels = df, nil
	}
	tmp, err := os.CreateTemp("", "cpk-iid-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	w := &buildWatcher{progress: spec.Progress}
	var out io.Writer = w
	if spec.Output != nil {
		out = io.MultiWriter(spec.Output, w)
	}
	var secrets []string
	for k, v := range spec.BuildArgs {
		if secretKey.MatchString(k) {
			secrets = append(secrets, v)
		}
	}
	cmd := Command{Args: e.buildArgs(spec, tmp.Name()), Env: e.buildEnv(), Output: out, Echo: true, Secrets: secrets}
	_, err = e.run(ctx, cmd)
	if err != nil && e.kind == Podman && ctx.Err() == nil && storeRace.MatchString(err.Error()) {
		// An image another process removed while podman looked its cache
		// up fails the build before any step runs; a second look no
		// longer sees it.
		_, err = e.run(ctx, cmd)
	}
	w.flush()
	if err != nil {
		if e.kind == Podman {
			// An interrupted podman build leaves its working containers
			// behind: remove those that are provably this build's.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if cerr := e.removeBuildContainers(cctx, spec.Owned, w.images()); cerr != nil {
				err = errors.Join(err, fmt.Errorf("remove the interrupted build's containers: %w", cerr))
			}
		}
		return "", err
	}
	id, err := os.ReadFile(tmp.Name())
	if err != nil || len(bytes.TrimSpace(id)) == 0 {
		return "", fmt.Errorf("%s build wrote no image id", e.kind)
	}
	return normalizeID(string(id)), nil
}

// storeRace is podman's answer when an image or layer it was reading
// was removed meanwhile by another process.
var storeRace = regexp.MustCompile(`checking if cached image exists|layer not known`)

// plainLabels says whether labels can be written on a LABEL line as they
// are (no quotes, backslashes or line breaks to escape).
func plainLabels(labels map[string]string) bool {
	for k, v := range labels {
		if strings.ContainsAny(k+v, "\"\\\n\r") || strings.ContainsAny(k, " \t=") {
			return false
		}
	}
	return true
}

// labelLine is one LABEL instruction setting every label.
func labelLine(labels map[string]string) string {
	var b strings.Builder
	b.WriteString("LABEL")
	for _, k := range sortedKeys(labels) {
		fmt.Fprintf(&b, " %q=%q", k, labels[k])
	}
	return b.String()
}

// withLabels writes a copy of the build's Dockerfile ending with one LABEL
// line for its labels, and returns its path.
func withLabels(spec BuildSpec) (string, error) {
	src := spec.Dockerfile
	if src == "" {
		src = filepath.Join(spec.ContextDir, "Containerfile")
		if _, err := os.Stat(src); err != nil {
			src = filepath.Join(spec.ContextDir, "Dockerfile")
		}
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("read the Dockerfile: %w", err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, labelLine(spec.Labels)+"\n"...)
	f, err := os.CreateTemp("", "cpk-Dockerfile-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// removeBuildContainers removes podman's build ("working") containers named
// after one of owned (per-build FROM aliases) or after an intermediate
// image that this build created: buildah names them <image>-working-container.
func (e *cliEngine) removeBuildContainers(ctx context.Context, owned, images []string) error {
	var prefixes []string
	for _, ref := range owned {
		prefixes = append(prefixes, workingName(ref))
	}
	out, err := e.out(ctx, "ps", "--all", "--external", "--no-trunc", "--format", "{{.ID}}\t{{.Names}}")
	if err != nil {
		return err
	}
	var errs []error
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		id, name, ok := strings.Cut(line, "\t")
		if !ok || !ownedWorkingContainer(name, prefixes, images) {
			continue
		}
		if _, err := e.lookup(ctx, "rm", "--force", id); ignoreMissing(err) != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var workingSuffix = regexp.MustCompile(`-working-container(-\d+)?$`)

// ownedWorkingContainer says whether a container name is one of a build's
// working containers.
func ownedWorkingContainer(name string, prefixes, images []string) bool {
	loc := workingSuffix.FindStringIndex(name)
	if loc == nil {
		return false
	}
	base := name[:loc[0]]
	for _, p := range prefixes {
		if base == p {
			return true
		}
	}
	if len(base) >= 11 && hexOnly(base) {
		for _, id := range images {
			if strings.HasPrefix(id, base) || strings.HasPrefix(base, id) {
				return true
			}
		}
	}
	return false
}

// workingName is the name buildah gives a working container started from
// ref, less the suffix: the last path element without tag or digest.
func workingName(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	if i := strings.LastIndex(ref, ":"); i >= 0 {
		ref = ref[:i]
	}
	return ref
}

func hexOnly(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// buildWatcher reads build output line by line: progress steps, and the
// intermediate images podman reports ("--> 1a2b3c…", "--> Using cache …").
type buildWatcher struct {
	mu       sync.Mutex
	progress func(step, total int)
	partial  []byte
	seen     []string
}

var (
	stepPatterns = []*regexp.Regexp{
		regexp.MustCompile(`^STEP (\d+)/(\d+)`),                  // podman
		regexp.MustCompile(`^Step (\d+)/(\d+) :`),                // docker's classic builder
		regexp.MustCompile(`^#\d+ \[(?:[^ \]]+ )?(\d+)/(\d+)\]`), // BuildKit plain progress
	}
	intermediate = regexp.MustCompile(`^--> (?:Using cache )?([0-9a-f]{11,64})\b`)
)

func (w *buildWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(bytes.TrimRight(w.partial[:i], "\r")))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *buildWatcher) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.line(string(w.partial))
		w.partial = nil
	}
}

func (w *buildWatcher) line(l string) {
	if m := intermediate.FindStringSubmatch(l); m != nil {
		w.seen = append(w.seen, m[1])
		return
	}
	if w.progress == nil {
		return
	}
	for _, re := range stepPatterns {
		if m := re.FindStringSubmatch(l); m != nil {
			step, _ := strconv.Atoi(m[1])
			total, _ := strconv.Atoi(m[2])
			w.progress(step, total)
			return
		}
	}
}

func (w *buildWatcher) images() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

func (e *cliEngine) importArgs(spec ImportSpec) []string {
	args := []string{"import"}
	for _, k := range sortedKeys(spec.Labels) {
		args = append(args, "--change", "LABEL "+k+"="+strconv.Quote(spec.Labels[k]))
	}
	for _, kv := range spec.Env {
		args = append(args, "--change", "ENV "+kv)
	}
	if len(spec.Cmd) > 0 {
		cmd, _ := json.Marshal(spec.Cmd)
		args = append(args, "--change", "CMD "+string(cmd))
	}
	return append(args, spec.Tarball, spec.Ref)
}

func (e *cliEngine) ImportImage(ctx context.Context, spec ImportSpec) (string, error) {
	out, err := e.out(ctx, e.importArgs(spec)...)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return normalizeID(lines[len(lines)-1]), nil
}

func (e *cliEngine) InspectImage(ctx context.Context, ref string) (*Image, error) {
	out, err := e.lookup(ctx, "image", "inspect", ref)
	if err != nil {
		return nil, err
	}
	var imgs []struct {
		ID      string `json:"Id"`
		Digest  string
		Created time.Time
		Size    int64
		Tags    []string `json:"RepoTags"`
		Config  struct {
			Labels map[string]string
		}
	}
	if err := json.Unmarshal(out, &imgs); err != nil {
		return nil, fmt.Errorf("%s image inspect %s: %w", e.kind, ref, err)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("image %s: %w", ref, ErrNotFound)
	}
	i := imgs[0]
	return &Image{ID: normalizeID(i.ID), Digest: i.Digest, Created: i.Created, Size: i.Size, Tags: i.Tags, Labels: i.Config.Labels}, nil
}

func labelFilters(labels map[string]string) []string {
	var args []string
	for _, k := range sortedKeys(labels) {
		f := "label=" + k
		if v := labels[k]; v != "" {
			f += "=" + v
		}
		args = append(args, "--filter", f)
	}
	return args
}

func (e *cliEngine) listImagesArgs(f ImageFilter) []string {
	args := []string{"images", "--no-trunc"}
	if f.Reference != "" {
		// --all spares podman its search for intermediate images to
		// hide (untagged ones cannot match a reference anyway): with a few
		// hundred images, half a second instead of one or more.
		args = append(args, "--all", "--filter", "reference="+f.Reference)
	}
	args = append(args, labelFilters(f.Labels)...)
	return append(args, "--format", "{{.ID}}\t{{.Repository}}\t{{.Tag}}")
}

func (e *cliEngine) ListImages(ctx context.Context, f ImageFilter) ([]Image, error) {
	if e.lister != "" {
		args := append([]string{"images", "--json", "--no-trunc"}, labelFilters(f.Labels)...)
		if f.Reference != "" {
			args = append(args, "--filter", "reference="+f.Reference)
		}
		// An image removed while buildah walks the store fails the whole
		// listing (ErrNotFound: "image not known"); a later walk no
		// longer sees it. A removal of many images takes a moment: five
		// walks, further and further apart.
		out, err := again(ctx, 5, func(n int) time.Duration { return time.Duration(n) * 200 * time.Millisecond },
			func(err error) bool { return errors.Is(err, ErrNotFound) },
			func() ([]byte, error) { return e.runner.Run(ctx, Command{Name: e.lister, Args: args}) })
		if err != nil {
			return nil, err
		}
		return parseBuildahImages(out)
	}
	out, err := e.out(ctx, e.listImagesArgs(f)...)
	if err != nil {
		return nil, err
	}
	return parseImageList(out), nil
}

// parseBuildahImages reads buildah images --json: untagged images left out.
func parseBuildahImages(out []byte) ([]Image, error) {
	var rows []struct {
		ID    string   `json:"id"`
		Names []string `json:"names"`
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		return nil, fmt.Errorf("buildah images: %w", err)
	}
	var imgs []Image
	for _, r := range rows {
		if len(r.Names) > 0 {
			imgs = append(imgs, Image{ID: normalizeID(r.ID), Tags: r.Names})
		}
	}
	return imgs, nil
}

// parseImageList reads "ID\tREPOSITORY\tTAG" rows into images with their
// tags, untagged rows left out.
func parseImageList(out []byte) []Image {
	var imgs []Image
	index := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) != 3 || f[1] == "<none>" || f[2] == "<none>" {
			continue
		}
		id := normalizeID(f[0])
		i, ok := index[id]
		if !ok {
			i = len(imgs)
			index[id] = i
			imgs = append(imgs, Image{ID: id})
		}
		imgs[i].Tags = append(imgs[i].Tags, f[1]+":"+f[2])
	}
	return imgs
}

// namesMu and the names lock file serialise podman's changes to image
// names: podman 4 loses a tag when two processes change the names of one
// image at once (parallel builds alias the same base image).
var namesMu sync.Mutex

func (e *cliEngine) lockNames(ctx context.Context) (func(), error) {
	if e.kind != Podman {
		return func() {}, nil
	}
	namesMu.Lock()
	if os.Getenv("CONTAINER_HOST") != "" {
		return namesMu.Unlock, nil
	}
	unlock, err := LockFile(ctx, filepath.Join(os.TempDir(), "cpk-podman-names.lock"), nil)
	if err != nil {
		namesMu.Unlock()
		return nil, err
	}
	return func() { unlock(); namesMu.Unlock() }, nil
}

func (e *cliEngine) TagImage(ctx context.Context, image, ref string) error {
	unlock, err := e.lockNames(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = e.out(ctx, "tag", image, ref)
	return err
}

func (e *cliEngine) untagArgs(ref string) []string {
	if e.kind == Podman {
		// podman untag IMAGE without names would remove every tag.
		return []string{"untag", ref, ref}
	}
	return []string{"image", "rm", "--no-prune", ref}
}

func (e *cliEngine) UntagImage(ctx context.Context, ref string) error {
	unlock, err := e.lockNames(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = e.lookup(ctx, e.untagArgs(ref)...)
	return ignoreMissing(err)
}

func (e *cliEngine) RemoveImage(ctx context.Context, ref string) error {
	unlock, err := e.lockNames(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = e.lookup(ctx, "image", "rm", ref)
	return ignoreMissing(err)
}

func (e *cliEngine) SaveImage(ctx context.Context, ref, path string) error {
	_, err := e.lookup(ctx, e.saveArgs(ref, path)...)
	return err
}

func (e *cliEngine) saveArgs(ref, path string) []string {
	args := []string{"save", "--output", path}
	if e.kind == Podman {
		args = append(args, "--format", "docker-archive", "--quiet")
	}
	return append(args, ref)
}

// --- containers ---

func (e *cliEngine) runArgs(spec RunSpec) []string {
	args := []string{"run", "--detach"}
	if spec.Name != "" {
		args = append(args, "--name", spec.Name)
	}
	if spec.Hostname != "" {
		args = append(args, "--hostname", spec.Hostname)
	}
	for _, k := range sortedKeys(spec.Labels) {
		args = append(args, "--label", k+"="+spec.Labels[k])
	}
	if spec.User != "" {
		args = append(args, "--user", spec.User)
	}
	if spec.WorkDir != "" {
		args = append(args, "--workdir", spec.WorkDir)
	}
	if spec.ReadOnly {
		args = append(args, "--read-only")
		if e.kind == Podman {
			// podman would otherwise mount its own tmpfs on /tmp, /run
			// and /var/tmp; cpk says exactly which paths are writable.
			args = append(args, "--read-only-tmpfs=false")
		}
	}
	for _, t := range spec.Tmpfs {
		args = append(args, "--tmpfs", t)
	}
	for _, m := range spec.Volumes {
		v := m.Target
		if m.Source != "" {
			v = m.Source + ":" + m.Target
		}
		if m.ReadOnly {
			v += ":ro"
		}
		args = append(args, "--volume", v)
	}
	for _, c := range spec.VolumesFrom {
		args = append(args, "--volumes-from", c)
	}
	if spec.Network != "" {
		args = append(args, "--network", spec.Network)
	}
	for _, a := range spec.Aliases {
		args = append(args, "--network-alias", a)
	}
	for _, p := range spec.Ports {
		args = append(args, "--publish", p.String())
	}
	if spec.Memory != 0 {
		args = append(args, "--memory", strconv.FormatInt(spec.Memory, 10))
	}
	if spec.MemorySwap != 0 {
		args = append(args, "--memory-swap", strconv.FormatInt(spec.MemorySwap, 10))
	}
	if spec.CPUShares != 0 {
		args = append(args, "--cpu-shares", strconv.Itoa(spec.CPUShares))
	}
	for _, c := range spec.CapDrop {
		args = append(args, "--cap-drop", c)
	}
	for _, c := range spec.CapAdd {
		args = append(args, "--cap-add", c)
	}
	for _, d := range spec.Devices {
		args = append(args, "--device", d)
	}
	if spec.TTY {
		args = append(args, "--tty")
	}
	for _, k := range sortedKeys(spec.Env) {
		args = append(args, "--env", k+"="+spec.Env[k])
	}
	args = append(args, spec.Image)
	return append(args, spec.Cmd...)
}

// String is the --publish value: [ip:][hostPort]:containerPort[/proto].
func (p Port) String() string {
	s := strconv.Itoa(p.ContainerPort)
	if p.Protocol != "" && p.Protocol != "tcp" {
		s += "/" + p.Protocol
	}
	host := ""
	if p.HostPort != 0 {
		host = strconv.Itoa(p.HostPort)
	}
	if p.HostIP != "" {
		return p.HostIP + ":" + host + ":" + s
	}
	if host != "" {
		return host + ":" + s
	}
	return s
}

func (e *cliEngine) Run(ctx context.Context, spec RunSpec) (string, error) {
	out, err := e.out(ctx, e.runArgs(spec)...)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

func (e *cliEngine) execArgs(container string, spec ExecSpec) []string {
	args := []string{"exec"}
	if spec.Stdin != nil {
		args = append(args, "--interactive")
	}
	if spec.User != "" {
		args = append(args, "--user", spec.User)
	}
	if spec.WorkDir != "" {
		args = append(args, "--workdir", spec.WorkDir)
	}
	for _, k := range sortedKeys(spec.Env) {
		args = append(args, "--env", k+"="+spec.Env[k])
	}
	args = append(args, container)
	return append(args, spec.Cmd...)
}

func (e *cliEngine) Exec(ctx context.Context, container string, spec ExecSpec) (*ExecResult, error) {
	var stderr bytes.Buffer
	out, err := e.run(ctx, Command{Args: e.execArgs(container, spec), Stdin: spec.Stdin, Stderr: &stderr, NotFound: true})
	res := &ExecResult{Stdout: out, Stderr: stderr.Bytes()}
	if err == nil {
		return res, nil
	}
	var ee *Error
	if errors.As(err, &ee) && ee.ExitCode > 0 && !engineFailure(ee.ExitCode, stderr.String()) {
		// The command ran and failed: its exit code is the result (even
		// if what it printed looks like an engine's "no such container").
		res.ExitCode = ee.ExitCode
		res.Stdout = ee.stdout
		return res, nil
	}
	return nil, err
}

// engineFailure tells an exec that the engine could not perform from a
// command that ran and failed: podman exits 125 for its own errors, docker
// says "Error response from daemon".
func engineFailure(code int, stderr string) bool {
	return code == 125 || strings.Contains(stderr, "Error response from daemon")
}

func (e *cliEngine) logsArgs(container string, spec LogsSpec) []string {
	args := []string{"logs"}
	if spec.Tail > 0 {
		args = append(args, "--tail", strconv.Itoa(spec.Tail))
	}
	if !spec.Since.IsZero() {
		args = append(args, "--since", spec.Since.UTC().Format(time.RFC3339))
	}
	if spec.Timestamps {
		args = append(args, "--timestamps")
	}
	return append(args, container)
}

func (e *cliEngine) Logs(ctx context.Context, container string, spec LogsSpec, w io.Writer) error {
	_, err := e.run(ctx, Command{Args: e.logsArgs(container, spec), Output: w, NotFound: true})
	return err
}

func (e *cliEngine) Start(ctx context.Context, container string) error {
	_, err := e.lookup(ctx, "start", container)
	return err
}

func (e *cliEngine) stopArgs(container string, grace time.Duration) []string {
	secs := int((grace + time.Second - 1) / time.Second)
	return []string{"stop", "--time", strconv.Itoa(secs), container}
}

func (e *cliEngine) Stop(ctx context.Context, container string, grace time.Duration) error {
	_, err := e.lookup(ctx, e.stopArgs(container, grace)...)
	return err
}

func (e *cliEngine) removeArgs(container string) []string {
	if e.kind == Podman {
		// podman rm -f waits 10 s for a container that ignores SIGTERM;
		// docker rm -f kills at once.
		return []string{"rm", "--force", "--volumes", "--time", "0", container}
	}
	return []string{"rm", "--force", "--volumes", container}
}

func (e *cliEngine) Remove(ctx context.Context, container string) error {
	_, err := e.lookup(ctx, e.removeArgs(container)...)
	return ignoreMissing(err)
}

func (e *cliEngine) listContainersArgs(labels map[string]string) []string {
	args := append([]string{"ps", "--all", "--no-trunc"}, labelFilters(labels)...)
	return append(args, "--format", "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}")
}

func (e *cliEngine) ListContainers(ctx context.Context, labels map[string]string) ([]Container, error) {
	out, err := e.out(ctx, e.listContainersArgs(labels)...)
	if err != nil {
		return nil, err
	}
	var cs []Container
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			continue
		}
		cs = append(cs, Container{ID: f[0], Name: f[1], Image: f[2], State: normalizeState(f[3])})
	}
	return cs, nil
}

// normalizeState maps podman 4's status text ("Up 3 seconds ago") and
// docker's state ("running") to one word.
func normalizeState(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "up"), strings.HasPrefix(s, "running"):
		return "running"
	case strings.HasPrefix(s, "exited"):
		return "exited"
	case strings.HasPrefix(s, "created"):
		return "created"
	case strings.HasPrefix(s, "paused"):
		return "paused"
	}
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// --- networks and volumes ---

func (e *cliEngine) networkCreateArgs(spec NetworkSpec) []string {
	args := []string{"network", "create"}
	for _, k := range sortedKeys(spec.Labels) {
		args = append(args, "--label", k+"="+spec.Labels[k])
	}
	if spec.Internal {
		args = append(args, "--internal")
	}
	return append(args, spec.Name)
}

func (e *cliEngine) CreateNetwork(ctx context.Context, spec NetworkSpec) error {
	_, err := e.out(ctx, e.networkCreateArgs(spec)...)
	return err
}

func (e *cliEngine) RemoveNetwork(ctx context.Context, name string) error {
	_, err := e.lookup(ctx, "network", "rm", name)
	return ignoreMissing(err)
}

func (e *cliEngine) ListNetworks(ctx context.Context, labels map[string]string) ([]string, error) {
	args := append([]string{"network", "ls"}, labelFilters(labels)...)
	out, err := e.out(ctx, append(args, "--format", "{{.Name}}")...)
	return fields(out), err
}

func (e *cliEngine) volumeCreateArgs(spec VolumeSpec) []string {
	args := []string{"volume", "create"}
	for _, k := range sortedKeys(spec.Labels) {
		args = append(args, "--label", k+"="+spec.Labels[k])
	}
	return append(args, spec.Name)
}

func (e *cliEngine) CreateVolume(ctx context.Context, spec VolumeSpec) error {
	_, err := e.out(ctx, e.volumeCreateArgs(spec)...)
	return err
}

func (e *cliEngine) RemoveVolume(ctx context.Context, name string) error {
	_, err := e.lookup(ctx, "volume", "rm", name)
	return ignoreMissing(err)
}

func (e *cliEngine) ListVolumes(ctx context.Context, labels map[string]string) ([]string, error) {
	args := append([]string{"volume", "ls"}, labelFilters(labels)...)
	out, err := e.out(ctx, append(args, "--format", "{{.Name}}")...)
	return fields(out), err
}

// --- helpers ---

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fields(out []byte) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			names = append(names, s)
		}
	}
	return names
}

// normalizeID writes image ids one way: sha256:<64 hex>.
func normalizeID(id string) string {
	id = strings.TrimSpace(id)
	if id != "" && !strings.Contains(id, ":") {
		id = "sha256:" + id
	}
	return id
}

// ShortID is an image id's first 12 hex digits.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// --- inspection ---

func (e *cliEngine) InspectContainer(ctx context.Context, container string) (*ContainerInfo, error) {
	out, err := e.lookup(ctx, "container", "inspect", container)
	if err != nil {
		return nil, err
	}
	return parseContainerInspect(out, container)
}

// parseContainerInspect reads podman's and docker's container inspect JSON.
func parseContainerInspect(out []byte, ref string) (*ContainerInfo, error) {
	var cs []struct {
		ID    string `json:"Id"`
		Name  string
		State struct {
			Status     string
			Running    bool
			ExitCode   int
			OOMKilled  bool
			Pid        int
			StartedAt  string
			FinishedAt string
		}
		Config struct {
			Image  string
			Labels map[string]string
			Env    []string
		}
		NetworkSettings struct {
			Ports map[string][]struct {
				HostIP   string `json:"HostIp"`
				HostPort string
			}
			Networks map[string]struct {
				IPAddress string
			}
		}
	}
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, fmt.Errorf("container inspect %s: %w", ref, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("container %s: %w", ref, ErrNotFound)
	}
	c := cs[0]
	info := &ContainerInfo{ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), Image: c.Config.Image,
		State: strings.ToLower(c.State.Status), Running: c.State.Running, ExitCode: c.State.ExitCode,
		OOMKilled: c.State.OOMKilled, Pid: c.State.Pid, Labels: c.Config.Labels, Env: c.Config.Env, Ports: map[string]int{}, Networks: map[string]string{}}
	for name, n := range c.NetworkSettings.Networks {
		info.Networks[name] = n.IPAddress
	}
	info.Started = parseTime(c.State.StartedAt)
	info.Finished = parseTime(c.State.FinishedAt)
	for port, binds := range c.NetworkSettings.Ports {
		for _, b := range binds {
			if n, err := strconv.Atoi(b.HostPort); err == nil && n > 0 {
				info.Ports[port] = n
				break
			}
		}
	}
	return info, nil
}

// parseTime reads the engines' timestamps (RFC 3339, or podman's Go
// default format); zero when it cannot.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func (e *cliEngine) Top(ctx context.Context, container string) (*Processes, error) {
	// As the API (apiEngine.Top): podman numbers in the container, docker
	// on its host.
	args, init := append([]string{"top", container}, strings.Split(topColumns, ",")...), 1
	if e.kind == Docker {
		info, err := e.InspectContainer(ctx, container)
		if err != nil {
			return nil, err
		}
		args, init = []string{"top", container, "-o", topColumns}, info.Pid
	}
	out, err := retryTop(ctx, func() ([]byte, error) { return e.lookup(ctx, args...) })
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for i, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) >= 5 { // the first line is the titles
			rows = append(rows, f)
		}
	}
	return parseTop(rows, init), nil
}

func (e *cliEngine) Diff(ctx context.Context, container string) ([]Change, error) {
	out, err := e.lookup(ctx, "diff", container)
	if err != nil {
		return nil, err
	}
	return parseDiff(out), nil
}

// parseDiff reads "A /path" lines.
func parseDiff(out []byte) []Change {
	var cs []Change
	for _, line := range strings.Split(string(out), "\n") {
		kind, path, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || len(kind) != 1 {
			continue
		}
		cs = append(cs, Change{Kind: kind, Path: strings.TrimSpace(path)})
	}
	return cs
}

func (e *cliEngine) InspectNetwork(ctx context.Context, name string) (*NetworkInfo, error) {
	out, err := e.lookup(ctx, "network", "inspect", name)
	if err != nil {
		return nil, err
	}
	return parseNetworkInspect(out, name)
}

// parseNetworkInspect reads podman 4's (subnets, labels) and docker's
// (IPAM.Config, Labels) network inspect JSON.
func parseNetworkInspect(out []byte, ref string) (*NetworkInfo, error) {
	var ns []struct {
		Name    string            `json:"name"`
		DName   string            `json:"Name"`
		Labels  map[string]string `json:"labels"`
		DLabels map[string]string `json:"Labels"`
		Subnets []struct {
			Gateway string `json:"gateway"`
		} `json:"subnets"`
		IPAM struct {
			Config []struct {
				Gateway string `json:"Gateway"`
			} `json:"Config"`
		} `json:"IPAM"`
	}
	if err := json.Unmarshal(out, &ns); err != nil {
		return nil, fmt.Errorf("network inspect %s: %w", ref, err)
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("network %s: %w", ref, ErrNotFound)
	}
	n := ns[0]
	info := &NetworkInfo{Name: n.Name, Labels: n.Labels}
	if info.Name == "" {
		info.Name = n.DName
	}
	if info.Labels == nil {
		info.Labels = n.DLabels
	}
	for _, s := range n.Subnets {
		if s.Gateway != "" {
			info.Gateway = s.Gateway
			break
		}
	}
	for _, c := range n.IPAM.Config {
		if info.Gateway == "" && c.Gateway != "" {
			info.Gateway = c.Gateway
		}
	}
	return info, nil
}

func (e *cliEngine) ListResources(ctx context.Context, labels map[string]string) ([]Resource, error) {
	var out []Resource
	lists := []struct {
		kind string
		args []string
	}{
		{KindContainer, append(append([]string{"ps", "--all"}, labelFilters(labels)...), "--format", "{{.Names}}\t{{json .Labels}}")},
		{KindNetwork, append(append([]string{"network", "ls"}, labelFilters(labels)...), "--format", "{{.Name}}\t{{json .Labels}}")},
		{KindVolume, append(append([]string{"volume", "ls"}, labelFilters(labels)...), "--format", "{{.Name}}\t{{json .Labels}}")},
	}
	for _, l := range lists {
		b, err := e.out(ctx, l.args...)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			name, raw, ok := strings.Cut(line, "\t")
			if !ok || name == "" {
				continue
			}
			out = append(out, Resource{Kind: l.kind, Name: name, Labels: parseLabels(raw)})
		}
	}
	return carrying(out, labels), nil
}

// carrying keeps the resources that carry every label (an empty value
// matches any value): podman 4's volume ls matches any of several label
// filters, not all of them.
func carrying(rs []Resource, labels map[string]string) []Resource {
	out := rs[:0]
	for _, r := range rs {
		ok := true
		for k, v := range labels {
			if have, found := r.Labels[k]; !found || (v != "" && have != v) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// parseLabels reads a {{json .Labels}} value: a JSON object (podman's
// containers and volumes) or a JSON string "k=v,k2=v2" (docker, podman's
// networks).
func parseLabels(raw string) map[string]string {
	raw = strings.TrimSpace(raw)
	m := map[string]string{}
	if err := json.Unmarshal([]byte(raw), &m); err == nil {
		return m
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		s = raw
	}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[strings.TrimSpace(k)] = v
		}
	}
	return m
}

// RemoveLabelled lists what carries the labels (three commands) and
// removes each kind in one command: containers, then networks, then volumes.
func (e *cliEngine) RemoveLabelled(ctx context.Context, labels map[string]string) ([]Resource, error) {
	all, err := e.ListResources(ctx, labels)
	if err != nil {
		return nil, err
	}
	byKind := map[string][]string{}
	for _, r := range all {
		byKind[r.Kind] = append(byKind[r.Kind], r.Name)
	}
	var errs []error
	for _, kind := range []string{KindContainer, KindNetwork, KindVolume} {
		names := byKind[kind]
		if len(names) == 0 {
			continue
		}
		var args []string
		switch kind {
		case KindContainer:
			args = e.removeArgs(names[0])
			args = append(args[:len(args)-1], names...)
		case KindNetwork:
			args = append([]string{"network", "rm"}, names...)
		case KindVolume:
			args = append([]string{"volume", "rm"}, names...)
		}
		if _, err := e.lookup(ctx, args...); ignoreMissing(err) != nil {
			errs = append(errs, err)
		}
	}
	return all, errors.Join(errs...)
}
