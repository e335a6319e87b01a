// Package enginetest is an in-memory engine for the tests of services
// above the engine: it records every call and keeps images, containers,
// networks and volumes in maps.
package enginetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"cpk/internal/engine"
)

// Fake is an engine.Engine in memory. Set BuildFunc to decide what a
// build does (default: succeed with an id derived from the spec).
type Fake struct {
	mu         sync.Mutex
	Calls      []string // verb and main argument, in order
	Images     map[string]*engine.Image
	tags       map[string]string // ref → id
	exits      map[string]int    // container name → exit code once stopped
	Containers map[string]*engine.Container
	Networks   map[string]map[string]string
	Volumes    map[string]map[string]string
	// BuildFunc runs for each BuildImage; it returns the image id.
	BuildFunc func(ctx context.Context, spec engine.BuildSpec) (string, error)
	// Specs keeps the spec each container was run with, by name.
	Specs map[string]engine.RunSpec
	// ExecFunc, when set, answers Exec (default: exit 0, no output).
	ExecFunc func(container string, spec engine.ExecSpec) *engine.ExecResult
	// TopFunc answers Top (default: no process).
	TopFunc func(container string) *engine.Processes
	// StopFunc, when set, gives the exit code a container ends with when
	// it is stopped (default: 143, a process that ends on SIGTERM).
	StopFunc func(container string) int
	// LogsFunc, when set, gives a container's output (default: none).
	LogsFunc func(container string, spec engine.LogsSpec) string
	// Changes is what Diff reports for every container.
	Changes []engine.Change
	n       int
}

// New returns an empty fake engine.
func New() *Fake {
	return &Fake{Images: map[string]*engine.Image{}, tags: map[string]string{}, Containers: map[string]*engine.Container{},
		Networks: map[string]map[string]string{}, Volumes: map[string]map[string]string{}, Specs: map[string]engine.RunSpec{}, exits: map[string]int{}}
}

var _ engine.Engine = (*Fake)(nil)

func (f *Fake) call(s string) {
	f.mu.Lock()
	f.Calls = append(f.Calls, s)
	f.mu.Unlock()
}

// Count returns how many calls start with verb.
func (f *Fake) Count(verb string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.Calls {
		if c == verb || strings.HasPrefix(c, verb+" ") {
			n++
		}
	}
	return n
}

// Reset forgets the calls made so far.
func (f *Fake) Reset() {
	f.mu.Lock()
	f.Calls = nil
	f.mu.Unlock()
}

// AddImage adds an image under ref with labels.
func (f *Fake) AddImage(ref string, labels map[string]string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := sha256.Sum256([]byte(ref))
	id := "sha256:" + hex.EncodeToString(sum[:])
	f.Images[id] = &engine.Image{ID: id, Labels: labels, Created: time.Now()}
	f.tagLocked(id, ref)
	return id
}

func (f *Fake) tagLocked(id, ref string) {
	if old, ok := f.tags[ref]; ok {
		f.untagLocked(old, ref)
	}
	f.tags[ref] = id
	f.Images[id].Tags = append(f.Images[id].Tags, ref)
}

func (f *Fake) untagLocked(id, ref string) {
	delete(f.tags, ref)
	img := f.Images[id]
	for i, t := range img.Tags {
		if t == ref {
			img.Tags = append(img.Tags[:i], img.Tags[i+1:]...)
			break
		}
	}
}

// Tags lists every tag, sorted.
func (f *Fake) Tags() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for t := range f.tags {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (f *Fake) resolve(ref string) (string, bool) {
	if id, ok := f.tags[ref]; ok {
		return id, true
	}
	if _, ok := f.Images[ref]; ok {
		return ref, true
	}
	return "", false
}

func notFound(what string) error { return fmt.Errorf("%s: %w", what, engine.ErrNotFound) }

func (f *Fake) Name() string { return "fake" }

func (f *Fake) Info(context.Context) (*engine.Info, error) {
	f.call("info")
	return &engine.Info{Name: "fake", Version: "1"}, nil
}

func (f *Fake) BuildImage(ctx context.Context, spec engine.BuildSpec) (string, error) {
	f.call("build " + spec.ContextDir)
	if spec.Output != nil {
		fmt.Fprintf(spec.Output, "STEP 1/1: building %s\n", spec.ContextDir)
	}
	if spec.Progress != nil {
		spec.Progress(1, 1)
	}
	var id string
	var err error
	if f.BuildFunc != nil {
		id, err = f.BuildFunc(ctx, spec)
	} else {
		df, _ := os.ReadFile(spec.Dockerfile)
		sum := sha256.Sum256([]byte(fmt.Sprint(spec.ContextDir, string(df), spec.Labels, spec.BuildArgs)))
		id = "sha256:" + hex.EncodeToString(sum[:])
	}
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.Images[id] = &engine.Image{ID: id, Labels: spec.Labels, Created: time.Now()}
	f.mu.Unlock()
	return id, nil
}

func (f *Fake) ImportImage(_ context.Context, spec engine.ImportSpec) (string, error) {
	f.call("import " + spec.Ref)
	return f.AddImage(spec.Ref, spec.Labels), nil
}

func (f *Fake) InspectImage(_ context.Context, ref string) (*engine.Image, error) {
	f.call("inspect " + ref)
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.resolve(ref)
	if !ok {
		return nil, notFound("image " + ref)
	}
	img := *f.Images[id]
	img.Tags = append([]string(nil), img.Tags...)
	return &img, nil
}

func matches(have, want map[string]string) bool {
	for k, v := range want {
		hv, ok := have[k]
		if !ok || (v != "" && hv != v) {
			return false
		}
	}
	return true
}

func (f *Fake) ListImages(_ context.Context, filter engine.ImageFilter) ([]engine.Image, error) {
	f.call("images")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.Image
	for _, img := range f.Images {
		var tags []string
		for _, t := range img.Tags {
			repo := t[:strings.LastIndex(t, ":")]
			if ok, _ := path.Match(filter.Reference, repo); ok || filter.Reference == "" {
				tags = append(tags, t)
			}
		}
		if len(tags) > 0 && matches(img.Labels, filter.Labels) {
			out = append(out, engine.Image{ID: img.ID, Tags: tags})
		}
	}
	return out, nil
}

func (f *Fake) TagImage(_ context.Context, image, ref string) error {
	f.call("tag " + ref)
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.resolve(image)
	if !ok {
		return notFound("image " + image)
	}
	f.tagLocked(id, ref)
	return nil
}

func (f *Fake) UntagImage(_ context.Context, ref string) error {
	f.call("untag " + ref)
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.tags[ref]; ok {
		f.untagLocked(id, ref)
	}
	return nil
}

// SaveImage fails: the fake holds no image content to write.
func (f *Fake) SaveImage(_ context.Context, ref, path string) error {
	f.call("save " + ref)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.resolve(ref); !ok {
		return notFound("image " + ref)
	}
	return errors.New("the fake engine cannot save images")
}

func (f *Fake) RemoveImage(_ context.Context, ref string) error {
	f.call("rmi " + ref)
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.resolve(ref)
	if !ok {
		return nil
	}
	for _, t := range f.Images[id].Tags {
		delete(f.tags, t)
	}
	delete(f.Images, id)
	return nil
}

func (f *Fake) Run(_ context.Context, spec engine.RunSpec) (string, error) {
	f.call("run " + spec.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.resolve(spec.Image); !ok {
		return "", notFound("image " + spec.Image)
	}
	f.n++
	id := fmt.Sprintf("c%d", f.n)
	name := spec.Name
	if name == "" {
		name = id
	}
	if _, ok := f.Containers[name]; ok {
		return "", errors.New("the container name " + name + " is already in use")
	}
	f.Containers[name] = &engine.Container{ID: id, Name: name, Image: spec.Image, State: "running"}
	f.Specs[name] = spec
	return id, nil
}

func (f *Fake) container(ref string) *engine.Container {
	if c, ok := f.Containers[ref]; ok {
		return c
	}
	for _, c := range f.Containers {
		if c.ID == ref {
			return c
		}
	}
	return nil
}

func (f *Fake) Exec(_ context.Context, container string, spec engine.ExecSpec) (*engine.ExecResult, error) {
	f.call("exec " + container + " " + strings.Join(spec.Cmd, " "))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.container(container) == nil {
		return nil, notFound("container " + container)
	}
	if f.ExecFunc != nil {
		return f.ExecFunc(container, spec), nil
	}
	return &engine.ExecResult{}, nil
}

// Top answers TopFunc, else no process.
func (f *Fake) Top(_ context.Context, container string) (*engine.Processes, error) {
	f.call("top " + container)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.container(container) == nil {
		return nil, notFound("container " + container)
	}
	if f.TopFunc != nil {
		return f.TopFunc(container), nil
	}
	return &engine.Processes{Init: 1}, nil
}

func (f *Fake) Logs(_ context.Context, container string, spec engine.LogsSpec, w io.Writer) error {
	f.call("logs " + container)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.container(container) == nil {
		return notFound("container " + container)
	}
	if f.LogsFunc != nil {
		_, err := io.WriteString(w, f.LogsFunc(container, spec))
		return err
	}
	return nil
}

func (f *Fake) Start(_ context.Context, container string) error {
	f.call("start " + container)
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.container(container)
	if c == nil {
		return notFound("container " + container)
	}
	c.State = "running"
	return nil
}

func (f *Fake) Stop(_ context.Context, container string, _ time.Duration) error {
	f.call("stop " + container)
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.container(container)
	if c == nil {
		return notFound("container " + container)
	}
	if c.State == "running" {
		f.exits[c.Name] = 143
		if f.StopFunc != nil {
			f.exits[c.Name] = f.StopFunc(c.Name)
		}
	}
	c.State = "exited"
	return nil
}

func (f *Fake) Remove(_ context.Context, container string) error {
	f.call("rm " + container)
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.container(container); c != nil {
		delete(f.Containers, c.Name)
		delete(f.Specs, c.Name)
		delete(f.exits, c.Name)
	}
	return nil
}

func (f *Fake) ListContainers(_ context.Context, labels map[string]string) ([]engine.Container, error) {
	f.call("ps")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.Container
	for name, c := range f.Containers {
		if matches(f.Specs[name].Labels, labels) {
			out = append(out, *c)
		}
	}
	return out, nil
}

func (f *Fake) InspectContainer(_ context.Context, container string) (*engine.ContainerInfo, error) {
	f.call("inspect container " + container)
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.container(container)
	if c == nil {
		return nil, notFound("container " + container)
	}
	spec := f.Specs[c.Name]
	info := &engine.ContainerInfo{ID: c.ID, Name: c.Name, Image: c.Image, State: c.State, Running: c.State == "running",
		Labels: spec.Labels, Ports: map[string]int{}}
	for _, k := range slices.Sorted(maps.Keys(spec.Env)) {
		info.Env = append(info.Env, k+"="+spec.Env[k])
	}
	if c.State == "exited" {
		info.ExitCode = f.exits[c.Name]
	}
	for i, p := range spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		host := p.HostPort
		if host == 0 {
			host = 40000 + i
		}
		info.Ports[fmt.Sprintf("%d/%s", p.ContainerPort, proto)] = host
	}
	return info, nil
}

func (f *Fake) Diff(_ context.Context, container string) ([]engine.Change, error) {
	f.call("diff " + container)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.container(container) == nil {
		return nil, notFound("container " + container)
	}
	return append([]engine.Change(nil), f.Changes...), nil
}

func (f *Fake) InspectNetwork(_ context.Context, name string) (*engine.NetworkInfo, error) {
	f.call("network inspect " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	labels, ok := f.Networks[name]
	if !ok {
		return nil, notFound("network " + name)
	}
	return &engine.NetworkInfo{Name: name, Gateway: "10.99.0.1", Labels: labels}, nil
}

func (f *Fake) ListResources(_ context.Context, labels map[string]string) ([]engine.Resource, error) {
	f.call("resources")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.Resource
	for name := range f.Containers {
		if l := f.Specs[name].Labels; matches(l, labels) {
			out = append(out, engine.Resource{Kind: engine.KindContainer, Name: name, Labels: l})
		}
	}
	for _, name := range namesMatching(f.Networks, labels) {
		out = append(out, engine.Resource{Kind: engine.KindNetwork, Name: name, Labels: f.Networks[name]})
	}
	for _, name := range namesMatching(f.Volumes, labels) {
		out = append(out, engine.Resource{Kind: engine.KindVolume, Name: name, Labels: f.Volumes[name]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+out[i].Name < out[j].Kind+out[j].Name })
	return out, nil
}

// namesMatching lists, sorted, the names whose labels match.
func namesMatching(byName map[string]map[string]string, labels map[string]string) []string {
	var out []string
	for n, l := range byName {
		if matches(l, labels) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (f *Fake) CreateNetwork(_ context.Context, spec engine.NetworkSpec) error {
	f.call("network create " + spec.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Networks[spec.Name] = spec.Labels
	return nil
}

func (f *Fake) RemoveNetwork(_ context.Context, name string) error {
	f.call("network rm " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.Networks, name)
	return nil
}

func (f *Fake) ListNetworks(_ context.Context, labels map[string]string) ([]string, error) {
	f.call("network ls")
	f.mu.Lock()
	defer f.mu.Unlock()
	return namesMatching(f.Networks, labels), nil
}

func (f *Fake) CreateVolume(_ context.Context, spec engine.VolumeSpec) error {
	f.call("volume create " + spec.Name)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Volumes[spec.Name] = spec.Labels
	return nil
}

func (f *Fake) RemoveVolume(_ context.Context, name string) error {
	f.call("volume rm " + name)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.Volumes, name)
	return nil
}

func (f *Fake) ListVolumes(_ context.Context, labels map[string]string) ([]string, error) {
	f.call("volume ls")
	f.mu.Lock()
	defer f.mu.Unlock()
	return namesMatching(f.Volumes, labels), nil
}

func (f *Fake) RemoveLabelled(ctx context.Context, labels map[string]string) ([]engine.Resource, error) {
	f.call("remove-labelled")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []engine.Resource
	for name, c := range f.Containers {
		if l := f.Specs[name].Labels; matches(l, labels) {
			out = append(out, engine.Resource{Kind: engine.KindContainer, Name: name, Labels: l})
			delete(f.Containers, c.Name)
			delete(f.Specs, c.Name)
		}
	}
	for _, name := range namesMatching(f.Networks, labels) {
		out = append(out, engine.Resource{Kind: engine.KindNetwork, Name: name, Labels: f.Networks[name]})
		delete(f.Networks, name)
	}
	for _, name := range namesMatching(f.Volumes, labels) {
		out = append(out, engine.Resource{Kind: engine.KindVolume, Name: name, Labels: f.Volumes[name]})
		delete(f.Volumes, name)
	}
	return out, nil
}
