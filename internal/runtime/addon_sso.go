package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"cpk/internal/engine"
	"cpk/internal/fsx"
	"cpk/internal/sso"
)

// --- single sign-on: the oidc, proxyAuth and (legacy) oauth add-ons ---
//
// The box's sign-on server (package sso: the OpenID provider and the
// proxyAuth login wall) runs in a container of the box's network, with the
// alias my.<domain>, the dashboard's name on the platform. It is cpk
// itself: the running binary, mounted read-only into a container of the
// local base image and started with CPK_SSO=serve. So the issuer,
// http://my.<domain>/openid, is one URL for both sides of the protocol:
// the app container reaches it by the alias (back channel: token,
// userinfo, keys), and the test's HTTP client on the host reaches it
// through the port published on 127.0.0.1, by mapping the domain to that
// port (front channel: the browser's redirects, see Routes). This works
// the same with rootful and rootless podman and with docker; a provider on
// the host bound to the network's gateway would not (rootless podman has
// no such address, and the bridge gets its address only once a container
// is attached). The scheme is http: the box has no TLS.

// ssoServer is the box's running sign-on server.
type ssoServer struct {
	container string
	addr      string // 127.0.0.1:<published port>
	issuer    string
	mu        sync.Mutex
	state     *ssoState // the admin token, the registrations
	statePath string
}

// Issuer is the box's OpenID issuer.
func (b *Box) Issuer() string { return "http://my." + b.Domain + sso.IssuerPath }

// selfBinary is the program the sign-on container runs: cpk itself (or the
// test binary, whose TestMain calls sso.ServeIfAsked).
func (b *Box) selfBinary() (string, error) {
	exe := b.SelfBinary
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find cpk's own binary for the sign-on server: %w", err)
		}
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe, nil
}

// ssoState is what the runtime keeps of the sign-on server in the run's
// state folder: its admin token and every registration, so that a
// long-lived box (Options.RunID) finds its server again from another
// process, and a server started afresh gets every client back.
type ssoState struct {
	Token   string                  `json:"token"`
	Clients map[string]sso.Client   `json:"clients"`
	Proxies map[string]sso.ProxyApp `json:"proxies"`
}

func (b *Box) ssoStatePath() string { return filepath.Join(b.StateDir, "sso.json") }

func (b *Box) loadSSOState() (*ssoState, error) {
	st := &ssoState{Clients: map[string]sso.Client{}, Proxies: map[string]sso.ProxyApp{}}
	data, err := os.ReadFile(b.ssoStatePath())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("%s: %w", b.ssoStatePath(), err)
	}
	if st.Clients == nil {
		st.Clients = map[string]sso.Client{}
	}
	if st.Proxies == nil {
		st.Proxies = map[string]sso.ProxyApp{}
	}
	return st, nil
}

func (s *ssoServer) save() error {
	data, _ := json.MarshalIndent(s.state, "", "  ")
	return fsx.WriteFile(s.statePath, append(data, '\n'), 0o600)
}

func (b *Box) ssoServer(ctx context.Context) (*ssoServer, error) {
	b.ssoMu.Lock()
	defer b.ssoMu.Unlock()
	if b.sso != nil {
		return b.sso, nil
	}
	if b.BaseImage == "" {
		return nil, errors.New("no base image for the sign-on server")
	}
	st, err := b.loadSSOState()
	if err != nil {
		return nil, err
	}
	s := &ssoServer{container: "cpk-" + b.RunID + "-sso", issuer: b.Issuer(), state: st, statePath: b.ssoStatePath()}
	b.OnClose("container "+s.container, func(ctx context.Context) error { return b.Engine.Remove(ctx, s.container) })
	// A box that goes on with its run finds its server running; one that
	// stopped (or lost its token) is started afresh and gets every
	// registration again.
	fresh := true
	if b.Options.RunID != "" {
		info, err := b.Engine.InspectContainer(ctx, s.container)
		switch {
		case err == nil && info.Running && st.Token != "" && info.Ports["80/tcp"] != 0:
			b.logf("the sign-on server %s runs", s.container)
			s.addr, fresh = "127.0.0.1:"+strconv.Itoa(info.Ports["80/tcp"]), false
		case err == nil:
			if err := b.Engine.Remove(ctx, s.container); err != nil {
				return nil, err
			}
		case !errors.Is(err, engine.ErrNotFound):
			return nil, fmt.Errorf("inspect the sign-on server: %w", err)
		}
	}
	if fresh {
		st.Token = NewRunID() + NewRunID() + NewRunID()
		if err := s.save(); err != nil {
			return nil, err
		}
		if err := b.startSSO(ctx, s); err != nil {
			return nil, err
		}
	}
	if err := b.waitSSO(ctx, s); err != nil {
		return nil, err
	}
	if fresh {
		for _, c := range st.Clients {
			if err := s.admin(ctx, http.MethodPut, "clients/"+url.PathEscape(c.ID), c); err != nil {
				return nil, err
			}
		}
		for _, p := range st.Proxies {
			if err := s.admin(ctx, http.MethodPut, "proxies/"+url.PathEscape(p.ClientID), p); err != nil {
				return nil, err
			}
		}
	}
	b.routes.Set("my."+b.Domain, s.addr)
	b.sso = s
	return s, nil
}

// startSSO runs the sign-on server's container.
func (b *Box) startSSO(ctx context.Context, s *ssoServer) error {
	exe, err := b.selfBinary()
	if err != nil {
		return err
	}
	b.logf("start the sign-on server %s (OpenID provider %s, proxyAuth)", s.container, s.issuer)
	spec := engine.RunSpec{Name: s.container, Image: b.BaseImage, Cmd: []string{"/usr/local/bin/cpk-sso"}, Labels: b.Labels("addon"),
		Env: map[string]string{sso.EnvServe: "serve", sso.EnvIssuer: s.issuer, sso.EnvToken: s.state.Token,
			sso.EnvPassword: TestUserPassword, sso.EnvDomain: b.Domain},
		Hostname: "my." + b.Domain, Network: b.Network, Aliases: []string{"my." + b.Domain}, ReadOnly: true,
		Ports:   []engine.Port{{HostIP: "127.0.0.1", ContainerPort: 80}},
		Volumes: []engine.Mount{{Source: exe, Target: "/usr/local/bin/cpk-sso", ReadOnly: true}}}
	if _, err := b.Engine.Run(ctx, spec); err != nil {
		return fmt.Errorf("start the sign-on server: %w", err)
	}
	info, err := b.Engine.InspectContainer(ctx, s.container)
	if err != nil {
		return err
	}
	port := info.Ports["80/tcp"]
	if port == 0 {
		return fmt.Errorf("the sign-on server's port is not published")
	}
	s.addr = "127.0.0.1:" + strconv.Itoa(port)
	return nil
}

// register and unregister change a registration at the server and in the
// saved state.
func (s *ssoServer) registerClient(ctx context.Context, c sso.Client) error {
	if err := s.admin(ctx, http.MethodPut, "clients/"+url.PathEscape(c.ID), c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Clients[c.ID] = c
	return s.save()
}

func (s *ssoServer) registerProxy(ctx context.Context, p sso.ProxyApp) error {
	if err := s.admin(ctx, http.MethodPut, "proxies/"+url.PathEscape(p.ClientID), p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Proxies[p.ClientID] = p
	return s.save()
}

func (s *ssoServer) unregister(ctx context.Context, kind, id string) error {
	if err := s.admin(ctx, http.MethodDelete, kind+"/"+url.PathEscape(id), nil); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.state.Clients, id)
	delete(s.state.Proxies, id)
	return s.save()
}

func (b *Box) waitSSO(ctx context.Context, s *ssoServer) error {
	deadline := time.Now().Add(60 * time.Second)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := c.Get("http://" + s.addr + sso.AdminPath + "health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if info, ierr := b.Engine.InspectContainer(ctx, s.container); ierr == nil && !info.Running {
			var logs strings.Builder
			_ = b.Engine.Logs(ctx, s.container, engine.LogsSpec{Tail: 20}, &logs)
			return fmt.Errorf("the sign-on server exited (code %d): %s", info.ExitCode, strings.TrimSpace(logs.String()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the sign-on server did not answer within 60 s: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// admin calls the sign-on server's admin API.
func (s *ssoServer) admin(ctx context.Context, method, path string, body any) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.addr+sso.AdminPath+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.state.Token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("the sign-on server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the sign-on server refused %s %s: %s", method, path, strings.TrimSpace(string(msg)))
	}
	return nil
}

// redirectURIs turns the manifest's comma-separated list into URIs: a
// path is appended to the app's origin, anything else (an app scheme such
// as app.immich:/) is kept as written.
func redirectURIs(opt any, origin string) []string {
	s, _ := opt.(string)
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case strings.HasPrefix(p, "/"):
			out = append(out, origin+p)
		default:
			out = append(out, p)
		}
	}
	return out
}

// oidcClientID is the app's client at the provider: one per app (a
// restore makes a new app, hence a new client).
func oidcClientID(a *App) string { return "cid-" + a.ID }

type oidcAddon struct{}

func (oidcAddon) Setup(ctx context.Context, a *App, opts map[string]any) (map[string]string, error) {
	s, err := a.box.ssoServer(ctx)
	if err != nil {
		return nil, err
	}
	secret, err := a.creds.secret("oidc.secret")
	if err != nil {
		return nil, err
	}
	origin := "https://" + a.FQDN()
	c := sso.Client{ID: oidcClientID(a), Secret: secret, RedirectURIs: redirectURIs(opts["loginRedirectUri"], origin),
		PostLogoutRedirectURIs: redirectURIs(opts["logoutRedirectUri"], origin)}
	c.Algorithm, _ = opts["tokenSignatureAlgorithm"].(string)
	if len(c.RedirectURIs) == 0 {
		return nil, errors.New("the oidc add-on needs loginRedirectUri")
	}
	// Registered again on every set-up: after a move, the new domain's
	// redirect URIs replace the old ones.
	if err := s.registerClient(ctx, c); err != nil {
		return nil, err
	}
	iss := s.issuer
	return map[string]string{
		"CLOUDRON_OIDC_PROVIDER_NAME":    "Cloudron",
		"CLOUDRON_OIDC_ISSUER":           iss,
		"CLOUDRON_OIDC_DISCOVERY_URL":    iss + sso.PathDiscovery,
		"CLOUDRON_OIDC_AUTH_ENDPOINT":    iss + sso.PathAuth,
		"CLOUDRON_OIDC_TOKEN_ENDPOINT":   iss + sso.PathToken,
		"CLOUDRON_OIDC_KEYS_ENDPOINT":    iss + sso.PathKeys,
		"CLOUDRON_OIDC_PROFILE_ENDPOINT": iss + sso.PathUserinfo,
		"CLOUDRON_OIDC_CLIENT_ID":        c.ID,
		"CLOUDRON_OIDC_CLIENT_SECRET":    secret,
	}, nil
}

func (oidcAddon) Teardown(ctx context.Context, a *App) error {
	s, err := a.box.ssoServer(ctx)
	if err != nil {
		return err
	}
	return s.unregister(ctx, "clients", oidcClientID(a))
}

// oauthAddon is the legacy oauth add-on (reference §3.3; sso/legacy.go):
// a client of the same provider whose redirect URIs are anything on the
// app's origin, the authorization dialog and token endpoint at the
// dashboard's legacy paths, the scope profile. The origin is the issuer's
// (http: the box has no TLS), so the app reaches the token endpoint and
// /api/v1/profile by the alias, as a browser on the host does.
type oauthAddon struct{}

func oauthClientID(a *App) string { return "oauth-" + a.ID }

func (oauthAddon) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	s, err := a.box.ssoServer(ctx)
	if err != nil {
		return nil, err
	}
	secret, err := a.creds.secret("oauth.secret")
	if err != nil {
		return nil, err
	}
	// Registered again on every set-up: after a move, the new origin
	// replaces the old one.
	c := sso.Client{ID: oauthClientID(a), Secret: secret, RedirectOrigins: []string{"https://" + a.FQDN()}}
	if err := s.registerClient(ctx, c); err != nil {
		return nil, err
	}
	return map[string]string{
		"CLOUDRON_OAUTH_CLIENT_ID":     c.ID,
		"CLOUDRON_OAUTH_CLIENT_SECRET": secret,
		"CLOUDRON_OAUTH_ORIGIN":        strings.TrimSuffix(s.issuer, sso.IssuerPath),
	}, nil
}

func (oauthAddon) Teardown(ctx context.Context, a *App) error {
	s, err := a.box.ssoServer(ctx)
	if err != nil {
		return err
	}
	return s.unregister(ctx, "clients", oauthClientID(a))
}

// proxyAuthAddon puts the platform's login wall in front of the app.
type proxyAuthAddon struct{}

func proxyClientID(a *App) string { return "proxyauth-" + a.ID }

func (proxyAuthAddon) Setup(ctx context.Context, a *App, opts map[string]any) (map[string]string, error) {
	s, err := a.box.ssoServer(ctx)
	if err != nil {
		return nil, err
	}
	secret, err := a.creds.secret("proxyauth.secret")
	if err != nil {
		return nil, err
	}
	if a.Manifest.HTTPPort == 0 {
		return nil, errors.New("proxyAuth needs the app's httpPort")
	}
	p := sso.ProxyApp{FQDN: a.FQDN(), Upstream: "http://" + a.ID + ":" + strconv.Itoa(a.Manifest.HTTPPort),
		ClientID: proxyClientID(a), ClientSecret: secret}
	p.Path, _ = opts["path"].(string)
	p.BasicAuth, _ = opts["basicAuth"].(bool)
	p.BearerAuth, _ = opts["supportsBearerAuth"].(bool)
	return nil, s.registerProxy(ctx, p)
}

func (proxyAuthAddon) Teardown(ctx context.Context, a *App) error {
	s, err := a.box.ssoServer(ctx)
	if err != nil {
		return err
	}
	return s.unregister(ctx, "proxies", proxyClientID(a))
}

// --- the front door: how a browser on the host reaches the box ---

// route says where the app's domain answers: the login wall with
// proxyAuth, else the app's published httpPort (what the platform's
// reverse proxy passes to).
func (a *App) route() {
	if a.HostPort == 0 {
		return
	}
	addr := "127.0.0.1:" + strconv.Itoa(a.HostPort)
	a.box.ssoMu.Lock()
	if _, ok := a.Manifest.Addons["proxyAuth"]; ok && a.box.sso != nil {
		addr = a.box.sso.addr
	}
	a.box.ssoMu.Unlock()
	a.box.routes.Set(a.FQDN(), addr)
}

// Browser is an HTTP client as a user's browser on the platform: it asks
// https://<app domain>/… and https://my.<domain>/… (the provider), keeps
// cookies and follows redirects.
func (a *App) Browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: &a.box.routes, Jar: jar, Timeout: 60 * time.Second}
}

// SignIn is a test user's sign-in through the provider's login form,
// started at path on the app's domain (its "log in with Cloudron" link, or
// any page behind proxyAuth) and followed through every redirect. It
// returns the page the sign-in lands on, and the browser, which keeps the
// session for further requests.
type SignIn struct {
	Browser *http.Client
	URL     *url.URL // where it landed
	Status  int
	Body    string
	// Form says whether the provider's login form was shown (and submitted).
	Form bool
}

// SignIn signs user in, starting at path on the app's domain. With form,
// the start page's form whose action starts with that path is submitted
// first (its hidden fields, such as a CSRF token): apps that start their
// OpenID login with a POST, as a button in a form.
func (a *App) SignIn(ctx context.Context, path, form, user string) (*SignIn, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	br := a.Browser()
	res := &SignIn{Browser: br}
	resp, body, err := fetch(br, ctx, http.MethodGet, "https://"+a.FQDN()+path, nil)
	if err != nil {
		return nil, err
	}
	if form != "" {
		f, err := sso.FindForm(body, resp.Request.URL, form)
		if err != nil {
			return nil, fmt.Errorf("GET %s (%d): %w", path, resp.StatusCode, err)
		}
		if resp, body, err = submit(ctx, br, f); err != nil {
			return nil, err
		}
	}
	login := resp.Request.URL
	if login.Host == "my."+a.box.Domain && login.Path == sso.IssuerPath+sso.PathLogin {
		f, err := sso.ParseLoginForm(body, login)
		if err != nil {
			return nil, err
		}
		f.Values.Set("username", user)
		f.Values.Set("password", TestUserPassword)
		if resp, body, err = submit(ctx, br, f); err != nil {
			return nil, err
		}
		res.Form = true
	}
	res.URL, res.Status, res.Body = resp.Request.URL, resp.StatusCode, body
	return res, nil
}

// submit sends a form as a browser does.
func submit(ctx context.Context, br *http.Client, f *sso.Form) (*http.Response, string, error) {
	if f.Method == http.MethodPost {
		return fetch(br, ctx, http.MethodPost, f.Action, f.Values)
	}
	u, err := url.Parse(f.Action)
	if err != nil {
		return nil, "", err
	}
	u.RawQuery = f.Values.Encode()
	return fetch(br, ctx, http.MethodGet, u.String(), nil)
}

// fetch makes one request (following redirects) and reads the answer.
func fetch(br *http.Client, ctx context.Context, method, u string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// The page's own origin: Django and others check it on a POST.
		if pu, err := url.Parse(u); err == nil {
			req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
			req.Header.Set("Referer", u)
		}
	}
	resp, err := br.Do(req)
	if err != nil {
		return nil, "", err
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	return resp, string(data), nil
}
