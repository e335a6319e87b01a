package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"cpk/internal/runtime"
	"cpk/internal/sso"
)

// TestOAuthEndToEnd runs the legacy oauth add-on in a box: the app gets
// CLOUDRON_OAUTH_*; golang.org/x/oauth2 runs the code flow against the
// dashboard's legacy paths as a seeded user, through the provider's login
// form, and reads the profile with the token; the app does the same from
// inside its container; a wrong client secret and a redirect URI off the
// app's origin are refused; after a move the new origin's redirect URI
// works and the old one is refused; a manifestVersion 1 app gets OAUTH_*
// without the prefix; after the uninstall the token is dead.
func TestOAuthEndToEnd(t *testing.T) {
	ctx, _, b, baseRef := testBox(t, "runtime-oauth")
	app := b.NewApp(baseRef, decodeManifest(t, `{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "healthCheckPath": "/",
	  "addons": {"oauth": {}}}`), "legacy")
	// A shell that stops on SIGTERM (python as PID 1 would not, and each
	// stop would wait the 10 s grace).
	app.Cmd = []string{"/bin/sh", "-c", `trap 'kill $pid; exit 0' TERM; python3 -m http.server 8000 --directory /run & pid=$!; wait $pid`}
	if err := app.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.WaitHealthy(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	env := app.Env()
	origin := "http://my.cloudron.test"
	if env["CLOUDRON_OAUTH_CLIENT_ID"] != "oauth-"+app.ID || env["CLOUDRON_OAUTH_ORIGIN"] != origin || env["CLOUDRON_OAUTH_CLIENT_SECRET"] == "" {
		t.Fatalf("the oauth variables: %q %q %q", env["CLOUDRON_OAUTH_CLIENT_ID"], env["CLOUDRON_OAUTH_ORIGIN"], env["CLOUDRON_OAUTH_CLIENT_SECRET"])
	}
	conf := &oauth2.Config{ClientID: env["CLOUDRON_OAUTH_CLIENT_ID"], ClientSecret: env["CLOUDRON_OAUTH_CLIENT_SECRET"], Scopes: []string{"profile"},
		Endpoint: oauth2.Endpoint{AuthURL: env["CLOUDRON_OAUTH_ORIGIN"] + sso.LegacyAuthPath, TokenURL: env["CLOUDRON_OAUTH_ORIGIN"] + sso.LegacyTokenPath,
			AuthStyle: oauth2.AuthStyleInParams}}
	// The client's requests to my.cloudron.test go where a browser's do.
	cctx := context.WithValue(ctx, oauth2.HTTPClient, app.Browser())
	signIn := func(redirect string) (code string, status int) {
		t.Helper()
		c := *conf
		c.RedirectURL = redirect
		loc, status := providerLogin(t, app, c.AuthCodeURL("st4te"), "user")
		if status != http.StatusFound || loc == nil || loc.Query().Get("state") != "st4te" {
			return "", status
		}
		return loc.Query().Get("code"), status
	}

	callback := "https://legacy.cloudron.test/auth/cloudron/callback"
	code, status := signIn(callback)
	if code == "" {
		t.Fatalf("sign-in: %d, no code", status)
	}
	conf.RedirectURL = callback
	bad := *conf
	bad.ClientSecret = "not-the-secret"
	var re *oauth2.RetrieveError
	if _, err := bad.Exchange(cctx, code); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("a wrong client secret: %v, want invalid_client", err)
	}
	tok, err := conf.Exchange(cctx, code)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := conf.Client(cctx, tok).Get(origin + sso.ProfilePath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var p sso.Profile
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != 200 || p.Username != "user" || p.Email != "user@cloudron.test" || p.ID != "user" {
		t.Errorf("profile: %d %s", resp.StatusCode, body)
	}

	// The app's side, from inside its container: the code exchange with
	// its secret in the form, then the profile with ?access_token=.
	code, _ = signIn(callback)
	res, err := app.Exec(ctx, "", "/bin/sh", "-c", `set -e
tok=$(curl -fsS -d grant_type=authorization_code -d "code=$1" --data-urlencode "redirect_uri=$2" \
  -d "client_id=$CLOUDRON_OAUTH_CLIENT_ID" -d "client_secret=$CLOUDRON_OAUTH_CLIENT_SECRET" "$CLOUDRON_OAUTH_ORIGIN/api/v1/oauth/token")
at=$(printf '%s' "$tok" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -fsS "$CLOUDRON_OAUTH_ORIGIN/api/v1/profile?access_token=$at"`, "sh", code, callback)
	if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Stdout), `"username":"user"`) {
		t.Errorf("the code exchange and profile from the app: %v %s %s", err, res.Stdout, res.Stderr)
	}

	if _, status := signIn("https://elsewhere.cloudron.test/auth/cloudron/callback"); status != http.StatusBadRequest {
		t.Errorf("a redirect URI off the app's origin: %d, want 400", status)
	}

	// A move: the new origin's redirect URI works, the old one is refused.
	if _, err := app.Reconfigure(ctx, app.Image, app.Manifest, "legacy2"); err != nil {
		t.Fatal(err)
	}
	if _, status := signIn(callback); status != http.StatusBadRequest {
		t.Errorf("the old origin after the move: %d, want 400", status)
	}
	moved := "https://legacy2.cloudron.test/auth/cloudron/callback"
	code, status = signIn(moved)
	if code == "" {
		t.Fatalf("the new origin after the move: %d, no code", status)
	}
	conf.RedirectURL = moved
	if _, err := conf.Exchange(cctx, code); err != nil {
		t.Errorf("the code exchange after the move: %v", err)
	}

	// manifestVersion 1: the variables lose their CLOUDRON_ prefix (§2.2).
	v1 := b.NewApp(baseRef, decodeManifest(t, `{"manifestVersion": 1, "version": "1.0.0", "httpPort": 8000, "addons": {"oauth": {}}}`), "legacyv1")
	v1.Cmd = []string{"/bin/sh", "-c", `trap 'exit 0' TERM; while :; do sleep 1; done`}
	if err := v1.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if env := v1.Env(); env["OAUTH_CLIENT_ID"] != "oauth-"+v1.ID || env["OAUTH_ORIGIN"] != origin || env["CLOUDRON_OAUTH_CLIENT_ID"] != "" {
		t.Errorf("manifestVersion 1: OAUTH_CLIENT_ID=%q OAUTH_ORIGIN=%q CLOUDRON_OAUTH_CLIENT_ID=%q", env["OAUTH_CLIENT_ID"], env["OAUTH_ORIGIN"], env["CLOUDRON_OAUTH_CLIENT_ID"])
	}
	if _, err := v1.Uninstall(ctx); err != nil {
		t.Error(err)
	}

	// The uninstall removes the client, and its tokens with it.
	if _, err := app.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, origin+sso.ProfilePath+"?access_token="+url.QueryEscape(tok.AccessToken), nil)
	if resp, err = app.Browser().Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the token after the uninstall: %d, want 401", resp.StatusCode)
	}
}

// providerLogin opens authURL in a browser of the box, submits the
// provider's login form as user and returns where the provider sends the
// browser off its own host (the redirect URI, with the code), or the
// status it stopped at.
func providerLogin(t *testing.T, app *runtime.App, authURL, user string) (*url.URL, int) {
	t.Helper()
	br := app.Browser()
	br.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != "my.cloudron.test" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := br.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Request.URL, resp.StatusCode
	}
	form, err := sso.ParseLoginForm(string(page), resp.Request.URL)
	if err != nil {
		t.Fatalf("%v: %s", err, page)
	}
	form.Values.Set("username", user)
	form.Values.Set("password", runtime.TestUserPassword)
	if resp, err = br.PostForm(form.Action, form.Values); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	return loc, resp.StatusCode
}
