package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

// AliasRepo is where per-build FROM aliases live.
const AliasRepo = "localhost/cpk-tmp/"

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// Alias tags image under a reference of its own, for one build: a build
// that starts FROM the alias can then be told apart from every other build
// (its working containers carry the alias's name), so an interrupted build
// is cleaned up exactly. The returned function removes the alias; call it
// whatever happens (it is idempotent).
func Alias(ctx context.Context, e Engine, image, hint string) (string, func(context.Context) error, error) {
	var b [5]byte
	_, _ = rand.Read(b[:])
	name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(hint), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	ref := AliasRepo + name + "-" + hex.EncodeToString(b[:]) + ":build"
	if err := e.TagImage(ctx, image, ref); err != nil {
		return "", func(context.Context) error { return nil }, err
	}
	return ref, func(ctx context.Context) error { return e.UntagImage(ctx, ref) }, nil
}
