package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"cpk/internal/cpk"
)

// gitlab lists a project's releases (GET /api/v4/projects/:path/releases)
// or tags. The instance is the declaration's url, or Endpoints.GitLab; the
// token goes to Endpoints.GitLab only.
func (c *Client) gitlab(ctx context.Context, e Endpoints, u *cpk.Upstream) ([]Release, error) {
	base := strings.TrimSuffix(e.GitLab, "/")
	if u.URL != "" {
		base = strings.TrimSuffix(u.URL, "/")
	}
	h := http.Header{}
	if c.Tokens.GitLab != "" && base == strings.TrimSuffix(e.GitLab, "/") {
		h.Set("PRIVATE-TOKEN", c.Tokens.GitLab)
	}
	api := base + "/api/v4/projects/" + url.PathEscape(u.Repo)
	web := base + "/" + u.Repo
	if u.Use != "tags" {
		data, err := c.get(ctx, api+"/releases?per_page=100", h)
		if err != nil {
			return nil, err
		}
		var rs []struct {
			TagName         string     `json:"tag_name"`
			ReleasedAt      *time.Time `json:"released_at"`
			CreatedAt       *time.Time `json:"created_at"`
			UpcomingRelease bool       `json:"upcoming_release"`
			Links           struct {
				Self string `json:"self"`
			} `json:"_links"`
			Assets struct {
				Links []struct {
					Name           string `json:"name"`
					URL            string `json:"url"`
					DirectAssetURL string `json:"direct_asset_url"`
				} `json:"links"`
			} `json:"assets"`
		}
		if err := json.Unmarshal(data, &rs); err != nil {
			return nil, fmt.Errorf("gitlab %s releases: unexpected answer: %w", u.Repo, err)
		}
		var out []Release
		for _, r := range rs {
			rel := Release{Tag: r.TagName, Date: r.ReleasedAt, Draft: r.UpcomingRelease, URL: r.Links.Self}
			if rel.Date == nil {
				rel.Date = r.CreatedAt
			}
			if rel.URL == "" {
				rel.URL = web + "/-/releases/" + url.PathEscape(r.TagName)
			}
			for _, l := range r.Assets.Links {
				a := Asset{Name: l.Name, URL: l.DirectAssetURL}
				if a.URL == "" {
					a.URL = l.URL
				}
				rel.Assets = append(rel.Assets, a)
			}
			out = append(out, rel)
		}
		if len(out) > 0 || u.Use == "releases" {
			return out, nil
		}
	}
	data, err := c.get(ctx, api+"/repository/tags?per_page=100", h)
	if err != nil {
		return nil, err
	}
	var tags []struct {
		Name      string     `json:"name"`
		CreatedAt *time.Time `json:"created_at"`
		Commit    struct {
			CommittedDate *time.Time `json:"committed_date"`
		} `json:"commit"`
	}
	if err := json.Unmarshal(data, &tags); err != nil {
		return nil, fmt.Errorf("gitlab %s tags: unexpected answer: %w", u.Repo, err)
	}
	var out []Release
	for _, t := range tags {
		d := t.CreatedAt
		if d == nil {
			d = t.Commit.CommittedDate
		}
		out = append(out, Release{Tag: t.Name, Date: d, URL: web + "/-/tags/" + url.PathEscape(t.Name)})
	}
	return out, nil
}

// gitea lists a Gitea or Forgejo repository's releases (GET
// /api/v1/repos/:repo/releases) or tags.
func (c *Client) gitea(ctx context.Context, u *cpk.Upstream) ([]Release, error) {
	base := strings.TrimSuffix(u.URL, "/")
	api := base + "/api/v1/repos/" + u.Repo
	if u.Use != "tags" {
		data, err := c.get(ctx, api+"/releases?limit=50", nil)
		if err != nil {
			return nil, err
		}
		var rs []struct {
			TagName     string     `json:"tag_name"`
			Draft       bool       `json:"draft"`
			Prerelease  bool       `json:"prerelease"`
			PublishedAt *time.Time `json:"published_at"`
			CreatedAt   *time.Time `json:"created_at"`
			HTMLURL     string     `json:"html_url"`
			Assets      []struct {
				Name               string `json:"name"`
				BrowserDownloadURL string `json:"browser_download_url"`
			} `json:"assets"`
		}
		if err := json.Unmarshal(data, &rs); err != nil {
			return nil, fmt.Errorf("gitea %s releases: unexpected answer: %w", u.Repo, err)
		}
		var out []Release
		for _, r := range rs {
			rel := Release{Tag: r.TagName, Draft: r.Draft, Prerelease: r.Prerelease, Date: r.PublishedAt, URL: r.HTMLURL}
			if rel.Date == nil {
				rel.Date = r.CreatedAt
			}
			for _, a := range r.Assets {
				rel.Assets = append(rel.Assets, Asset{Name: a.Name, URL: a.BrowserDownloadURL})
			}
			out = append(out, rel)
		}
		if len(out) > 0 || u.Use == "releases" {
			return out, nil
		}
	}
	data, err := c.get(ctx, api+"/tags?limit=50", nil)
	if err != nil {
		return nil, err
	}
	var tags []struct {
		Name   string `json:"name"`
		Commit struct {
			Created *time.Time `json:"created"`
		} `json:"commit"`
	}
	if err := json.Unmarshal(data, &tags); err != nil {
		return nil, fmt.Errorf("gitea %s tags: unexpected answer: %w", u.Repo, err)
	}
	var out []Release
	for _, t := range tags {
		out = append(out, Release{Tag: t.Name, Date: t.Commit.Created, URL: base + "/" + u.Repo + "/releases/tag/" + url.PathEscape(t.Name)})
	}
	return out, nil
}

// npm lists a package's versions from its registry document (GET /:name),
// each with its tarball and the registry's integrity digest.
func (c *Client) npm(ctx context.Context, e Endpoints, u *cpk.Upstream) ([]Release, error) {
	name := u.Package
	if strings.HasPrefix(name, "@") {
		name = strings.Replace(name, "/", "%2f", 1)
	}
	data, err := c.get(ctx, e.NPM+"/"+name, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, err
	}
	var doc struct {
		Versions map[string]struct {
			Deprecated any `json:"deprecated"`
			Dist       struct {
				Tarball   string `json:"tarball"`
				Integrity string `json:"integrity"`
			} `json:"dist"`
		} `json:"versions"`
		Time map[string]time.Time `json:"time"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("npm %s: unexpected answer: %w", u.Package, err)
	}
	var out []Release
	for v, meta := range doc.Versions {
		r := Release{Tag: v, URL: "https://www.npmjs.com/package/" + u.Package + "/v/" + v}
		if t, ok := doc.Time[v]; ok {
			r.Date = &t
		}
		if meta.Deprecated != nil && meta.Deprecated != false && meta.Deprecated != "" {
			continue // a deprecated version is not one to move to
		}
		if meta.Dist.Tarball != "" {
			r.Assets = []Asset{{Name: path.Base(meta.Dist.Tarball), URL: meta.Dist.Tarball, Digest: meta.Dist.Integrity}}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out, nil
}

// pypi lists a project's releases (GET /pypi/:name/json) with their files
// and SHA-256 digests; fully yanked releases are left out.
func (c *Client) pypi(ctx context.Context, e Endpoints, u *cpk.Upstream) ([]Release, error) {
	data, err := c.get(ctx, e.PyPI+"/pypi/"+url.PathEscape(u.Package)+"/json", nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Releases map[string][]struct {
			Filename string `json:"filename"`
			URL      string `json:"url"`
			Digests  struct {
				SHA256 string `json:"sha256"`
			} `json:"digests"`
			UploadTime *time.Time `json:"upload_time_iso_8601"`
			Yanked     bool       `json:"yanked"`
		} `json:"releases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("pypi %s: unexpected answer: %w", u.Package, err)
	}
	var out []Release
	for v, files := range doc.Releases {
		r := Release{Tag: v, URL: "https://pypi.org/project/" + u.Package + "/" + v + "/"}
		yanked := len(files) > 0
		for _, f := range files {
			yanked = yanked && f.Yanked
			if r.Date == nil || f.UploadTime != nil && f.UploadTime.Before(*r.Date) {
				r.Date = f.UploadTime
			}
			d := ""
			if f.Digests.SHA256 != "" {
				d = "sha256:" + f.Digests.SHA256
			}
			r.Assets = append(r.Assets, Asset{Name: f.Filename, URL: f.URL, Digest: d})
		}
		if !yanked {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	return out, nil
}

// debian lists the versions of a Debian source package (GET
// /api/src/:name/ on sources.debian.org); Tag is the Debian version, the
// upstream part of it (no epoch, revision or repack suffix) is what is
// compared.
func (c *Client) debian(ctx context.Context, e Endpoints, u *cpk.Upstream) ([]Release, error) {
	data, err := c.get(ctx, e.Debian+"/api/src/"+url.PathEscape(u.Package)+"/", nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Error    string `json:"error"`
		Versions []struct {
			Version string   `json:"version"`
			Suites  []string `json:"suites"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("debian %s: unexpected answer: %w", u.Package, err)
	}
	if doc.Error != "" {
		return nil, fmt.Errorf("debian %s: %s (name the source package)", u.Package, doc.Error)
	}
	var out []Release
	seen := map[string]bool{}
	for _, v := range doc.Versions {
		up := DebianUpstream(v.Version)
		if seen[up] {
			continue
		}
		seen[up] = true
		out = append(out, Release{Tag: up, URL: "https://tracker.debian.org/pkg/" + u.Package})
	}
	return out, nil
}

var debianRepack = regexp.MustCompile(`[+~](dfsg|ds|repack)[0-9.]*$`)

// DebianUpstream returns the upstream part of a Debian version:
// 1:2.3.4~rc1+dfsg-2+deb12u1 → 2.3.4-rc1.
func DebianUpstream(v string) string {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		v = rest
	}
	if i := strings.LastIndex(v, "-"); i > 0 {
		v = v[:i]
	}
	v = debianRepack.ReplaceAllString(v, "")
	return strings.Replace(v, "~", "-", 1)
}

// gitTags lists the tags of any git remote, as git ls-remote does (one
// request; no dates).
func (c *Client) gitTags(ctx context.Context, remote string) ([]Release, error) {
	c.counters.requests.Add(1)
	out, err := c.git(ctx, "", "ls-remote", "--tags", "--refs", remote)
	if err != nil {
		return nil, err
	}
	var rs []Release
	for _, line := range strings.Split(string(out), "\n") {
		_, ref, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if tag, isTag := strings.CutPrefix(ref, "refs/tags/"); ok && isTag {
			rs = append(rs, Release{Tag: tag})
		}
	}
	return rs, nil
}

func (c *Client) git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	if c.Git != nil {
		return c.Git(ctx, dir, args...)
	}
	return RunGit(ctx, dir, args...)
}

// RunGit runs git in dir (the working directory when "") without prompts
// and returns its standard output; a failure carries git's own message.
func RunGit(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		shown := make([]string, len(args))
		for i, a := range args {
			shown[i] = redactURL(a)
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(shown, " "), msg)
	}
	return out, nil
}

// goModule reads a Go module's versions from the module proxy (the
// GOPROXY protocol): @v/list, then @v/VERSION.info for the dates of the
// newest ones (the only ones whose dates matter).
func (c *Client) goModule(ctx context.Context, e Endpoints, u *cpk.Upstream) ([]Release, error) {
	base := e.GoProxy + "/" + escapeModule(u.Module) + "/@v/"
	data, err := c.get(ctx, base+"list", nil)
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, v := range strings.Fields(string(data)) {
		out = append(out, Release{Tag: v, URL: "https://pkg.go.dev/" + u.Module + "@" + v})
	}
	// Dates for the newest acceptable versions, a few requests at most.
	dated := 0
	for _, r := range Select(out, u) {
		if dated == 5 {
			break
		}
		info, err := c.get(ctx, base+url.PathEscape(r.Tag)+".info", nil)
		if err != nil {
			return nil, err
		}
		var doc struct{ Time *time.Time }
		if json.Unmarshal(info, &doc) == nil && doc.Time != nil {
			for i := range out {
				if out[i].Tag == r.Tag {
					out[i].Date = doc.Time
				}
			}
		}
		dated++
	}
	return out, nil
}

// escapeModule writes a module path as the proxy protocol wants it: each
// upper-case letter as '!' and its lower case.
func escapeModule(path string) string {
	var b strings.Builder
	for _, r := range path {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
