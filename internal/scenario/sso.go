package scenario

import (
	"context"
	"net/http"
	"strings"

	"cpk/internal/runtime"
)

// checkSSO is what every step that runs the app checks of its sign-on
// add-ons: behind proxyAuth, the platform's login wall must send an
// anonymous browser to the login and let a signed-in test user through;
// with oidc (or the legacy oauth), the package must say how its login is
// reached (an oidcLogin check), or the add-on goes untested.
func (s *state) checkSSO(ctx context.Context, app *runtime.App) []Check {
	var out []Check
	if opts, ok := app.Manifest.Addons["proxyAuth"]; ok {
		out = append(out, checkLoginWall(ctx, app, opts))
	}
	if s.cur.Name != StepInstall {
		return out
	}
	for _, a := range s.pc.Checks {
		if a.OIDCLogin != nil {
			return out
		}
	}
	if _, ok := app.Manifest.Addons["oidc"]; ok {
		out = append(out, Check{Name: "oidc sign-in"}.warn("the app's OpenID login is not tested: add an oidcLogin check to %s (how its login is reached)", ChecksFile))
	}
	if _, ok := app.Manifest.Addons["oauth"]; ok {
		out = append(out, Check{Name: "oauth sign-in"}.warn("the app's OAuth login (the legacy oauth add-on) is not tested: add an oidcLogin check to %s (how its login is reached)", ChecksFile))
	}
	return out
}

// protectedPath is a path behind the wall for the manifest's path option
// (a prefix that needs the login, or "!prefix": all but it); "" when no
// path needs one ("!/").
func protectedPath(opts map[string]any) string {
	p, _ := opts["path"].(string)
	switch {
	case p == "" || p == "/":
		return "/"
	case p == "!/":
		return ""
	case strings.HasPrefix(p, "!"):
		return "/" // the exempt prefix is a path below /
	}
	return p
}

func checkLoginWall(ctx context.Context, app *runtime.App, opts map[string]any) Check {
	c := Check{Name: "proxyAuth login wall"}
	path := protectedPath(opts)
	if path == "" {
		return c.pass("the path option exempts every path: nothing to check")
	}
	br := app.Browser()
	br.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+app.FQDN()+path, nil)
	if err != nil {
		return c.fail("%v", err)
	}
	resp, err := br.Do(req)
	if err != nil {
		return c.fail("GET %s: %v", path, err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login") {
		return c.fail("an anonymous GET %s answered %d (to %q): the login wall lets it through", path, resp.StatusCode, loc)
	}
	in, err := app.SignIn(ctx, path, "", "admin")
	if err != nil {
		return c.fail("sign-in: %v", err)
	}
	if !in.Form || in.URL.Host != app.FQDN() || in.URL.Path != path || in.Status == http.StatusFound || in.Status == http.StatusUnauthorized {
		return c.fail("signed in as admin, GET %s ended at %s with %d", path, in.URL, in.Status)
	}
	msg := "an anonymous GET " + path + " goes to /login; signed in as admin through the provider it reaches the app (" + http.StatusText(in.Status) + ")"
	if basic, _ := opts["basicAuth"].(bool); basic {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+app.FQDN()+path, nil)
		req.SetBasicAuth("admin", runtime.TestUserPassword)
		resp, err := br.Do(req)
		if err != nil {
			return c.fail("basic auth: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusUnauthorized {
			return c.fail("basicAuth: GET %s with the admin's password answered %d", path, resp.StatusCode)
		}
		msg += "; with HTTP Basic too"
	}
	return c.pass("%s", msg)
}
