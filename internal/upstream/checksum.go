package upstream

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Checksum is the verified digest of a download.
type Checksum struct {
	SHA256    string `json:"sha256"`              // hex digest of the downloaded bytes
	Size      int64  `json:"size"`                // bytes downloaded
	Published string `json:"published,omitempty"` // the digest upstream published ("sha256:…", "sha512-…"), "" when none
	From      string `json:"from,omitempty"`      // where the published digest came from
}

// Provenance says in words how far the checksum can be trusted.
func (c Checksum) Provenance() string {
	if c.Published != "" {
		return "published by upstream (" + c.From + ") and verified by download"
	}
	return "computed by download: upstream publishes no checksum for this file"
}

// MismatchError is a download that does not match its published digest.
type MismatchError struct {
	URL, Published, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s does not match its published checksum (published %s, downloaded %s): do not use it; report it upstream or retry later", e.URL, e.Published, e.Got)
}

// maxDownload bounds a downloaded artifact.
const maxDownload = 4 << 30

// Verify downloads fileURL and returns its SHA-256, checked against the
// digest upstream published for it when there is one: the release asset's
// own digest (GitHub, npm integrity, PyPI), else a checksum file published
// with the release (SHA256SUMS, checksums.txt, <file>.sha256…).
func (c *Client) Verify(ctx context.Context, rel *Release, fileURL string) (Checksum, error) {
	var sum Checksum
	if rel != nil {
		sum.Published, sum.From = c.publishedDigest(ctx, rel, fileURL)
	}
	sha256hex, sha512b64, size, err := c.download(ctx, fileURL)
	if err != nil {
		return sum, err
	}
	sum.SHA256, sum.Size = sha256hex, size
	switch algo, want, _ := strings.Cut(sum.Published, ":"); {
	case sum.Published == "":
	case strings.HasPrefix(sum.Published, "sha512-"):
		if strings.TrimPrefix(sum.Published, "sha512-") != sha512b64 {
			return sum, &MismatchError{redactURL(fileURL), sum.Published, "sha512-" + sha512b64}
		}
	case algo == "sha256":
		if !strings.EqualFold(want, sha256hex) {
			return sum, &MismatchError{redactURL(fileURL), sum.Published, "sha256:" + sha256hex}
		}
	default:
		return sum, fmt.Errorf("%s: published digest %q is of an unknown kind", redactURL(fileURL), sum.Published)
	}
	return sum, nil
}

var hexDigest = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// publishedDigest finds the digest upstream published for fileURL.
func (c *Client) publishedDigest(ctx context.Context, rel *Release, fileURL string) (digest, from string) {
	name := fileName(fileURL)
	for _, a := range rel.Assets {
		if (a.URL == fileURL || a.Name == name) && a.Digest != "" {
			return a.Digest, "digest of release asset " + a.Name
		}
	}
	for _, a := range rel.Assets {
		if !isChecksumFile(a.Name, name) {
			continue
		}
		data, _, err := c.do(ctx, http.MethodGet, a.URL, nil, nil, false)
		if err != nil {
			continue
		}
		if d := findInChecksumFile(string(data), name); d != "" {
			return "sha256:" + strings.ToLower(d), "checksum file " + a.Name
		}
	}
	return "", ""
}

func fileName(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return path.Base(u.Path)
	}
	return path.Base(raw)
}

// isChecksumFile reports whether an asset is a SHA-256 checksum list or the
// checksum file of name.
func isChecksumFile(asset, name string) bool {
	a := strings.ToLower(asset)
	if a == strings.ToLower(name)+".sha256" || a == strings.ToLower(name)+".sha256sum" {
		return true
	}
	return strings.Contains(a, "sha256sum") || a == "checksums.txt" || strings.HasSuffix(a, "_checksums.txt") ||
		strings.HasSuffix(a, "-checksums.txt") || a == "sha256.txt" || a == "sha256sums.txt"
}

// findInChecksumFile reads GNU ("<hex>  name", "<hex> *name"), BSD
// ("SHA256 (name) = <hex>") or single-digest files and returns the digest of
// name.
func findInChecksumFile(text, name string) string {
	sc := bufio.NewScanner(strings.NewReader(text))
	var only []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "SHA256 ("); ok {
			if n, d, ok := strings.Cut(rest, ") = "); ok && path.Base(n) == name && hexDigest.MatchString(d) {
				return d
			}
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && hexDigest.MatchString(f[0]) && path.Base(strings.TrimPrefix(f[1], "*")) == name:
			return f[0]
		case len(f) >= 1 && hexDigest.MatchString(f[0]):
			only = append(only, f[0])
		}
	}
	if len(only) == 1 && strings.Count(strings.TrimSpace(text), "\n") == 0 && len(strings.Fields(text)) == 1 {
		return only[0] // a bare digest: the per-file .sha256 form
	}
	return ""
}

// download streams fileURL through SHA-256 and SHA-512 without keeping it.
func (c *Client) download(ctx context.Context, fileURL string) (sha256hex, sha512b64 string, size int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fileURL, nil)
	if err != nil {
		return "", "", 0, err
	}
	req.Header.Set("User-Agent", "cpk (Cloudron packaging kit)")
	c.counters.requests.Add(1)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", 0, ctx.Err()
		}
		return "", "", 0, fmt.Errorf("download %s: %w", redactURL(fileURL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", 0, fmt.Errorf("download %s: HTTP %d: check the download URL (UPSTREAM_URL) for this version", redactURL(fileURL), resp.StatusCode)
	}
	h256, h512 := sha256.New(), sha512.New()
	size, err = io.Copy(io.MultiWriter(h256, h512), io.LimitReader(resp.Body, maxDownload+1))
	c.counters.bytes.Add(size)
	if err != nil {
		return "", "", 0, fmt.Errorf("download %s: %w", redactURL(fileURL), err)
	}
	if size > maxDownload {
		return "", "", 0, fmt.Errorf("download %s: larger than %d GiB", redactURL(fileURL), maxDownload>>30)
	}
	return hex.EncodeToString(h256.Sum(nil)), base64.StdEncoding.EncodeToString(h512.Sum(nil)), size, nil
}
