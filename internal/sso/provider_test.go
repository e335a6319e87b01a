package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

const testPassword = "test-password"

// newTestProvider serves a provider at an httptest server: issuer
// <server>/openid, one client.
func newTestProvider(t *testing.T, alg string) (*Provider, string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer := srv.URL + IssuerPath
	p, err := NewProvider(Config{Issuer: issuer, Users: TestUsers("cloudron.test"), Password: testPassword, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(IssuerPath+"/", http.StripPrefix(IssuerPath, p))
	if err := p.Register(Client{ID: "app-1", Secret: "s3cret", RedirectURIs: []string{"https://app.cloudron.test/callback"},
		PostLogoutRedirectURIs: []string{"https://app.cloudron.test/"}, Algorithm: alg}); err != nil {
		t.Fatal(err)
	}
	return p, issuer
}

// browser follows the provider's redirects and submits its login form as
// a user would, and stops at the app's redirect URI, which it returns.
func browser(t *testing.T, authURL, username, password string) (*url.URL, int) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "app.cloudron.test" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `id="inputUsername"`) {
		return resp.Request.URL, resp.StatusCode
	}
	form, err := ParseLoginForm(string(body), resp.Request.URL)
	if err != nil {
		t.Fatal(err)
	}
	form.Values.Set("username", username)
	form.Values.Set("password", password)
	resp, err = c.PostForm(form.Action, form.Values)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return resp.Request.URL, resp.StatusCode
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc, resp.StatusCode
}

func pkce() (verifier, challenge string) {
	verifier = randomID() + randomID()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestProtocolWithRelyingParty drives the provider with the library's own
// relying party: discovery, the code flow with PKCE, the ID token's
// signature (RS256 and EdDSA), userinfo, refresh; a wrong redirect URI, a
// wrong password and a wrong client secret are refused.
func TestProtocolWithRelyingParty(t *testing.T) {
	for _, alg := range []string{"RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			_, issuer := newTestProvider(t, alg)
			scopes := []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}
			party, err := rp.NewRelyingPartyOIDC(ctx, issuer, "app-1", "s3cret", "https://app.cloudron.test/callback", scopes,
				rp.WithSigningAlgsFromDiscovery(), rp.WithVerifierOpts(rp.WithSupportedSigningAlgorithms(alg)))
			if err != nil {
				t.Fatalf("discovery: %v", err)
			}
			if got := party.OAuthConfig().Endpoint.AuthURL; got != issuer+PathAuth {
				t.Errorf("discovered authorization endpoint %s, want %s", got, issuer+PathAuth)
			}

			verifier, challenge := pkce()
			loc, status := browser(t, rp.AuthURL("st4te", party, rp.WithCodeChallenge(challenge)), "admin", testPassword)
			if status != http.StatusFound || loc.Host != "app.cloudron.test" || loc.Query().Get("state") != "st4te" {
				t.Fatalf("after the login: %d %s, want a redirect to the app with the state", status, loc)
			}
			code := loc.Query().Get("code")

			// PKCE: the code with a wrong verifier is refused.
			if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, party, rp.WithCodeVerifier("wrong"+verifier)); err == nil {
				t.Fatal("the code was exchanged with a wrong PKCE verifier")
			}
			// The failed exchange does not burn the code (it was refused
			// before use); the right verifier gets the tokens.
			tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, party, rp.WithCodeVerifier(verifier))
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			if tokens.IDTokenClaims.Subject != "admin" || tokens.IDTokenClaims.Email != "admin@cloudron.test" {
				t.Errorf("ID token: sub %q email %q, want admin, admin@cloudron.test", tokens.IDTokenClaims.Subject, tokens.IDTokenClaims.Email)
			}
			if tokens.IDTokenClaims.SignatureAlg != "" && string(tokens.IDTokenClaims.SignatureAlg) != alg {
				t.Errorf("ID token signed with %s, want %s", tokens.IDTokenClaims.SignatureAlg, alg)
			}
			if tokens.RefreshToken == "" {
				t.Fatal("no refresh token for offline_access")
			}

			info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.Subject, party)
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if info.PreferredUsername != "admin" || info.Email != "admin@cloudron.test" || info.Name != "Test admin" {
				t.Errorf("userinfo %+v", info)
			}

			refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", "")
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if refreshed.AccessToken == "" || refreshed.AccessToken == tokens.AccessToken || refreshed.IDTokenClaims.Subject != "admin" {
				t.Errorf("refresh gave access token %q, subject %q", refreshed.AccessToken, refreshed.IDTokenClaims.Subject)
			}
			if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", ""); err == nil {
				t.Error("a used refresh token was accepted again (no rotation)")
			}
			if _, err := rp.Userinfo[*oidc.UserInfo](ctx, refreshed.AccessToken, refreshed.TokenType, "admin", party); err != nil {
				t.Errorf("userinfo with the refreshed token: %v", err)
			}

			// A code is used once.
			if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, party, rp.WithCodeVerifier(verifier)); err == nil {
				t.Error("a code was exchanged twice")
			}

			// A redirect URI the client did not register is refused: the
			// provider shows an error and redirects nowhere.
			wrong, err := rp.NewRelyingPartyOIDC(ctx, issuer, "app-1", "s3cret", "https://evil.example/callback", scopes)
			if err != nil {
				t.Fatal(err)
			}
			loc, status = browser(t, rp.AuthURL("x", wrong, rp.WithCodeChallenge(challenge)), "admin", testPassword)
			if status == http.StatusFound || loc.Host == "evil.example" || status < 400 {
				t.Errorf("an unregistered redirect URI: %d %s, want an error", status, loc)
			}

			// A wrong password gets the form again, and no code.
			_, status = browser(t, rp.AuthURL("x", party, rp.WithCodeChallenge(challenge)), "admin", "not-the-password")
			if status != http.StatusUnauthorized {
				t.Errorf("a wrong password answered %d, want 401", status)
			}

			// A wrong client secret cannot exchange a valid code.
			verifier2, challenge2 := pkce()
			loc, _ = browser(t, rp.AuthURL("y", party, rp.WithCodeChallenge(challenge2)), "user", testPassword)
			bad, err := rp.NewRelyingPartyOIDC(ctx, issuer, "app-1", "not-the-secret", "https://app.cloudron.test/callback", scopes)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, loc.Query().Get("code"), bad, rp.WithCodeVerifier(verifier2)); err == nil {
				t.Error("a wrong client secret exchanged a code")
			}
			// …while the right one still can: the user's own identity.
			tok2, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, loc.Query().Get("code"), party, rp.WithCodeVerifier(verifier2))
			if err != nil {
				t.Fatalf("code exchange after a wrong secret: %v", err)
			}
			if tok2.IDTokenClaims.Subject != "user" {
				t.Errorf("subject %q, want user", tok2.IDTokenClaims.Subject)
			}
		})
	}
}

func TestEndSession(t *testing.T) {
	_, issuer := newTestProvider(t, "")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(issuer + PathEndSession + "?client_id=app-1&post_logout_redirect_uri=" + url.QueryEscape("https://app.cloudron.test/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://app.cloudron.test/" {
		t.Errorf("end session: %d to %q, want a redirect to the registered logout URI", resp.StatusCode, loc)
	}
	resp, err = c.Get(issuer + PathEndSession + "?client_id=app-1&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "evil.example") {
		t.Errorf("end session redirected to an unregistered URI %q", loc)
	}
}
