// Package sso is the emulated Cloudron's single sign-on: an OpenID Connect
// provider (the oidc add-on, reference §3.2–§3.3) built on the provider
// package of github.com/zitadel/oidc (which also serves the legacy oauth
// add-on's OAuth 2.0 paths, see legacy.go), and the authenticating proxy of
// the proxyAuth add-on in front of apps. Both know the seeded test users of the
// ldap add-on. The runtime runs it as one small server in a container on
// the box's network (cpk runs itself there: see Serve), and registers each
// app's client and proxy through its admin API.
package sso

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// IssuerPath is where the provider lives on the dashboard's origin, as on
// the platform (issuer = dashboard origin + /openid).
const IssuerPath = "/openid"

// The endpoints, relative to the issuer: the platform's provider names.
const (
	PathAuth       = "/auth"
	PathToken      = "/token"
	PathUserinfo   = "/me"
	PathKeys       = "/jwks"
	PathEndSession = "/session/end"
	PathLogin      = "/login"
	PathDiscovery  = "/.well-known/openid-configuration"
)

// User is a test user.
type User struct {
	Username    string   `json:"username"`
	Email       string   `json:"email"`
	DisplayName string   `json:"displayName"`
	Groups      []string `json:"groups"`
}

// TestUsers are the users the ldap add-on seeds (admin and user, both with
// the runtime's test password) at domain.
func TestUsers(domain string) []User {
	return []User{
		{Username: "admin", Email: "admin@" + domain, DisplayName: "Test admin", Groups: []string{"users", "admins"}},
		{Username: "user", Email: "user@" + domain, DisplayName: "Test user", Groups: []string{"users"}},
	}
}

// Client is an app's OpenID client, as the platform registers it for the
// oidc add-on: one per app and location.
type Client struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	RedirectURIs []string `json:"redirectUris"`
	// PostLogoutRedirectURIs are where end-session may send the user back.
	PostLogoutRedirectURIs []string `json:"postLogoutRedirectUris,omitempty"`
	// Algorithm signs the client's ID tokens: RS256 (default) or EdDSA.
	Algorithm string `json:"algorithm,omitempty"`
	// RedirectOrigins allow any redirect URI on these origins
	// (https://<fqdn>): the legacy oauth add-on's client, for which the
	// platform registered the app's origin (see legacy.go).
	RedirectOrigins []string `json:"redirectOrigins,omitempty"`
}

// Config configures the provider.
type Config struct {
	// Issuer is the provider's issuer URL (…/openid).
	Issuer   string
	Users    []User
	Password string // every test user's password
	// Insecure allows an http issuer (the emulated box has no TLS).
	Insecure bool
}

// Provider is the OpenID provider.
type Provider struct {
	cfg   Config
	op    *op.Provider
	store *storage
	login *template.Template
}

// NewProvider makes the provider, with fresh signing keys.
func NewProvider(cfg Config) (*Provider, error) {
	st, err := newStorage(cfg)
	if err != nil {
		return nil, err
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	opts := []op.Option{op.WithCustomEndpoints(op.NewEndpoint(PathAuth), op.NewEndpoint(PathToken), op.NewEndpoint(PathUserinfo),
		op.NewEndpoint("/token/revocation"), op.NewEndpoint(PathEndSession), op.NewEndpoint(PathKeys))}
	if cfg.Insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(&op.Config{
		CryptoKey:             key,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, "groups"},
	}, st, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("the OpenID provider: %w", err)
	}
	pr := &Provider{cfg: cfg, op: p, store: st, login: template.Must(template.New("login").Parse(loginPage))}
	return pr, nil
}

// Register adds or replaces a client.
func (p *Provider) Register(c Client) error {
	if c.ID == "" || c.Secret == "" || len(c.RedirectURIs)+len(c.RedirectOrigins) == 0 {
		return errors.New("a client needs an id, a secret and at least one redirect URI or origin")
	}
	for _, o := range c.RedirectOrigins {
		if err := checkOrigin(o); err != nil {
			return err
		}
	}
	switch c.Algorithm {
	case "":
		c.Algorithm = "RS256"
	case "RS256", "EdDSA":
	default:
		return fmt.Errorf("token signature algorithm %q: use RS256 or EdDSA", c.Algorithm)
	}
	p.store.mu.Lock()
	p.store.clients[c.ID] = &c
	p.store.mu.Unlock()
	return nil
}

// Unregister removes a client and its tokens.
func (p *Provider) Unregister(id string) {
	s := p.store
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, id)
	for k, t := range s.tokens {
		if t.clientID == id {
			delete(s.tokens, k)
		}
	}
}

// Authenticate checks a test user's password.
func (p *Provider) Authenticate(username, password string) (*User, bool) {
	return p.store.authenticate(username, password)
}

// ServeHTTP serves the provider below IssuerPath's path: the endpoints and
// the login form.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathLogin:
		p.serveLogin(w, r)
		return
	case PathToken:
		// The client's signature algorithm travels in the context to
		// SigningKey: the provider package asks for one key per request.
		if err := r.ParseForm(); err == nil {
			id := r.PostForm.Get("client_id")
			if u, _, ok := r.BasicAuth(); ok {
				id = u
			}
			r = r.WithContext(context.WithValue(r.Context(), clientKey{}, id))
		}
	}
	p.op.ServeHTTP(w, r)
}

type clientKey struct{}

// --- the login form ---

const loginPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Cloudron login</title></head>
<body><h1>Log in to {{.Client}}</h1>
{{if .Error}}<p class="error" id="loginError">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="id" value="{{.ID}}">
<label>Username <input id="inputUsername" name="username" autocomplete="username"></label>
<label>Password <input id="inputPassword" name="password" type="password" autocomplete="current-password"></label>
<button id="loginSubmitButton" type="submit">Log in</button>
</form></body></html>
`

func (p *Provider) serveLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.Form.Get("id")
	req, err := p.store.request(id)
	if err != nil {
		http.Error(w, "unknown or expired login request: start again from the app", http.StatusBadRequest)
		return
	}
	data := map[string]string{"ID": id, "Client": req.ClientID, "Action": IssuerPath + PathLogin}
	if r.Method == http.MethodPost {
		user, ok := p.store.authenticate(r.PostForm.Get("username"), r.PostForm.Get("password"))
		if ok {
			p.store.finishLogin(id, user.Username)
			// The provider package's callback (op.AuthCallbackURL, which
			// needs the issuer in the context of its own routes).
			http.Redirect(w, r, p.cfg.Issuer+PathAuth+"/callback?id="+url.QueryEscape(id), http.StatusFound)
			return
		}
		data["Error"] = "Invalid username or password"
		w.WriteHeader(http.StatusUnauthorized)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = p.login.Execute(w, data)
}

// --- storage: clients, auth requests and tokens in memory ---

type authRequest struct {
	oidc.AuthRequest
	id       string
	subject  string
	authTime time.Time
	done     bool
	code     string
	created  time.Time
}

func (a *authRequest) GetID() string         { return a.id }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	m := a.CodeChallengeMethod
	if m == "" {
		m = oidc.CodeChallengeMethodPlain
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: m}
}
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }

// token is an access token, or a refresh token (refresh set).
type token struct {
	id       string
	clientID string
	subject  string
	scopes   []string
	authTime time.Time
	expires  time.Time
	refresh  bool
}

func (t *token) GetAMR() []string               { return []string{"pwd"} }
func (t *token) GetAudience() []string          { return []string{t.clientID} }
func (t *token) GetAuthTime() time.Time         { return t.authTime }
func (t *token) GetClientID() string            { return t.clientID }
func (t *token) GetScopes() []string            { return t.scopes }
func (t *token) GetSubject() string             { return t.subject }
func (t *token) SetCurrentScopes(sc []string)   { t.scopes = sc }
func (t *token) isExpired(now time.Time) bool   { return now.After(t.expires) }
func (t *token) belongsTo(clientID string) bool { return t.clientID == clientID }

type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any // the private key
	pub any
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.pub }

type storage struct {
	mu       sync.Mutex
	cfg      Config
	users    map[string]User
	clients  map[string]*Client
	requests map[string]*authRequest
	codes    map[string]string // code → request id
	tokens   map[string]*token // access token ids and refresh tokens
	keys     map[string]*signingKey
}

func newStorage(cfg Config) (*storage, error) {
	s := &storage{cfg: cfg, users: map[string]User{}, clients: map[string]*Client{}, requests: map[string]*authRequest{},
		codes: map[string]string{}, tokens: map[string]*token{}, keys: map[string]*signingKey{}}
	for _, u := range cfg.Users {
		s.users[u.Username] = u
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	epub, epriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	s.keys["RS256"] = &signingKey{id: "rs256-" + randomID()[:8], alg: jose.RS256, key: rk, pub: &rk.PublicKey}
	s.keys["EdDSA"] = &signingKey{id: "eddsa-" + randomID()[:8], alg: jose.EdDSA, key: epriv, pub: epub}
	return s, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// notFound is the provider package's "no such thing".
type notFound struct{ what string }

func (e notFound) Error() string { return e.what + " not found" }
func (notFound) IsNotFound()     {}

func (s *storage) authenticate(username, password string) (*User, bool) {
	u, ok := s.users[strings.ToLower(strings.TrimSpace(username))]
	if !ok {
		// Users may log in with their e-mail address, as on the platform.
		for _, c := range s.users {
			if strings.EqualFold(c.Email, strings.TrimSpace(username)) {
				u, ok = c, true
			}
		}
	}
	// Compare digests: the time does not depend on where they differ.
	a, b := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(s.cfg.Password))
	if !ok || a != b || s.cfg.Password == "" {
		return nil, false
	}
	return &u, true
}

func (s *storage) request(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if !ok || time.Since(r.created) > 30*time.Minute {
		return nil, notFound{"auth request"}
	}
	return r, nil
}

func (s *storage) finishLogin(id, subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		r.subject, r.done, r.authTime = subject, true, time.Now()
	}
}

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &authRequest{AuthRequest: *req, id: randomID(), subject: userID, created: time.Now()}
	s.requests[r.id] = r
	return r, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	return s.request(id)
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, notFound{"code"}
	}
	return s.request(id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		r.code = code
	}
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		delete(s.codes, r.code)
	}
	delete(s.requests, id)
	return nil
}

const accessTokenLife = 15 * time.Minute

func (s *storage) newAccessToken(req op.TokenRequest) *token {
	t := &token{id: randomID(), subject: req.GetSubject(), scopes: req.GetScopes(), expires: time.Now().Add(accessTokenLife)}
	switch r := req.(type) {
	case *authRequest:
		t.clientID, t.authTime = r.ClientID, r.authTime
	case *token:
		t.clientID, t.authTime = r.clientID, r.authTime
	}
	s.tokens[t.id] = t
	return t
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.newAccessToken(req)
	return t.id, t.expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if current != "" {
		old, ok := s.tokens[current]
		if !ok || !old.refresh {
			return "", "", time.Time{}, op.ErrInvalidRefreshToken
		}
		delete(s.tokens, current) // rotation: a refresh token is used once
	}
	at := s.newAccessToken(req)
	rt := &token{id: randomID() + randomID(), clientID: at.clientID, subject: at.subject, scopes: at.scopes, authTime: at.authTime,
		expires: time.Now().Add(30 * 24 * time.Hour), refresh: true}
	s.tokens[rt.id] = rt
	return at.id, rt.id, at.expires, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, refresh string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[refresh]
	if !ok || !t.refresh || t.isExpired(time.Now()) {
		return nil, op.ErrInvalidRefreshToken
	}
	c := *t
	return &c, nil
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		if t.subject == userID && t.belongsTo(clientID) {
			delete(s.tokens, k)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenOrID]
	if !ok {
		return nil // RFC 7009: an unknown token is no error
	}
	if !t.belongsTo(clientID) {
		return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
	}
	delete(s.tokens, tokenOrID)
	return nil
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, tok string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if !ok || !t.refresh || !t.belongsTo(clientID) {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.subject, t.id, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := "RS256"
	if id, _ := ctx.Value(clientKey{}).(string); id != "" {
		s.mu.Lock()
		if c, ok := s.clients[id]; ok && c.Algorithm != "" {
			alg = c.Algorithm
		}
		s.mu.Unlock()
	}
	return s.keys[alg], nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.EdDSA}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.keys["RS256"]}, publicKey{s.keys["EdDSA"]}}, nil
}

func (s *storage) client(id string) (*Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	return c, ok
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.client(id)
	if !ok {
		return nil, notFound{"client " + id}
	}
	return opClient{c}, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.client(id)
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(c.secretOrEmpty()))
	if !ok || a != b {
		return errors.New("invalid client id or secret")
	}
	return nil
}

func (c *Client) secretOrEmpty() string {
	if c == nil {
		return "\x00no client"
	}
	return c.Secret
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.userinfo(info, req.GetSubject(), scopes)
}

func (s *storage) userinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	u, ok := s.users[subject]
	if !ok {
		return notFound{"user " + subject}
	}
	info.Subject = u.Username
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = u.Email, true
		case oidc.ScopeProfile:
			info.Name, info.PreferredUsername = u.DisplayName, u.Username
			first, last, _ := strings.Cut(u.DisplayName, " ")
			info.GivenName, info.FamilyName = first, last
		case "groups":
			info.AppendClaims("groups", u.Groups)
		}
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.refresh || t.isExpired(time.Now()) {
		return errors.New("the access token is invalid or expired")
	}
	return s.userinfo(info, t.subject, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.isExpired(time.Now()) {
		return errors.New("the token is invalid or expired")
	}
	resp.Active, resp.Subject, resp.ClientID, resp.Scope = true, t.subject, t.clientID, t.scopes
	resp.Audience = []string{t.clientID}
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) Health(context.Context) error { return nil }

// opClient is a Client as the provider package sees it: a confidential
// web client with the code flow and refresh tokens, exact redirect URIs.
type opClient struct{ c *Client }

func (o opClient) GetID() string                    { return o.c.ID }
func (o opClient) RedirectURIs() []string           { return o.c.RedirectURIs }
func (o opClient) PostLogoutRedirectURIs() []string { return o.c.PostLogoutRedirectURIs }

// ApplicationType is web, or native when a redirect URI is an app's own
// scheme (loginRedirectUri may list one, such as app.immich:/, for a
// mobile app): the provider package allows those only to native clients.
// The client still authenticates with its secret either way.
// RedirectURIGlobs makes the provider package accept any URI on a
// redirect origin (doublestar's ** spans the path, its query included);
// the origin itself matches too. PostLogoutRedirectURIGlobs: none.
func (o opClient) RedirectURIGlobs() []string {
	var out []string
	for _, origin := range o.c.RedirectOrigins {
		out = append(out, origin+"/**")
	}
	return out
}
func (o opClient) PostLogoutRedirectURIGlobs() []string { return nil }

func (o opClient) ApplicationType() op.ApplicationType {
	for _, u := range o.c.RedirectURIs {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return op.ApplicationTypeNative
		}
	}
	return op.ApplicationTypeWeb
}
func (o opClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodBasic }
func (o opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (o opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (o opClient) LoginURL(id string) string            { return IssuerPath + PathLogin + "?id=" + id }
func (o opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (o opClient) IDTokenLifetime() time.Duration       { return time.Hour }
func (o opClient) DevMode() bool                        { return true } // http redirect URIs: the box has no TLS
func (o opClient) ClockSkew() time.Duration             { return 0 }
func (o opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (o opClient) IsScopeAllowed(scope string) bool {
	return slices.Contains([]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, "groups"}, scope)
}
func (o opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (o opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
