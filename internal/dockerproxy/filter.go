// Package dockerproxy is the docker add-on's filtering proxy (reference
// §3.3 docker): the app reaches the container engine's Docker API through
// it, and only the app. It answers a documented subset of the API and
// refuses the rest with 403 and a message. The containers the app creates
// go into the run's network, carry the run's labels (so the run's clean-up,
// the app's uninstall and cpk gc remove them) and may mount only what is
// under /app/data, rewritten onto the app's data volume. Listings and
// lookups see only the app's own containers.
//
// The runtime runs it as cpk itself (CPK_DOCKER_PROXY=serve) in a container
// of the run's network, with the engine's API socket and the app's data
// volume mounted; Route and Config.FilterCreate are the filter, without
// the engine.
package dockerproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// Port is where the proxy listens (the platform's 2019 proxy port).
const Port = 3003

// DataDir is the app's data folder: bind mounts must come from under it.
const DataDir = "/app/data"

// Labels the proxy reads and writes.
const (
	// LabelOwner is put on every container the app creates: its app id.
	LabelOwner = "io.cpk.docker.owner"
	labelRun   = "io.cpk.run"
	labelAppID = "io.cpk.appid"
	labelRole  = "io.cpk.role"
	// labelPrefix: the app may not set cpk's labels itself.
	labelPrefix = "io.cpk."
)

// Config is one proxy: the app it serves and where what it creates goes.
type Config struct {
	// App is the app id (the io.cpk.appid label of the app's container):
	// only that container, with role app, may use the proxy.
	App string `json:"app"`
	// Run is the run id (io.cpk.run); Network the run's network.
	Run     string `json:"run"`
	Network string `json:"network"`
	// Labels go on every container the app creates, with LabelOwner.
	Labels map[string]string `json:"labels"`
	// Socket is the engine's API socket, as the proxy sees it.
	Socket string `json:"socket"`
	// DataVolume is the app's /app/data volume, mounted read-only at
	// DataDir in the proxy's container ("" without localstorage).
	DataVolume string `json:"dataVolume,omitempty"`
	// Listen is the address to serve on (default ":3003").
	Listen string `json:"listen,omitempty"`
}

// Op is what an allowed request is.
type Op int

// Kinds of allowed requests.
const (
	OpPass       Op = iota + 1 // forwarded as it is: _ping, version, info, images
	OpPull                     // POST /images/create, a pull (fromImage) only
	OpCreate                   // POST /containers/create, the body filtered
	OpList                     // GET /containers/json, narrowed to the app's containers
	OpContainer                // one of the app's containers ({id} checked)
	OpExec                     // an exec instance (its container checked)
	OpExecCreate               // POST /containers/{id}/exec: not privileged
)

type route struct {
	methods string // space-separated
	re      *regexp.Regexp
	op      Op
}

var routes = []route{
	{"GET HEAD", regexp.MustCompile(`^/_ping$`), OpPass},
	{"GET", regexp.MustCompile(`^/version$`), OpPass},
	{"GET", regexp.MustCompile(`^/info$`), OpPass},
	{"GET", regexp.MustCompile(`^/images/json$`), OpPass},
	{"GET", regexp.MustCompile(`^/images/(.+)/json$`), OpPass},
	{"POST", regexp.MustCompile(`^/images/create$`), OpPull},
	{"POST", regexp.MustCompile(`^/containers/create$`), OpCreate},
	{"GET", regexp.MustCompile(`^/containers/json$`), OpList},
	{"GET", regexp.MustCompile(`^/containers/([^/]+)/(json|logs|top)$`), OpContainer},
	{"POST", regexp.MustCompile(`^/containers/([^/]+)/(start|stop|restart|kill|wait|attach|resize)$`), OpContainer},
	{"POST", regexp.MustCompile(`^/containers/([^/]+)/exec$`), OpExecCreate},
	{"DELETE", regexp.MustCompile(`^/containers/([^/]+)$`), OpContainer},
	{"POST", regexp.MustCompile(`^/exec/([^/]+)/(start|resize)$`), OpExec},
	{"GET", regexp.MustCompile(`^/exec/([^/]+)/json$`), OpExec},
}

// Allowed is the subset of the Docker API the proxy answers, for messages
// and documentation.
const Allowed = "_ping, version, info; images: list, inspect, pull (create?fromImage); " +
	"containers: create, list, inspect, logs, top, start, stop, restart, kill, wait, attach, resize, remove; exec: create (not privileged), start, resize, inspect"

var versionRE = regexp.MustCompile(`^/v[0-9]+(\.[0-9]+)?(/|$)`)

// Request is an allowed request, routed.
type Request struct {
	Op Op
	// Version is the API version prefix ("/v1.41" or "").
	Version string
	// Path is the path without the version prefix.
	Path string
	// ID is the container or exec id or name of OpContainer and OpExec.
	ID string
}

// Refusal is a request the proxy does not forward: its HTTP status and
// message.
type Refusal struct {
	Status  int
	Message string
}

func (r *Refusal) Error() string { return r.Message }

func refuse(format string, args ...any) *Refusal {
	return &Refusal{Status: http.StatusForbidden, Message: "cpk docker proxy: " + fmt.Sprintf(format, args...)}
}

// Route says whether a request is allowed and what it is.
func Route(method, p string) (*Request, error) {
	req := &Request{Path: p}
	if m := versionRE.FindString(p); m != "" {
		req.Version = strings.TrimSuffix(m, "/")
		req.Path = p[len(req.Version):]
	}
	if req.Path == "" || path.Clean(req.Path) != req.Path {
		return nil, refuse("%s %s: not a clean API path", method, p)
	}
	for _, r := range routes {
		m := r.re.FindStringSubmatch(req.Path)
		if m == nil {
			continue
		}
		if !strings.Contains(" "+r.methods+" ", " "+method+" ") {
			continue
		}
		req.Op = r.op
		if r.op == OpContainer || r.op == OpExec || r.op == OpExecCreate {
			req.ID = m[1]
		}
		return req, nil
	}
	return nil, refuse("%s %s is not part of the API the docker add-on gives apps (allowed: %s)", method, req.Path, Allowed)
}

// CheckPull refuses an image import (fromSrc): only pulls by name pass.
func CheckPull(q url.Values) error {
	if q.Get("fromSrc") != "" {
		return refuse("importing an image (fromSrc) is refused: pull an image by name (fromImage)")
	}
	if q.Get("fromImage") == "" {
		return refuse("POST /images/create needs fromImage (the image to pull)")
	}
	return nil
}

// CheckExecCreate refuses a privileged exec (every capability).
func CheckExecCreate(body []byte) error {
	var ex struct{ Privileged bool }
	if err := json.Unmarshal(body, &ex); err != nil {
		return &Refusal{Status: http.StatusBadRequest, Message: "cpk docker proxy: the exec request is not valid JSON: " + err.Error()}
	}
	if ex.Privileged {
		return refuse("a privileged exec is refused")
	}
	return nil
}

// ListQuery narrows a container listing to the app's containers: label
// filters are and-ed, so the app's own filters still apply.
func (c *Config) ListQuery(q url.Values) (url.Values, error) {
	filters := map[string][]string{}
	if f := q.Get("filters"); f != "" {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(f), &raw); err != nil {
			return nil, &Refusal{Status: http.StatusBadRequest, Message: "cpk docker proxy: filters is not a JSON object: " + err.Error()}
		}
		for k, v := range raw {
			var list []string
			if err := json.Unmarshal(v, &list); err != nil {
				// The older form: {"label": {"a=b": true}}.
				var set map[string]bool
				if err := json.Unmarshal(v, &set); err != nil {
					return nil, &Refusal{Status: http.StatusBadRequest, Message: fmt.Sprintf("cpk docker proxy: filter %q is neither a list nor a set", k)}
				}
				for s, on := range set {
					if on {
						list = append(list, s)
					}
				}
			}
			filters[k] = list
		}
	}
	filters["label"] = append(filters["label"], labelRun+"="+c.Run, LabelOwner+"="+c.App)
	data, _ := json.Marshal(filters)
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	out.Set("filters", string(data))
	return out, nil
}

// Owns says whether a container with these labels is one the app created.
func (c *Config) Owns(labels map[string]string) bool {
	return labels[LabelOwner] == c.App && labels[labelRun] == c.Run
}

// Resolver maps a path under DataDir, as the app names it, to the host
// path of the same file on the engine's side.
type Resolver func(p string) (string, error)

// FilterCreate checks and rewrites a container create request: it refuses
// what would reach beyond the container (privileged mode, the host's
// network, pid, ipc, uts or user namespace, added capabilities, devices,
// security options, host ports, other containers' or named volumes, bind
// mounts outside /app/data), rewrites bind sources under /app/data with
// resolve, attaches the container to the run's network only and labels it
// as the app's.
func (c *Config) FilterCreate(body []byte, resolve Resolver) ([]byte, error) {
	var req container.CreateRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &Refusal{Status: http.StatusBadRequest, Message: "cpk docker proxy: the create request is not valid JSON: " + err.Error()}
	}
	if req.Config == nil {
		req.Config = &container.Config{}
	}
	if req.HostConfig == nil {
		req.HostConfig = &container.HostConfig{}
	}
	h := req.HostConfig
	var errs []error
	no := func(cond bool, format string, args ...any) {
		if cond {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	no(h.Privileged, "privileged mode")
	no(len(h.CapAdd) > 0, "added capabilities (%s)", strings.Join(h.CapAdd, ", "))
	no(len(h.Devices) > 0 || len(h.DeviceRequests) > 0 || len(h.DeviceCgroupRules) > 0, "devices")
	no(h.PidMode != "" && h.PidMode != "private", "pid mode %q", h.PidMode)
	no(h.IpcMode != "" && h.IpcMode != "private" && h.IpcMode != "shareable" && h.IpcMode != "none", "ipc mode %q", h.IpcMode)
	no(h.UTSMode != "", "uts mode %q", h.UTSMode)
	no(h.UsernsMode != "", "userns mode %q", h.UsernsMode)
	no(h.CgroupnsMode != "" && h.CgroupnsMode != "private", "cgroupns mode %q", h.CgroupnsMode)
	no(h.Cgroup != "", "cgroup %q", h.Cgroup)
	no(h.CgroupParent != "", "a cgroup parent")
	no(h.Runtime != "", "runtime %q", h.Runtime)
	no(len(h.SecurityOpt) > 0, "security options (%s)", strings.Join(h.SecurityOpt, ", "))
	no(len(h.Sysctls) > 0, "sysctls")
	no(h.MaskedPaths != nil || h.ReadonlyPaths != nil, "changed masked or read-only paths")
	no(len(h.PortBindings) > 0 || h.PublishAllPorts, "published host ports (the containers live in the app's private network)")
	no(len(h.VolumesFrom) > 0, "volumes of other containers (VolumesFrom)")
	no(h.VolumeDriver != "", "volume driver %q", h.VolumeDriver)
	no(len(h.StorageOpt) > 0, "storage options")
	no(h.ContainerIDFile != "", "a container id file")
	no(len(h.LogConfig.Config) > 0, "log driver options (podman's path option writes on the host)")
	switch nm := string(h.NetworkMode); nm {
	case "", "default", "bridge", c.Network:
		h.NetworkMode = container.NetworkMode(c.Network)
	case "none":
	default:
		errs = append(errs, fmt.Errorf("network mode %q (the containers go into the app's network)", nm))
	}
	for i, b := range h.Binds {
		src, rest, ok := strings.Cut(b, ":")
		if !ok {
			errs = append(errs, fmt.Errorf("the bind %q names no target (anonymous volumes go in Volumes)", b))
			continue
		}
		if !strings.HasPrefix(src, "/") {
			errs = append(errs, fmt.Errorf("the named volume %q (use an anonymous volume, or a bind mount under %s)", src, DataDir))
			continue
		}
		host, err := c.bindSource(src, resolve)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		h.Binds[i] = host + ":" + rest
	}
	for i := range h.Mounts {
		m := &h.Mounts[i]
		switch m.Type {
		case mount.TypeBind:
			host, err := c.bindSource(m.Source, resolve)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			m.Source = host
		case mount.TypeVolume:
			if m.Source != "" {
				errs = append(errs, fmt.Errorf("the named volume %q (use an anonymous volume, or a bind mount under %s)", m.Source, DataDir))
			}
			if m.VolumeOptions != nil && (m.VolumeOptions.DriverConfig != nil || m.VolumeOptions.Subpath != "") {
				errs = append(errs, fmt.Errorf("volume driver options on %s", m.Target))
			}
		case mount.TypeTmpfs:
		default:
			errs = append(errs, fmt.Errorf("a mount of type %q", m.Type))
		}
	}
	if len(errs) > 0 {
		return nil, refuse("the container is refused: %v", errors.Join(errs...).Error())
	}
	// Only the run's network, with the aliases the app asked for there.
	if h.NetworkMode != "none" {
		ep := &network.EndpointSettings{}
		if req.NetworkingConfig != nil {
			for _, asked := range req.NetworkingConfig.EndpointsConfig {
				if asked != nil {
					ep.Aliases = append(ep.Aliases, asked.Aliases...)
				}
			}
		}
		req.NetworkingConfig = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{c.Network: ep}}
	} else {
		req.NetworkingConfig = nil
	}
	labels := map[string]string{}
	for k, v := range req.Config.Labels {
		if !strings.HasPrefix(k, labelPrefix) {
			labels[k] = v
		}
	}
	for k, v := range c.Labels {
		labels[k] = v
	}
	labels[LabelOwner] = c.App
	req.Config.Labels = labels
	// No raw sockets: a container of the app's network cannot forge the
	// app's address (the proxy knows the app by it).
	h.CapDrop = append(h.CapDrop, "NET_RAW")
	return json.Marshal(req)
}

// bindSource checks a bind source and returns the host path it becomes.
func (c *Config) bindSource(src string, resolve Resolver) (string, error) {
	clean := path.Clean(src)
	if clean != DataDir && !strings.HasPrefix(clean, DataDir+"/") {
		return "", fmt.Errorf("the bind mount of %s (bind mounts must be under %s)", src, DataDir)
	}
	if resolve == nil {
		return "", fmt.Errorf("the bind mount of %s (the app has no %s: it declares no localstorage)", src, DataDir)
	}
	return resolve(clean)
}

// DataResolver resolves paths under DataDir against the app's data as
// mounted at root here (DataDir in the proxy's container), following
// symbolic links as the app would see them, and returns them under
// hostDir, the data volume's folder on the engine's host. A link that
// leads out of the data is refused. (The engine resolves the path again
// when it starts the container: a link the app swaps in between is not
// seen; the platform's proxy checks no links at all.)
func DataResolver(root, hostDir string) Resolver {
	return func(p string) (string, error) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p, DataDir), "/")
		// Resolve the longest part that exists; the rest is new
		// (the engine creates it or fails) and holds no link.
		existing, rest := filepath.Join(root, rel), ""
		for {
			if _, err := os.Lstat(existing); err == nil || existing == root {
				break
			}
			rest = filepath.Join(filepath.Base(existing), rest)
			existing = filepath.Dir(existing)
		}
		real, err := filepath.EvalSymlinks(existing)
		if err != nil {
			return "", fmt.Errorf("the bind mount of %s: %w", p, err)
		}
		rootReal, err := filepath.EvalSymlinks(root)
		if err != nil {
			return "", fmt.Errorf("the app's data: %w", err)
		}
		inside, err := filepath.Rel(rootReal, real)
		if err != nil || inside == ".." || strings.HasPrefix(inside, "../") {
			return "", fmt.Errorf("the bind mount of %s (a symbolic link leads out of %s)", p, DataDir)
		}
		return filepath.Join(hostDir, inside, rest), nil
	}
}
