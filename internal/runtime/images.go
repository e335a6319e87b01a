package runtime

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"cpk/internal/engine"
)

//go:embed addons
var addonFiles embed.FS

// AddonRepo is where the add-on services' image lives: AddonRepo:<hash>.
const AddonRepo = "localhost/cpk/addons"

// LabelAddons marks the add-on image (its value is the full hash).
const LabelAddons = "io.cpk.addons"

// AddonImageRef is the content-addressed tag of the add-on image built on
// baseRef: a hash of the base's tag (itself content-addressed) and the
// embedded recipe.
func AddonImageRef(baseRef string) (string, string) {
	h := sha256.New()
	fmt.Fprintf(h, "cpk-addons-1\x00%s\x00", baseRef)
	var names []string
	_ = fs.WalkDir(addonFiles, "addons", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		data, _ := addonFiles.ReadFile(n)
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(data))
		h.Write(data)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return AddonRepo + ":" + sum[:16], sum
}

// EnsureAddonImage builds the add-on image unless it exists (once per
// machine: concurrent runs wait for each other) and returns its tag.
func EnsureAddonImage(ctx context.Context, e engine.Engine, baseRef string, progress func(string)) (string, error) {
	ref, sum := AddonImageRef(baseRef)
	if _, err := e.InspectImage(ctx, ref); err == nil {
		return ref, nil
	} else if !errors.Is(err, engine.ErrNotFound) {
		return "", err
	}
	unlock, err := engine.LockFile(ctx, filepath.Join(os.TempDir(), "cpk-addons-"+sum[:12]+".lock"), func() {
		if progress != nil {
			progress("waiting for another build of the add-on image")
		}
	})
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := e.InspectImage(ctx, ref); err == nil {
		return ref, nil
	}
	baseImg, err := e.InspectImage(ctx, baseRef)
	if errors.Is(err, engine.ErrNotFound) {
		return "", engine.Unavailable(fmt.Errorf("the local base image %s does not exist: run cpk base build", baseRef))
	} else if err != nil {
		return "", err
	}
	if progress != nil {
		progress("building the add-on image " + ref + " (PostgreSQL, MariaDB, Redis, Postfix and Dovecot, OpenLDAP, coturn; once, about two minutes)")
	}
	dir, err := os.MkdirTemp("", "cpk-addons-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	entries, err := addonFiles.ReadDir("addons")
	if err != nil {
		return "", err
	}
	alias, unalias, err := engine.Alias(ctx, e, baseImg.ID, "addons")
	defer func() { _ = unalias(context.WithoutCancel(ctx)) }()
	if err != nil {
		return "", err
	}
	for _, en := range entries {
		data, _ := addonFiles.ReadFile("addons/" + en.Name())
		mode := os.FileMode(0o644)
		if filepath.Ext(en.Name()) == ".sh" {
			mode = 0o755
		}
		if en.Name() == "Dockerfile" {
			data = append([]byte("FROM "+alias+"\n"), data...)
		}
		if err := os.WriteFile(filepath.Join(dir, en.Name()), data, mode); err != nil {
			return "", err
		}
	}
	logf, err := os.CreateTemp("", "cpk-addons-build-*.log")
	if err != nil {
		return "", err
	}
	defer logf.Close()
	id, err := e.BuildImage(ctx, engine.BuildSpec{ContextDir: dir, Labels: map[string]string{LabelAddons: sum}, Output: logf, Owned: []string{alias}})
	if err != nil {
		return "", fmt.Errorf("build the add-on image (log: %s): %w", logf.Name(), err)
	}
	if err := e.TagImage(ctx, id, ref); err != nil {
		return "", err
	}
	os.Remove(logf.Name())
	return ref, nil
}
