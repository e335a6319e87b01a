// Package registry pushes images to OCI and Docker registries and asks
// them what they serve, with go-containerregistry, the library made for
// the registry protocol (cpk does not speak it by hand). It is an adapter:
// it knows nothing of cpk.
//
// The image comes as a docker-archive tarball (what `podman save` and
// `docker save` write). Its config is pushed as it is, so the registry's
// config digest is the engine's image id; its layers are compressed with
// gzip at a fixed level, so the same image always gives the same manifest
// and the same digest. The digest Push returns is the one the registry
// serves for the tag: Push asks the registry after writing and fails when
// they differ.
//
// Credentials are the caller's (a username and a password) or come from
// the engines' auth files (auth.go). They are handed to the transport only:
// nothing here prints or logs them, and errors never carry them.
package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Target is where images go: a registry host and a namespace below it.
type Target struct {
	Host      string // host[:port]
	Namespace string // path below the host ("" for none), e.g. team/cpk
	// Insecure allows plain HTTP and unverified TLS certificates. Loopback
	// hosts may always fall back to plain HTTP, as the engines allow.
	Insecure bool
}

var (
	hostPattern      = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
	componentPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`)
)

// ParseTarget reads HOST[:PORT][/NAMESPACE].
func ParseTarget(s string) (Target, error) {
	if s == "" {
		return Target{}, errors.New("no registry: use HOST[:PORT]/NAMESPACE, e.g. registry.example.com/team")
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return Target{}, fmt.Errorf("registry %q: leave out the scheme %s:// (HTTPS is used; --insecure allows plain HTTP)", s, s[:i])
	}
	host, ns, _ := strings.Cut(strings.TrimSuffix(s, "/"), "/")
	if !hostPattern.MatchString(host) {
		return Target{}, fmt.Errorf("registry %q: %q is not a host[:port]", s, host)
	}
	if ns != "" {
		for _, c := range strings.Split(ns, "/") {
			if !componentPattern.MatchString(c) {
				return Target{}, fmt.Errorf("registry %q: namespace part %q must be lower-case letters and digits, separated by . _ or -", s, c)
			}
		}
	}
	return Target{Host: host, Namespace: ns}, nil
}

// String is HOST[:PORT][/NAMESPACE].
func (t Target) String() string {
	if t.Namespace == "" {
		return t.Host
	}
	return t.Host + "/" + t.Namespace
}

// Repository is the repository of an app's images: HOST/NAMESPACE/APP.
func (t Target) Repository(app string) string { return t.String() + "/" + app }

// Loopback reports whether the host is this machine (localhost, 127.0.0.0/8, ::1).
func (t Target) Loopback() bool {
	h := t.Host
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Auth is how to authenticate to the registry.
type Auth struct {
	// Username and Password, when Username is set; otherwise the engines'
	// auth files are read (Keychain).
	Username, Password string
}

// Options configure Push and Digest.
type Options struct {
	Target Target
	Auth   Auth
	// Progress, when set, hears the bytes uploaded so far and the total
	// (from another goroutine).
	Progress func(done, total int64)
}

// Pushed is an image in the registry.
type Pushed struct {
	Reference string `json:"reference"` // HOST/NAMESPACE/APP:TAG
	Digest    string `json:"digest"`    // the manifest digest the registry serves
	MediaType string `json:"mediaType"` // the manifest's media type
	Size      int64  `json:"size"`      // bytes of the manifest, config and compressed layers
}

// Sentinels, matched with errors.Is.
var (
	// ErrUnauthorized: the registry refused the credentials (or wants some).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnreachable: no connection to the registry (refused, no route, DNS, TLS).
	ErrUnreachable = errors.New("unreachable")
)

// Push writes a prepared image to the registry as repository:tag and
// returns what the registry serves for it. The manifest goes last, so an
// interrupted push leaves no tag.
func Push(ctx context.Context, img *Image, repository, tag string, o Options) (*Pushed, error) {
	ref, err := name.NewTag(repository+":"+tag, nameOptions(o.Target)...)
	if err != nil {
		return nil, fmt.Errorf("image reference %s:%s: %w", repository, tag, err)
	}
	digest := img.Digest()
	ropts := remoteOptions(ctx, o)
	var progress chan v1.Update
	done := make(chan struct{})
	if o.Progress != nil {
		progress = make(chan v1.Update, 16)
		ropts = append(ropts, remote.WithProgress(progress))
		go func() {
			defer close(done)
			for u := range progress {
				if u.Error == nil {
					o.Progress(u.Complete, u.Total)
				}
			}
		}()
	} else {
		close(done)
	}
	err = remote.Write(ref, img.img, ropts...)
	<-done
	if err != nil {
		return nil, explain(ctx, o, err)
	}
	served, err := Digest(ctx, ref.String(), o)
	if err != nil {
		return nil, err
	}
	if served != digest {
		return nil, fmt.Errorf("the registry serves %s as %s, not the pushed %s", ref, served, digest)
	}
	return &Pushed{Reference: ref.String(), Digest: served, MediaType: string(types.DockerManifestSchema2), Size: img.Size}, nil
}

// Served returns the image the registry serves for repository:tag: its
// manifest digest, config digest (the engine's image id, for an image cpk
// pushed) and size; all "" and 0 when the tag does not exist.
func Served(ctx context.Context, repository, tag string, o Options) (digest, config string, size int64, err error) {
	ref, err := name.NewTag(repository+":"+tag, nameOptions(o.Target)...)
	if err != nil {
		return "", "", 0, fmt.Errorf("image reference %s:%s: %w", repository, tag, err)
	}
	desc, err := remote.Get(ref, remoteOptions(ctx, o)...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return "", "", 0, nil
	}
	if err != nil {
		return "", "", 0, explain(ctx, o, err)
	}
	if !desc.MediaType.IsImage() {
		return desc.Digest.String(), "", 0, nil
	}
	img, err := desc.Image()
	if err != nil {
		return "", "", 0, explain(ctx, o, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return "", "", 0, explain(ctx, o, err)
	}
	size = desc.Size + m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return desc.Digest.String(), m.Config.Digest.String(), size, nil
}

// CheckPush asks the registry whether the credentials may push to the
// repository (it starts an upload and cancels it), before any work: a
// wrong password or an unreachable registry is known at once.
func CheckPush(ctx context.Context, repository string, o Options) error {
	ref, err := name.NewTag(repository+":latest", nameOptions(o.Target)...)
	if err != nil {
		return fmt.Errorf("repository %s: %w", repository, err)
	}
	done := make(chan error, 1)
	go func() { done <- remote.CheckPushPermission(ref, o.keychain(), transportFor(o.Target)) }()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-done:
		if err != nil {
			return explain(ctx, o, err)
		}
		return nil
	}
}

// ctxReader is a file whose reads fail once ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	f   *os.File
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.f.Read(p)
}

func (r *ctxReader) Close() error { return r.f.Close() }

// Digest asks the registry for the manifest digest of ref (HEAD on
// /v2/<name>/manifests/<tag>).
func Digest(ctx context.Context, ref string, o Options) (string, error) {
	r, err := name.ParseReference(ref, nameOptions(o.Target)...)
	if err != nil {
		return "", fmt.Errorf("image reference %s: %w", ref, err)
	}
	desc, err := remote.Head(r, remoteOptions(ctx, o)...)
	if err != nil {
		return "", explain(ctx, o, err)
	}
	return desc.Digest.String(), nil
}

func nameOptions(t Target) []name.Option {
	opts := []name.Option{name.StrictValidation}
	if t.Insecure || t.Loopback() {
		opts = append(opts, name.Insecure)
	}
	return opts
}

func remoteOptions(ctx context.Context, o Options) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.keychain()),
		remote.WithTransport(transportFor(o.Target)),
		remote.WithUserAgent("cpk"),
	}
}

func (o Options) keychain() authn.Keychain {
	if o.Auth.Username != "" {
		return staticKeychain{host: o.Target.Host, auth: &authn.Basic{Username: o.Auth.Username, Password: o.Auth.Password}}
	}
	return Keychain()
}

// staticKeychain gives the caller's credentials to the target registry only.
type staticKeychain struct {
	host string
	auth authn.Authenticator
}

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == k.host {
		return k.auth, nil
	}
	return authn.Anonymous, nil
}

// transportFor is the HTTP transport for a target: certificates verified
// and plain HTTP refused, unless the target is insecure; a loopback host
// may be reached over plain HTTP.
func transportFor(t Target) http.RoundTripper {
	base := remote.DefaultTransport.(*http.Transport).Clone()
	if t.Insecure {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --insecure asks for it
	}
	if t.Insecure || t.Loopback() {
		return base
	}
	return httpsOnly{base}
}

// httpsOnly refuses plain HTTP requests: go-containerregistry falls back to
// HTTP for hosts in private address ranges, which would send credentials
// in clear text to a host the user did not mark insecure.
type httpsOnly struct{ next http.RoundTripper }

// errPlainHTTP is what httpsOnly answers a plain HTTP request with.
var errPlainHTTP = errors.New("plain HTTP refused")

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		return nil, errPlainHTTP
	}
	return h.next.RoundTrip(req)
}

// explain turns the library's errors into messages that say what to do.
func explain(ctx context.Context, o Options, err error) error {
	t := o.Target
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			if o.Auth.Username == "" {
				return &Error{Err: ErrUnauthorized, Msg: fmt.Sprintf("registry %s wants credentials (401 Unauthorized) and the auth files hold none it accepts: log in with the engine (podman login %s), or give --username with the password on stdin (--password-stdin)", t.Host, t.Host)}
			}
			return &Error{Err: ErrUnauthorized, Msg: fmt.Sprintf("registry %s refused the credentials (401 Unauthorized): check --username and the password given on stdin", t.Host)}
		case http.StatusForbidden:
			return &Error{Err: ErrUnauthorized, Msg: fmt.Sprintf("registry %s denied the push to %s (403 Forbidden): the account may not write to this namespace", t.Host, t)}
		}
		return fmt.Errorf("registry %s: %w", t.Host, err)
	}
	var tlsErr *tls.CertificateVerificationError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Err: ErrUnreachable, Msg: fmt.Sprintf("registry %s refused the connection: is it running, and is the port right?", t.Host)}
	case errors.As(err, &dnsErr), errors.As(err, &opErr) && opErr.Op == "dial":
		return &Error{Err: ErrUnreachable, Msg: fmt.Sprintf("cannot reach registry %s: %v", t.Host, err)}
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"), strings.Contains(msg, "first record does not look like a TLS handshake"):
		return &Error{Err: ErrUnreachable, Msg: fmt.Sprintf("registry %s answers over plain HTTP only: add --insecure if you trust the network between here and there", t.Host)}
	case errors.As(err, &tlsErr), strings.Contains(msg, "x509:"):
		return &Error{Err: ErrUnreachable, Msg: fmt.Sprintf("registry %s: its TLS certificate cannot be verified (%v): install its CA, or add --insecure", t.Host, err)}
	case errors.Is(err, errPlainHTTP), strings.Contains(msg, "tls:"):
		return &Error{Err: ErrUnreachable, Msg: fmt.Sprintf("registry %s does not answer over HTTPS (%v): if it serves plain HTTP, add --insecure", t.Host, err)}
	}
	var urlErr *url.Error
	if errors.As(err, &opErr) || (errors.As(err, &urlErr) && !errors.Is(err, os.ErrNotExist)) {
		return &Error{Err: ErrUnreachable, Msg: fmt.Sprintf("cannot reach registry %s: %v", t.Host, err)}
	}
	return fmt.Errorf("registry %s: %w", t.Host, err)
}

// Error is a registry failure with a message that says what to do; it
// matches ErrUnauthorized or ErrUnreachable.
type Error struct {
	Err error
	Msg string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }
