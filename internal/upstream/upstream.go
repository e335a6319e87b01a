// Package upstream finds the releases of each package's upstream project
// (GitHub, GitLab, Gitea/Forgejo, npm, PyPI, OCI registries, any git remote,
// Debian), picks the newest acceptable version and compares it with what the
// package pins.
//
// It is built to check a catalog of a hundred projects cheaply: GitHub
// projects are asked in batches of one GraphQL query when a token is set,
// otherwise one REST request each with the ETag of the last answer, so that
// an unchanged project answers 304 Not Modified, which GitHub does not count
// against its rate limit. Other sources run concurrently with a bound.
//
// The package depends on the domain (cpk) and the standard library only.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"cpk/internal/cpk"
	"cpk/internal/upstream/version"
)

// Endpoints are the addresses of the services; each can be changed for a
// self-hosted instance, a mirror or a test stand-in.
type Endpoints struct {
	GitHubAPI     string // REST API; $CPK_GITHUB_API, default https://api.github.com
	GitHubGraphQL string // GraphQL; $CPK_GITHUB_GRAPHQL, default GitHubAPI + /graphql
	GitHubWeb     string // web and clone address; $CPK_GITHUB_URL, default https://github.com
	GitLab        string // instance when cpk.yaml gives no url; $CPK_GITLAB_URL, default https://gitlab.com
	NPM           string // $CPK_NPM_REGISTRY, default https://registry.npmjs.org
	PyPI          string // $CPK_PYPI_URL, default https://pypi.org
	Debian        string // sources.debian.org API; $CPK_DEBIAN_SOURCES, default https://sources.debian.org
	Registry      string // replaces every image's registry host when set; $CPK_REGISTRY_URL
	GoProxy       string // the Go module proxy; $CPK_GOPROXY, default https://proxy.golang.org
}

// DefaultEndpoints are the public services.
func DefaultEndpoints() Endpoints {
	return Endpoints{
		GitHubAPI: "https://api.github.com", GitHubWeb: "https://github.com", GitLab: "https://gitlab.com",
		NPM: "https://registry.npmjs.org", PyPI: "https://pypi.org", Debian: "https://sources.debian.org",
		GoProxy: "https://proxy.golang.org",
	}
}

// EndpointsFromEnv is DefaultEndpoints with the CPK_* variables applied.
func EndpointsFromEnv(getenv func(string) string) Endpoints {
	e := DefaultEndpoints()
	for v, p := range map[string]*string{
		"CPK_GITHUB_API": &e.GitHubAPI, "CPK_GITHUB_GRAPHQL": &e.GitHubGraphQL, "CPK_GITHUB_URL": &e.GitHubWeb,
		"CPK_GITLAB_URL": &e.GitLab, "CPK_NPM_REGISTRY": &e.NPM, "CPK_PYPI_URL": &e.PyPI,
		"CPK_DEBIAN_SOURCES": &e.Debian, "CPK_REGISTRY_URL": &e.Registry, "CPK_GOPROXY": &e.GoProxy,
	} {
		if s := getenv(v); s != "" {
			*p = strings.TrimSuffix(s, "/")
		}
	}
	return e
}

// Tokens are the credentials sent to the services that take them; they are
// never printed.
type Tokens struct {
	GitHub string // $GITHUB_TOKEN or $GH_TOKEN: GraphQL batches and a higher REST limit
	GitLab string // $GITLAB_TOKEN, sent to the default GitLab instance only
}

// TokensFromEnv reads GITHUB_TOKEN (or GH_TOKEN) and GITLAB_TOKEN.
func TokensFromEnv(getenv func(string) string) Tokens {
	t := Tokens{GitHub: getenv("GITHUB_TOKEN"), GitLab: getenv("GITLAB_TOKEN")}
	if t.GitHub == "" {
		t.GitHub = getenv("GH_TOKEN")
	}
	return t
}

// Client asks the upstream services. The zero value works against the
// public services without a cache; set the fields before first use.
type Client struct {
	HTTP      HTTPDoer // default: a client with connect, TLS and header timeouts
	Endpoints Endpoints
	Tokens    Tokens
	Cache     *Cache // nil: no ETags kept between runs
	// Concurrency bounds the requests in flight to sources other than
	// GitHub (default 8); GitHubConcurrency those of GitHub REST (default 4).
	Concurrency, GitHubConcurrency int
	// BatchSize is how many repositories one GraphQL query names (default 50).
	BatchSize int
	// Git runs git in dir ("" for any) and returns its standard output: the
	// command line wires it to the one exec door (internal/git); RunGit
	// when nil.
	Git func(ctx context.Context, dir string, args ...string) ([]byte, error)
	// Now is the clock (default time.Now).
	Now func() time.Time

	counters  counters
	mu        sync.Mutex
	exhausted map[string]*RateLimitError
}

// NewClient returns a client for the given endpoints, tokens and cache.
func NewClient(e Endpoints, t Tokens, cache *Cache) *Client {
	return &Client{Endpoints: e, Tokens: t, Cache: cache}
}

// Stats returns what the client has cost so far (Duration is left zero).
func (c *Client) Stats() Stats {
	return Stats{Requests: c.counters.requests.Load(), NotModified: c.counters.notModified.Load(), Bytes: c.counters.bytes.Load()}
}

func (c *Client) endpoints() Endpoints {
	e, d := c.Endpoints, DefaultEndpoints()
	for _, p := range []struct{ v, def *string }{
		{&e.GitHubAPI, &d.GitHubAPI}, {&e.GitHubWeb, &d.GitHubWeb}, {&e.GitLab, &d.GitLab},
		{&e.NPM, &d.NPM}, {&e.PyPI, &d.PyPI}, {&e.Debian, &d.Debian},
	} {
		if *p.v == "" {
			*p.v = *p.def
		}
	}
	if e.GitHubGraphQL == "" {
		e.GitHubGraphQL = e.GitHubAPI + "/graphql"
	}
	return e
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Release is one published version of an upstream project.
type Release struct {
	Tag        string     `json:"tag"`     // the tag or published name, as the source gives it
	Version    string     `json:"version"` // Tag without the declared prefix and a leading v
	Date       *time.Time `json:"date,omitempty"`
	Prerelease bool       `json:"prerelease,omitempty"` // marked as such by the host
	Draft      bool       `json:"draft,omitempty"`
	URL        string     `json:"url,omitempty"` // the release notes
	Assets     []Asset    `json:"assets,omitempty"`
}

// Asset is a file published with a release.
type Asset struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Digest string `json:"digest,omitempty"` // "sha256:<hex>" or an npm integrity "sha512-<base64>", when the host publishes one
}

// Releases fetches every release the source lists for u, unfiltered.
func (c *Client) Releases(ctx context.Context, u *cpk.Upstream) ([]Release, error) {
	e := c.endpoints()
	switch u.Source {
	case "github":
		return c.githubREST(ctx, e, u)
	case "gitlab":
		return c.gitlab(ctx, e, u)
	case "gitea":
		return c.gitea(ctx, u)
	case "npm":
		return c.npm(ctx, e, u)
	case "pypi":
		return c.pypi(ctx, e, u)
	case "registry":
		return c.registry(ctx, e, u)
	case "git":
		return c.gitTags(ctx, u.URL)
	case "debian":
		return c.debian(ctx, e, u)
	case "go":
		return c.goModule(ctx, e, u)
	}
	return nil, fmt.Errorf("unknown upstream source %q", u.Source)
}

// Select returns the acceptable releases of u, newest first: not drafts,
// carrying the prefix, matching include and not exclude, reading as a
// version of the declared scheme, on the declared track, and pre-releases
// only when u allows them. Each has its Version set.
func Select(releases []Release, u *cpk.Upstream) []Release {
	include, exclude := compile(u.Include), compile(u.Exclude)
	type cand struct {
		r Release
		v version.Version
	}
	var cands []cand
	for _, r := range releases {
		if r.Draft || strings.IndexFunc(r.Tag, unicode.IsControl) >= 0 {
			continue // a tag with control characters is no version
		}
		v, ver, ok := readVersion(r.Tag, u.Prefix)
		if !ok || include != nil && !include.MatchString(r.Tag) || exclude != nil && exclude.MatchString(r.Tag) {
			continue
		}
		if !v.Accepts(version.Scheme(u.Scheme)) || !v.OnTrack(u.Track) {
			continue
		}
		if !u.Prerelease && (r.Prerelease || v.Prerelease()) {
			continue
		}
		r.Version = ver
		cands = append(cands, cand{r, v})
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return -version.Compare(a.v, b.v) })
	out := make([]Release, len(cands))
	for i, c := range cands {
		out[i] = c.r
	}
	return out
}

// readVersion strips prefix from tag (ok is false when the tag lacks it),
// then a leading v, and parses the rest.
func readVersion(tag, prefix string) (version.Version, string, bool) {
	if !strings.HasPrefix(tag, prefix) {
		return version.Version{}, "", false
	}
	s := strings.TrimPrefix(tag, prefix)
	if len(s) > 1 && (s[0] == 'v' || s[0] == 'V') && s[1] >= '0' && s[1] <= '9' {
		s = s[1:]
	}
	v, ok := version.Parse(s)
	return v, s, ok
}

func compile(pattern string) *regexp.Regexp {
	if pattern == "" {
		return nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return regexp.MustCompile(`\A\z.`) // matches nothing; the catalog reports the pattern
	}
	return re
}

// Find returns the release of u whose version equals v (by version order:
// v1.2 finds 1.2.0), preferring an exact spelling, or nil.
func Find(releases []Release, u *cpk.Upstream, v string) *Release {
	want, ok := version.Parse(v)
	if !ok {
		return nil
	}
	var found *Release
	for i := range releases {
		rv, ver, ok := readVersion(releases[i].Tag, u.Prefix)
		if !ok || version.Compare(rv, want) != 0 {
			continue
		}
		if found == nil || ver == v {
			r := releases[i]
			r.Version = ver
			found = &r
		}
	}
	return found
}

// Target is one package to check.
type Target struct {
	App        string
	Upstream   *cpk.Upstream
	Pinned     string // the pinned upstream version, "" when the package has none yet
	PinnedFrom string // the file the pin was read from
}

// Check checks every target and returns one result each, in the order of
// targets. A failing source becomes that result's Error; Check itself fails
// only when ctx ends.
func (c *Client) Check(ctx context.Context, targets []Target) ([]cpk.UpstreamCheck, error) {
	lists := c.fetchAll(ctx, targets)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := c.now().UTC().Truncate(time.Second)
	out := make([]cpk.UpstreamCheck, len(targets))
	for i, t := range targets {
		out[i] = evaluate(t, lists[upstreamKey(t.Upstream)], now)
	}
	return out, nil
}

type fetched struct {
	releases []Release
	err      error
}

// upstreamKey identifies what is fetched, so that packages sharing an
// upstream cost one request.
func upstreamKey(u *cpk.Upstream) string {
	return strings.Join([]string{u.Source, u.Repo, u.URL, u.Package, u.Image, u.Use}, "\x00")
}

// fetchAll fetches the releases of every distinct upstream: GitHub ones by
// GraphQL batches with a token, else by conditional REST requests; the rest
// concurrently.
func (c *Client) fetchAll(ctx context.Context, targets []Target) map[string]fetched {
	var mu sync.Mutex
	out := map[string]fetched{}
	set := func(key string, f fetched) {
		mu.Lock()
		out[key] = f
		mu.Unlock()
	}
	var github, others []*cpk.Upstream
	seen := map[string]bool{}
	for _, t := range targets {
		if t.Upstream == nil || seen[upstreamKey(t.Upstream)] {
			continue
		}
		seen[upstreamKey(t.Upstream)] = true
		if t.Upstream.Source == "github" {
			github = append(github, t.Upstream)
		} else {
			others = append(others, t.Upstream)
		}
	}
	var wg sync.WaitGroup
	run := func(list []*cpk.Upstream, bound int) {
		sem := make(chan struct{}, bound)
		for _, u := range list {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					set(upstreamKey(u), fetched{err: ctx.Err()})
					return
				}
				defer func() { <-sem }()
				rs, err := c.Releases(ctx, u)
				set(upstreamKey(u), fetched{rs, err})
			}()
		}
	}
	if c.Tokens.GitHub != "" && len(github) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key, f := range c.githubGraphQL(ctx, github) {
				set(key, f)
			}
		}()
	} else {
		run(github, orDefault(c.GitHubConcurrency, 4))
	}
	run(others, orDefault(c.Concurrency, 8))
	wg.Wait()
	return out
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// evaluate turns one target's release list into its result.
func evaluate(t Target, f fetched, now time.Time) cpk.UpstreamCheck {
	r := cpk.UpstreamCheck{App: t.App, Pinned: t.Pinned, PinnedFrom: t.PinnedFrom, CheckedAt: now}
	if t.Upstream == nil {
		r.Error = "cpk.yaml declares no upstream"
		return r
	}
	r.Source = t.Upstream.Source
	if f.err != nil {
		r.Error = f.err.Error()
		var ne net.Error
		r.Unreachable = errors.As(f.err, &ne)
		return r
	}
	acceptable := Select(f.releases, t.Upstream)
	if len(acceptable) == 0 {
		r.Error = fmt.Sprintf("%s: none of %d releases or tags is an acceptable version (check prefix, include, exclude, scheme, track and prerelease in cpk.yaml)", t.Upstream.Link(), len(f.releases))
		return r
	}
	latest := acceptable[0]
	r.Latest, r.LatestTag, r.LatestDate, r.Notes = latest.Version, latest.Tag, latest.Date, latest.URL
	if t.Pinned == "" {
		return r
	}
	pinned, ok := version.Parse(t.Pinned)
	if !ok {
		r.Error = fmt.Sprintf("the pinned version %q (%s) does not read as a version", t.Pinned, t.PinnedFrom)
		return r
	}
	if p := Find(f.releases, t.Upstream, t.Pinned); p != nil {
		r.PinnedDate = p.Date
	}
	lv, _ := version.Parse(latest.Version)
	r.Outdated = version.Compare(lv, pinned) > 0
	return r
}
