package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/build"
	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/push"
	"cpk/internal/registry"
)

type pushOptions struct {
	Format        string
	Registry      string
	Username      string
	PasswordStdin bool
	Insecure      bool
	Offline       bool
	Build         bool
}

const pushLong = `Push the images of packages to a container registry (any registry that
speaks the OCI distribution protocol: Docker Hub, GHCR, GitLab, Harbor,
a Cloudron's own registry app, Debian's docker-registry…).

What is pushed is the image cpk build made for the package's current
content (localhost/cpk/<app>:<hash>). A package with no image for its
current content is not built behind your back: cpk push says so and
stops; run cpk build APP first, or add --build to build it here. Use the
same --offline (or cpk-build.yaml) as the build, since it decides which
image is current.

The image goes to --registry HOST[:PORT]/NAMESPACE as NAMESPACE/<app>,
tagged with the manifest version and the image's content hash:
HOST/NAMESPACE/<app>:<version>-<hash>. cpk prints the digest the registry
serves for that tag (it asks the registry after the push), and records the
push in the results store, where cpk deploy finds it by app and content
hash. The same image always gets the same digest, and when the tag holds
this very image already (its config digest is the image id), nothing is
saved or uploaded: the push is recorded again with the registry's digest.

Credentials come from the engines' auth files, as podman and docker read
them: $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json,
~/.config/containers/auth.json (podman login), then ~/.docker/config.json
or $DOCKER_CONFIG (docker login, credential helpers included). Or give
--username with the password on standard input (--password-stdin); the
password never goes on the command line, and cpk never prints or logs it.

Registries are reached over HTTPS with verified certificates. A loopback
registry (localhost, 127.0.0.1, ::1) may answer over plain HTTP, as the
engines allow; for any other plain-HTTP or self-signed registry add
--insecure.

Ctrl-C stops the push: the tag is written last, so an interrupted push
leaves no tag in the registry and nothing recorded.

Exit codes: 1 when a package is not built (or its build fails), 3 when
the registry refuses the credentials or cannot be reached, or no engine
answers; the other packages are still pushed unless the registry is at
fault.`

func newPushCmd(g *Globals) *cobra.Command {
	var opts pushOptions
	c := &cobra.Command{
		Use:   "push APP... --registry HOST[:PORT]/NAMESPACE",
		Short: "Push package images to a container registry and print their digests",
		Long:  pushLong,
		Example: `  cpk push webhook --registry registry.example.com/cloudron
  cpk push webhook redmine --registry 127.0.0.1:5000/cpk --offline
  printf '%s' "$TOKEN" | cpk push webhook --registry ghcr.io/team --username bot --password-stdin
  cpk push webhook --registry registry.lan:5000/cpk --insecure --format json`,
		ValidArgsFunction: appCompletion(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if len(args) == 0 {
				return usageError("name the packages to push, e.g. cpk push webhook --registry HOST/NAMESPACE")
			}
			return runPush(c.Context(), g, opts, args)
		},
	}
	formatFlag(c, &opts.Format)
	f := c.Flags()
	f.StringVar(&opts.Registry, "registry", "", "where to push: HOST[:PORT]/NAMESPACE (default $CPK_REGISTRY)")
	f.StringVar(&opts.Username, "username", "", "registry user; the password comes on standard input (--password-stdin)")
	f.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the registry password (or token) from standard input")
	f.BoolVar(&opts.Insecure, "insecure", false, "allow plain HTTP and unverified TLS certificates (loopback registries may use plain HTTP anyway)")
	f.BoolVar(&opts.Offline, "offline", false, "the images built with --offline (as cpk build --offline)")
	f.BoolVar(&opts.Build, "build", false, "build the image first when the package's current content has none")
	return c
}

// pushed is one package's line of the report.
type pushed struct {
	*push.Result
	App   string `json:"app"`
	Error string `json:"error,omitempty"`
}

func runPush(ctx context.Context, g *Globals, opts pushOptions, args []string) error {
	if opts.Registry == "" {
		opts.Registry = os.Getenv("CPK_REGISTRY")
	}
	if opts.Registry == "" {
		return usageError("--registry HOST[:PORT]/NAMESPACE is required (or set CPK_REGISTRY)")
	}
	target, err := registry.ParseTarget(opts.Registry)
	if err != nil {
		return usageError("--registry: %v", err)
	}
	target.Insecure = opts.Insecure
	auth, err := pushAuth(g, opts)
	if err != nil {
		return err
	}
	sel, err := g.selectPackages(args, catalog.Filter{Dockerfile: true})
	if err != nil {
		return err
	}
	if len(sel.Packages) == 0 {
		return usageError("none of %s has a Dockerfile: nothing to push", strings.Join(args, ", "))
	}
	root, err := g.rootDir()
	if err != nil {
		return err
	}
	cfg, err := build.LoadConfig(root)
	if err != nil {
		return usageError("%v", err)
	}
	buildArgs, err := mergeBuildArgs(cfg.BuildArgs, nil)
	if err != nil {
		return err
	}
	state := filepath.Join(root, ".cpk")
	mapping, err := baseMapping(state, opts.Offline, cfg)
	if err != nil {
		return err
	}
	e, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	disp := &pushDisplay{io: g.IO}
	var report []pushed
	code := ExitOK
	for _, p := range sel.Packages {
		res, err := push.Push(ctx, p, push.Options{
			Engine: e, StateDir: state, Mapping: mapping, BuildArgs: buildArgs, Build: opts.Build,
			Target: target, Auth: auth, Events: disp.event,
		})
		disp.end()
		if ctx.Err() != nil {
			return ctx.Err() // interrupted: this push is not recorded
		}
		if err == nil {
			report = append(report, pushed{Result: res, App: p.ID})
			g.recordPush(context.WithoutCancel(ctx), p, opts.Registry, res)
			continue
		}
		report = append(report, pushed{App: p.ID, Error: err.Error()})
		fmt.Fprintf(g.IO.Err, "%s %s not pushed: %v\n", g.IO.paint(red, "✗"), p.ID, err)
		c := ExitCode(engineError(err))
		var re *registry.Error
		if errors.As(err, &re) {
			c = ExitEnvironment
		}
		code = max(code, c)
		if re != nil {
			break // the registry refuses or cannot be reached: the others would fare no better
		}
	}
	printPushes(g.IO, report, opts.Format)
	if code != ExitOK {
		return &ExitError{Code: code} // each failure is reported above
	}
	return nil
}

// pushAuth reads --username and the password on stdin; without them the
// registry adapter reads the engines' auth files.
func pushAuth(g *Globals, opts pushOptions) (registry.Auth, error) {
	switch {
	case opts.Username == "" && !opts.PasswordStdin:
		return registry.Auth{}, nil
	case opts.Username == "":
		return registry.Auth{}, usageError("--password-stdin goes with --username")
	case !opts.PasswordStdin:
		return registry.Auth{}, usageError("--username needs the password on standard input: add --password-stdin (a password is never taken from the command line)")
	}
	if g.IO.In == nil {
		return registry.Auth{}, usageError("--password-stdin: no standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(g.IO.In, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return registry.Auth{}, envError(fmt.Errorf("read the password from standard input: %w", err))
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return registry.Auth{}, usageError("--password-stdin: standard input held no password")
	}
	return registry.Auth{Username: opts.Username, Password: password}, nil
}

// recordPush keeps a push in the results store, under the package's
// content hash (the hash status and the evidence use); a store that cannot
// be written is a warning, as for every record.
func (g *Globals) recordPush(ctx context.Context, p cpk.Package, reg string, r *push.Result) {
	hash, err := (&catalog.App{Dir: p.Dir}).ContentHash()
	if err != nil {
		fmt.Fprintf(g.IO.Err, "warning: push not recorded: %v\n", err)
		return
	}
	s, err := g.openStore(ctx)
	if err != nil {
		fmt.Fprintf(g.IO.Err, "warning: push not recorded: %v\n", err)
		return
	}
	defer s.Close()
	err = s.RecordPush(ctx, cpk.Push{
		App: p.ID, Hash: hash, Version: r.Version, Image: r.Image, Registry: reg,
		Reference: r.Reference, Digest: r.Digest, Size: r.Size, Pushed: time.Now().UTC(),
	})
	if err != nil {
		fmt.Fprintf(g.IO.Err, "warning: %v\n", err)
	}
}

func printPushes(io *IO, report []pushed, format string) {
	if format == "json" {
		if report == nil {
			report = []pushed{}
		}
		_ = io.writeJSON(report)
		return
	}
	t := &table{io: io}
	if io.OutTTY {
		t.row(io.paint(bold, "app"), io.paint(bold, "reference"), io.paint(bold, "digest"))
	}
	for _, r := range report {
		if r.Result != nil {
			t.row(r.App, r.Reference, r.Digest)
		}
	}
	t.flush()
}

// pushDisplay shows a push as it goes, on stderr: one line per phase, and
// on a terminal the upload's progress refreshed in place.
type pushDisplay struct {
	io      *IO
	mu      sync.Mutex
	phase   push.Phase
	started time.Time
	live    bool // a progress line is on screen
	last    time.Time
}

func (d *pushDisplay) event(ev push.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ev.Phase != d.phase {
		d.clear()
		d.phase = ev.Phase
		switch ev.Phase {
		case push.Building:
			d.started = time.Now()
			fmt.Fprintf(d.io.Err, "%s: building (cpk build)\n", ev.App)
		case push.Saving:
			if d.started.IsZero() {
				d.started = time.Now()
			}
			fmt.Fprintf(d.io.Err, "%s: saving the image from the engine\n", ev.App)
		case push.Compressing:
			fmt.Fprintf(d.io.Err, "%s: compressing the layers\n", ev.App)
		case push.Pushing:
			fmt.Fprintf(d.io.Err, "%s: pushing\n", ev.App)
		case push.Present:
			fmt.Fprintf(d.io.Err, "%s: the registry holds this image under its tag already (nothing to upload)\n", ev.App)
		case push.Pushed:
			fmt.Fprintf(d.io.Err, "%s: pushed %s in %.1fs\n", ev.App, humanBytes(ev.Total), time.Since(d.started).Seconds())
		}
		return
	}
	if (ev.Phase == push.Pushing || ev.Phase == push.Compressing) && d.io.ErrTTY && ev.Total > 0 && time.Since(d.last) > 200*time.Millisecond {
		d.last = time.Now()
		fmt.Fprintf(d.io.Err, "\r\x1b[2K%s: %s %s of %s (%d%%)", ev.App, ev.Phase, humanBytes(ev.Done), humanBytes(ev.Total), min(100, ev.Done*100/ev.Total))
		d.live = true
	}
}

func (d *pushDisplay) clear() {
	if d.live {
		fmt.Fprint(d.io.Err, "\r\x1b[2K")
		d.live = false
	}
}

// end closes one package's display.
func (d *pushDisplay) end() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	d.phase, d.started = "", time.Time{}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
