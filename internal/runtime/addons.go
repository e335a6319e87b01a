package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"cpk/internal/engine"
	"cpk/internal/fsx"
)

// Addon is one add-on of the platform (§3), emulated.
type Addon interface {
	// Setup provisions the add-on for the app (database, user, volume…)
	// and returns its variables with the CLOUDRON_ prefix. Setting up
	// again (restart, update, move) keeps credentials and data.
	Setup(ctx context.Context, a *App, opts map[string]any) (map[string]string, error)
	// Teardown removes what Setup made (uninstall).
	Teardown(ctx context.Context, a *App) error
}

// Backuper is an add-on whose data goes into a backup as a dump file.
type Backuper interface {
	Addon
	// DumpFile is the dump's name in a backup (postgresqldump…).
	DumpFile() string
	// Dump writes the app's data to path; Load reads it back into a
	// freshly set up add-on.
	Dump(ctx context.Context, a *App, path string) error
	Load(ctx context.Context, a *App, path string) error
	// Digest is a digest of the app's data in the add-on, equal for equal
	// contents (the restore comparison).
	Digest(ctx context.Context, a *App) (string, error)
}

// ErrNotAvailable is an add-on that cannot be provided on this machine.
var ErrNotAvailable = errors.New("not available locally")

var addons = map[string]Addon{
	"localstorage": localstorage{},
	"postgresql":   postgresql{},
	"mysql":        mysql{},
	"redis":        redis{},
	"sendmail":     sendmail{},
	"recvmail":     recvmail{},
	"email":        email{},
	"ldap":         ldap{},
	"scheduler":    scheduler{},
	"tls":          tlsAddon{},
	"oidc":         oidcAddon{},
	"oauth":        oauthAddon{},
	"proxyAuth":    proxyAuthAddon{},
	"turn":         turn{},
	"docker":       dockerAddon{},
}

// unavailable says why an add-on cannot be emulated here.
var unavailable = map[string]string{
	"mongodb": "there is no MongoDB server in Debian 12, from which cpk builds its add-on services",
}

// Supported lists the add-ons cpk provides, sorted.
func Supported() []string {
	var out []string
	for n := range addons {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// CheckAddons returns an error naming every add-on of the list that cannot
// be provided locally.
func CheckAddons(names []string) error {
	var errs []error
	for _, n := range names {
		if _, err := lookupAddon(n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func lookupAddon(name string) (Addon, error) {
	if a, ok := addons[name]; ok {
		return a, nil
	}
	if why, ok := unavailable[name]; ok {
		return nil, fmt.Errorf("the %s add-on is %w: %s", name, ErrNotAvailable, why)
	}
	return nil, fmt.Errorf("the %s add-on is %w: cpk does not know it", name, ErrNotAvailable)
}

// --- credentials ---

// credentials are an app's generated secrets, kept in the run's state
// folder (apps/<app id>/credentials.json), generated once and reused
// across restarts, updates and moves.
type credentials struct {
	mu     sync.Mutex
	path   string
	Values map[string]string `json:"values"`
}

func loadCredentials(b *Box, appID string) (*credentials, error) {
	dir, err := b.dir("apps", appID)
	if err != nil {
		return nil, err
	}
	c := &credentials{path: filepath.Join(dir, "credentials.json"), Values: map[string]string{}}
	data, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("%s: %w", c.path, err)
	}
	return c, nil
}

// secret returns the named secret, generating and saving it the first time.
func (c *credentials) secret(name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.Values[name]; ok {
		return v, nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	v := hex.EncodeToString(b[:])
	c.Values[name] = v
	data, _ := json.MarshalIndent(c, "", "  ")
	if err := fsx.WriteFile(c.path, append(data, '\n'), 0o600); err != nil {
		return "", err
	}
	return v, nil
}

func (c *credentials) remove() error {
	err := os.Remove(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// --- services ---

// service is an add-on server running in the box (one container).
type service struct {
	name      string // container name
	container string
}

// serviceSpec describes an add-on server.
type serviceSpec struct {
	kind    string   // postgresql, mysql, mail, ldap, redis-<app id>
	aliases []string // host names on the box's network
	cmd     []string
	env     map[string]string
	ready   []string // a command that succeeds once the server answers
}

// service starts an add-on server once per box (or returns it).
func (b *Box) service(ctx context.Context, s serviceSpec) (*service, error) {
	b.mu.Lock()
	if sv, ok := b.services[s.kind]; ok {
		b.mu.Unlock()
		return sv, nil
	}
	b.mu.Unlock()
	img, err := b.addonImage(ctx)
	if err != nil {
		return nil, err
	}
	name := "cpk-" + b.RunID + "-" + s.kind
	b.own("container "+name, func(ctx context.Context) error { return b.Engine.Remove(ctx, name) })
	// A box that goes on with its run (RunID) finds its services again,
	// with their data; one stopped meanwhile is started as it was.
	info, err := (*engine.ContainerInfo)(nil), engine.ErrNotFound
	if b.Options.RunID != "" {
		info, err = b.Engine.InspectContainer(ctx, name)
	}
	switch {
	case err == nil && info.Running:
		b.logf("the %s service %s runs", s.kind, name)
	case err == nil:
		b.logf("start the %s service %s again", s.kind, name)
		if err := b.Engine.Start(ctx, name); err != nil {
			return nil, fmt.Errorf("start the %s service again: %w", s.kind, err)
		}
	case errors.Is(err, engine.ErrNotFound):
		b.logf("start the %s service %s", s.kind, name)
		if _, err := b.Engine.Run(ctx, engine.RunSpec{Name: name, Image: img, Cmd: s.cmd, Env: s.env, Labels: b.Labels("addon"),
			Hostname: s.aliases[0], Network: b.Network, Aliases: s.aliases}); err != nil {
			return nil, fmt.Errorf("start the %s service: %w", s.kind, err)
		}
	default:
		return nil, fmt.Errorf("inspect the %s service: %w", s.kind, err)
	}
	sv := &service{name: s.kind, container: name}
	if err := b.waitReady(ctx, name, s.ready, s.kind); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.services[s.kind] = sv
	b.mu.Unlock()
	return sv, nil
}

// stopService removes a per-app service (redis).
func (b *Box) stopService(ctx context.Context, kind string) error {
	b.mu.Lock()
	sv, ok := b.services[kind]
	delete(b.services, kind)
	b.mu.Unlock()
	if !ok {
		return nil
	}
	return b.Engine.Remove(ctx, sv.container)
}

func (b *Box) waitReady(ctx context.Context, container string, probe []string, kind string) error {
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for {
		res, err := b.Engine.Exec(ctx, container, engine.ExecSpec{Cmd: probe})
		if err == nil && res.ExitCode == 0 {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = strings.TrimSpace(string(res.Stderr) + string(res.Stdout))
		}
		if info, ierr := b.Engine.InspectContainer(ctx, container); ierr == nil && !info.Running {
			var logs strings.Builder
			_ = b.Engine.Logs(ctx, container, engine.LogsSpec{Tail: 20}, &logs)
			return fmt.Errorf("the %s service exited (code %d): %s", kind, info.ExitCode, strings.TrimSpace(logs.String()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %s service did not answer within 90 s: %s", kind, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// addonImage returns the add-on image, building it the first time.
func (b *Box) addonImage(ctx context.Context) (string, error) {
	b.mu.Lock()
	ref, ok := b.images["addons"]
	b.mu.Unlock()
	if ok {
		return ref, nil
	}
	if b.BaseImage == "" {
		return "", errors.New("no base image for the add-on services")
	}
	ref, err := EnsureAddonImage(ctx, b.Engine, b.BaseImage, func(s string) { b.logf("%s", s) })
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	b.images["addons"] = ref
	b.mu.Unlock()
	return ref, nil
}

// execIn runs a command in a service container and fails on a non-zero exit.
func (b *Box) execIn(ctx context.Context, container string, spec engine.ExecSpec) ([]byte, error) {
	res, err := b.Engine.Exec(ctx, container, spec)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if msg == "" {
			msg = strings.TrimSpace(string(res.Stdout))
		}
		return res.Stdout, fmt.Errorf("%s: exit %d: %s", strings.Join(spec.Cmd[:min(len(spec.Cmd), 2)], " "), res.ExitCode, lastLine(msg))
	}
	return res.Stdout, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}
