// Package engine is the container engine behind cpk's own verbs: build an
// image, inspect it, run a container, exec, logs, stop, remove, networks,
// volumes, lists by label. Two implementations: one talks to the engine's
// Docker-compatible REST API on its local socket (podman's is started by
// cpk when none answers, see OpenAPI), the other drives the podman or
// docker command line; every subprocess goes through one Runner, which
// honours the context, captures stderr into a typed *Error and redacts
// secrets. Image builds always run on the command line.
//
// Remote engines are reached the engines' own way: CONTAINER_HOST for
// podman, DOCKER_HOST (or a docker context) for docker; cpk passes the
// environment through.
package engine

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"
)

// Engine is a container engine in cpk's verbs. Every call takes a context;
// cancelling it interrupts the engine subprocess (SIGINT, then SIGKILL).
type Engine interface {
	// Name is "podman" or "docker".
	Name() string
	// Info reports the engine's version and whether it answers.
	Info(ctx context.Context) (*Info, error)

	// BuildImage builds an image and returns its id. It never tags: the
	// caller tags after success, so an interrupted build leaves no tag.
	BuildImage(ctx context.Context, spec BuildSpec) (string, error)
	// ImportImage makes an image from a root filesystem tarball.
	ImportImage(ctx context.Context, spec ImportSpec) (string, error)
	// InspectImage returns an image; ErrNotFound when it does not exist.
	InspectImage(ctx context.Context, ref string) (*Image, error)
	// ListImages returns the tagged images that match the filter, with
	// their tags (Labels are not filled in).
	ListImages(ctx context.Context, filter ImageFilter) ([]Image, error)
	TagImage(ctx context.Context, image, ref string) error
	// UntagImage removes one tag; the image stays when it has others.
	UntagImage(ctx context.Context, ref string) error
	// RemoveImage removes an image (and its tags); missing images are not an error.
	RemoveImage(ctx context.Context, ref string) error
	// SaveImage writes an image to a tarball at path in the docker-archive
	// format (docker save): its config and uncompressed layers, what a
	// registry push reads. ErrNotFound when the image does not exist.
	SaveImage(ctx context.Context, ref, path string) error

	// Run creates and starts a detached container and returns its id.
	Run(ctx context.Context, spec RunSpec) (string, error)
	// Exec runs a command in a running container. A non-zero exit of the
	// command is reported in the result, not as an error.
	Exec(ctx context.Context, container string, spec ExecSpec) (*ExecResult, error)
	// Logs writes the container's output (stdout and stderr) to w.
	Logs(ctx context.Context, container string, spec LogsSpec, w io.Writer) error
	// Start starts a stopped container again, as it was created; ErrNotFound
	// when it does not exist.
	Start(ctx context.Context, container string) error
	// Stop sends SIGTERM and kills the container after grace.
	Stop(ctx context.Context, container string, grace time.Duration) error
	// Remove removes a container, running or not; missing ones are not an error.
	Remove(ctx context.Context, container string) error
	// ListContainers returns the containers (running or not) carrying the labels.
	ListContainers(ctx context.Context, labels map[string]string) ([]Container, error)
	// InspectContainer returns a container's state; ErrNotFound when it does not exist.
	InspectContainer(ctx context.Context, container string) (*ContainerInfo, error)
	// Top lists a running container's processes without running anything
	// in it (podman reads them itself, docker runs ps on its host).
	Top(ctx context.Context, container string) (*Processes, error)
	// Diff lists the paths a container changed in its own filesystem
	// (volumes and tmpfs mounts are not part of it).
	Diff(ctx context.Context, container string) ([]Change, error)

	CreateNetwork(ctx context.Context, spec NetworkSpec) error
	// RemoveNetwork removes a network; missing ones are not an error.
	RemoveNetwork(ctx context.Context, name string) error
	ListNetworks(ctx context.Context, labels map[string]string) ([]string, error)
	// InspectNetwork returns a network's gateway and labels; ErrNotFound when it does not exist.
	InspectNetwork(ctx context.Context, name string) (*NetworkInfo, error)
	CreateVolume(ctx context.Context, spec VolumeSpec) error
	// RemoveVolume removes a volume; missing ones are not an error.
	RemoveVolume(ctx context.Context, name string) error
	ListVolumes(ctx context.Context, labels map[string]string) ([]string, error)

	// ListResources returns the containers, networks and volumes carrying
	// the labels, each with all its labels: what cpk gc looks at.
	ListResources(ctx context.Context, labels map[string]string) ([]Resource, error)
	// RemoveLabelled removes, in a few calls, every container (running or
	// not, with its anonymous volumes), then every network, then every
	// volume carrying the labels, and returns what it removed: the end of
	// a run. Resources that vanish meanwhile are not an error.
	RemoveLabelled(ctx context.Context, labels map[string]string) ([]Resource, error)
}

// ContainerInfo is a container's state as inspected.
type ContainerInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Image     string `json:"image"`
	State     string `json:"state"` // running, exited, created…
	Running   bool   `json:"running"`
	ExitCode  int    `json:"exitCode"`
	OOMKilled bool   `json:"oomKilled"`
	// Pid is the host's number of the container's first process (0 when
	// it does not run).
	Pid      int               `json:"pid,omitempty"`
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Env is the environment the container was created with, KEY=value
	// (what its processes start with). Never printed: it holds secrets.
	Env []string `json:"-"`
	// Ports maps "8000/tcp" to the host port it is published on.
	Ports map[string]int `json:"ports,omitempty"`
	// Networks maps each network the container is attached to to its
	// IPv4 address there ("" while it is not running).
	Networks map[string]string `json:"networks,omitempty"`
}

// Processes are a container's processes, numbered as the engine numbers
// them (podman: in the container, docker: on its host).
type Processes struct {
	// Init is the container's first process in that numbering.
	Init int       `json:"init"`
	List []Process `json:"list"`
}

// Process is one process of a container.
type Process struct {
	PID  int    `json:"pid"`
	PPID int    `json:"ppid"`
	User string `json:"user"` // its effective user's name
	Comm string `json:"comm"`
	Args string `json:"args"`
}

// again calls list up to tries times while it fails with an error that
// passing says will pass, pausing pause(n) after the nth call: a listing
// that the engine walks while something else changes what it walks.
func again[T any](ctx context.Context, tries int, pause func(n int) time.Duration, passing func(error) bool, list func() (T, error)) (T, error) {
	res, err := list()
	for n := 1; err != nil && n < tries && passing(err); n++ {
		select {
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		case <-time.After(pause(n)):
		}
		res, err = list()
	}
	return res, err
}

// retryTop asks for a listing up to three times, 0.1 s apart: podman reads
// each process's /proc entries, and a process that ends meanwhile (an
// exec's, beside the lifecycle test's other checks) fails the whole
// listing (EOF). A missing container is not asked again.
func retryTop[T any](ctx context.Context, list func() (T, error)) (T, error) {
	return again(ctx, 3, func(int) time.Duration { return 100 * time.Millisecond },
		func(err error) bool { return !isNotFound(err) }, list)
}

// topColumns are the columns Top asks for, in this order.
const topColumns = "pid,ppid,user,comm,args"

// parseTop reads rows of topColumns (the last one holds the rest).
func parseTop(rows [][]string, init int) *Processes {
	ps := &Processes{Init: init}
	for _, r := range rows {
		if len(r) < 5 {
			continue
		}
		pid, err1 := strconv.Atoi(strings.TrimSpace(r[0]))
		ppid, err2 := strconv.Atoi(strings.TrimSpace(r[1]))
		if err1 != nil || err2 != nil {
			continue
		}
		ps.List = append(ps.List, Process{PID: pid, PPID: ppid, User: strings.TrimSpace(r[2]), Comm: strings.TrimSpace(r[3]), Args: strings.TrimSpace(strings.Join(r[4:], " "))})
	}
	return ps
}

// Change is one path a container changed: kind A (added), C (changed) or D (deleted).
type Change struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
}

// NetworkInfo is a network as inspected.
type NetworkInfo struct {
	Name    string            `json:"name"`
	Gateway string            `json:"gateway,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// Resource kinds.
const (
	KindContainer = "container"
	KindNetwork   = "network"
	KindVolume    = "volume"
)

// Resource is a container, network or volume with its labels.
type Resource struct {
	Kind   string            `json:"kind"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Info describes an engine.
type Info struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version"`
	// Remote is the CONTAINER_HOST / DOCKER_HOST in use, if any.
	Remote string `json:"remote,omitempty"`
	// Details are engine-specific facts (runtime, cgroup manager…).
	Details map[string]string `json:"details,omitempty"`
}

// BuildSpec is one image build.
type BuildSpec struct {
	ContextDir string
	Dockerfile string // path; default ContextDir/Dockerfile
	BuildArgs  map[string]string
	Labels     map[string]string
	// Output receives the build's output as it comes (the build log).
	Output io.Writer
	// Progress, when set, is told each step as the build reaches it.
	Progress func(step, total int)
	// Owned lists image references created for this build alone (FROM
	// aliases): build containers derived from them belong to this build
	// and are removed if it is interrupted.
	Owned []string
}

// ImageFilter selects images. Reference is by far the cheaper filter for
// podman, which otherwise works out every image's parents and children.
type ImageFilter struct {
	// Reference is a repository pattern such as localhost/cpk/* ("" = any).
	Reference string
	// Labels must all be present (an empty value matches any value).
	Labels map[string]string
}

// ImportSpec makes an image from a root filesystem tarball.
type ImportSpec struct {
	Tarball string
	Ref     string
	Labels  map[string]string
	Env     []string // KEY=VALUE
	Cmd     []string
}

// Image is an image as the engine reports it.
type Image struct {
	ID     string            `json:"id"` // sha256:…, the image (config) digest
	Tags   []string          `json:"tags,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Digest is the manifest digest when the engine knows one.
	Digest  string    `json:"digest,omitempty"`
	Created time.Time `json:"created"`
	Size    int64     `json:"size,omitempty"`
}

// RunSpec is a container to create and start in the background.
type RunSpec struct {
	Name     string
	Image    string
	Cmd      []string
	Env      map[string]string
	Labels   map[string]string
	User     string
	Hostname string
	WorkDir  string
	Network  string
	Aliases  []string // network aliases (needs Network)
	Ports    []Port
	Volumes  []Mount
	// VolumesFrom mounts every volume of these containers, at the same
	// places (the platform's scheduler tasks share their app's).
	VolumesFrom []string
	Tmpfs       []string // paths, optionally path:options
	ReadOnly    bool     // read-only root filesystem
	// Memory is the RAM limit in bytes; MemorySwap the RAM+swap limit
	// (-1 unlimited swap). 0 leaves the engine's default.
	Memory, MemorySwap int64
	CPUShares          int
	CapDrop, CapAdd    []string
	Devices            []string
	TTY                bool
}

// Port publishes a container port.
type Port struct {
	HostIP        string // default all interfaces
	HostPort      int    // 0 = any free port
	ContainerPort int
	Protocol      string // tcp (default) or udp
}

// Mount is a named volume, a host folder, or (without Source) an
// anonymous volume mounted into a container. An anonymous volume is fresh
// and goes with its container.
type Mount struct {
	Source   string // volume name, absolute host path, or "" (anonymous)
	Target   string
	ReadOnly bool
}

// ExecSpec is a command to run in a running container.
type ExecSpec struct {
	Cmd     []string
	User    string
	Env     map[string]string
	WorkDir string
	Stdin   io.Reader
}

// ExecResult is what an exec'd command did.
type ExecResult struct {
	ExitCode       int
	Stdout, Stderr []byte
}

// LogsSpec selects container output.
type LogsSpec struct {
	Tail  int       // last lines only; 0 = all
	Since time.Time // zero = from the start
	// Timestamps starts each line with its time (RFC 3339, nanoseconds)
	// and a space.
	Timestamps bool
}

// Container is a container as listed.
type Container struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Image string `json:"image"`
	State string `json:"state"`
}

// NetworkSpec is a user-defined network.
type NetworkSpec struct {
	Name     string
	Labels   map[string]string
	Internal bool
}

// VolumeSpec is a named volume.
type VolumeSpec struct {
	Name   string
	Labels map[string]string
}
