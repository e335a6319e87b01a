package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"cpk/internal/cpk"
)

// imageRef splits an image reference into the registry's API base and the
// repository name: redis → https://registry-1.docker.io, library/redis;
// ghcr.io/o/n → https://ghcr.io, o/n. localhost registries speak http.
func imageRef(e Endpoints, image string) (base, name string) {
	host, rest, ok := strings.Cut(image, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		host, rest = "docker.io", image
	}
	if host == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	switch {
	case e.Registry != "":
		base = e.Registry
	case host == "docker.io":
		base = "https://registry-1.docker.io"
	case strings.HasPrefix(host, "localhost") || strings.HasPrefix(host, "127.0.0.1"):
		base = "http://" + host
	default:
		base = "https://" + host
	}
	return base, rest
}

// registry lists an image's tags through the distribution API (GET
// /v2/:name/tags/list), following the registry's bearer-token challenge
// anonymously and its Link pagination.
func (c *Client) registry(ctx context.Context, e Endpoints, u *cpk.Upstream) ([]Release, error) {
	base, name := imageRef(e, u.Image)
	next := base + "/v2/" + name + "/tags/list?n=1000"
	h := http.Header{}
	var out []Release
	for page := 0; next != "" && page < 50; page++ {
		data, hdr, err := c.do(ctx, http.MethodGet, next, h, nil, true)
		var he *HTTPError
		if errors.As(err, &he) && he.Status == http.StatusUnauthorized && h.Get("Authorization") == "" {
			token, terr := c.registryToken(ctx, he.Header.Get("WWW-Authenticate"))
			if terr != nil {
				return nil, fmt.Errorf("registry %s: %w", u.Image, terr)
			}
			h.Set("Authorization", "Bearer "+token)
			data, hdr, err = c.do(ctx, http.MethodGet, next, h, nil, true)
		}
		if err != nil {
			return nil, err
		}
		var list struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("registry %s: unexpected answer: %w", u.Image, err)
		}
		for _, t := range list.Tags {
			if strings.HasPrefix(t, "sha256-") {
				continue // signatures and attestations, not releases
			}
			out = append(out, Release{Tag: t, URL: u.Link()})
		}
		next = nextLink(base, hdr.Get("Link"))
	}
	return out, nil
}

// registryToken answers a Bearer challenge
// (realm="…",service="…",scope="…") with an anonymous token.
func (c *Client) registryToken(ctx context.Context, challenge string) (string, error) {
	scheme, params, _ := strings.Cut(challenge, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("the registry wants %q authentication, which cpk does not do", scheme)
	}
	p := map[string]string{}
	for _, part := range splitParams(params) {
		k, v, _ := strings.Cut(part, "=")
		p[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	if p["realm"] == "" {
		return "", errors.New("the registry's challenge names no realm")
	}
	q := url.Values{}
	for _, k := range []string{"service", "scope"} {
		if p[k] != "" {
			q.Set(k, p[k])
		}
	}
	data, _, err := c.do(ctx, http.MethodGet, p["realm"]+"?"+q.Encode(), nil, nil, false)
	if err != nil {
		return "", fmt.Errorf("anonymous token: %w", err)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		return "", fmt.Errorf("anonymous token: unexpected answer: %w", err)
	}
	if tok.Token == "" {
		tok.Token = tok.AccessToken
	}
	return tok.Token, nil
}

// splitParams splits a=b,c="d,e" at the commas outside quotes.
func splitParams(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// nextLink reads a Link: </v2/…?last=x>; rel="next" header.
func nextLink(base, link string) string {
	for _, part := range strings.Split(link, ",") {
		target, rest, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.Contains(rest, `rel="next"`) {
			continue
		}
		target = strings.Trim(strings.TrimSpace(target), "<>")
		if strings.HasPrefix(target, "/") {
			return base + target
		}
		return target
	}
	return ""
}
