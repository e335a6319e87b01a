package sso

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The legacy oauth add-on (reference §3.2–§3.3, "oauth (legacy)"). Before
// OpenID Connect, the platform was an OAuth 2.0 provider for the apps that
// declared oauth: it gave them CLOUDRON_OAUTH_CLIENT_ID, _CLIENT_SECRET and
// _ORIGIN (the dashboard's origin), registered the app's origin
// https://<fqdn> as the client's redirect URI with the scope profile, and
// served the authorization dialog at <origin>/api/v1/oauth/dialog/authorize
// and the token endpoint at <origin>/api/v1/oauth/token.
//
// cpk serves these two paths with the OpenID provider's own handlers, the
// authorize and token endpoints under their legacy names: the code flow,
// the client authenticated with its secret (PKCE when the app sends it;
// the legacy apps did not), the provider's login form, codes and tokens.
// A request without a scope gets the legacy client's, profile.
//
// Two things the reference does not say, inferred:
//   - The redirect URI: legacy apps send their callback path on their
//     origin, so any URI on the registered origin is accepted
//     (Client.RedirectOrigins), and no other.
//   - The user: apps read it from the dashboard's REST API with the access
//     token, GET /api/v1/profile (the API's "authenticated user's profile",
//     a bearer token or ?access_token=, answered with its Profile schema).
//     cpk serves it for the provider's access tokens.
const (
	LegacyAuthPath  = "/api/v1/oauth/dialog/authorize"
	LegacyTokenPath = "/api/v1/oauth/token"
	ProfilePath     = "/api/v1/profile"
	// LegacyScope is the scope the platform gave legacy clients.
	LegacyScope = "profile"
)

// serveLegacy serves the legacy paths on the dashboard's host; it answers
// false for any other path.
func (p *Provider) serveLegacy(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case LegacyAuthPath:
		r = r.Clone(r.Context())
		if err := r.ParseForm(); err == nil && strings.TrimSpace(r.Form.Get("scope")) == "" {
			// The provider package reads the parsed form.
			r.Form.Set("scope", LegacyScope)
		}
		p.serveAt(w, r, PathAuth)
	case LegacyTokenPath:
		p.serveAt(w, r, PathToken)
	case ProfilePath:
		p.serveProfile(w, r)
	default:
		return false
	}
	return true
}

// serveAt hands the request to the provider as if it asked path.
func (p *Provider) serveAt(w http.ResponseWriter, r *http.Request, path string) {
	r = r.Clone(r.Context())
	r.URL.Path, r.URL.RawPath = path, ""
	p.ServeHTTP(w, r)
}

// Profile is a user as GET /api/v1/profile answers (the REST API's Profile
// schema). ID is the username, the same as the OpenID provider's sub.
type Profile struct {
	ID                             string `json:"id"`
	Username                       string `json:"username"`
	Email                          string `json:"email"`
	FallbackEmail                  string `json:"fallbackEmail"`
	DisplayName                    string `json:"displayName"`
	TwoFactorAuthenticationEnabled bool   `json:"twoFactorAuthenticationEnabled"`
	Role                           string `json:"role"`
	HasBackgroundImage             bool   `json:"hasBackgroundImage"`
	AvatarURL                      string `json:"avatarUrl"`
	Source                         string `json:"source"`
}

var errBadToken = errors.New("the access token is invalid or expired")

// Profile returns the user an access token of the provider was issued for.
// The token is read as the provider package reads its opaque tokens
// (encrypted "<token id>:<subject>").
func (p *Provider) Profile(accessToken string) (*Profile, error) {
	plain, err := p.op.Crypto().Decrypt(accessToken)
	if err != nil {
		return nil, errBadToken
	}
	id, _, _ := strings.Cut(plain, ":")
	s := p.store
	s.mu.Lock()
	t, ok := s.tokens[id]
	s.mu.Unlock()
	if !ok || t.refresh || t.isExpired(time.Now()) {
		return nil, errBadToken
	}
	u, ok := s.users[t.subject]
	if !ok {
		return nil, errBadToken
	}
	role := "user"
	if slices.Contains(u.Groups, "admins") {
		role = "admin"
	}
	return &Profile{ID: u.Username, Username: u.Username, Email: u.Email, FallbackEmail: u.Email, DisplayName: u.DisplayName, Role: role}, nil
}

func (p *Provider) serveProfile(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		apiError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	tok := r.URL.Query().Get("access_token")
	if scheme, v, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(v)
	}
	if tok == "" {
		apiError(w, http.StatusUnauthorized, "no access token: send Authorization: Bearer <token> or ?access_token=<token>")
		return
	}
	prof, err := p.Profile(tok)
	if err != nil {
		apiError(w, http.StatusUnauthorized, err.Error())
		return
	}
	_ = json.NewEncoder(w).Encode(prof)
}

// apiError answers as the REST API does: {"status", "message"}.
func apiError(w http.ResponseWriter, code int, msg string) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": http.StatusText(code), "message": msg})
}

// checkOrigin accepts an origin for Client.RedirectOrigins: http(s), a
// host, no path, nothing a glob would read as a pattern.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
		u.User != nil || strings.ContainsAny(o, `*?[]{}\`) {
		return fmt.Errorf("redirect origin %q: want https://<host>", o)
	}
	return nil
}
