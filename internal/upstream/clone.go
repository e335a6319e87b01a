package upstream

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"cpk/internal/cpk"
)

// CloneURL returns the git address of u's source code, or "" for sources
// that are not git repositories (npm, pypi, registry, debian).
func (c *Client) CloneURL(u *cpk.Upstream) string {
	e := c.endpoints()
	switch u.Source {
	case "github":
		return e.GitHubWeb + "/" + u.Repo + ".git"
	case "gitlab":
		base := e.GitLab
		if u.URL != "" {
			base = u.URL
		}
		return strings.TrimSuffix(base, "/") + "/" + u.Repo + ".git"
	case "gitea":
		return strings.TrimSuffix(u.URL, "/") + "/" + u.Repo + ".git"
	case "git":
		return u.URL
	}
	return ""
}

// CloneResult says what Clone did.
type CloneResult struct {
	Tag    string `json:"tag"`
	Dir    string `json:"dir"`
	Action string `json:"action"` // cloned, updated or unchanged
}

// Clone puts the source of u at the tag of the pinned version (the newest
// acceptable one when pinned is "") into dest: a shallow clone of that tag
// only, or, when dest is a clone already, a shallow fetch of the tag and a
// checkout. The tags are read from the git remote itself.
func (c *Client) Clone(ctx context.Context, u *cpk.Upstream, pinned, dest string) (CloneResult, error) {
	remote := c.CloneURL(u)
	if remote == "" {
		return CloneResult{}, fmt.Errorf("upstream %s has no git repository to clone", u.Source)
	}
	tags, err := c.gitTags(ctx, remote)
	if err != nil {
		return CloneResult{}, err
	}
	var rel *Release
	if pinned != "" {
		if rel = Find(tags, u, pinned); rel == nil {
			return CloneResult{}, fmt.Errorf("%s has no tag for the pinned version %s: check prefix in cpk.yaml", redactURL(remote), pinned)
		}
	} else if acceptable := Select(tags, u); len(acceptable) > 0 {
		rel = &acceptable[0]
	} else {
		return CloneResult{}, fmt.Errorf("%s has no tag that is an acceptable version", redactURL(remote))
	}
	res := CloneResult{Tag: rel.Tag, Dir: dest}
	git := func(dir string, args ...string) (string, error) {
		out, err := c.git(ctx, dir, args...)
		return strings.TrimSpace(string(out)), err
	}
	if _, err := os.Stat(filepath.Join(dest, ".git")); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return res, err
		}
		c.counters.requests.Add(1)
		if _, err := git("", "clone", "--quiet", "--depth", "1", "--branch", rel.Tag, "--", remote, dest); err != nil {
			return res, err
		}
		res.Action = "cloned"
		return res, nil
	}
	want, _ := git(dest, "rev-parse", "--verify", "--quiet", "refs/tags/"+rel.Tag+"^{commit}")
	head, _ := git(dest, "rev-parse", "HEAD")
	if want != "" && want == head {
		res.Action = "unchanged"
		return res, nil
	}
	c.counters.requests.Add(1)
	if _, err := git(dest, "fetch", "--quiet", "--depth", "1", "--no-tags", remote, "+refs/tags/"+rel.Tag+":refs/tags/"+rel.Tag); err != nil {
		return res, err
	}
	if _, err := git(dest, "checkout", "--quiet", "--detach", "refs/tags/"+rel.Tag); err != nil {
		return res, fmt.Errorf("%w (local changes in %s? commit or discard them)", err, dest)
	}
	res.Action = "updated"
	return res, nil
}
