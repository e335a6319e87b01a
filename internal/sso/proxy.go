package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// The headers the platform's proxy gives an authenticated request (and
// removes from every request that reaches it).
const (
	HeaderUser  = "X-Remote-User"
	HeaderEmail = "X-Remote-Email"
	HeaderName  = "X-Remote-Name"
)

// ProxyApp is an app behind the proxyAuth add-on: the platform's login
// wall in front of it (reference §3.3). The proxy signs users in through
// the provider, as the platform does, with a client of its own.
type ProxyApp struct {
	FQDN     string `json:"fqdn"`
	Upstream string `json:"upstream"` // http://<app container>:<httpPort>
	// Path is the manifest's path option: a prefix that needs a login
	// (default "/": everything), or "!prefix": everything but it.
	Path       string `json:"path,omitempty"`
	BasicAuth  bool   `json:"basicAuth,omitempty"`
	BearerAuth bool   `json:"supportsBearerAuth,omitempty"`
	// ClientID and ClientSecret: the proxy's own client at the provider.
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// Protects says whether a path needs a login.
func (a ProxyApp) Protects(path string) bool {
	p := a.Path
	if p == "" {
		p = "/"
	}
	if rest, ok := strings.CutPrefix(p, "!"); ok {
		return !hasPathPrefix(path, rest)
	}
	return hasPathPrefix(path, p)
}

func hasPathPrefix(path, prefix string) bool {
	return prefix == "/" || path == prefix || strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/")
}

// The proxy's own paths on the app's domain (the platform reserves them).
const (
	ProxyLogin    = "/login"
	ProxyCallback = "/callback"
	ProxyLogout   = "/logout"
	sessionCookie = "cpk_proxyauth_session"
	stateCookie   = "cpk_proxyauth_state"
)

// Proxy is the login wall of every proxyAuth app of the box, by domain.
type Proxy struct {
	issuer   string
	provider *Provider
	client   *http.Client // to the provider (its discovery, token endpoint)
	key      []byte       // signs the cookies
	mu       sync.Mutex
	apps     map[string]*proxied
}

type proxied struct {
	app   ProxyApp
	proxy *httputil.ReverseProxy
	party rp.RelyingParty // made on the first login (discovery asks the provider)
}

// NewProxy makes the proxy; client reaches the provider at issuer.
func NewProxy(issuer string, p *Provider, client *http.Client) *Proxy {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if client == nil {
		client = http.DefaultClient
	}
	return &Proxy{issuer: issuer, provider: p, client: client, key: key, apps: map[string]*proxied{}}
}

// Register puts an app behind the wall (again: its new domain after a
// move), with a client at the provider for its callback.
func (x *Proxy) Register(a ProxyApp) error {
	up, err := url.Parse(a.Upstream)
	if err != nil || up.Host == "" {
		return errors.New("proxyAuth: the upstream must be an http URL")
	}
	if a.FQDN == "" || a.ClientID == "" || a.ClientSecret == "" {
		return errors.New("proxyAuth: an app needs its domain and a client")
	}
	if err := x.provider.Register(Client{ID: a.ClientID, Secret: a.ClientSecret, RedirectURIs: []string{"https://" + a.FQDN + ProxyCallback}}); err != nil {
		return err
	}
	rev := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(up)
		r.Out.Host = a.FQDN // as the platform's nginx: Host is the app's domain
		r.SetXForwarded()
		r.Out.Header.Set("X-Forwarded-Proto", "https")
		r.Out.Header.Set("X-Forwarded-Host", a.FQDN)
	}}
	x.mu.Lock()
	defer x.mu.Unlock()
	for d, p := range x.apps {
		if p.app.ClientID == a.ClientID {
			delete(x.apps, d) // moved: the old domain is gone
		}
	}
	x.apps[strings.ToLower(a.FQDN)] = &proxied{app: a, proxy: rev}
	return nil
}

// Unregister removes an app (uninstall).
func (x *Proxy) Unregister(clientID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for d, p := range x.apps {
		if p.app.ClientID == clientID {
			delete(x.apps, d)
		}
	}
	x.provider.Unregister(clientID)
}

func (x *Proxy) lookup(host string) *proxied {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.apps[strings.ToLower(host)]
}

// session is who a cookie says the user is.
type session struct {
	User    string `json:"u"`
	Email   string `json:"e"`
	Name    string `json:"n"`
	Expires int64  `json:"x"`
	Domain  string `json:"d"`
}

func (x *Proxy) seal(v any) string {
	data, _ := json.Marshal(v)
	mac := hmac.New(sha256.New, x.key)
	mac.Write(data)
	return base64.RawURLEncoding.EncodeToString(data) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (x *Proxy) open(s string, v any) bool {
	data64, sig64, ok := strings.Cut(s, ".")
	data, err1 := base64.RawURLEncoding.DecodeString(data64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if !ok || err1 != nil || err2 != nil {
		return false
	}
	mac := hmac.New(sha256.New, x.key)
	mac.Write(data)
	return hmac.Equal(sig, mac.Sum(nil)) && json.Unmarshal(data, v) == nil
}

// serveApp answers a request to a proxied app's domain.
func (x *Proxy) serveApp(w http.ResponseWriter, r *http.Request, p *proxied) {
	for _, h := range []string{HeaderUser, HeaderEmail, HeaderName} {
		r.Header.Del(h) // never trust them from outside
	}
	switch r.URL.Path {
	case ProxyLogin:
		x.startLogin(w, r, p)
		return
	case ProxyCallback:
		x.finishLogin(w, r, p)
		return
	case ProxyLogout:
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true})
		http.Redirect(w, r, ProxyLogin, http.StatusFound)
		return
	}
	var s session
	if c, err := r.Cookie(sessionCookie); err == nil && x.open(c.Value, &s) && s.Domain == p.app.FQDN && time.Now().Unix() < s.Expires {
		x.pass(w, r, p, &s)
		return
	}
	if user, pass, ok := r.BasicAuth(); ok && p.app.BasicAuth {
		if u, ok := x.provider.Authenticate(user, pass); ok {
			x.pass(w, r, p, &session{User: u.Username, Email: u.Email, Name: u.DisplayName})
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+p.app.FQDN+`"`)
		http.Error(w, "invalid username or password", http.StatusUnauthorized)
		return
	}
	if p.app.BearerAuth && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		p.proxy.ServeHTTP(w, r) // the app checks its own tokens
		return
	}
	if !p.app.Protects(r.URL.Path) {
		p.proxy.ServeHTTP(w, r)
		return
	}
	http.Redirect(w, r, ProxyLogin+"?redirect="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
}

func (x *Proxy) pass(w http.ResponseWriter, r *http.Request, p *proxied, s *session) {
	r.Header.Set(HeaderUser, s.User)
	r.Header.Set(HeaderEmail, s.Email)
	r.Header.Set(HeaderName, s.Name)
	p.proxy.ServeHTTP(w, r)
}

type loginState struct {
	State    string `json:"s"`
	Redirect string `json:"r"`
	Expires  int64  `json:"x"`
}

func (x *Proxy) party(ctx context.Context, p *proxied) (rp.RelyingParty, error) {
	x.mu.Lock()
	party := p.party
	x.mu.Unlock()
	if party != nil {
		return party, nil
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, x.issuer, p.app.ClientID, p.app.ClientSecret, "https://"+p.app.FQDN+ProxyCallback,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}, rp.WithHTTPClient(x.client), rp.WithSigningAlgsFromDiscovery())
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	p.party = party
	x.mu.Unlock()
	return party, nil
}

func (x *Proxy) startLogin(w http.ResponseWriter, r *http.Request, p *proxied) {
	party, err := x.party(r.Context(), p)
	if err != nil {
		http.Error(w, "the login provider does not answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	redirect := r.URL.Query().Get("redirect")
	if !strings.HasPrefix(redirect, "/") || strings.HasPrefix(redirect, "//") {
		redirect = "/"
	}
	st := loginState{State: randomID(), Redirect: redirect, Expires: time.Now().Add(30 * time.Minute).Unix()}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: x.seal(st), Path: "/", MaxAge: 1800, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, rp.AuthURL(st.State, party), http.StatusFound)
}

func (x *Proxy) finishLogin(w http.ResponseWriter, r *http.Request, p *proxied) {
	var st loginState
	c, err := r.Cookie(stateCookie)
	if err != nil || !x.open(c.Value, &st) || st.State != r.URL.Query().Get("state") || time.Now().Unix() > st.Expires {
		http.Error(w, "the login did not start here, or took too long: start again", http.StatusBadRequest)
		return
	}
	party, err := x.party(r.Context(), p)
	if err != nil {
		http.Error(w, "the login provider does not answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](r.Context(), r.URL.Query().Get("code"), party)
	if err != nil {
		http.Error(w, "the login failed: "+err.Error(), http.StatusUnauthorized)
		return
	}
	claims := tokens.IDTokenClaims
	s := session{User: claims.Subject, Email: claims.Email, Name: claims.Name, Domain: p.app.FQDN, Expires: time.Now().Add(12 * time.Hour).Unix()}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: x.seal(s), Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, st.Redirect, http.StatusFound)
}
