package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cpk/internal/fsx"
)

// maxBody bounds an API response (npm documents of big packages reach tens
// of MiB).
const maxBody = 64 << 20

// Stats counts what a check cost.
type Stats struct {
	Requests    int64         `json:"requests"`    // HTTP requests and git ls-remote calls made
	NotModified int64         `json:"notModified"` // of which answered 304 Not Modified: served from the cache, free of rate limits
	Bytes       int64         `json:"bytes"`       // response bytes received
	Duration    time.Duration `json:"-"`
	Millis      int64         `json:"milliseconds"` // Duration, for JSON
}

// counters are the live Stats of a Client.
type counters struct {
	requests, notModified, bytes atomic.Int64
}

// HTTPError is an unexpected HTTP status.
type HTTPError struct {
	Status int
	URL    string
	Header http.Header
	Body   string // the start of the response body
}

func (e *HTTPError) Error() string {
	switch e.Status {
	case http.StatusNotFound:
		return fmt.Sprintf("%s: not found (404): check the upstream declaration in cpk.yaml", e.URL)
	case http.StatusUnauthorized:
		return fmt.Sprintf("%s: unauthorized (401): the token was refused; check it or unset it", e.URL)
	}
	msg := fmt.Sprintf("%s: HTTP %d", e.URL, e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// RateLimitError says a host's rate limit is used up and when to retry.
type RateLimitError struct {
	Host     string
	Reset    time.Time // when the limit resets; zero when unknown
	Limit    string    // the host's limit, when it says
	TokenVar string    // the environment variable whose token raises the limit
}

func (e *RateLimitError) Error() string {
	msg := e.Host + " rate limit reached"
	if e.Limit != "" {
		msg += fmt.Sprintf(" (%s requests an hour)", e.Limit)
	}
	if !e.Reset.IsZero() {
		msg += fmt.Sprintf(": retry after %s (in %s)", e.Reset.UTC().Format("15:04 UTC"), time.Until(e.Reset).Round(time.Minute))
	} else {
		msg += ": retry later"
	}
	if e.TokenVar != "" {
		msg += ", or set " + e.TokenVar + " for a higher limit"
	}
	return msg
}

// get fetches url. With a cache, the last ETag (or Last-Modified) goes along
// as If-None-Match (If-Modified-Since) and a 304 answer returns the cached
// body. Rate-limit answers become a *RateLimitError and stop further
// requests to that host for the rest of the run.
func (c *Client) get(ctx context.Context, rawURL string, header http.Header) ([]byte, error) {
	body, _, err := c.do(ctx, http.MethodGet, rawURL, header, nil, true)
	return body, err
}

func (c *Client) do(ctx context.Context, method, rawURL string, header http.Header, reqBody []byte, cacheable bool) ([]byte, http.Header, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("bad address %q: %w", rawURL, err)
	}
	if err := c.limited(u.Host); err != nil {
		return nil, nil, err
	}
	var rd io.Reader
	if reqBody != nil {
		rd = bytes.NewReader(reqBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", "cpk (Cloudron packaging kit)")
	for k, vs := range header {
		req.Header[k] = vs
	}
	key := ""
	var cached *cacheEntry
	if cacheable && c.Cache != nil {
		key = cacheKey(method, rawURL, req.Header.Get("Accept"))
		if cached = c.Cache.get(key); cached != nil {
			if cached.ETag != "" {
				req.Header.Set("If-None-Match", cached.ETag)
			} else if cached.LastModified != "" {
				req.Header.Set("If-Modified-Since", cached.LastModified)
			}
		}
	}
	c.counters.requests.Add(1)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("%s: %w (is the network or the service down? endpoints can be changed with CPK_* variables)", redactURL(rawURL), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	c.counters.bytes.Add(int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, redactURL(rawURL), err)
	}
	if len(data) > maxBody {
		return nil, nil, fmt.Errorf("%s: the answer is larger than %d MiB", redactURL(rawURL), maxBody>>20)
	}
	c.noteRateLimit(u.Host, resp)
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		c.counters.notModified.Add(1)
		return cached.Body, resp.Header, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if key != "" && (resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "") {
			if err := c.Cache.put(key, &cacheEntry{URL: redactURL(rawURL), ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Body: data}); err != nil {
				return nil, nil, fmt.Errorf("write the upstream cache: %w", err)
			}
		}
		return data, resp.Header, nil
	}
	if rl := rateLimited(u.Host, resp); rl != nil {
		c.exhaust(u.Host, rl)
		return nil, resp.Header, rl
	}
	snippet := string(data)
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	return nil, resp.Header, &HTTPError{Status: resp.StatusCode, URL: redactURL(rawURL), Header: resp.Header, Body: snippet}
}

// rateLimited recognises a rate-limit answer: 429, or 403 with no requests
// left or a Retry-After (GitHub's primary and secondary limits).
func rateLimited(host string, resp *http.Response) *RateLimitError {
	remaining := resp.Header.Get("X-RateLimit-Remaining")
	retryAfter := resp.Header.Get("Retry-After")
	if resp.StatusCode != http.StatusTooManyRequests && !(resp.StatusCode == http.StatusForbidden && (remaining == "0" || retryAfter != "")) {
		return nil
	}
	e := &RateLimitError{Host: host, Limit: resp.Header.Get("X-RateLimit-Limit")}
	if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		e.Reset = time.Unix(s, 0)
	} else if n, err := strconv.Atoi(retryAfter); err == nil {
		e.Reset = time.Now().Add(time.Duration(n) * time.Second)
	}
	return e
}

// noteRateLimit remembers the host's remaining requests: at zero, the next
// request would fail, so none is made.
func (c *Client) noteRateLimit(host string, resp *http.Response) {
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotModified {
		return
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if rl := rateLimited(host, &http.Response{StatusCode: http.StatusTooManyRequests, Header: resp.Header}); rl != nil {
			c.exhaust(host, rl)
		}
	}
}

func (c *Client) exhaust(host string, e *RateLimitError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exhausted == nil {
		c.exhausted = map[string]*RateLimitError{}
	}
	c.exhausted[host] = e
}

func (c *Client) limited(host string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.exhausted[host]; e != nil {
		cp := *e
		if host == hostOf(c.Endpoints.GitHubAPI) || host == hostOf(c.Endpoints.GitHubGraphQL) {
			if c.Tokens.GitHub == "" {
				cp.TokenVar = "GITHUB_TOKEN"
			}
		}
		return &cp
	}
	return nil
}

// HTTPDoer sends HTTP requests: an *http.Client.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

func (c *Client) httpClient() HTTPDoer {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// defaultHTTP bounds each step of a request but not a whole download,
// which may be large; Ctrl-C ends any request through its context.
var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   15 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	MaxIdleConnsPerHost:   16,
	ForceAttemptHTTP2:     true,
}}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// redactURL drops credentials from an address before it is shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// cacheEntry is one cached response.
type cacheEntry struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Body         []byte `json:"body"`
}

// Cache keeps the last answer of each URL with its ETag in a folder, one
// file per URL, so that the next run asks "has it changed?" and a 304
// answer costs nothing against the rate limits.
type Cache struct {
	Dir string
	mu  sync.Mutex
	mem map[string]*cacheEntry
}

// NewCache returns a cache in dir (created on the first write).
func NewCache(dir string) *Cache { return &Cache{Dir: dir} }

func cacheKey(method, rawURL, accept string) string {
	h := sha256.Sum256([]byte(method + " " + rawURL + "\n" + accept))
	return hex.EncodeToString(h[:16])
}

func (c *Cache) get(key string) *cacheEntry {
	c.mu.Lock()
	e := c.mem[key]
	c.mu.Unlock()
	if e != nil {
		return e
	}
	data, err := os.ReadFile(filepath.Join(c.Dir, key+".json"))
	if err != nil {
		return nil
	}
	e = &cacheEntry{}
	if json.Unmarshal(data, e) != nil {
		return nil // a damaged entry is simply not used
	}
	return e
}

func (c *Cache) put(key string, e *cacheEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := fsx.WriteFile(filepath.Join(c.Dir, key+".json"), data, 0o644); err != nil {
		return err
	}
	c.mu.Lock()
	if c.mem == nil {
		c.mem = map[string]*cacheEntry{}
	}
	c.mem[key] = e
	c.mu.Unlock()
	return nil
}
