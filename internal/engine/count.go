package engine

import (
	"context"
	"io"
	"maps"
	"sync"
	"time"
)

// Counter is an Engine that counts the calls made through it by verb
// (run, exec, inspect-container…) before passing them on: what the
// lifecycle test reports per step.
type Counter struct {
	Engine
	mu     sync.Mutex
	counts map[string]int
	took   map[string]time.Duration
}

// NewCounter wraps e.
func NewCounter(e Engine) *Counter {
	return &Counter{Engine: e, counts: map[string]int{}, took: map[string]time.Duration{}}
}

// Took returns the time spent in the calls so far by verb.
func (c *Counter) Took() map[string]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.took)
}

// Counts returns the calls so far by verb.
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Total is the number of calls so far.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Since returns the calls made since an earlier Counts, by verb.
func (c *Counter) Since(before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range c.Counts() {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// Unwrap is the counted engine.
func (c *Counter) Unwrap() Engine { return c.Engine }

// count counts a call; call the function it returns when the call ends.
func (c *Counter) count(verb string) func() {
	start := time.Now()
	c.mu.Lock()
	c.counts[verb]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.took[verb] += time.Since(start)
		c.mu.Unlock()
	}
}

func (c *Counter) Info(ctx context.Context) (*Info, error) {
	defer c.count("info")()
	return c.Engine.Info(ctx)
}

func (c *Counter) BuildImage(ctx context.Context, spec BuildSpec) (string, error) {
	defer c.count("build")()
	return c.Engine.BuildImage(ctx, spec)
}

func (c *Counter) ImportImage(ctx context.Context, spec ImportSpec) (string, error) {
	defer c.count("import")()
	return c.Engine.ImportImage(ctx, spec)
}

func (c *Counter) InspectImage(ctx context.Context, ref string) (*Image, error) {
	defer c.count("image-inspect")()
	return c.Engine.InspectImage(ctx, ref)
}

func (c *Counter) ListImages(ctx context.Context, f ImageFilter) ([]Image, error) {
	defer c.count("images")()
	return c.Engine.ListImages(ctx, f)
}

func (c *Counter) TagImage(ctx context.Context, image, ref string) error {
	defer c.count("tag")()
	return c.Engine.TagImage(ctx, image, ref)
}

func (c *Counter) UntagImage(ctx context.Context, ref string) error {
	defer c.count("untag")()
	return c.Engine.UntagImage(ctx, ref)
}

func (c *Counter) RemoveImage(ctx context.Context, ref string) error {
	defer c.count("rmi")()
	return c.Engine.RemoveImage(ctx, ref)
}

func (c *Counter) SaveImage(ctx context.Context, ref, path string) error {
	defer c.count("save")()
	return c.Engine.SaveImage(ctx, ref, path)
}

func (c *Counter) Start(ctx context.Context, container string) error {
	defer c.count("start")()
	return c.Engine.Start(ctx, container)
}

func (c *Counter) Run(ctx context.Context, spec RunSpec) (string, error) {
	defer c.count("run")()
	return c.Engine.Run(ctx, spec)
}

func (c *Counter) Top(ctx context.Context, container string) (*Processes, error) {
	defer c.count("top")()
	return c.Engine.Top(ctx, container)
}

func (c *Counter) Exec(ctx context.Context, container string, spec ExecSpec) (*ExecResult, error) {
	defer c.count("exec")()
	return c.Engine.Exec(ctx, container, spec)
}

func (c *Counter) Logs(ctx context.Context, container string, spec LogsSpec, w io.Writer) error {
	defer c.count("logs")()
	return c.Engine.Logs(ctx, container, spec, w)
}

func (c *Counter) Stop(ctx context.Context, container string, grace time.Duration) error {
	defer c.count("stop")()
	return c.Engine.Stop(ctx, container, grace)
}

func (c *Counter) Remove(ctx context.Context, container string) error {
	defer c.count("rm")()
	return c.Engine.Remove(ctx, container)
}

func (c *Counter) ListContainers(ctx context.Context, labels map[string]string) ([]Container, error) {
	defer c.count("ps")()
	return c.Engine.ListContainers(ctx, labels)
}

func (c *Counter) InspectContainer(ctx context.Context, container string) (*ContainerInfo, error) {
	defer c.count("inspect")()
	return c.Engine.InspectContainer(ctx, container)
}

func (c *Counter) Diff(ctx context.Context, container string) ([]Change, error) {
	defer c.count("diff")()
	return c.Engine.Diff(ctx, container)
}

func (c *Counter) CreateNetwork(ctx context.Context, spec NetworkSpec) error {
	defer c.count("network-create")()
	return c.Engine.CreateNetwork(ctx, spec)
}

func (c *Counter) RemoveNetwork(ctx context.Context, name string) error {
	defer c.count("network-rm")()
	return c.Engine.RemoveNetwork(ctx, name)
}

func (c *Counter) ListNetworks(ctx context.Context, labels map[string]string) ([]string, error) {
	defer c.count("network-ls")()
	return c.Engine.ListNetworks(ctx, labels)
}

func (c *Counter) InspectNetwork(ctx context.Context, name string) (*NetworkInfo, error) {
	defer c.count("network-inspect")()
	return c.Engine.InspectNetwork(ctx, name)
}

func (c *Counter) CreateVolume(ctx context.Context, spec VolumeSpec) error {
	defer c.count("volume-create")()
	return c.Engine.CreateVolume(ctx, spec)
}

func (c *Counter) RemoveVolume(ctx context.Context, name string) error {
	defer c.count("volume-rm")()
	return c.Engine.RemoveVolume(ctx, name)
}

func (c *Counter) ListVolumes(ctx context.Context, labels map[string]string) ([]string, error) {
	defer c.count("volume-ls")()
	return c.Engine.ListVolumes(ctx, labels)
}

func (c *Counter) ListResources(ctx context.Context, labels map[string]string) ([]Resource, error) {
	defer c.count("resources")()
	return c.Engine.ListResources(ctx, labels)
}

func (c *Counter) RemoveLabelled(ctx context.Context, labels map[string]string) ([]Resource, error) {
	defer c.count("remove-labelled")()
	return c.Engine.RemoveLabelled(ctx, labels)
}
