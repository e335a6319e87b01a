package sso

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// The admin API, with which the runtime registers clients and proxied
// apps: PUT and DELETE AdminPath+"clients/<id>" (a Client) and
// AdminPath+"proxies/<client id>" (a ProxyApp), with the admin token as a
// bearer token; GET AdminPath+"health" answers 200 once the server runs.
const AdminPath = "/__cpk/"

// Server is the box's single sign-on server: the provider on the issuer's
// host (with the legacy oauth add-on's paths there), the login wall on the domains of proxyAuth apps, the admin API.
type Server struct {
	Provider   *Provider
	Proxy      *Proxy
	issuerHost string
	token      string
}

// NewServer makes the server for an issuer (http://my.<domain>/openid).
func NewServer(issuer, adminToken, password string, users []User, client *http.Client) (*Server, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Path != IssuerPath {
		return nil, fmt.Errorf("issuer %q: want http(s)://<host>%s", issuer, IssuerPath)
	}
	if adminToken == "" {
		return nil, errors.New("no admin token")
	}
	p, err := NewProvider(Config{Issuer: issuer, Users: users, Password: password, Insecure: u.Scheme == "http"})
	if err != nil {
		return nil, err
	}
	return &Server{Provider: p, Proxy: NewProxy(issuer, p, client), issuerHost: strings.ToLower(u.Host), token: adminToken}, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, AdminPath); ok {
		s.admin(w, r, rest)
		return
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil && !strings.Contains(s.issuerHost, ":") {
		host = h
	}
	if host == s.issuerHost {
		if rest, ok := strings.CutPrefix(r.URL.Path, IssuerPath); ok && (rest == "" || rest[0] == '/') {
			http.StripPrefix(IssuerPath, s.Provider).ServeHTTP(w, r)
			return
		}
		// The legacy oauth add-on's paths on the dashboard (legacy.go).
		if s.Provider.serveLegacy(w, r) {
			return
		}
		http.NotFound(w, r)
		return
	}
	if p := s.Proxy.lookup(host); p != nil {
		s.Proxy.serveApp(w, r, p)
		return
	}
	http.Error(w, "no app at "+host, http.StatusNotFound)
}

func (s *Server) admin(w http.ResponseWriter, r *http.Request, rest string) {
	if rest == "health" {
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	kind, id, _ := strings.Cut(rest, "/")
	var err error
	switch {
	case r.Method == http.MethodPut && kind == "clients":
		var c Client
		if err = json.NewDecoder(r.Body).Decode(&c); err == nil && c.ID != id {
			err = errors.New("the client id differs from the path")
		}
		if err == nil {
			err = s.Provider.Register(c)
		}
	case r.Method == http.MethodDelete && kind == "clients":
		s.Provider.Unregister(id)
	case r.Method == http.MethodPut && kind == "proxies":
		var a ProxyApp
		if err = json.NewDecoder(r.Body).Decode(&a); err == nil && a.ClientID != id {
			err = errors.New("the client id differs from the path")
		}
		if err == nil {
			err = s.Proxy.Register(a)
		}
	case r.Method == http.MethodDelete && kind == "proxies":
		s.Proxy.Unregister(id)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// The server's settings, in the environment of its container.
const (
	EnvServe    = "CPK_SSO" // "serve" runs the server instead of the program
	EnvIssuer   = "CPK_SSO_ISSUER"
	EnvToken    = "CPK_SSO_TOKEN"
	EnvPassword = "CPK_SSO_PASSWORD"
	EnvDomain   = "CPK_SSO_DOMAIN"
	EnvListen   = "CPK_SSO_LISTEN" // default :80
)

// ServeIfAsked runs the server and exits when the environment asks for it
// (EnvServe=serve): the runtime runs cpk itself (or a test binary) in a
// container of the box's network as its sign-on server. main and the
// TestMain of packages whose tests start a box call it first.
func ServeIfAsked() {
	if os.Getenv(EnvServe) != "serve" {
		return
	}
	if err := serveFromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, "cpk sso:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveFromEnv() error {
	listen := os.Getenv(EnvListen)
	if listen == "" {
		listen = ":80"
	}
	srv, err := NewServer(os.Getenv(EnvIssuer), os.Getenv(EnvToken), os.Getenv(EnvPassword), TestUsers(os.Getenv(EnvDomain)), nil)
	if err != nil {
		return err
	}
	// The provider package logs refused requests; one line each on stderr.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	hs := &http.Server{Addr: listen, Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	fmt.Fprintf(os.Stderr, "cpk sso: issuer %s on %s\n", os.Getenv(EnvIssuer), listen)
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
