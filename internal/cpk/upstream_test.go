package cpk

import (
	"testing"
	"time"
)

func TestUpstreamLink(t *testing.T) {
	for _, c := range []struct {
		u    *Upstream
		want string
	}{
		{nil, ""},
		{&Upstream{Source: "github", Repo: "gristlabs/grist-core"}, "https://github.com/gristlabs/grist-core"},
		{&Upstream{Source: "gitlab", Repo: "a/b/c"}, "https://gitlab.com/a/b/c"},
		{&Upstream{Source: "gitlab", Repo: "a/b", URL: "https://git.example.org/"}, "https://git.example.org/a/b"},
		{&Upstream{Source: "gitea", Repo: "forgejo/forgejo", URL: "https://codeberg.org"}, "https://codeberg.org/forgejo/forgejo"},
		{&Upstream{Source: "git", URL: "https://git.example.org/x.git"}, "https://git.example.org/x.git"},
		{&Upstream{Source: "npm", Package: "@scope/x"}, "https://www.npmjs.com/package/@scope/x"},
		{&Upstream{Source: "pypi", Package: "django"}, "https://pypi.org/project/django/"},
		{&Upstream{Source: "debian", Package: "nginx"}, "https://tracker.debian.org/pkg/nginx"},
		{&Upstream{Source: "registry", Image: "redis"}, "https://hub.docker.com/_/redis"},
		{&Upstream{Source: "registry", Image: "docker.io/library/redis"}, "https://hub.docker.com/_/redis"},
		{&Upstream{Source: "registry", Image: "grafana/grafana"}, "https://hub.docker.com/r/grafana/grafana"},
		{&Upstream{Source: "registry", Image: "ghcr.io/owner/name"}, "https://ghcr.io/owner/name"},
	} {
		if got := c.u.Link(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.u, got, c.want)
		}
	}
}

func TestUpstreamCheckFresh(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	days := func(n int) *time.Time { d := now.Add(-time.Duration(n) * 24 * time.Hour); return &d }
	for _, c := range []struct {
		name         string
		check        UpstreamCheck
		fresh, known bool
	}{
		{"current", UpstreamCheck{Pinned: "1.2.3", Latest: "1.2.3", LatestDate: days(400)}, true, true},
		{"current without dates", UpstreamCheck{Pinned: "1.2.3", Latest: "1.2.3"}, true, true},
		{"behind a recent release", UpstreamCheck{Pinned: "1.2.2", Latest: "1.2.3", Outdated: true, LatestDate: days(29)}, true, true},
		{"behind by more than a month", UpstreamCheck{Pinned: "1.2.2", Latest: "1.2.3", Outdated: true, LatestDate: days(30)}, false, true},
		{"behind, date unknown", UpstreamCheck{Pinned: "1.2.2", Latest: "1.2.3", Outdated: true}, false, true},
		{"no pin", UpstreamCheck{Latest: "1.2.3"}, false, false},
		{"failed", UpstreamCheck{Pinned: "1", Latest: "1", Error: "boom"}, false, false},
	} {
		fresh, known := c.check.Fresh(now)
		if fresh != c.fresh || known != c.known {
			t.Errorf("%s: fresh %v known %v, want %v %v", c.name, fresh, known, c.fresh, c.known)
		}
	}
}
