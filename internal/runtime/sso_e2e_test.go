package runtime_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/manifest"
	"cpk/internal/runtime"
	"cpk/internal/sso"
)

// echo is an app that answers every request with the identity headers the
// proxy gave it.
const echo = `exec python3 -c '
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = ("user=%s email=%s host=%s" % (self.headers.get("X-Remote-User"), self.headers.get("X-Remote-Email"), self.headers.get("Host"))).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
http.server.HTTPServer(("", 8000), H).serve_forever()'`

func decodeManifest(t *testing.T, s string) manifest.Manifest {
	t.Helper()
	doc, errs := manifest.Decode([]byte(s))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return doc.Manifest()
}

// TestSSOEndToEnd runs the box's sign-on server: an app with the oidc
// add-on gets the platform's variables; the issuer is one URL for the app
// container (discovery, and the code exchange with its client secret, from
// inside it) and for a browser on the host (the login form and the
// redirects); after a move the new redirect URI is in force and the old
// one refused. An app behind proxyAuth gets its login wall.
func TestSSOEndToEnd(t *testing.T) {
	e := basetest.Engine(t)
	baseRef := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, err := runtime.New(ctx, runtime.Options{Engine: e, App: "runtime-sso", BaseImage: baseRef, StateDir: t.TempDir(), Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	run := b.RunID
	defer func() {
		if err := b.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		left, err := e.ListResources(context.Background(), map[string]string{runtime.LabelRun: run})
		if err != nil || len(left) > 0 {
			t.Errorf("left behind: %v %v", left, err)
		}
	}()

	m := decodeManifest(t, `{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "healthCheckPath": "/",
	  "addons": {"oidc": {"loginRedirectUri": "/auth/callback, app.probe:/", "logoutRedirectUri": "/bye", "tokenSignatureAlgorithm": "EdDSA"}}}`)
	app := b.NewApp(baseRef, m, "probe")
	app.Cmd = []string{"/bin/sh", "-c", "exec python3 -m http.server 8000 --directory /run"}
	if err := app.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.WaitHealthy(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	env := app.Env()
	iss := "http://my.cloudron.test/openid"
	for k, want := range map[string]string{"CLOUDRON_OIDC_ISSUER": iss, "CLOUDRON_OIDC_DISCOVERY_URL": iss + "/.well-known/openid-configuration",
		"CLOUDRON_OIDC_AUTH_ENDPOINT": iss + "/auth", "CLOUDRON_OIDC_TOKEN_ENDPOINT": iss + "/token", "CLOUDRON_OIDC_KEYS_ENDPOINT": iss + "/jwks",
		"CLOUDRON_OIDC_PROFILE_ENDPOINT": iss + "/me", "CLOUDRON_OIDC_CLIENT_ID": "cid-" + app.ID, "CLOUDRON_OIDC_PROVIDER_NAME": "Cloudron"} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	if env["CLOUDRON_OIDC_CLIENT_SECRET"] == "" {
		t.Error("no CLOUDRON_OIDC_CLIENT_SECRET")
	}

	// The back channel: discovery from inside the app.
	res, err := app.Exec(ctx, "", "/bin/sh", "-c", `curl -fsS "$CLOUDRON_OIDC_DISCOVERY_URL"`)
	if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Stdout), `"issuer":"`+iss+`"`) {
		t.Fatalf("discovery from the app: %v %s %s", err, res.Stdout, res.Stderr)
	}

	// The front channel: a browser on the host signs in at the same issuer.
	login := func(redirect string) (*url.URL, int) {
		t.Helper()
		q := url.Values{"client_id": {env["CLOUDRON_OIDC_CLIENT_ID"]}, "redirect_uri": {redirect}, "response_type": {"code"},
			"scope": {"openid email profile"}, "state": {"s1"}}
		br := app.Browser()
		br.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host != "my.cloudron.test" {
				return http.ErrUseLastResponse
			}
			return nil
		}
		resp, err := br.Get(env["CLOUDRON_OIDC_AUTH_ENDPOINT"] + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return resp.Request.URL, resp.StatusCode
		}
		form, err := sso.ParseLoginForm(string(page), resp.Request.URL)
		if err != nil {
			t.Fatalf("%v: %s", err, page)
		}
		form.Values.Set("username", "user")
		form.Values.Set("password", runtime.TestUserPassword)
		resp, err = br.PostForm(form.Action, form.Values)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		return loc, resp.StatusCode
	}
	loc, status := login("https://probe.cloudron.test/auth/callback")
	if status != http.StatusFound || loc == nil || loc.Host != "probe.cloudron.test" || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in: %d %v", status, loc)
	}
	// The code exchange and userinfo, from inside the app, with its secret.
	res, err = app.Exec(ctx, "", "/bin/sh", "-c", `set -e
tok=$(curl -fsS -u "$CLOUDRON_OIDC_CLIENT_ID:$CLOUDRON_OIDC_CLIENT_SECRET" -d grant_type=authorization_code -d "code=$1" \
  --data-urlencode redirect_uri=https://probe.cloudron.test/auth/callback "$CLOUDRON_OIDC_TOKEN_ENDPOINT")
at=$(printf '%s' "$tok" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
idt=$(printf '%s' "$tok" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id_token"])')
printf '%s\n' "$idt" | cut -d. -f1
curl -fsS -H "Authorization: Bearer $at" "$CLOUDRON_OIDC_PROFILE_ENDPOINT"`, "sh", loc.Query().Get("code"))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("code exchange from the app: %v %s %s", err, res.Stdout, res.Stderr)
	}
	head, info, _ := strings.Cut(string(res.Stdout), "\n")
	hdr, _ := base64.RawURLEncoding.DecodeString(head)
	if !strings.Contains(string(hdr), `"EdDSA"`) || !strings.Contains(info, `"sub":"user"`) || !strings.Contains(info, `"email":"user@cloudron.test"`) {
		t.Errorf("ID token header %s, userinfo %s", hdr, info)
	}
	if _, status := login("https://probe.cloudron.test/elsewhere"); status != http.StatusBadRequest {
		t.Errorf("an unregistered redirect URI: %d, want 400", status)
	}
	if loc, status := login("app.probe:/"); status != http.StatusFound || loc.Scheme != "app.probe" {
		t.Errorf("the second login redirect URI: %d %v", status, loc)
	}

	// A move: the new domain's redirect URI works, the old one is refused.
	if _, err := app.Reconfigure(ctx, app.Image, app.Manifest, "probe2"); err != nil {
		t.Fatal(err)
	}
	if _, status := login("https://probe.cloudron.test/auth/callback"); status != http.StatusBadRequest {
		t.Errorf("the old domain after the move: %d, want 400", status)
	}
	if loc, status := login("https://probe2.cloudron.test/auth/callback"); status != http.StatusFound || loc.Host != "probe2.cloudron.test" {
		t.Errorf("the new domain after the move: %d %v", status, loc)
	}

	// proxyAuth: the login wall in front of an app.
	wall := b.NewApp(baseRef, decodeManifest(t, `{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "healthCheckPath": "/",
	  "addons": {"proxyAuth": {"basicAuth": true}}}`), "wall")
	wall.Cmd = []string{"/bin/sh", "-c", echo}
	if err := wall.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := wall.WaitHealthy(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	anon := wall.Browser()
	anon.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := anon.Get("https://wall.cloudron.test/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("anonymous: %d to %q, want the login", resp.StatusCode, resp.Header.Get("Location"))
	}
	in, err := wall.SignIn(ctx, "/page", "", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !in.Form || in.Status != 200 || in.URL.String() != "https://wall.cloudron.test/page" || in.Body != "user=admin email=admin@cloudron.test host=wall.cloudron.test" {
		t.Errorf("signed in: form %v, %d at %s: %q", in.Form, in.Status, in.URL, in.Body)
	}
	req, _ := http.NewRequest("GET", "https://wall.cloudron.test/", nil)
	req.SetBasicAuth("user", runtime.TestUserPassword)
	resp, err = anon.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "user=user ") {
		t.Errorf("basic auth: %d %s", resp.StatusCode, body)
	}
	for _, a := range []*runtime.App{app, wall} {
		if _, err := a.Uninstall(ctx); err != nil {
			t.Error(err)
		}
	}
}
