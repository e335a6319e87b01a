package upstream

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeGitHub is a stand-in for api.github.com: REST releases and tags with
// ETags (If-None-Match → 304, not counted against the limit), the GraphQL
// endpoint with aliased repository queries, a primary rate limit, and an
// optional latency per request.
type fakeGitHub struct {
	*httptest.Server
	mu       sync.Mutex
	repos    map[string][]fakeRelease // owner/name → releases, newest first
	tags     map[string][]string      // owner/name → tags when a repo has no releases
	token    string                   // accepted bearer token
	latency  time.Duration
	limit    int // REST requests allowed before 403; 0 = unlimited
	used     int
	requests atomic.Int64
	notMod   atomic.Int64
	graphql  atomic.Int64
}

type fakeRelease struct {
	Tag        string
	Prerelease bool
	Draft      bool
	Date       time.Time
	Assets     []fakeAsset
}

type fakeAsset struct {
	Name, Digest string
	Body         []byte // served at /download/<repo>/<tag>/<name>
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{repos: map[string][]fakeRelease{}, tags: map[string][]string{}, token: "test-token"}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

var restPath = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/(releases|tags)$`)

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	if r.URL.Path == "/graphql" {
		f.serveGraphQL(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/download/") {
		f.serveDownload(w, r)
		return
	}
	m := restPath.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	rels, ok := f.repos[m[1]]
	tags := f.tags[m[1]]
	f.mu.Unlock()
	if !ok && tags == nil {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/releases/releases#list-releases","status":"404"}`)
		return
	}
	var body []byte
	if m[2] == "releases" {
		body = f.releasesJSON(m[1], rels)
	} else {
		var out []map[string]any
		for _, tg := range tags {
			out = append(out, map[string]any{"name": tg, "zipball_url": "x", "tarball_url": "x", "commit": map[string]any{"sha": "0123", "url": "x"}, "node_id": "x"})
		}
		body, _ = json.Marshal(out)
	}
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("X-RateLimit-Limit", "60")
	if r.Header.Get("If-None-Match") == etag {
		f.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified) // free: not counted
		return
	}
	f.mu.Lock()
	f.used++
	over := f.limit > 0 && f.used > f.limit
	remaining := max(f.limit-f.used, 0)
	f.mu.Unlock()
	w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(40*time.Minute).Unix()))
	if f.limit > 0 {
		w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(remaining))
	}
	if over {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"API rate limit exceeded for 127.0.0.1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body)
}

func (f *fakeGitHub) releasesJSON(repo string, rels []fakeRelease) []byte {
	out := []map[string]any{}
	for i, r := range rels {
		var assets []map[string]any
		for _, a := range r.Assets {
			var digest any
			if a.Digest != "" {
				digest = a.Digest
			}
			assets = append(assets, map[string]any{
				"url": "x", "id": i, "name": a.Name, "label": "", "content_type": "application/gzip", "state": "uploaded",
				"size": len(a.Body), "digest": digest, "download_count": 3,
				"browser_download_url": f.URL + "/download/" + repo + "/" + r.Tag + "/" + a.Name,
			})
		}
		var published any = r.Date.UTC().Format(time.RFC3339)
		if r.Draft {
			published = nil
		}
		out = append(out, map[string]any{
			"url": "x", "html_url": "https://github.com/" + repo + "/releases/tag/" + r.Tag, "id": i, "node_id": "x",
			"tag_name": r.Tag, "target_commitish": "main", "name": r.Tag, "draft": r.Draft, "prerelease": r.Prerelease,
			"created_at": r.Date.UTC().Format(time.RFC3339), "published_at": published, "assets": assets, "body": "notes",
			"author": map[string]any{"login": "someone"},
		})
	}
	b, _ := json.Marshal(out)
	return b
}

func (f *fakeGitHub) serveDownload(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for repo, rels := range f.repos {
		for _, rel := range rels {
			for _, a := range rel.Assets {
				if r.URL.Path == "/download/"+repo+"/"+rel.Tag+"/"+a.Name {
					w.Write(a.Body)
					return
				}
			}
		}
	}
	http.NotFound(w, r)
}

var graphqlAlias = regexp.MustCompile(`(r[0-9]+): repository\(owner: ("[^"]*"), name: ("[^"]*")\) \{([^\n]*)\}`)

func (f *fakeGitHub) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	f.graphql.Add(1)
	if r.Header.Get("Authorization") != "bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"Bad credentials","documentation_url":"https://docs.github.com/graphql"}`)
		return
	}
	var req struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	data := map[string]any{"rateLimit": map[string]any{"cost": 1, "remaining": 4999, "resetAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}
	var errs []map[string]any
	for _, m := range graphqlAlias.FindAllStringSubmatch(req.Query, -1) {
		var owner, name string
		json.Unmarshal([]byte(m[2]), &owner)
		json.Unmarshal([]byte(m[3]), &name)
		repo := owner + "/" + name
		f.mu.Lock()
		rels, ok := f.repos[repo]
		tags := f.tags[repo]
		f.mu.Unlock()
		if !ok && tags == nil {
			data[m[1]] = nil
			errs = append(errs, map[string]any{"type": "NOT_FOUND", "path": []string{m[1]}, "locations": []map[string]int{{"line": 2, "column": 3}},
				"message": fmt.Sprintf("Could not resolve to a Repository with the name '%s'.", repo)})
			continue
		}
		node := map[string]any{}
		if strings.Contains(m[4], "releases(") {
			var nodes []map[string]any
			for _, rel := range rels {
				var published any = rel.Date.UTC().Format(time.RFC3339)
				if rel.Draft {
					published = nil
				}
				nodes = append(nodes, map[string]any{"tagName": rel.Tag, "isPrerelease": rel.Prerelease, "isDraft": rel.Draft,
					"publishedAt": published, "createdAt": rel.Date.UTC().Format(time.RFC3339), "url": "https://github.com/" + repo + "/releases/tag/" + rel.Tag})
			}
			node["releases"] = map[string]any{"nodes": nodes}
		}
		if strings.Contains(m[4], "refs(") {
			var nodes []map[string]any
			for i, tg := range tags {
				d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(i) * 24 * time.Hour).Format(time.RFC3339)
				nodes = append(nodes, map[string]any{"name": tg, "target": map[string]any{"__typename": "Tag", "tagger": map[string]any{"date": d}, "target": map[string]any{"committedDate": d}}})
			}
			node["refs"] = map[string]any{"nodes": nodes}
		}
		data[m[1]] = node
	}
	resp := map[string]any{"data": data}
	if errs != nil {
		resp["errors"] = errs
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// addRepos adds n repositories owner/app000… each with a few releases, the
// newest 1.<i>.0, plus a pre-release above it and a draft.
func (f *fakeGitHub) addRepos(n int) []string {
	var names []string
	for i := range n {
		name := fmt.Sprintf("owner/app%03d", i)
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		f.repos[name] = []fakeRelease{
			{Tag: fmt.Sprintf("v1.%d.1-draft", i), Draft: true, Date: base.Add(72 * time.Hour)},
			{Tag: fmt.Sprintf("v2.0.0-rc.%d", i+1), Prerelease: true, Date: base.Add(48 * time.Hour)},
			{Tag: fmt.Sprintf("v1.%d.0", i), Date: base.Add(24 * time.Hour)},
			{Tag: "v1.0.0", Date: base.Add(-400 * 24 * time.Hour)},
		}
		names = append(names, name)
	}
	return names
}
