package sso

import (
	"net/http"
	"strings"
	"sync"
)

// Routes is a client's view of the box from the host: the platform's
// reverse proxy answers https://<domain> for every app and the dashboard;
// the emulated box publishes each on a port of the host. Routes sends a
// request for a domain to the address that answers it, over plain HTTP,
// with the domain as Host and X-Forwarded-Proto set to the scheme asked,
// as the platform's proxy does. The request URL stays as asked, so that a
// cookie jar keeps its cookies by the real domain (Secure ones too).
type Routes struct {
	mu    sync.Mutex
	hosts map[string]string // domain → host:port
	// Base carries the rewritten requests (default http.DefaultTransport).
	Base http.RoundTripper
}

// Set sends requests for domain to addr (host:port).
func (t *Routes) Set(domain, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hosts == nil {
		t.hosts = map[string]string{}
	}
	t.hosts[strings.ToLower(domain)] = addr
}

// RoundTrip implements http.RoundTripper.
func (t *Routes) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	t.mu.Lock()
	addr, ok := t.hosts[strings.ToLower(req.URL.Hostname())]
	t.mu.Unlock()
	if !ok {
		return base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = "http", addr
	out.Host = req.URL.Host
	out.Header.Set("X-Forwarded-Proto", req.URL.Scheme)
	out.Header.Set("X-Forwarded-Host", req.URL.Host)
	resp, err := base.RoundTrip(out)
	if resp != nil {
		resp.Request = req
	}
	return resp, err
}
