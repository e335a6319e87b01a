package upstream

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/testenv"
)

func githubTargets(names []string) []Target {
	var ts []Target
	for _, n := range names {
		ts = append(ts, Target{App: strings.TrimPrefix(n, "owner/"), Upstream: &cpk.Upstream{Source: "github", Repo: n}, Pinned: "1.0.0", PinnedFrom: "Dockerfile"})
	}
	return ts
}

func testClient(f *fakeGitHub, token string, cache *Cache) *Client {
	c := NewClient(Endpoints{GitHubAPI: f.URL, GitHubWeb: "https://github.com"}, Tokens{GitHub: token}, cache)
	c.Now = func() time.Time { return time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC) }
	return c
}

func checkAll(t *testing.T, c *Client, targets []Target) []cpk.UpstreamCheck {
	t.Helper()
	res, err := c.Check(context.Background(), targets)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// assertLatest checks that every app00i found v1.i.0: not the draft, not
// the pre-release above it.
func assertLatest(t *testing.T, res []cpk.UpstreamCheck) {
	t.Helper()
	for i, r := range res {
		want := fmt.Sprintf("1.%d.0", i)
		if r.Error != "" || r.Latest != want || r.LatestTag != "v"+want || r.LatestDate == nil || !strings.HasSuffix(r.Notes, "/releases/tag/v"+want) {
			t.Fatalf("%s: %+v, want latest %s", r.App, r, want)
		}
		if r.Outdated != (i > 0) {
			t.Errorf("%s: outdated = %v", r.App, r.Outdated)
		}
		if r.PinnedDate == nil || r.PinnedDate.Year() != 2023 {
			t.Errorf("%s: pinned date %v, want the 1.0.0 release's", r.App, r.PinnedDate)
		}
	}
}

func TestGitHubRESTConditionalRequests(t *testing.T) {
	f := newFakeGitHub(t)
	names := f.addRepos(20)
	dir := t.TempDir()
	c := testClient(f, "", NewCache(dir))
	assertLatest(t, checkAll(t, c, githubTargets(names)))
	if s := c.Stats(); s.Requests != 20 || s.NotModified != 0 {
		t.Errorf("cold run: %+v, want 20 requests", s)
	}
	// A new process: the cache is read from disk and every answer is 304.
	c2 := testClient(f, "", NewCache(dir))
	assertLatest(t, checkAll(t, c2, githubTargets(names)))
	if s := c2.Stats(); s.Requests != 20 || s.NotModified != 20 {
		t.Errorf("warm run: %+v, want 20 requests all 304", s)
	}
	if f.notMod.Load() != 20 {
		t.Errorf("server saw %d conditional hits", f.notMod.Load())
	}
	// A change upstream is seen on the next run.
	f.mu.Lock()
	f.repos["owner/app000"] = append([]fakeRelease{{Tag: "v1.0.5", Date: time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)}}, f.repos["owner/app000"]...)
	f.mu.Unlock()
	c3 := testClient(f, "", NewCache(dir))
	res := checkAll(t, c3, githubTargets(names))
	if res[0].Latest != "1.0.5" || !res[0].Outdated || c3.Stats().NotModified != 19 {
		t.Errorf("after a new release: %+v, stats %+v", res[0], c3.Stats())
	}
}

func TestGitHubGraphQLBatches(t *testing.T) {
	f := newFakeGitHub(t)
	names := f.addRepos(100)
	c := testClient(f, "test-token", nil)
	res := checkAll(t, c, githubTargets(names))
	assertLatest(t, res)
	if s := c.Stats(); s.Requests > 2 || f.graphql.Load() != 2 {
		t.Errorf("%+v, %d graphql queries: want at most 2 requests for 100 repositories", s, f.graphql.Load())
	}
	// A repository that does not exist fails alone.
	targets := githubTargets([]string{"owner/app001", "owner/missing"})
	res = checkAll(t, testClient(f, "test-token", nil), targets)
	if res[0].Error != "" || !strings.Contains(res[1].Error, "Could not resolve to a Repository") {
		t.Errorf("%+v", res)
	}
	// A refused token is an error for every repository, without a crash.
	res = checkAll(t, testClient(f, "wrong", nil), targets)
	if !strings.Contains(res[0].Error, "401") {
		t.Errorf("%+v", res[0])
	}
	if strings.Contains(res[0].Error, "wrong") {
		t.Error("the token appears in an error")
	}
}

func TestTagsWhenNoReleases(t *testing.T) {
	f := newFakeGitHub(t)
	f.tags["owner/tagsonly"] = []string{"v3.1.0", "v3.0.0", "v3.2.0-beta.1", "nightly"}
	for _, token := range []string{"", "test-token"} {
		res := checkAll(t, testClient(f, token, nil), []Target{{App: "x", Upstream: &cpk.Upstream{Source: "github", Repo: "owner/tagsonly"}, Pinned: "3.0.0"}})
		if r := res[0]; r.Latest != "3.1.0" || !r.Outdated || !strings.HasSuffix(r.Notes, "/owner/tagsonly/releases/tag/v3.1.0") {
			t.Errorf("token %q: %+v", token, r)
		}
		if token != "" && res[0].LatestDate == nil {
			t.Error("GraphQL gives tag dates")
		}
	}
}

func TestRateLimitStopsAndExplains(t *testing.T) {
	f := newFakeGitHub(t)
	names := f.addRepos(10)
	f.limit = 3
	c := testClient(f, "", nil)
	c.GitHubConcurrency = 1
	res := checkAll(t, c, githubTargets(names))
	var limited int
	for _, r := range res {
		if r.Error != "" {
			limited++
			if !strings.Contains(r.Error, "rate limit reached (60 requests an hour): retry after") || !strings.Contains(r.Error, "set GITHUB_TOKEN") {
				t.Errorf("unclear message: %s", r.Error)
			}
		}
	}
	if limited != 7 {
		t.Errorf("%d limited, want 7", limited)
	}
	if s := c.Stats(); s.Requests != 3 {
		t.Errorf("%d requests: once the limit is used up, no more should be made", s.Requests)
	}
}

func TestSelectFilters(t *testing.T) {
	rel := func(tags ...string) []Release {
		var rs []Release
		for _, t := range tags {
			rs = append(rs, Release{Tag: t})
		}
		return rs
	}
	monorepo := rel("server-v1.4.0", "client-v9.0.0", "server-v1.10.0", "server-v2.0.0-rc1", "v5.0.0")
	for _, c := range []struct {
		name string
		rs   []Release
		u    cpk.Upstream
		want string // versions, newest first
	}{
		{"prefix", monorepo, cpk.Upstream{Prefix: "server-"}, "1.10.0 1.4.0"},
		{"prefix with pre-releases", monorepo, cpk.Upstream{Prefix: "server-", Prerelease: true}, "2.0.0-rc1 1.10.0 1.4.0"},
		{"include", monorepo, cpk.Upstream{Include: `^client-`}, "client-v9.0.0"},
		{"exclude", monorepo, cpk.Upstream{Exclude: `^(client|server)-`}, "5.0.0"},
		{"track", rel("v2.9.1", "v3.0.0", "v2.10.0", "v1.99.0"), cpk.Upstream{Track: "2.x"}, "2.10.0 2.9.1"},
		{"scheme semver drops dates", rel("1.2.3", "20240101", "2024.01.02", "1.2.3.4"), cpk.Upstream{Scheme: "semver"}, "1.2.3"},
		{"scheme calendar", rel("1.2.3", "2024.01.02", "2024.1.10", "24.04"), cpk.Upstream{Scheme: "calendar"}, "2024.1.10 2024.01.02 24.04"},
		{"loose keeps 4 parts", rel("1.2.3", "1.2.3.4"), cpk.Upstream{}, "1.2.3.4 1.2.3"},
		{"variants are stable", rel("16.1-alpine", "16.2-alpine", "17.0-rc1-alpine", "latest"), cpk.Upstream{Include: `-alpine$`}, "16.2-alpine 16.1-alpine"},
		{"marked pre-release", []Release{{Tag: "v1.1.0", Prerelease: true}, {Tag: "v1.0.0"}}, cpk.Upstream{}, "1.0.0"},
		{"drafts never", []Release{{Tag: "v1.1.0", Draft: true}, {Tag: "v1.0.0"}}, cpk.Upstream{Prerelease: true}, "1.0.0"},
	} {
		var got []string
		for _, r := range Select(c.rs, &c.u) {
			got = append(got, r.Version)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %v, want %s", c.name, got, c.want)
		}
	}
}

// jsonServer answers each path with a fixed body (ETag-aware), counting requests.
func jsonServer(t *testing.T, routes map[string]string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		body, ok := routes[r.URL.RequestURI()]
		if !ok {
			body, ok = routes[r.URL.EscapedPath()]
		}
		if !ok {
			w.WriteHeader(404)
			io.WriteString(w, `{"message":"404 Project Not Found"}`)
			return
		}
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(304)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func TestGitLab(t *testing.T) {
	s, _ := jsonServer(t, map[string]string{
		"/api/v4/projects/mailman%2Fmailman/releases?per_page=100": `[
		 {"name":"3.3.10","tag_name":"3.3.10","description":"…","created_at":"2024-11-02T10:00:00.000Z","released_at":"2024-11-02T10:00:00.000Z","upcoming_release":false,
		  "author":{"id":1},"commit":{"id":"abc"},"assets":{"count":1,"sources":[],"links":[{"id":1,"name":"mailman-3.3.10.tar.gz","url":"https://example.org/m.tgz","direct_asset_url":"https://example.org/direct/m.tgz","link_type":"package"}]},
		  "_links":{"self":"https://gitlab.com/mailman/mailman/-/releases/3.3.10"}},
		 {"name":"3.3.9","tag_name":"3.3.9","created_at":"2023-09-01T10:00:00.000Z","released_at":"2023-09-01T10:00:00.000Z","upcoming_release":false,"assets":{"links":[]},"_links":{"self":"https://gitlab.com/mailman/mailman/-/releases/3.3.9"}},
		 {"name":"4.0.0","tag_name":"4.0.0","created_at":"2025-09-01T10:00:00.000Z","released_at":"2026-09-01T10:00:00.000Z","upcoming_release":true,"assets":{"links":[]},"_links":{}}]`,
		"/api/v4/projects/group%2Fsub%2Fname/releases?per_page=100": `[]`,
		"/api/v4/projects/group%2Fsub%2Fname/repository/tags?per_page=100": `[
		 {"name":"v0.2.0","message":"","target":"abc","commit":{"id":"abc","committed_date":"2024-05-01T12:00:00.000+02:00"},"release":null,"protected":false,"created_at":null},
		 {"name":"v0.10.0","message":"","target":"def","commit":{"id":"def","committed_date":"2024-06-01T12:00:00.000+02:00"},"release":null,"protected":false,"created_at":"2024-06-02T12:00:00.000Z"}]`,
	})
	c := NewClient(Endpoints{GitLab: s.URL}, Tokens{}, nil)
	res := checkAll(t, c, []Target{
		{App: "mailman", Upstream: &cpk.Upstream{Source: "gitlab", Repo: "mailman/mailman"}, Pinned: "3.3.9"},
		{App: "sub", Upstream: &cpk.Upstream{Source: "gitlab", Repo: "group/sub/name", URL: s.URL}, Pinned: "0.10.0"},
	})
	if r := res[0]; r.Latest != "3.3.10" || !r.Outdated || r.Notes != "https://gitlab.com/mailman/mailman/-/releases/3.3.10" || r.PinnedDate.Year() != 2023 {
		t.Errorf("%+v", r)
	}
	if r := res[1]; r.Latest != "0.10.0" || r.Outdated || r.LatestDate.Day() != 2 || r.Notes != s.URL+"/group/sub/name/-/tags/v0.10.0" {
		t.Errorf("%+v", r)
	}
	rs, err := c.Releases(context.Background(), &cpk.Upstream{Source: "gitlab", Repo: "mailman/mailman"})
	if err != nil || rs[0].Assets[0].URL != "https://example.org/direct/m.tgz" {
		t.Errorf("assets: %v %+v", err, rs)
	}
}

func TestGitea(t *testing.T) {
	s, _ := jsonServer(t, map[string]string{
		"/api/v1/repos/forgejo/forgejo/releases?limit=50": `[
		 {"id":1,"tag_name":"v9.0.1","target_commitish":"v9.0/forgejo","name":"v9.0.1","body":"…","url":"x","html_url":"https://codeberg.org/forgejo/forgejo/releases/tag/v9.0.1",
		  "draft":false,"prerelease":false,"created_at":"2024-10-30T00:00:00Z","published_at":"2024-10-31T00:00:00Z","author":{},"assets":[{"id":1,"name":"forgejo-9.0.1-linux-amd64","size":1,"download_count":1,"created_at":"2024-10-31T00:00:00Z","uuid":"u","browser_download_url":"https://codeberg.org/attachments/u"}]},
		 {"id":2,"tag_name":"v10.0.0-rc1","name":"","draft":false,"prerelease":true,"created_at":"2024-11-30T00:00:00Z","published_at":"2024-11-30T00:00:00Z","html_url":"h","assets":[]}]`,
		"/api/v1/repos/o/tagged/releases?limit=50": `[]`,
		"/api/v1/repos/o/tagged/tags?limit=50":     `[{"name":"1.4","message":"","id":"a","commit":{"url":"x","sha":"a","created":"2024-02-01T00:00:00Z"},"zipball_url":"x","tarball_url":"x"}]`,
	})
	c := NewClient(Endpoints{}, Tokens{}, nil)
	res := checkAll(t, c, []Target{
		{App: "forgejo", Upstream: &cpk.Upstream{Source: "gitea", URL: s.URL, Repo: "forgejo/forgejo"}, Pinned: "9.0.1"},
		{App: "tagged", Upstream: &cpk.Upstream{Source: "gitea", URL: s.URL + "/", Repo: "o/tagged"}, Pinned: "1.3"},
	})
	if r := res[0]; r.Latest != "9.0.1" || r.Outdated || r.LatestDate.Day() != 31 {
		t.Errorf("%+v", r)
	}
	if r := res[1]; r.Latest != "1.4" || !r.Outdated || r.Notes != s.URL+"/o/tagged/releases/tag/1.4" {
		t.Errorf("%+v", r)
	}
}

func TestNPMAndPyPI(t *testing.T) {
	s, _ := jsonServer(t, map[string]string{
		"/@scope%2fpkg": `{"_id":"@scope/pkg","name":"@scope/pkg","dist-tags":{"latest":"2.1.0","next":"3.0.0-beta.1"},
		  "versions":{
		   "2.0.0":{"name":"@scope/pkg","version":"2.0.0","dist":{"tarball":"https://r/@scope/pkg/-/pkg-2.0.0.tgz","integrity":"sha512-AAA","shasum":"x"}},
		   "2.1.0":{"name":"@scope/pkg","version":"2.1.0","dist":{"tarball":"https://r/@scope/pkg/-/pkg-2.1.0.tgz","integrity":"sha512-BBB","shasum":"y"}},
		   "2.2.0":{"name":"@scope/pkg","version":"2.2.0","deprecated":"broken, use 2.1.0","dist":{"tarball":"t","integrity":"i"}},
		   "3.0.0-beta.1":{"name":"@scope/pkg","version":"3.0.0-beta.1","dist":{"tarball":"t","integrity":"i"}}},
		  "time":{"created":"2020-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","2.0.0":"2024-01-01T00:00:00.000Z","2.1.0":"2024-12-24T00:00:00.000Z","2.2.0":"2024-12-25T00:00:00.000Z","3.0.0-beta.1":"2025-01-01T00:00:00.000Z"}}`,
		"/pypi/Django/json": `{"info":{"name":"Django","version":"5.1.4","project_urls":{}},"last_serial":1,
		  "releases":{
		   "5.1.3":[{"filename":"Django-5.1.3.tar.gz","url":"https://files/Django-5.1.3.tar.gz","digests":{"md5":"x","sha256":"` + strings.Repeat("a", 64) + `"},"upload_time_iso_8601":"2024-11-05T10:00:00.000000Z","yanked":false,"packagetype":"sdist"}],
		   "5.1.4":[{"filename":"django-5.1.4.tar.gz","url":"https://files/django-5.1.4.tar.gz","digests":{"sha256":"` + strings.Repeat("b", 64) + `"},"upload_time_iso_8601":"2024-12-04T10:00:00.000000Z","yanked":false}],
		   "5.1.5":[{"filename":"django-5.1.5.tar.gz","url":"u","digests":{"sha256":"c"},"upload_time_iso_8601":"2024-12-05T10:00:00.000000Z","yanked":true}],
		   "5.2a1":[{"filename":"django-5.2a1.tar.gz","url":"u","digests":{"sha256":"d"},"upload_time_iso_8601":"2025-01-15T10:00:00.000000Z","yanked":false}],
		   "1.0":[]},"urls":[]}`,
	})
	c := NewClient(Endpoints{NPM: s.URL, PyPI: s.URL}, Tokens{}, nil)
	res := checkAll(t, c, []Target{
		{App: "n", Upstream: &cpk.Upstream{Source: "npm", Package: "@scope/pkg"}, Pinned: "2.0.0"},
		{App: "p", Upstream: &cpk.Upstream{Source: "pypi", Package: "Django"}, Pinned: "5.1.3"},
		{App: "p-pre", Upstream: &cpk.Upstream{Source: "pypi", Package: "Django", Prerelease: true}, Pinned: "5.1.3"},
	})
	if r := res[0]; r.Latest != "2.1.0" || !r.Outdated || r.Notes != "https://www.npmjs.com/package/@scope/pkg/v/2.1.0" || r.LatestDate.Month() != 12 {
		t.Errorf("npm: %+v", r)
	}
	if r := res[1]; r.Latest != "5.1.4" || !r.Outdated || r.PinnedDate.Day() != 5 {
		t.Errorf("pypi: %+v", r)
	}
	if r := res[2]; r.Latest != "5.2a1" {
		t.Errorf("pypi with pre-releases: %+v", r)
	}
	rs, _ := c.Releases(context.Background(), &cpk.Upstream{Source: "pypi", Package: "Django"})
	r := Find(rs, &cpk.Upstream{}, "5.1.4")
	if r == nil || r.Assets[0].Digest != "sha256:"+strings.Repeat("b", 64) {
		t.Errorf("pypi digest: %+v", r)
	}
	rs, _ = c.Releases(context.Background(), &cpk.Upstream{Source: "npm", Package: "@scope/pkg"})
	if r := Find(rs, &cpk.Upstream{}, "2.1.0"); r == nil || r.Assets[0].Digest != "sha512-BBB" {
		t.Errorf("npm integrity: %+v", r)
	}
}

func TestRegistryTokenAndPages(t *testing.T) {
	var tokens atomic.Int64
	var s *httptest.Server
	s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			if r.URL.Query().Get("scope") != "repository:library/redis:pull" || r.URL.Query().Get("service") != "registry.docker.io" {
				http.Error(w, "bad scope "+r.URL.RawQuery, 400)
				return
			}
			tokens.Add(1)
			io.WriteString(w, `{"token":"anon","access_token":"anon","expires_in":300,"issued_at":"2025-01-01T00:00:00Z"}`)
		case r.Header.Get("Authorization") != "Bearer anon":
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+s.URL+`/token",service="registry.docker.io",scope="repository:library/redis:pull"`)
			w.WriteHeader(401)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"library/redis","Action":"pull"}]}]}`)
		case r.URL.Path == "/v2/library/redis/tags/list" && r.URL.Query().Get("last") == "":
			w.Header().Set("Link", `</v2/library/redis/tags/list?last=7.2.4&n=1000>; rel="next"`)
			io.WriteString(w, `{"name":"library/redis","tags":["7.2.4","7.2.4-alpine","latest","alpine","sha256-0123456789abcdef.sig"]}`)
		case r.URL.Path == "/v2/library/redis/tags/list":
			io.WriteString(w, `{"name":"library/redis","tags":["7.4.1","7.4.1-alpine","8.0-rc1"]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	c := NewClient(Endpoints{Registry: s.URL}, Tokens{}, nil)
	res := checkAll(t, c, []Target{
		{App: "redis", Upstream: &cpk.Upstream{Source: "registry", Image: "redis"}, Pinned: "7.2.4"},
		{App: "redis-alpine", Upstream: &cpk.Upstream{Source: "registry", Image: "docker.io/library/redis", Include: `-alpine$`}, Pinned: "7.2.4-alpine"},
	})
	if r := res[0]; r.Latest != "7.4.1-alpine" && r.Latest != "7.4.1" || !r.Outdated {
		t.Errorf("%+v", r)
	}
	if r := res[1]; r.Latest != "7.4.1-alpine" || !r.Outdated || r.Notes != "https://hub.docker.com/_/redis" {
		t.Errorf("%+v", r)
	}
	if tokens.Load() == 0 {
		t.Error("no anonymous token was asked for")
	}
	for img, want := range map[string][2]string{
		"redis":                  {"https://registry-1.docker.io", "library/redis"},
		"grafana/grafana":        {"https://registry-1.docker.io", "grafana/grafana"},
		"ghcr.io/o/n":            {"https://ghcr.io", "o/n"},
		"localhost:5000/x":       {"http://localhost:5000", "x"},
		"quay.io/prometheus/x/y": {"https://quay.io", "prometheus/x/y"},
	} {
		if b, n := imageRef(Endpoints{}, img); b != want[0] || n != want[1] {
			t.Errorf("%s: %s %s", img, b, n)
		}
	}
}

func TestDebian(t *testing.T) {
	s, _ := jsonServer(t, map[string]string{
		"/api/src/nginx/": `{"package":"nginx","path":"nginx","pathl":[["nginx","/src/nginx/"]],"suite":"","type":"package",
		 "versions":[{"area":"main","suites":["sid"],"version":"1.26.2-6"},{"area":"main","suites":["trixie"],"version":"1.26.2-5"},{"area":"main","suites":["bookworm"],"version":"1.22.1-9+deb12u1"},{"area":"main","suites":["experimental"],"version":"1.27.3~rc1-1"}]}`,
		"/api/src/nope/": `{"error":"404 Not Found"}`,
	})
	c := NewClient(Endpoints{Debian: s.URL}, Tokens{}, nil)
	res := checkAll(t, c, []Target{
		{App: "nginx", Upstream: &cpk.Upstream{Source: "debian", Package: "nginx"}, Pinned: "1.22.1"},
		{App: "nope", Upstream: &cpk.Upstream{Source: "debian", Package: "nope"}},
	})
	if r := res[0]; r.Latest != "1.26.2" || !r.Outdated {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(res[1].Error, "404") {
		t.Errorf("%+v", res[1])
	}
	for in, want := range map[string]string{"1:2.3.4~rc1+dfsg-2+deb12u1": "2.3.4-rc1", "1.22.1-9": "1.22.1", "2.0+ds1-1": "2.0", "5.0": "5.0"} {
		if got := DebianUpstream(in); got != want {
			t.Errorf("DebianUpstream(%s) = %s, want %s", in, got, want)
		}
	}
}

// gitRepo makes a real repository with tags and returns its path.
func gitRepo(t testing.TB, tags ...string) string {
	t.Helper()
	testenv.LookPath(t, "git")
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q", "-b", "main")
	for i, tag := range tags {
		os.WriteFile(filepath.Join(dir, "file.txt"), []byte(tag), 0o644)
		run("add", ".")
		run("commit", "-q", "-m", fmt.Sprint("commit ", i))
		if i%2 == 0 {
			run("tag", "-a", "-m", tag, tag)
		} else {
			run("tag", tag)
		}
	}
	return dir
}

func TestGitRemoteTags(t *testing.T) {
	repo := gitRepo(t, "v1.0.0", "v1.1.0", "v1.10.0", "v2.0.0-rc1", "app-v9.0.0", "latest")
	c := NewClient(Endpoints{}, Tokens{}, nil)
	res := checkAll(t, c, []Target{
		{App: "g", Upstream: &cpk.Upstream{Source: "git", URL: repo, Exclude: "^app-"}, Pinned: "1.1.0"},
		{App: "mono", Upstream: &cpk.Upstream{Source: "git", URL: repo, Prefix: "app-"}, Pinned: "9.0.0"},
	})
	if r := res[0]; r.Latest != "1.10.0" || !r.Outdated || r.Error != "" {
		t.Errorf("%+v", r)
	}
	if r := res[1]; r.Latest != "9.0.0" || r.Outdated {
		t.Errorf("%+v", r)
	}
	if s := c.Stats(); s.Requests != 1 {
		t.Errorf("%d requests: two packages of one remote cost one ls-remote", s.Requests)
	}
	res = checkAll(t, c, []Target{{App: "x", Upstream: &cpk.Upstream{Source: "git", URL: filepath.Join(t.TempDir(), "none")}}})
	if !strings.Contains(res[0].Error, "git ls-remote") {
		t.Errorf("%+v", res[0])
	}
}

func TestCheckReportsBadPinsAndNoVersions(t *testing.T) {
	f := newFakeGitHub(t)
	f.addRepos(1)
	f.tags["owner/junk"] = []string{"latest", "nightly"}
	res := checkAll(t, testClient(f, "", nil), []Target{
		{App: "a", Upstream: &cpk.Upstream{Source: "github", Repo: "owner/app000"}, Pinned: "main", PinnedFrom: "Dockerfile"},
		{App: "b", Upstream: &cpk.Upstream{Source: "github", Repo: "owner/junk"}},
		{App: "c", Upstream: &cpk.Upstream{Source: "github", Repo: "owner/app000"}},
	})
	if !strings.Contains(res[0].Error, `pinned version "main" (Dockerfile)`) {
		t.Errorf("%+v", res[0])
	}
	if !strings.Contains(res[1].Error, "none of 2 releases or tags") {
		t.Errorf("%+v", res[1])
	}
	if r := res[2]; r.Error != "" || r.Latest != "1.0.0" || r.Outdated {
		t.Errorf("no pin: %+v", r)
	}
}

func TestCheckHonoursCancellation(t *testing.T) {
	f := newFakeGitHub(t)
	names := f.addRepos(5)
	f.latency = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := testClient(f, "", nil).Check(ctx, githubTargets(names)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestVerify(t *testing.T) {
	body := []byte("the release tarball")
	h := sha256.Sum256(body)
	good := hex.EncodeToString(h[:])
	h5 := sha512.Sum512(body)
	integrity := "sha512-" + base64.StdEncoding.EncodeToString(h5[:])
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app.tgz":
			w.Write(body)
		case "/SHA256SUMS":
			fmt.Fprintf(w, "%s  other.tgz\n%s *app.tgz\n", strings.Repeat("0", 64), good)
		case "/app.tgz.sha256":
			fmt.Fprintf(w, "%s\n", good)
		case "/BSD":
			fmt.Fprintf(w, "SHA256 (app.tgz) = %s\n", good)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	file := s.URL + "/app.tgz"
	c := NewClient(Endpoints{}, Tokens{}, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		rel    *Release
		from   string
		errSub string
	}{
		{"asset digest", &Release{Assets: []Asset{{Name: "app.tgz", URL: file, Digest: "sha256:" + good}}}, "digest of release asset app.tgz", ""},
		{"npm integrity", &Release{Assets: []Asset{{Name: "app.tgz", URL: file, Digest: integrity}}}, "digest of release asset", ""},
		{"SHA256SUMS", &Release{Assets: []Asset{{Name: "app.tgz", URL: file}, {Name: "SHA256SUMS", URL: s.URL + "/SHA256SUMS"}}}, "checksum file SHA256SUMS", ""},
		{"per-file .sha256", &Release{Assets: []Asset{{Name: "app.tgz.sha256", URL: s.URL + "/app.tgz.sha256"}}}, "checksum file app.tgz.sha256", ""},
		{"BSD style", &Release{Assets: []Asset{{Name: "sha256sums.txt", URL: s.URL + "/BSD"}}}, "checksum file sha256sums.txt", ""},
		{"none published", &Release{}, "", ""},
		{"mismatch", &Release{Assets: []Asset{{Name: "app.tgz", URL: file, Digest: "sha256:" + strings.Repeat("1", 64)}}}, "", "does not match its published checksum"},
		{"sha512 mismatch", &Release{Assets: []Asset{{Name: "app.tgz", URL: file, Digest: "sha512-AAAA"}}}, "", "does not match"},
	} {
		sum, err := c.Verify(ctx, tc.rel, file)
		switch {
		case tc.errSub != "":
			var me *MismatchError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("%s: err = %v", tc.name, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case sum.SHA256 != good || sum.Size != int64(len(body)) || !strings.HasPrefix(sum.From, tc.from):
			t.Errorf("%s: %+v", tc.name, sum)
		case tc.from == "" && !strings.HasPrefix(sum.Provenance(), "computed by download"):
			t.Errorf("%s: provenance %q", tc.name, sum.Provenance())
		case tc.from != "" && !strings.HasSuffix(sum.Provenance(), "verified by download"):
			t.Errorf("%s: provenance %q", tc.name, sum.Provenance())
		}
	}
	if _, err := c.Verify(ctx, nil, s.URL+"/missing.tgz"); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("missing file: %v", err)
	}
}

func TestResultsMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".cpk", ResultsFile)
	if rs, err := LoadResults(path); err != nil || rs != nil {
		t.Fatalf("missing file: %v %v", rs, err)
	}
	if err := SaveResults(path, []cpk.UpstreamCheck{{App: "b", Latest: "1"}, {App: "a", Latest: "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := SaveResults(path, []cpk.UpstreamCheck{{App: "b", Latest: "2"}}); err != nil {
		t.Fatal(err)
	}
	rs, err := LoadResults(path)
	if err != nil || len(rs) != 2 || rs[0].App != "a" || rs[1].Latest != "2" {
		t.Errorf("%+v %v", rs, err)
	}
	os.WriteFile(path, []byte("{"), 0o644)
	if _, err := LoadResults(path); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("damaged file: %v", err)
	}
}

func TestEndpointsAndTokensFromEnv(t *testing.T) {
	env := map[string]string{"CPK_GITHUB_API": "http://127.0.0.1:1/", "GH_TOKEN": "t2", "GITLAB_TOKEN": "g"}
	e := EndpointsFromEnv(func(k string) string { return env[k] })
	if e.GitHubAPI != "http://127.0.0.1:1" || e.NPM != "https://registry.npmjs.org" {
		t.Errorf("%+v", e)
	}
	if c := (&Client{Endpoints: e}).endpoints(); c.GitHubGraphQL != "http://127.0.0.1:1/graphql" {
		t.Errorf("graphql = %s", c.GitHubGraphQL)
	}
	if tk := TokensFromEnv(func(k string) string { return env[k] }); tk.GitHub != "t2" || tk.GitLab != "g" {
		t.Errorf("%+v", tk)
	}
}

func TestClone(t *testing.T) {
	repo := gitRepo(t, "v1.0.0", "v1.1.0", "v2.0.0-rc1")
	c := NewClient(Endpoints{}, Tokens{}, nil)
	u := &cpk.Upstream{Source: "git", URL: repo}
	dest := filepath.Join(t.TempDir(), "src", "app")
	ctx := context.Background()
	head := func() string {
		out, err := RunGit(ctx, dest, "describe", "--tags")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	r, err := c.Clone(ctx, u, "1.0.0", dest)
	if err != nil || r.Action != "cloned" || r.Tag != "v1.0.0" || head() != "v1.0.0" {
		t.Fatalf("%+v %v", r, err)
	}
	if out, _ := RunGit(ctx, dest, "rev-list", "--count", "HEAD"); strings.TrimSpace(string(out)) != "1" {
		t.Errorf("not shallow: %s commits", out)
	}
	if r, err = c.Clone(ctx, u, "1.0.0", dest); err != nil || r.Action != "unchanged" {
		t.Errorf("again: %+v %v", r, err)
	}
	if r, err = c.Clone(ctx, u, "", dest); err != nil || r.Action != "updated" || head() != "v1.1.0" {
		t.Errorf("newest: %+v %v", r, err)
	}
	if _, err = c.Clone(ctx, u, "3.0.0", dest); err == nil || !strings.Contains(err.Error(), "no tag for the pinned version 3.0.0") {
		t.Errorf("unknown pin: %v", err)
	}
	if _, err = c.Clone(ctx, &cpk.Upstream{Source: "npm", Package: "x"}, "", dest); err == nil {
		t.Error("npm has no repository to clone")
	}
	if got := c.CloneURL(&cpk.Upstream{Source: "github", Repo: "o/n"}); got != "https://github.com/o/n.git" {
		t.Error(got)
	}
}

// TestConditionalRequestsEverywhere: every HTTP source sends the ETag of its
// last answer, so an unchanged package costs a 304.
func TestConditionalRequestsEverywhere(t *testing.T) {
	s, n := jsonServer(t, map[string]string{
		"/left-pad":                       `{"versions":{"1.3.0":{"dist":{"tarball":"t","integrity":"i"}}},"time":{"1.3.0":"2018-04-09T00:00:00.000Z"}}`,
		"/pypi/requests/json":             `{"releases":{"2.32.3":[{"filename":"f","url":"u","digests":{"sha256":"x"},"upload_time_iso_8601":"2024-05-29T00:00:00Z","yanked":false}]}}`,
		"/api/src/curl/":                  `{"versions":[{"version":"8.11.1-1","suites":["sid"]}]}`,
		"/api/v4/projects/a%2Fb/releases": `[{"tag_name":"v1.0.0","released_at":"2024-01-01T00:00:00Z","_links":{"self":"s"},"assets":{"links":[]}}]`,
		"/api/v1/repos/a/b/releases":      `[{"tag_name":"v1.0.0","published_at":"2024-01-01T00:00:00Z","html_url":"h","assets":[]}]`,
	})
	targets := []Target{
		{App: "npm", Upstream: &cpk.Upstream{Source: "npm", Package: "left-pad"}},
		{App: "pypi", Upstream: &cpk.Upstream{Source: "pypi", Package: "requests"}},
		{App: "debian", Upstream: &cpk.Upstream{Source: "debian", Package: "curl"}},
		{App: "gitlab", Upstream: &cpk.Upstream{Source: "gitlab", Repo: "a/b"}},
		{App: "gitea", Upstream: &cpk.Upstream{Source: "gitea", Repo: "a/b", URL: s.URL}},
	}
	dir := t.TempDir()
	e := Endpoints{NPM: s.URL, PyPI: s.URL, Debian: s.URL, GitLab: s.URL}
	for run := range 2 {
		c := NewClient(e, Tokens{}, NewCache(dir))
		for _, r := range checkAll(t, c, targets) {
			if r.Error != "" || r.Latest == "" {
				t.Errorf("run %d: %+v", run, r)
			}
		}
		if s := c.Stats(); s.Requests != 5 || s.NotModified != int64(5*run) {
			t.Errorf("run %d: %+v", run, s)
		}
	}
	if n.Load() != 10 {
		t.Errorf("server saw %d requests", n.Load())
	}
}

func TestSelectRefusesControlCharacters(t *testing.T) {
	got := Select([]Release{{Tag: "v9.9.9\x1b[2J"}, {Tag: "v1.2.3"}}, &cpk.Upstream{Source: "git", URL: "x"})
	if len(got) != 1 || got[0].Version != "1.2.3" {
		t.Errorf("%+v", got)
	}
}

// TestGoModuleProxy: a go upstream reads the module proxy's version list
// (the path escaped as the protocol wants) and the dates of the newest.
func TestGoModuleProxy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/github.com/!cloud!flare/cfssl/@v/list":
			fmt.Fprint(w, "v1.6.4\nv1.7.1\nv1.7.0\nv1.8.0-rc1\n")
		case "/github.com/!cloud!flare/cfssl/@v/v1.7.1.info":
			fmt.Fprint(w, `{"Version":"v1.7.1","Time":"2026-10-01T10:00:00Z"}`)
		case "/github.com/!cloud!flare/cfssl/@v/v1.7.0.info", "/github.com/!cloud!flare/cfssl/@v/v1.6.4.info":
			fmt.Fprint(w, `{"Time":"2025-01-01T00:00:00Z"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	e := DefaultEndpoints()
	e.GoProxy = srv.URL
	c := NewClient(e, Tokens{}, nil)
	checks, err := c.Check(context.Background(), []Target{{App: "cfssl", Pinned: "1.7.0",
		Upstream: &cpk.Upstream{Source: "go", Module: "github.com/CloudFlare/cfssl"}}})
	if err != nil || len(checks) != 1 {
		t.Fatal(err, checks)
	}
	ch := checks[0]
	if ch.Error != "" || ch.Latest != "1.7.1" || !ch.Outdated || ch.LatestDate == nil || ch.LatestDate.Year() != 2026 {
		t.Errorf("%+v", ch)
	}
}
