package build

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"cpk/internal/engine"
)

// Changed lists the ids of the packages under root/apps whose files differ
// from the git revision since: committed, staged, unstaged and untracked
// (ignored files excepted).
func Changed(ctx context.Context, r *engine.Runner, root, since string) ([]string, error) {
	diff, err := r.Run(ctx, engine.Command{Name: "git", Dir: root, Args: []string{"diff", "--name-only", "--relative", "--no-renames", since, "--", "apps"}})
	if err != nil {
		return nil, fmt.Errorf("files changed since %s: %w", since, err)
	}
	untracked, err := r.Run(ctx, engine.Command{Name: "git", Dir: root, Args: []string{"ls-files", "--others", "--exclude-standard", "--", "apps"}})
	if err != nil {
		return nil, fmt.Errorf("untracked files: %w", err)
	}
	return appsOf(string(diff) + "\n" + string(untracked)), nil
}

// appsOf maps paths apps/<id>/… to sorted, distinct ids.
func appsOf(paths string) []string {
	seen := map[string]bool{}
	var ids []string
	for _, p := range strings.Split(paths, "\n") {
		parts := strings.Split(strings.TrimSpace(p), "/")
		if len(parts) < 3 || parts[0] != "apps" || seen[parts[1]] {
			continue
		}
		seen[parts[1]] = true
		ids = append(ids, parts[1])
	}
	sort.Strings(ids)
	return ids
}
