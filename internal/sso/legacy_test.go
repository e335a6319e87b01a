package sso

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"cpk/internal/cloudronapi/contract"
)

// newLegacyServer serves a sign-on server on an httptest server (the
// dashboard's host: the issuer and the legacy paths) with one legacy
// client whose redirect origin is https://app.cloudron.test.
func newLegacyServer(t *testing.T) (*Server, string) {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	s, err := NewServer(srv.URL+IssuerPath, "admin-token", testPassword, TestUsers("cloudron.test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h = s
	if err := s.Provider.Register(Client{ID: "oauth-app", Secret: "s3cret", RedirectOrigins: []string{"https://app.cloudron.test"}}); err != nil {
		t.Fatal(err)
	}
	return s, srv.URL
}

func legacyConfig(origin, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: "oauth-app", ClientSecret: "s3cret", RedirectURL: redirect, Scopes: []string{LegacyScope},
		// As the legacy apps sent it (passport-oauth2): the secret in the form.
		Endpoint: oauth2.Endpoint{AuthURL: origin + LegacyAuthPath, TokenURL: origin + LegacyTokenPath, AuthStyle: oauth2.AuthStyleInParams}}
}

// TestLegacyOAuth runs golang.org/x/oauth2's code flow against the legacy
// paths: the provider's login form, a code for a callback on the app's
// origin, a wrong secret refused, the right one exchanging the code, the
// profile read with the token as the REST API describes it.
func TestLegacyOAuth(t *testing.T) {
	s, origin := newLegacyServer(t)
	ctx := context.Background()
	conf := legacyConfig(origin, "https://app.cloudron.test/api/v1/session/callback")

	loc, status := browser(t, conf.AuthCodeURL("st4te"), "admin", testPassword)
	if status != http.StatusFound || loc.Host != "app.cloudron.test" || loc.Path != "/api/v1/session/callback" || loc.Query().Get("state") != "st4te" {
		t.Fatalf("authorize: %d %v", status, loc)
	}
	code := loc.Query().Get("code")

	bad := *conf
	bad.ClientSecret = "wrong"
	var re *oauth2.RetrieveError
	if _, err := bad.Exchange(ctx, code); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("a wrong client secret: %v, want invalid_client", err)
	}
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conf.Exchange(ctx, code); err == nil {
		t.Error("a code exchanged twice")
	}

	// The profile, with the token as a bearer token and as access_token,
	// both checked against the REST API's description (getProfile).
	c, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	profile := func(req *http.Request) (int, Profile) {
		t.Helper()
		ex, err := c.CheckRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := c.CheckResponse(ex, resp.StatusCode, resp.Header, body); err != nil {
			t.Error(err)
		}
		var p Profile
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, p
	}
	req, _ := http.NewRequest(http.MethodGet, origin+ProfilePath, nil)
	tok.SetAuthHeader(req)
	want := Profile{ID: "admin", Username: "admin", Email: "admin@cloudron.test", FallbackEmail: "admin@cloudron.test", DisplayName: "Test admin", Role: "admin"}
	if st, p := profile(req); st != http.StatusOK || p != want {
		t.Errorf("profile (bearer): %d %+v, want %+v", st, p, want)
	}
	req, _ = http.NewRequest(http.MethodGet, origin+ProfilePath+"?access_token="+url.QueryEscape(tok.AccessToken), nil)
	if st, p := profile(req); st != http.StatusOK || p != want {
		t.Errorf("profile (access_token): %d %+v", st, p)
	}
	// A token that is not the provider's, and one whose client is gone
	// (an uninstalled app), are refused.
	for _, bad := range []string{"nonsense", tok.AccessToken} {
		if bad == tok.AccessToken {
			s.Provider.Unregister("oauth-app")
		}
		req, _ = http.NewRequest(http.MethodGet, origin+ProfilePath, nil)
		req.Header.Set("Authorization", "Bearer "+bad)
		if st, _ := profile(req); st != http.StatusUnauthorized {
			t.Errorf("profile with %.10q: %d, want 401", bad, st)
		}
	}
}

// TestLegacyOAuthRedirects: any URI on the registered origin is accepted,
// the origin itself too, and nothing else; a request without a scope gets
// the legacy one.
func TestLegacyOAuthRedirects(t *testing.T) {
	_, origin := newLegacyServer(t)
	for _, tc := range []struct {
		redirect string
		scopes   []string
		ok       bool
	}{
		{"https://app.cloudron.test", nil, true},
		{"https://app.cloudron.test/auth/cloudron/callback?next=/x", []string{LegacyScope}, true},
		{"http://app.cloudron.test/callback", nil, false},
		{"https://app.cloudron.test.evil.test/callback", nil, false},
		{"https://other.cloudron.test/callback", nil, false},
	} {
		conf := legacyConfig(origin, tc.redirect)
		conf.Scopes = tc.scopes
		loc, status := browser(t, conf.AuthCodeURL("s"), "user", testPassword)
		got := status == http.StatusFound && loc.Host == "app.cloudron.test" && loc.Query().Get("code") != ""
		if got != tc.ok {
			t.Errorf("redirect %s: %d %v, want accepted=%v", tc.redirect, status, loc, tc.ok)
		}
	}
	for _, bad := range []string{"", "https://app.cloudron.test/path", "ftp://app.cloudron.test", "https://*.cloudron.test"} {
		if err := checkOrigin(bad); err == nil {
			t.Errorf("redirect origin %q accepted", bad)
		}
	}
}
