package sso

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestProxyAuth puts an app behind the login wall: an anonymous request is
// sent to the login, a sign-in through the provider's form gets through
// with the user's headers, forged headers never reach the app, the path
// and basicAuth options are honoured.
func TestProxyAuth(t *testing.T) {
	var last http.Header
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = r.Header.Clone()
		io.WriteString(w, "app page for "+r.Header.Get(HeaderUser)+" at "+r.Host)
	}))
	defer app.Close()
	mux := http.NewServeMux()
	box := httptest.NewServer(mux)
	defer box.Close()
	srv, err := NewServer(box.URL+IssuerPath, "admin-token", testPassword, TestUsers("cloudron.test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", srv)
	boxURL, _ := url.Parse(box.URL)
	register := func(a ProxyApp) {
		t.Helper()
		if err := srv.Proxy.Register(a); err != nil {
			t.Fatal(err)
		}
	}
	register(ProxyApp{FQDN: "app.cloudron.test", Upstream: app.URL, ClientID: "proxy-1", ClientSecret: "pw", BasicAuth: true})

	routes := &Routes{}
	routes.Set("app.cloudron.test", boxURL.Host)
	jar, _ := cookiejar.New(nil)
	noFollow := &http.Client{Transport: routes, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Anonymous: to the login, nothing reaches the app.
	last = nil
	resp, err := noFollow.Get("https://app.cloudron.test/notes?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login?redirect="+url.QueryEscape("/notes?x=1") || last != nil {
		t.Fatalf("anonymous: %d to %q (the app saw %v), want a redirect to the login", resp.StatusCode, resp.Header.Get("Location"), last)
	}

	// Sign in through the provider's form, following the redirects.
	browser := &http.Client{Transport: routes, Jar: jar}
	resp, err = browser.Get("https://app.cloudron.test/notes?x=1")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form, err := ParseLoginForm(string(page), resp.Request.URL)
	if err != nil {
		t.Fatalf("%s: %v: %s", resp.Request.URL, err, page)
	}
	form.Values.Set("username", "user")
	form.Values.Set("password", testPassword)
	resp, err = browser.PostForm(form.Action, form.Values)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.String() != "https://app.cloudron.test/notes?x=1" || !strings.Contains(string(body), "app page for user at app.cloudron.test") {
		t.Fatalf("after the login: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	if last.Get(HeaderEmail) != "user@cloudron.test" || last.Get(HeaderName) != "Test user" || last.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("the app got %v", last)
	}

	// Forged identity headers are replaced by the signed-in user's.
	req, _ := http.NewRequest("GET", "https://app.cloudron.test/", nil)
	req.Header.Set(HeaderUser, "admin")
	if resp, err = browser.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := last.Get(HeaderUser); got != "user" {
		t.Errorf("a forged %s reached the app as %q", HeaderUser, got)
	}
	// …and without a session they do not get through at all.
	anon := &http.Client{Transport: routes, CheckRedirect: noFollow.CheckRedirect}
	last = nil
	req, _ = http.NewRequest("GET", "https://app.cloudron.test/", nil)
	req.Header.Set(HeaderUser, "admin")
	if resp, err = anon.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || last != nil {
		t.Errorf("a forged header without a session: %d, the app saw %v", resp.StatusCode, last)
	}

	// basicAuth: the right password passes, a wrong one is refused.
	for pw, want := range map[string]int{testPassword: 200, "wrong": 401} {
		req, _ = http.NewRequest("GET", "https://app.cloudron.test/", nil)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:"+pw)))
		if resp, err = anon.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("basic auth with password %q: %d, want %d", pw, resp.StatusCode, want)
		}
	}

	// path: only /admin needs a login; "!/public": all but /public.
	register(ProxyApp{FQDN: "app.cloudron.test", Upstream: app.URL, ClientID: "proxy-1", ClientSecret: "pw", Path: "/admin"})
	for path, want := range map[string]int{"/": 200, "/administrator": 200, "/admin": 302, "/admin/x": 302} {
		if resp, err = anon.Get("https://app.cloudron.test" + path); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("path /admin: GET %s answered %d, want %d", path, resp.StatusCode, want)
		}
	}
	register(ProxyApp{FQDN: "app.cloudron.test", Upstream: app.URL, ClientID: "proxy-1", ClientSecret: "pw", Path: "!/public"})
	for path, want := range map[string]int{"/": 302, "/public/x.css": 200} {
		if resp, err = anon.Get("https://app.cloudron.test" + path); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("path !/public: GET %s answered %d, want %d", path, resp.StatusCode, want)
		}
	}

	// A move: the new domain is served, the old one is gone.
	register(ProxyApp{FQDN: "app2.cloudron.test", Upstream: app.URL, ClientID: "proxy-1", ClientSecret: "pw"})
	routes.Set("app2.cloudron.test", boxURL.Host)
	if resp, err = anon.Get("https://app.cloudron.test/"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the old domain after a move answered %d, want 404", resp.StatusCode)
	}
}
