package upstream

import (
	"context"
	"testing"
	"time"
)

// BenchmarkUpstream checks 100 GitHub-hosted packages against the stand-in
// server with 100 ms of latency per request, four ways, side by side:
//
//	graphql-token      with a token: GraphQL batches of 50 repositories
//	rest-cold          without a token, empty cache: one REST request each
//	rest-warm          without a token, cache of the last run: one conditional
//	                   request each, answered 304 (free of the rate limit)
//	per-project        the usual approach: one unconditional request per
//	                   project, every one counted against the rate limit
//
// Each reports requests/check, 304s/check, limited/check (requests that
// count against GitHub's rate limit) and ms/check.
//
//	go test -run='^$' -bench=Upstream ./internal/upstream/
func BenchmarkUpstream(b *testing.B) {
	f := newFakeGitHub(b)
	names := f.addRepos(100)
	f.latency = 100 * time.Millisecond
	targets := githubTargets(names)
	warmDir := b.TempDir()
	if _, err := testClient(f, "", NewCache(warmDir)).Check(context.Background(), targets); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		client func(b *testing.B) *Client
	}{
		{"graphql-token", func(*testing.B) *Client { return testClient(f, "test-token", nil) }},
		{"rest-cold", func(b *testing.B) *Client { return testClient(f, "", NewCache(b.TempDir())) }},
		{"rest-warm", func(*testing.B) *Client { return testClient(f, "", NewCache(warmDir)) }},
		{"per-project", func(*testing.B) *Client { return testClient(f, "", nil) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var reqs, notMod int64
			for b.Loop() {
				c := bc.client(b)
				res, err := c.Check(context.Background(), targets)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Error != "" || r.Latest == "" {
						b.Fatalf("%s: %+v", r.App, r)
					}
				}
				s := c.Stats()
				reqs += s.Requests
				notMod += s.NotModified
			}
			n := float64(b.N)
			b.ReportMetric(float64(reqs)/n, "requests/check")
			b.ReportMetric(float64(notMod)/n, "304s/check")
			b.ReportMetric(float64(reqs-notMod)/n, "limited/check")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/n, "ms/check")
			b.ReportMetric(0, "ns/op")
		})
	}
}
