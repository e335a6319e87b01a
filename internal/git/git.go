// Package git is every git operation cpk makes: changed files, history,
// files at a commit, branches and tags. Every call goes through the one
// exec door (engine.Runner), so it honours the context and reports git's
// own error text.
package git

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"cpk/internal/engine"
)

// Repo is a git work tree.
type Repo struct {
	Dir    string
	Runner *engine.Runner // nil: engine.DefaultRunner
}

// Open returns the repository holding dir, or an error that says it is not
// one.
func Open(ctx context.Context, dir string, r *engine.Runner) (*Repo, error) {
	repo := &Repo{Dir: dir, Runner: r}
	top, err := repo.run(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s is not in a git repository: %w", dir, err)
	}
	repo.Dir = strings.TrimSpace(string(top))
	return repo, nil
}

// run runs git without prompts and with untranslated messages; passwords
// in URL arguments never reach a message.
func (r *Repo) run(ctx context.Context, args ...string) ([]byte, error) {
	var secrets []string
	for _, a := range args {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				secrets = append(secrets, p)
			} else if name := u.User.Username(); name != "" {
				secrets = append(secrets, name) // a token given as the user
			}
		}
	}
	return r.Runner.Run(ctx, engine.Command{Name: "git", Dir: r.Dir, Args: args, Env: []string{"GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}, Secrets: secrets})
}

// Run runs a git command in the work tree and returns its output.
func (r *Repo) Run(ctx context.Context, args ...string) ([]byte, error) { return r.run(ctx, args...) }

// RevParse resolves a ref to a full commit hash.
func (r *Repo) RevParse(ctx context.Context, ref string) (string, error) {
	out, err := r.run(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("%s is not a commit in %s", ref, r.Dir)
	}
	return strings.TrimSpace(string(out)), nil
}

// Head is the current commit.
func (r *Repo) Head(ctx context.Context) (string, error) { return r.RevParse(ctx, "HEAD") }

// Branch is the current branch's name; "" on a detached HEAD.
func (r *Repo) Branch(ctx context.Context) (string, error) {
	out, err := r.run(ctx, "symbolic-ref", "--quiet", "--short", "HEAD")
	if err != nil {
		var e *engine.Error
		if errors.As(err, &e) && e.ExitCode == 1 {
			return "", nil // detached
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// HasBranch reports whether a local branch exists.
func (r *Repo) HasBranch(ctx context.Context, name string) bool {
	_, err := r.run(ctx, "show-ref", "--verify", "--quiet", "refs/heads/"+name)
	return err == nil
}

// CreateBranch makes a branch at from without switching to it.
func (r *Repo) CreateBranch(ctx context.Context, name, from string) error {
	_, err := r.run(ctx, "branch", "--no-track", name, from)
	return err
}

// Switch makes name the current branch.
func (r *Repo) Switch(ctx context.Context, name string) error {
	_, err := r.run(ctx, "switch", "--quiet", name)
	return err
}

// Changed lists the files (slash-separated, relative to the repository
// root) that differ between base and the work tree, untracked files
// included, below the given paths (all when none).
func (r *Repo) Changed(ctx context.Context, base string, paths ...string) ([]string, error) {
	args := append([]string{"diff", "--name-only", "--no-renames", base, "--"}, paths...)
	diff, err := r.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	untracked, err := r.run(ctx, append([]string{"ls-files", "--others", "--exclude-standard", "--"}, paths...)...)
	if err != nil {
		return nil, err
	}
	return lines(string(diff) + string(untracked)), nil
}

// Diff lists the files that differ between two commits below the paths.
func (r *Repo) Diff(ctx context.Context, from, to string, paths ...string) ([]string, error) {
	out, err := r.run(ctx, append([]string{"diff", "--name-only", "--no-renames", from, to, "--"}, paths...)...)
	if err != nil {
		return nil, err
	}
	return lines(string(out)), nil
}

// MergeBase is the best common ancestor of two commits.
func (r *Repo) MergeBase(ctx context.Context, a, b string) (string, error) {
	out, err := r.run(ctx, "merge-base", a, b)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Commit is one commit of a history.
type Commit struct {
	Hash    string
	Time    time.Time
	Subject string
}

// Log lists the first-parent history of ref that touched the paths (all
// commits when none), oldest first.
func (r *Repo) Log(ctx context.Context, ref string, paths ...string) ([]Commit, error) {
	args := append([]string{"log", "--first-parent", "--reverse", "--format=%H%x00%ct%x00%s", ref, "--"}, paths...)
	out, err := r.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	var commits []Commit
	for _, line := range lines(string(out)) {
		f := strings.SplitN(line, "\x00", 3)
		if len(f) != 3 {
			continue
		}
		sec, _ := strconv.ParseInt(f[1], 10, 64)
		commits = append(commits, Commit{Hash: f[0], Time: time.Unix(sec, 0).UTC(), Subject: f[2]})
	}
	return commits, nil
}

// Commits lists the commits of ref that touched the paths, newest first
// (all parents).
func (r *Repo) Commits(ctx context.Context, ref string, paths ...string) ([]string, error) {
	out, err := r.run(ctx, append([]string{"log", "--format=%H", ref, "--"}, paths...)...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// Show returns a file's content at a commit; found is false when the file
// does not exist there.
func (r *Repo) Show(ctx context.Context, rev, path string) (data []byte, found bool, err error) {
	if !r.Exists(ctx, rev, path) {
		return nil, false, nil
	}
	out, err := r.run(ctx, "show", rev+":"+path)
	return out, err == nil, err
}

// Exists reports whether a path exists at a commit.
func (r *Repo) Exists(ctx context.Context, rev, path string) bool {
	_, err := r.run(ctx, "cat-file", "-e", rev+":"+path)
	return err == nil
}

// Extract writes the files below path at a commit into dir (which must
// exist), keeping their executable bits: a read-only view of the tree then.
// A path that does not exist at the commit extracts nothing.
func (r *Repo) Extract(ctx context.Context, rev, path, dir string) error {
	if !r.Exists(ctx, rev, path) {
		return nil
	}
	out, err := r.run(ctx, "archive", "--format=tar", rev, "--", path)
	if err != nil {
		return err
	}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("git archive %s: %w", rev, err)
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			continue
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// Tags lists the tags that match a pattern (all when "").
func (r *Repo) Tags(ctx context.Context, pattern string) ([]string, error) {
	args := []string{"tag", "--list"}
	if pattern != "" {
		args = append(args, pattern)
	}
	out, err := r.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	return lines(string(out)), nil
}

// Tag makes an annotated tag at rev.
func (r *Repo) Tag(ctx context.Context, name, rev, message string) error {
	_, err := r.run(ctx, "tag", "--annotate", "--message", message, name, rev)
	return err
}

// Add stages paths; Commit records the staged changes.
func (r *Repo) Add(ctx context.Context, paths ...string) error {
	_, err := r.run(ctx, append([]string{"add", "--"}, paths...)...)
	return err
}

// Commit records the staged changes with a message.
func (r *Repo) Commit(ctx context.Context, message string) error {
	_, err := r.run(ctx, "commit", "--quiet", "--message", message)
	return err
}

// Clean reports whether the work tree has no uncommitted change below the
// paths.
func (r *Repo) Clean(ctx context.Context, paths ...string) (bool, error) {
	out, err := r.run(ctx, append([]string{"status", "--porcelain", "--"}, paths...)...)
	if err != nil {
		return false, err
	}
	return len(bytes.TrimSpace(out)) == 0, nil
}

func lines(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
