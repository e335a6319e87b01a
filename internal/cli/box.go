package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cpk/internal/base"
	"cpk/internal/box"
	"cpk/internal/fsx"
)

func newBoxCmd(g *Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "box",
		Short: "A development Cloudron on this machine: the platform's REST API over cpk's emulated runtime",
		Long: `A development Cloudron on this machine. cpk box serve answers the part of
the Cloudron REST API (/api/v1, as its published description says) that
deploying and testing a package use: apps (list, get, install, update,
uninstall, restart, configure location, logs), backups (create, list,
restore) and tasks. Behind it are cpk's emulated runtime and real add-on
servers in containers, so cpk deploy --server, the official cloudron CLI
or curl work against it as against a real Cloudron.

cpk box down removes everything the box made.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newBoxServeCmd(g), newBoxDownCmd(g))
	return c
}

type boxServeOptions struct {
	Addr        string
	Token       string
	State       string
	Domain      string
	AllowRemote bool
	Format      string
}

func newBoxServeCmd(g *Globals) *cobra.Command {
	var opts boxServeOptions
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve a development Cloudron's REST API on this machine",
		Long: `Serve a development Cloudron's REST API at http://ADDR/api/v1.

Every request needs the box's API token, as "Authorization: Bearer TOKEN"
or ?access_token=TOKEN; without it the answer is 401. The token is --token,
else $CPK_BOX_TOKEN, else the one in the box's state folder (made the first
time, readable only by you; its path is printed, not its value).

Install an app with POST /api/v1/apps and its CloudronManifest.json, with
dockerImage set to an image this machine has or can pull (cpk build prints
it). Long operations answer with a taskId: GET /api/v1/tasks/ID says when
they end, and why they failed; as on the platform, a task ends once the
app's container runs, and GET /api/v1/apps/ID then says whether it is
healthy (wait for "healthy"). Each app gets its own address on this
machine, http://127.0.0.1:PORT (its httpPort, the same port at every
start), reported as upstreamUri by GET /api/v1/apps/ID; fqdn is its name
on the box's domain (default cloudron.test). Add-ons are real servers
(PostgreSQL, MariaDB, Redis, mail, LDAP) in containers.

The box keeps its state in .cpk/box (--state): stopping it (Ctrl-C) leaves
the apps running with their data, and cpk box serve finds them again. A
task under way when it stops ends in error, an install is removed. cpk gc
leaves the box's containers, volumes and network alone; cpk box down
removes them.

cpk deploy APP --server http://ADDR and cpk test APP --server http://ADDR
use it with the token in $CPK_CLOUDRON_TOKEN, as they would a real Cloudron.

It listens on loopback only, unless --allow-remote: the token is the only
protection and the API is plain HTTP.`,
		Example: `  cpk box serve                                  # http://127.0.0.1:8090/api/v1
  cpk box serve --addr 127.0.0.1:0 --format json # any free port; the start-up line as JSON
  CPK_BOX_TOKEN=secret cpk box serve
  CPK_CLOUDRON_TOKEN=$(cat .cpk/box/token) cpk deploy webhook --server http://127.0.0.1:8090
  curl -H "Authorization: Bearer $(cat .cpk/box/token)" http://127.0.0.1:8090/api/v1/apps`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if _, port, err := net.SplitHostPort(opts.Addr); err != nil || port == "" {
				return usageError("--addr %q: give HOST:PORT, e.g. 127.0.0.1:8090 (port 0: any free port)", opts.Addr)
			}
			if !box.IsLoopback(opts.Addr) && !opts.AllowRemote {
				return usageError("--addr %s is not a loopback address: the box's API is plain HTTP with one token; add --allow-remote to serve beyond this machine", opts.Addr)
			}
			return runBoxServe(c.Context(), g, opts)
		},
	}
	c.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8090", "address to listen on (port 0: any free port)")
	c.Flags().StringVar(&opts.Token, "token", "", "the API token (default: $CPK_BOX_TOKEN, else the token file in the state folder)")
	c.Flags().StringVar(&opts.State, "state", "", "the box's state folder (default: .cpk/box under the repository root)")
	c.Flags().StringVar(&opts.Domain, "domain", "", "the box's domain, apps live at SUBDOMAIN.DOMAIN (default cloudron.test; fixed when the box is made)")
	c.Flags().BoolVar(&opts.AllowRemote, "allow-remote", false, "allow listening on an address beyond loopback")
	formatFlag(c, &opts.Format)
	return c
}

// boxStateDir is --state, else .cpk/box under the repository root.
func (g *Globals) boxStateDir(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	state, err := g.stateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(state, "box"), nil
}

// boxToken returns the token and where it comes from: the flag,
// $CPK_BOX_TOKEN, or the state folder's token file (made the first time).
func boxToken(flag, dir string) (token, from string, err error) {
	if flag != "" {
		return flag, "--token", nil
	}
	if t := os.Getenv("CPK_BOX_TOKEN"); t != "" {
		return t, "$CPK_BOX_TOKEN", nil
	}
	path := filepath.Join(dir, "token")
	data, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(data)) != "" {
		return strings.TrimSpace(string(data)), path, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	token = hex.EncodeToString(b[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	if err := fsx.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return token, path, nil
}

// boxStarted is the start-up line of cpk box serve.
type boxStarted struct {
	URL       string `json:"url"` // the API: http://ADDR/api/v1
	Token     string `json:"tokenFrom"`
	StateDir  string `json:"stateDir"`
	Domain    string `json:"domain"`
	Run       string `json:"run"`
	Apps      int    `json:"apps"`
	Loopback  bool   `json:"loopback"`
	ServerPID int    `json:"pid"`
}

func runBoxServe(ctx context.Context, g *Globals, opts boxServeOptions) error {
	dir, err := g.boxStateDir(opts.State)
	if err != nil {
		return err
	}
	token, from, err := boxToken(opts.Token, dir)
	if err != nil {
		return envError(fmt.Errorf("the box's token: %w", err))
	}
	state, err := g.stateDir()
	if err != nil {
		return err
	}
	baseRef, err := base.LocalRef(state)
	if err != nil {
		return envError(err)
	}
	e, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	if _, err := base.Inspect(ctx, e, baseRef); err != nil {
		return engineError(err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return envError(fmt.Errorf("listen on %s: %w (choose another address with --addr)", opts.Addr, err))
	}
	defer ln.Close()
	logw := g.IO.Err
	b, err := box.Open(ctx, box.Options{Engine: e, BaseImage: baseRef, StateDir: dir, Token: token, Domain: opts.Domain,
		Log: logw})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, box.ErrServing) {
			return envError(err)
		}
		return engineError(err)
	}
	defer b.Close()
	addr := ln.Addr().(*net.TCPAddr)
	st := boxStarted{URL: "http://" + addr.String() + box.Prefix, Token: from, StateDir: dir, Domain: b.Domain(), Run: b.RunID(),
		Apps: b.Apps(), Loopback: addr.IP.IsLoopback(), ServerPID: os.Getpid()}
	if opts.Format == "json" {
		_ = g.IO.writeJSON(st)
	} else {
		fmt.Fprintf(g.IO.Out, "cpk box on %s (domain %s, %d apps; token: %s; state: %s; Ctrl-C stops serving, the apps keep running)\n",
			st.URL, st.Domain, st.Apps, st.Token, st.StateDir)
	}
	if !st.Loopback {
		fmt.Fprintf(g.IO.Err, "warning: listening on %s, beyond this machine, over plain HTTP\n", addr)
	}
	errLog := log.New(g.IO.Err, "box: ", log.LstdFlags)
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: errLog}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return envError(fmt.Errorf("serve: %w", err))
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	fmt.Fprintln(g.IO.Err, "box: stopping; a task under way ends in error (an install is removed), the apps keep running")
	if err := b.Close(); err != nil {
		return err
	}
	fmt.Fprintln(g.IO.Err, "box stopped: cpk box serve goes on where it stopped, cpk box down removes it")
	return ctx.Err()
}

type boxDownOptions struct {
	State  string
	Format string
}

func newBoxDownCmd(g *Globals) *cobra.Command {
	var opts boxDownOptions
	c := &cobra.Command{
		Use:   "down",
		Short: "Remove the development box: its apps, add-on servers, volumes, network and state",
		Long: `Remove everything cpk box serve made: the apps' containers and volumes (their
data and databases), the add-on servers, the box's network, its backups and
its state folder. Stop cpk box serve first. Afterwards cpk gc finds nothing
of it.`,
		Example: `  cpk box down
  cpk box down --state /tmp/mybox --format json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			return runBoxDown(c.Context(), g, opts)
		},
	}
	c.Flags().StringVar(&opts.State, "state", "", "the box's state folder (default: .cpk/box under the repository root)")
	formatFlag(c, &opts.Format)
	return c
}

func runBoxDown(ctx context.Context, g *Globals, opts boxDownOptions) error {
	dir, err := g.boxStateDir(opts.State)
	if err != nil {
		return err
	}
	e, err := g.openEngine(ctx)
	if err != nil {
		return err
	}
	res, err := box.Down(ctx, e, dir)
	if res != nil {
		if opts.Format == "json" {
			_ = g.IO.writeJSON(res)
		} else {
			t := &table{io: g.IO}
			for _, r := range res.Removed {
				t.row("removed", r.Kind, r.Name)
			}
			t.flush()
			fmt.Fprintf(g.IO.Err, "%d removed; state folder %s removed\n", len(res.Removed), res.StateDir)
		}
	}
	if errors.Is(err, box.ErrServing) {
		return envError(err)
	}
	return engineError(err)
}
