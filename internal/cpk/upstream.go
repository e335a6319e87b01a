package cpk

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Upstream declares where an application's releases come from and which of
// them are acceptable. It is the upstream: block of apps/<id>/cpk.yaml.
type Upstream struct {
	// Source is the kind of place releases are published: github, gitlab,
	// gitea (Gitea and Forgejo), npm, pypi, registry (OCI / Docker
	// registries), git (any git remote) or debian.
	Source string `yaml:"source" json:"source"`
	// Repo is the project path: owner/name on github and gitea,
	// group[/subgroup…]/name on gitlab.
	Repo string `yaml:"repo,omitempty" json:"repo,omitempty"`
	// URL is the clone address for git, the instance address for gitea
	// (required, e.g. https://codeberg.org) and for a self-hosted gitlab
	// (optional; default https://gitlab.com).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Package is the package name for npm, pypi and debian (the source
	// package name there).
	Package string `yaml:"package,omitempty" json:"package,omitempty"`
	// Module is the Go module path for go (github.com/cloudflare/cfssl):
	// its versions come from the Go module proxy.
	Module string `yaml:"module,omitempty" json:"module,omitempty"`
	// Image is the image reference for registry: docker.io/library/redis,
	// redis, ghcr.io/owner/name. No tag: the tags are the releases.
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
	// Use is releases or tags (github, gitlab, gitea). Empty: releases, and
	// the tags when the project publishes no releases.
	Use string `yaml:"use,omitempty" json:"use,omitempty"`
	// Prefix keeps only tags that start with it and strips it before reading
	// the version: "server-" for monorepo tags like server-v1.2.3.
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	// Include keeps only tags matching this regular expression.
	Include string `yaml:"include,omitempty" json:"include,omitempty"`
	// Exclude drops tags matching this regular expression.
	Exclude string `yaml:"exclude,omitempty" json:"exclude,omitempty"`
	// Prerelease accepts alpha, beta, rc… versions (and releases the host
	// marks as pre-releases). Default false.
	Prerelease bool `yaml:"prerelease,omitempty" json:"prerelease,omitempty"`
	// Scheme narrows what counts as a version: semver (one to three numbers,
	// major below 1000), calendar (a year first: 2024.1, 24.04, 2024-01-15,
	// 20240115) or loose (any numbers, 4-part too). Empty: loose.
	Scheme string `yaml:"scheme,omitempty" json:"scheme,omitempty"`
	// Track keeps only versions on a branch: "2" or "2.x" stays on 2.*, "2.4"
	// on 2.4.*.
	Track string `yaml:"track,omitempty" json:"track,omitempty"`
}

// UpstreamSources are the values of Upstream.Source.
var UpstreamSources = []string{"github", "gitlab", "gitea", "npm", "pypi", "registry", "git", "debian", "go"}

// UpstreamSchemes are the values of Upstream.Scheme ("" is loose).
var UpstreamSchemes = []string{"semver", "calendar", "loose"}

// UpstreamKeys are the yaml keys of an upstream block.
var UpstreamKeys = []string{"source", "repo", "url", "package", "module", "image", "use", "prefix", "include", "exclude", "prerelease", "scheme", "track"}

var trackPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*(\.[xX*])?$`)

// FieldProblem is a problem with one key of a declaration.
type FieldProblem struct {
	Key     string // the yaml key, "" for the block as a whole
	Message string
}

// Problems checks the declaration: the source is known, its required keys
// are set and keys it does not use are not, patterns compile, scheme and
// track are well formed. It returns every problem.
func (u *Upstream) Problems() []FieldProblem {
	var ps []FieldProblem
	bad := func(key, format string, args ...any) {
		ps = append(ps, FieldProblem{key, fmt.Sprintf(format, args...)})
	}
	required := map[string][]string{
		"github": {"repo"}, "gitlab": {"repo"}, "gitea": {"repo", "url"},
		"npm": {"package"}, "pypi": {"package"}, "debian": {"package"},
		"registry": {"image"}, "git": {"url"}, "go": {"module"},
	}
	allowed := map[string][]string{
		"github": {"repo", "use"}, "gitlab": {"repo", "url", "use"}, "gitea": {"repo", "url", "use"},
		"npm": {"package"}, "pypi": {"package"}, "debian": {"package"},
		"registry": {"image"}, "git": {"url"}, "go": {"module"},
	}
	req, known := required[u.Source]
	if !known && u.Source == "" {
		bad("source", "upstream needs source: one of %s", strings.Join(UpstreamSources, ", "))
		return ps
	}
	if !known {
		bad("source", "upstream source %q is not one of %s", u.Source, strings.Join(UpstreamSources, ", "))
		return ps
	}
	values := map[string]string{"repo": u.Repo, "url": u.URL, "package": u.Package, "module": u.Module, "image": u.Image, "use": u.Use}
	for _, k := range req {
		if strings.TrimSpace(values[k]) == "" {
			bad("source", "upstream %s needs %s: %s", u.Source, k, keyHint[k])
		}
	}
	for _, k := range []string{"repo", "url", "package", "module", "image", "use"} {
		if values[k] != "" && !contains(allowed[u.Source], k) {
			bad(k, "upstream %s does not use %s (it needs %s)", u.Source, k, strings.Join(req, " and "))
		}
	}
	if u.Repo != "" {
		parts := strings.Split(u.Repo, "/")
		empty := false
		for _, p := range parts {
			empty = empty || p == ""
		}
		switch {
		case empty || len(parts) < 2:
			bad("repo", "repo %q must be owner/name", u.Repo)
		case len(parts) > 2 && u.Source != "gitlab":
			bad("repo", "repo %q must be owner/name (only gitlab has subgroups)", u.Repo)
		}
	}
	if u.URL != "" && u.Source != "git" && !strings.HasPrefix(u.URL, "https://") && !strings.HasPrefix(u.URL, "http://") {
		bad("url", "url %q must be the instance address, like https://codeberg.org", u.URL)
	}
	if u.Use != "" && u.Use != "releases" && u.Use != "tags" {
		bad("use", "use %q must be releases or tags", u.Use)
	}
	for key, pat := range map[string]string{"include": u.Include, "exclude": u.Exclude} {
		if _, err := regexp.Compile(pat); pat != "" && err != nil {
			bad(key, "%s is not a valid regular expression: %v", key, err)
		}
	}
	if u.Scheme != "" && !contains(UpstreamSchemes, u.Scheme) {
		bad("scheme", "scheme %q must be one of %s", u.Scheme, strings.Join(UpstreamSchemes, ", "))
	}
	if u.Track != "" && !trackPattern.MatchString(u.Track) {
		bad("track", "track %q must be a version prefix like 2, 2.x or 2.4", u.Track)
	}
	return ps
}

var keyHint = map[string]string{
	"repo":    "the project path, owner/name",
	"url":     "the address (a clone URL for git, the instance for gitea)",
	"package": "the package name",
	"module":  "the Go module path, like github.com/cloudflare/cfssl",
	"image":   "the image reference, like docker.io/library/redis",
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Link returns the web address of the upstream project, or its clone
// address for git ("" when unknown or u is nil).
func (u *Upstream) Link() string {
	if u == nil {
		return ""
	}
	switch u.Source {
	case "github":
		return "https://github.com/" + u.Repo
	case "gitlab":
		base := "https://gitlab.com"
		if u.URL != "" {
			base = strings.TrimSuffix(u.URL, "/")
		}
		return base + "/" + u.Repo
	case "gitea":
		return strings.TrimSuffix(u.URL, "/") + "/" + u.Repo
	case "npm":
		return "https://www.npmjs.com/package/" + u.Package
	case "pypi":
		return "https://pypi.org/project/" + u.Package + "/"
	case "debian":
		return "https://tracker.debian.org/pkg/" + u.Package
	case "go":
		return "https://pkg.go.dev/" + u.Module
	case "registry":
		img := u.Image
		if host, rest, ok := strings.Cut(img, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
			if host != "docker.io" {
				return "https://" + img
			}
			img = rest
		}
		img = strings.TrimPrefix(img, "library/")
		if !strings.Contains(img, "/") {
			return "https://hub.docker.com/_/" + img
		}
		return "https://hub.docker.com/r/" + img
	}
	return u.URL
}

// UpstreamCheck is the outcome of checking one application's upstream:
// what the package pins, the newest acceptable release and when each was
// published. cpk upstream check records these in .cpk/upstream.json.
type UpstreamCheck struct {
	App        string     `json:"app"`
	Source     string     `json:"source"`
	Pinned     string     `json:"pinned,omitempty"`     // the package's upstream version; "" when it pins none yet
	PinnedFrom string     `json:"pinnedFrom,omitempty"` // the file it was read from
	PinnedDate *time.Time `json:"pinnedDate,omitempty"` // the pinned release's date, when known
	Latest     string     `json:"latest,omitempty"`     // the newest acceptable version
	LatestTag  string     `json:"latestTag,omitempty"`  // its tag (or the registry's name for it)
	LatestDate *time.Time `json:"latestDate,omitempty"`
	Notes      string     `json:"releaseNotes,omitempty"` // the newest release's notes link
	Outdated   bool       `json:"outdated"`
	Error      string     `json:"error,omitempty"`
	// Unreachable is true when the error is that the source could not be
	// reached at all (no route, no name, refused, timed out).
	Unreachable bool      `json:"unreachable,omitempty"`
	CheckedAt   time.Time `json:"checkedAt"`
}

// FreshWindow is how far a package may trail upstream and still count as
// fresh: the plan's "within one month".
const FreshWindow = 30 * 24 * time.Hour

// Fresh reports whether the package is within one month of upstream at now:
// it pins the newest acceptable version, or that version was released less
// than 30 days ago. known is false when the check failed or the package pins
// nothing yet.
func (c UpstreamCheck) Fresh(now time.Time) (fresh, known bool) {
	if c.Error != "" || c.Pinned == "" || c.Latest == "" {
		return false, false
	}
	if !c.Outdated {
		return true, true
	}
	return c.LatestDate != nil && now.Sub(*c.LatestDate) < FreshWindow, true
}
