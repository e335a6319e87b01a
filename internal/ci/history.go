package ci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"cpk/internal/catalog"
	"cpk/internal/cpk"
	"cpk/internal/fsx"
	"cpk/internal/git"
	"cpk/internal/lint"
	"cpk/internal/status"
)

// HistoryOptions configure Progress.
type HistoryOptions struct {
	Ref   string         // the branch whose history counts (main)
	Rules *lint.Registry // the rules that tell draft from packaged
	// Cache is a folder where each commit's counts are kept once computed
	// (a commit never changes); "" computes every time.
	Cache string
	Max   int // the most recent commits to show (default 120)
	// Status keeps packages that did not change between commits from being
	// linted again (nil: none).
	Status *status.Cache
}

// Point is the catalog's states at one commit.
type Point struct {
	status.Snapshot
	Commit  string `json:"commit"`
	Subject string `json:"subject"`
}

// Progress reconstructs the catalog's states along a branch's first-parent
// history: at every commit that changed the catalog, each application's
// state as its files and committed evidence at that commit give it (lint
// for draft or packaged, evidence for verified). It is the same on every
// clone: it reads only the repository.
func Progress(ctx context.Context, repo *git.Repo, appsDir string, o HistoryOptions) ([]Point, error) {
	if o.Max == 0 {
		o.Max = 120
	}
	appsRel, err := filepath.Rel(repo.Dir, appsDir)
	if err != nil {
		return nil, err
	}
	appsRel = filepath.ToSlash(appsRel)
	commits, err := repo.Log(ctx, o.Ref, appsRel)
	if err != nil {
		return nil, err
	}
	if len(commits) > o.Max {
		commits = commits[len(commits)-o.Max:]
	}
	out := make([]Point, 0, len(commits))
	for _, c := range commits {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		states, err := statesAt(ctx, repo, appsRel, c.Hash, o)
		if err != nil {
			return nil, err
		}
		out = append(out, Point{Snapshot: status.Snapshot{At: c.Time, States: states}, Commit: c.Hash, Subject: c.Subject})
	}
	return out, nil
}

// statesAt counts the states of the catalog at one commit, from the cache
// when it has them.
func statesAt(ctx context.Context, repo *git.Repo, appsRel, commit string, o HistoryOptions) (map[cpk.State]int, error) {
	cached := ""
	if o.Cache != "" {
		cached = filepath.Join(o.Cache, commit+"-"+rulesKey(o.Rules)+".json")
		if data, err := os.ReadFile(cached); err == nil {
			var states map[cpk.State]int
			if json.Unmarshal(data, &states) == nil {
				return states, nil
			}
		}
	}
	tmp, err := os.MkdirTemp("", "cpk-history-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := repo.Extract(ctx, commit, appsRel, tmp); err != nil {
		return nil, err
	}
	states := map[cpk.State]int{}
	cat, err := catalog.Load(filepath.Join(tmp, filepath.FromSlash(appsRel)))
	var le *catalog.LoadError
	if err != nil && !errors.As(err, &le) {
		return nil, err
	}
	if cat != nil {
		rep, err := status.Build(cat, status.Options{Rules: o.Rules, Cache: o.Status})
		if err != nil {
			return nil, err
		}
		states = rep.Total.States
	}
	if cached != "" {
		if data, err := json.Marshal(states); err == nil && os.MkdirAll(o.Cache, 0o755) == nil {
			_ = fsx.WriteFile(cached, data, 0o644)
		}
	}
	return states, nil
}

// rulesKey names the rule set and severities in force: counts computed
// under other rules are not reused.
func rulesKey(reg *lint.Registry) string {
	h := sha256.New()
	for _, r := range reg.Rules() {
		fmt.Fprintf(h, "%s=%s,%v;", r.Code, reg.Severity(r), reg.Enabled(r.Code))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
