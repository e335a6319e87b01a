package cpk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Push is a package image pushed to a registry: cpk push records it, and
// cpk deploy looks it up by app and content hash to install exactly that
// image.
type Push struct {
	ID  int64  `json:"id,omitempty"` // set by the store
	App string `json:"app"`
	// Hash is the content hash of the package's files when it was pushed
	// (catalog.App.ContentHash, the hash of the runs and the evidence).
	Hash    string `json:"contentHash"`
	Version string `json:"version"` // the manifest's version
	Image   string `json:"image"`   // the local image pushed (localhost/cpk/<app>:<build hash>)
	// Registry is HOST[:PORT]/NAMESPACE as given to cpk push.
	Registry string `json:"registry"`
	// Reference is the pushed tag: HOST[:PORT]/NAMESPACE/APP:VERSION-BUILDHASH.
	Reference string `json:"reference"`
	// Digest is the manifest digest the registry serves for Reference.
	Digest string    `json:"digest"`
	Size   int64     `json:"size"` // bytes the registry holds: manifest, config, compressed layers
	Pushed time.Time `json:"pushed"`
}

// Repository is the reference without its tag.
func (p Push) Repository() string {
	ref := p.Reference
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// Pinned is the image by digest (REPOSITORY@sha256:…): what the registry
// holds whatever later happens to the tag.
func (p Push) Pinned() string { return p.Repository() + "@" + p.Digest }

// Validate reports what makes a push unfit for recording.
func (p Push) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"app", p.App}, {"content hash", p.Hash}, {"registry", p.Registry}, {"reference", p.Reference}, {"digest", p.Digest}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if p.Pushed.IsZero() {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return fmt.Errorf("invalid push of %q: no %s", p.App, strings.Join(missing, ", "))
	}
	if !strings.HasPrefix(p.Digest, "sha256:") {
		return fmt.Errorf("invalid push of %q: digest %q is not sha256:…", p.App, p.Digest)
	}
	return nil
}

// PushQuery selects recorded pushes; zero fields do not filter.
type PushQuery struct {
	App      string
	Hash     string // the package's content hash
	Registry string // HOST[:PORT]/NAMESPACE
	Limit    int    // at most this many, newest first; 0: all
}

// Pushes keeps and reads pushes.
type Pushes interface {
	RecordPush(ctx context.Context, p Push) error
	// Pushes returns the matching pushes, newest first.
	Pushes(ctx context.Context, q PushQuery) ([]Push, error)
}

// ErrNoPush is returned when no push matches.
var ErrNoPush = errors.New("no recorded push")

// LastPush returns the newest push of the app's content hash (to any
// registry when registry is ""), or an error wrapping ErrNoPush that says
// how to make one.
func LastPush(ctx context.Context, s Pushes, app, hash, registry string) (Push, error) {
	ps, err := s.Pushes(ctx, PushQuery{App: app, Hash: hash, Registry: registry, Limit: 1})
	if err != nil {
		return Push{}, err
	}
	if len(ps) == 0 {
		where := "a registry"
		if registry != "" {
			where = registry
		}
		short := hash
		if len(short) > 12 {
			short = short[:12]
		}
		return Push{}, fmt.Errorf("%s (content %s) was never pushed to %s: run cpk push %s --registry HOST/NAMESPACE: %w", app, short, where, app, ErrNoPush)
	}
	return ps[0], nil
}
