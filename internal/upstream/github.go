package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"cpk/internal/cpk"
)

// githubRelease is the REST shape of a release (GET /repos/{repo}/releases).
type githubRelease struct {
	TagName     string     `json:"tag_name"`
	Draft       bool       `json:"draft"`
	Prerelease  bool       `json:"prerelease"`
	PublishedAt *time.Time `json:"published_at"`
	CreatedAt   *time.Time `json:"created_at"`
	HTMLURL     string     `json:"html_url"`
	Assets      []struct {
		Name               string  `json:"name"`
		BrowserDownloadURL string  `json:"browser_download_url"`
		Digest             *string `json:"digest"`
	} `json:"assets"`
}

// githubTag is the REST shape of a tag (GET /repos/{repo}/tags).
type githubTag struct {
	Name string `json:"name"`
}

func (c *Client) githubHeader() http.Header {
	h := http.Header{}
	h.Set("Accept", "application/vnd.github+json")
	h.Set("X-GitHub-Api-Version", "2022-11-28")
	if c.Tokens.GitHub != "" {
		h.Set("Authorization", "Bearer "+c.Tokens.GitHub)
	}
	return h
}

// githubREST lists a repository's releases (one request, conditional on the
// cached ETag) and, when use is tags or the project publishes no releases,
// its tags.
func (c *Client) githubREST(ctx context.Context, e Endpoints, u *cpk.Upstream) ([]Release, error) {
	base := e.GitHubAPI + "/repos/" + u.Repo
	if u.Use != "tags" {
		data, err := c.get(ctx, base+"/releases?per_page=100", c.githubHeader())
		if err != nil {
			return nil, err
		}
		var rs []githubRelease
		if err := json.Unmarshal(data, &rs); err != nil {
			return nil, fmt.Errorf("github %s releases: unexpected answer: %w", u.Repo, err)
		}
		out := make([]Release, 0, len(rs))
		for _, r := range rs {
			rel := Release{Tag: r.TagName, Draft: r.Draft, Prerelease: r.Prerelease, Date: r.PublishedAt, URL: r.HTMLURL}
			if rel.Date == nil {
				rel.Date = r.CreatedAt
			}
			for _, a := range r.Assets {
				asset := Asset{Name: a.Name, URL: a.BrowserDownloadURL}
				if a.Digest != nil {
					asset.Digest = *a.Digest
				}
				rel.Assets = append(rel.Assets, asset)
			}
			out = append(out, rel)
		}
		if len(out) > 0 || u.Use == "releases" {
			return out, nil
		}
	}
	data, err := c.get(ctx, base+"/tags?per_page=100", c.githubHeader())
	if err != nil {
		return nil, err
	}
	var tags []githubTag
	if err := json.Unmarshal(data, &tags); err != nil {
		return nil, fmt.Errorf("github %s tags: unexpected answer: %w", u.Repo, err)
	}
	out := make([]Release, 0, len(tags))
	for _, t := range tags {
		out = append(out, Release{Tag: t.Name, URL: e.GitHubWeb + "/" + u.Repo + "/releases/tag/" + url.PathEscape(t.Name)})
	}
	return out, nil
}

// The GraphQL batch: one query names many repositories, each under an alias
// (r0, r1, …), and asks for their newest releases and tags with dates.
const (
	graphqlReleases = `releases(first: 50, orderBy: {field: CREATED_AT, direction: DESC}) { nodes { tagName isPrerelease isDraft publishedAt createdAt url } }`
	graphqlTags     = `refs(refPrefix: "refs/tags/", first: 100, orderBy: {field: TAG_COMMIT_DATE, direction: DESC}) { nodes { name target { __typename ... on Commit { committedDate } ... on Tag { tagger { date } target { ... on Commit { committedDate } } } } } }`
)

// graphqlQuery builds the query for a batch of repositories.
func graphqlQuery(batch []*cpk.Upstream) string {
	var b strings.Builder
	b.WriteString("query {\n")
	for i, u := range batch {
		owner, name, _ := strings.Cut(u.Repo, "/")
		o, _ := json.Marshal(owner)
		n, _ := json.Marshal(name)
		fmt.Fprintf(&b, "  r%d: repository(owner: %s, name: %s) {", i, o, n)
		if u.Use != "tags" {
			b.WriteString(" " + graphqlReleases)
		}
		if u.Use != "releases" {
			b.WriteString(" " + graphqlTags)
		}
		b.WriteString(" }\n")
	}
	b.WriteString("  rateLimit { cost remaining resetAt }\n}\n")
	return b.String()
}

type graphqlRepo struct {
	Releases *struct {
		Nodes []struct {
			TagName      string     `json:"tagName"`
			IsPrerelease bool       `json:"isPrerelease"`
			IsDraft      bool       `json:"isDraft"`
			PublishedAt  *time.Time `json:"publishedAt"`
			CreatedAt    *time.Time `json:"createdAt"`
			URL          string     `json:"url"`
		} `json:"nodes"`
	} `json:"releases"`
	Refs *struct {
		Nodes []struct {
			Name   string `json:"name"`
			Target struct {
				CommittedDate *time.Time `json:"committedDate"`
				Tagger        *struct {
					Date *time.Time `json:"date"`
				} `json:"tagger"`
				Target *struct {
					CommittedDate *time.Time `json:"committedDate"`
				} `json:"target"`
			} `json:"target"`
		} `json:"nodes"`
	} `json:"refs"`
}

type graphqlResponse struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Type    string   `json:"type"`
		Path    []string `json:"path"`
		Message string   `json:"message"`
	} `json:"errors"`
}

// githubGraphQL fetches the releases of every repository in batches of
// BatchSize, the batches concurrently (at most GitHubConcurrency at once).
func (c *Client) githubGraphQL(ctx context.Context, list []*cpk.Upstream) map[string]fetched {
	e := c.endpoints()
	size := orDefault(c.BatchSize, 50)
	out := map[string]fetched{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, orDefault(c.GitHubConcurrency, 4))
	for start := 0; start < len(list); start += size {
		batch := list[start:min(start+size, len(list))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := c.graphqlBatch(ctx, e, batch)
			mu.Lock()
			for k, v := range res {
				out[k] = v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (c *Client) graphqlBatch(ctx context.Context, e Endpoints, batch []*cpk.Upstream) map[string]fetched {
	out := map[string]fetched{}
	fail := func(err error) map[string]fetched {
		for _, u := range batch {
			out[upstreamKey(u)] = fetched{err: err}
		}
		return out
	}
	body, _ := json.Marshal(map[string]string{"query": graphqlQuery(batch)})
	h := http.Header{}
	h.Set("Authorization", "bearer "+c.Tokens.GitHub)
	h.Set("Content-Type", "application/json")
	data, _, err := c.do(ctx, http.MethodPost, e.GitHubGraphQL, h, body, false)
	if err != nil {
		return fail(fmt.Errorf("github graphql: %w", err))
	}
	var resp graphqlResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return fail(fmt.Errorf("github graphql: unexpected answer: %w", err))
	}
	aliasErr := map[string]string{}
	for _, ge := range resp.Errors {
		if ge.Type == "RATE_LIMITED" {
			rl := &RateLimitError{Host: hostOf(e.GitHubGraphQL)}
			c.exhaust(rl.Host, rl)
			return fail(rl)
		}
		if len(ge.Path) > 0 {
			aliasErr[ge.Path[0]] = ge.Message
		} else if resp.Data == nil {
			return fail(fmt.Errorf("github graphql: %s", ge.Message))
		}
	}
	for i, u := range batch {
		alias := fmt.Sprintf("r%d", i)
		raw := resp.Data[alias]
		if msg, bad := aliasErr[alias]; bad || len(raw) == 0 || string(raw) == "null" {
			if msg == "" {
				msg = "no answer for this repository"
			}
			out[upstreamKey(u)] = fetched{err: fmt.Errorf("github %s: %s: check repo in cpk.yaml", u.Repo, msg)}
			continue
		}
		var repo graphqlRepo
		if err := json.Unmarshal(raw, &repo); err != nil {
			out[upstreamKey(u)] = fetched{err: fmt.Errorf("github %s: unexpected answer: %w", u.Repo, err)}
			continue
		}
		out[upstreamKey(u)] = fetched{releases: repo.releases(e, u)}
	}
	return out
}

// releases picks the releases of a repository, or its tags when use is tags
// or it publishes no releases.
func (r graphqlRepo) releases(e Endpoints, u *cpk.Upstream) []Release {
	var out []Release
	if r.Releases != nil {
		for _, n := range r.Releases.Nodes {
			d := n.PublishedAt
			if d == nil {
				d = n.CreatedAt
			}
			out = append(out, Release{Tag: n.TagName, Prerelease: n.IsPrerelease, Draft: n.IsDraft, Date: d, URL: n.URL})
		}
	}
	if len(out) > 0 || u.Use == "releases" || r.Refs == nil {
		return out
	}
	for _, n := range r.Refs.Nodes {
		d := n.Target.CommittedDate
		switch {
		case n.Target.Tagger != nil && n.Target.Tagger.Date != nil:
			d = n.Target.Tagger.Date
		case d == nil && n.Target.Target != nil:
			d = n.Target.Target.CommittedDate
		}
		out = append(out, Release{Tag: n.Name, Date: d, URL: e.GitHubWeb + "/" + u.Repo + "/releases/tag/" + url.PathEscape(n.Name)})
	}
	return out
}
