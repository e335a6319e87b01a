// Package push puts a package's built image into a registry: the image
// cpk build made for the package's current content (found by its content-
// addressed tag, built first only when asked), taken out of the engine as
// a docker-archive and pushed with the registry adapter. The tag is the
// manifest version and the image's content hash, so a tag names exactly
// one build of one version.
package push

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cpk/internal/base"
	"cpk/internal/build"
	"cpk/internal/cpk"
	"cpk/internal/engine"
	"cpk/internal/manifest"
	"cpk/internal/registry"
)

// Options configure a push.
type Options struct {
	Engine   engine.Engine
	StateDir string // the repository's .cpk folder: the saved image goes under push/ while it is pushed
	// Mapping and BuildArgs are the build's (cpk build --offline,
	// cpk-build.yaml): they decide the content hash, hence which image is
	// the package's current one.
	Mapping   base.Mapping
	BuildArgs map[string]string
	// Build builds the image when the package's current content has none;
	// otherwise that is ErrNotBuilt.
	Build  bool
	Target registry.Target
	Auth   registry.Auth
	// Events, when set, hears how the push goes.
	Events func(Event)
}

// Phase is where a push is.
type Phase string

const (
	Building Phase = "building" // only with Options.Build, when not built
	Saving   Phase = "saving"   // the engine writes the image out
	// Compressing: the layers are gzipped once; Done and Total in
	// uncompressed bytes.
	Compressing Phase = "compressing"
	Pushing     Phase = "pushing" // layers go up; Done and Total in bytes
	Pushed      Phase = "pushed"
	Present     Phase = "present" // the registry holds this image under the tag already
)

// Event tells how a package's push moves on.
type Event struct {
	App         string
	Phase       Phase
	Done, Total int64
}

// Result is one pushed image.
type Result struct {
	App     string `json:"app"`
	Version string `json:"version"`
	// Image is the local image pushed; Content its full content hash.
	Image   string `json:"image"`
	Content string `json:"content"`
	Built   bool   `json:"built"` // built by this push (Options.Build)
	// Unchanged: the tag held this image already; nothing was uploaded.
	Unchanged bool `json:"unchanged"`
	// Reference is HOST/NAMESPACE/APP:TAG, Digest the manifest digest the
	// registry serves for it.
	Reference string  `json:"reference"`
	Tag       string  `json:"tag"`
	Digest    string  `json:"digest"`
	MediaType string  `json:"mediaType"`
	Size      int64   `json:"size"`
	Seconds   float64 `json:"seconds"`
}

// ErrNotBuilt: the package's current content has no image.
var ErrNotBuilt = errors.New("not built")

// NotBuiltError says which image is missing and how to make it.
type NotBuiltError struct {
	App, Image string
	Offline    bool
}

func (e *NotBuiltError) Error() string {
	offline := ""
	if e.Offline {
		offline = " --offline"
	}
	return fmt.Sprintf("%s is not built for its current content (no image %s): run cpk build %s%s, or add --build", e.App, e.Image, e.App, offline)
}

func (e *NotBuiltError) Is(target error) bool { return target == ErrNotBuilt }

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Tag is the registry tag of a version's image: VERSION-<first 16 hex of
// the content hash>, the characters a tag does not allow (such as + in
// 1.0.0+build) turned into _.
func Tag(version, content string) (string, error) {
	if version == "" {
		return "", errors.New("CloudronManifest.json has no version")
	}
	if len(content) < 16 {
		return "", fmt.Errorf("content hash %q is too short", content)
	}
	v := strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-", r)) {
			return r
		}
		return '_'
	}, version)
	tag := v + "-" + content[:16]
	if !tagPattern.MatchString(tag) {
		return "", fmt.Errorf("version %q does not make a registry tag (%s: at most 128 of A-Z a-z 0-9 _ . -, not starting with . or -)", version, tag)
	}
	return tag, nil
}

// Push pushes one package's image and returns what the registry holds.
func Push(ctx context.Context, p cpk.Package, o Options) (*Result, error) {
	start := time.Now()
	emit := func(ev Event) {
		if o.Events != nil {
			ev.App = p.ID
			o.Events(ev)
		}
	}
	version, err := manifestVersion(p.Dir)
	if err != nil {
		return nil, err
	}
	bopts := build.Options{Engine: o.Engine, StateDir: o.StateDir, Mapping: o.Mapping, BuildArgs: o.BuildArgs}
	plans, err := build.Check(ctx, []cpk.Package{p}, bopts)
	if err != nil {
		return nil, err
	}
	pl := plans[0]
	if pl.Err != nil {
		return nil, pl.Err
	}
	res := &Result{App: p.ID, Version: version, Image: pl.Tag, Content: pl.Content}
	if res.Tag, err = Tag(version, pl.Content); err != nil {
		return nil, err
	}
	if !pl.UpToDate && !o.Build {
		return nil, &NotBuiltError{App: p.ID, Image: pl.Tag, Offline: o.Mapping.Offline}
	}
	repo := o.Target.Repository(p.ID)
	ropts := registry.Options{Target: o.Target, Auth: o.Auth, Progress: func(done, total int64) {
		emit(Event{Phase: Pushing, Done: done, Total: total})
	}}
	if err := registry.CheckPush(ctx, repo, ropts); err != nil {
		return nil, err
	}
	if pl.UpToDate {
		// The tag already holds this very image (its config digest is
		// the image id): nothing to save, compress or upload.
		digest, config, size, err := registry.Served(ctx, repo, res.Tag, ropts)
		if err != nil {
			return nil, err
		}
		if config != "" && config == pl.ImageID {
			res.Reference, res.Digest, res.MediaType, res.Size = repo+":"+res.Tag, digest, "application/vnd.docker.distribution.manifest.v2+json", size
			res.Unchanged = true
			res.Seconds = time.Since(start).Seconds()
			emit(Event{Phase: Present, Done: size, Total: size})
			return res, nil
		}
	}
	if !pl.UpToDate {
		emit(Event{Phase: Building})
		rs, err := build.Build(ctx, []cpk.Package{p}, bopts)
		if err != nil {
			return nil, err
		}
		if r := rs[0]; r.Status != build.Built && r.Status != build.Cached {
			msg := r.Error
			if r.Log != "" {
				msg += " (log: " + r.Log + ")"
			}
			return nil, fmt.Errorf("build %s: %s", p.ID, msg)
		}
		res.Built = true
	}

	work := filepath.Join(o.StateDir, "push")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	removeStale(work)
	dir, err := os.MkdirTemp(work, fmt.Sprintf("%s-%d-*", p.ID, os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	archive := filepath.Join(dir, "image.tar")
	emit(Event{Phase: Saving})
	if err := o.Engine.SaveImage(ctx, pl.Tag, archive); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("save %s from the engine: %w", pl.Tag, err)
	}
	emit(Event{Phase: Compressing})
	img, err := registry.Prepare(ctx, archive, 2, func(done, total int64) {
		emit(Event{Phase: Compressing, Done: done, Total: total})
	})
	if err != nil {
		return nil, err
	}
	defer img.Close()
	if err := os.Remove(archive); err != nil { // the compressed layers are all the push needs
		return nil, err
	}
	emit(Event{Phase: Pushing})
	pushed, err := registry.Push(ctx, img, repo, res.Tag, ropts)
	if err != nil {
		return nil, err
	}
	res.Reference, res.Digest, res.MediaType, res.Size = pushed.Reference, pushed.Digest, pushed.MediaType, pushed.Size
	res.Seconds = time.Since(start).Seconds()
	emit(Event{Phase: Pushed, Done: res.Size, Total: res.Size})
	return res, nil
}

// manifestVersion reads the version of the package's manifest.
func manifestVersion(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "CloudronManifest.json"))
	if err != nil {
		return "", fmt.Errorf("read the manifest: %w", err)
	}
	doc, errs := manifest.Decode(raw)
	if len(errs) > 0 {
		return "", fmt.Errorf("CloudronManifest.json: %v (see cpk manifest check)", errs[0])
	}
	v := doc.Manifest().Version
	if v == "" {
		return "", errors.New("CloudronManifest.json has no version")
	}
	return v, nil
}

// removeStale removes what pushes killed outright (SIGKILL, a crash) left
// in the work folder: the folders named after a process that is gone.
func removeStale(work string) {
	entries, err := os.ReadDir(work)
	if err != nil {
		return
	}
	for _, e := range entries {
		parts := strings.Split(e.Name(), "-")
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[len(parts)-2])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if proc, err := os.FindProcess(pid); err == nil && errors.Is(proc.Signal(syscall.Signal(0)), os.ErrProcessDone) {
			os.RemoveAll(filepath.Join(work, e.Name()))
		}
	}
}
