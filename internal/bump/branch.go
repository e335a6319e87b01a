package bump

import (
	"context"
	gitrepo "cpk/internal/git"
	"fmt"
	"path/filepath"
	"strings"
)

// BranchName is the plan's branch for work on one package.
func BranchName(app string) string { return "feature/package-" + app }

// ApplyOnBranch applies the edit on a new branch feature/package-<app> of
// the git repository at root, commits the changed files there and returns
// to the branch (or commit) the repository was on. The package's files must
// have no uncommitted changes. On any failure the repository is as before:
// files restored, the original branch checked out, the new branch deleted.
func ApplyOnBranch(ctx context.Context, root string, e *Edit) error {
	repo := &gitrepo.Repo{Dir: root}
	git := func(args ...string) (string, error) {
		out, err := repo.Run(ctx, args...)
		return strings.TrimSpace(string(out)), err
	}
	if len(e.files) == 0 {
		return fmt.Errorf("nothing to commit")
	}
	var paths []string
	for _, fe := range e.files {
		rel, err := filepath.Rel(root, filepath.Join(e.dir, fe.name))
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("%s is outside the repository %s", fe.name, root)
		}
		paths = append(paths, filepath.ToSlash(rel))
	}
	pkgRel, _ := filepath.Rel(root, e.dir)
	if dirty, err := git("status", "--porcelain", "--", pkgRel); err != nil {
		return fmt.Errorf("--branch needs a git repository: %w", err)
	} else if dirty != "" {
		return fmt.Errorf("%s has uncommitted changes:\n%s\ncommit or stash them first, or bump without --branch", pkgRel, dirty)
	}
	orig, err := git("symbolic-ref", "--quiet", "--short", "HEAD")
	back := []string{"switch", "--quiet", orig}
	if err != nil || orig == "" {
		sha, serr := git("rev-parse", "HEAD")
		if serr != nil {
			return fmt.Errorf("--branch needs a commit to branch from: %w", serr)
		}
		back = []string{"switch", "--quiet", "--detach", sha}
	}
	branch := BranchName(e.Result.App)
	if _, err := git("rev-parse", "--verify", "--quiet", "refs/heads/"+branch); err == nil {
		return fmt.Errorf("branch %s exists already: merge or delete it (git branch -D %s), or bump without --branch", branch, branch)
	}
	if _, err := git("switch", "--quiet", "-c", branch); err != nil {
		return err
	}
	undo := func(cause error, restore bool) error {
		if restore {
			for _, fe := range e.files {
				e.restore(fe)
			}
			git(append([]string{"reset", "--quiet", "--"}, paths...)...)
		}
		if _, err := git(back...); err != nil {
			return fmt.Errorf("%w; then returning to the original branch failed: %v", cause, err)
		}
		if _, err := git("branch", "-D", branch); err != nil {
			return fmt.Errorf("%w; then deleting %s failed: %v", cause, branch, err)
		}
		return cause
	}
	if err := e.Apply(); err != nil {
		return undo(err, false)
	}
	if _, err := git(append([]string{"add", "--"}, paths...)...); err != nil {
		return undo(err, true)
	}
	r := e.Result
	msg := fmt.Sprintf("%s: update upstream to %s (package %s)\n\n", r.App, r.To, r.PackageTo)
	if r.From != "" {
		msg = fmt.Sprintf("%s: update upstream %s → %s (package %s)\n\n", r.App, r.From, r.To, r.PackageTo)
	}
	if r.Notes != "" {
		msg += "Release notes: " + r.Notes + "\n"
	}
	if r.Provenance != "" {
		msg += "Checksum: " + r.Provenance + "\n"
	}
	if _, err := git(append([]string{"commit", "--quiet", "-m", msg, "--"}, paths...)...); err != nil {
		return undo(fmt.Errorf("commit: %w (set user.name and user.email in git config)", err), true)
	}
	sha, _ := git("rev-parse", "HEAD")
	if _, err := git(back...); err != nil {
		return fmt.Errorf("committed %s on %s, but returning to the original branch failed: %w", sha, branch, err)
	}
	e.Result.Branch, e.Result.Commit = branch, sha
	return nil
}
