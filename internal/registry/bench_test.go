package registry_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"cpk/internal/registry"
)

// BenchmarkPrepare measures the compression of an image's layers before a
// push (MB/s of uncompressed layers): 4 layers of 16 MiB of random bytes,
// the worst case for gzip.
func BenchmarkPrepare(b *testing.B) {
	img, err := random.Image(16<<20, 4)
	if err != nil {
		b.Fatal(err)
	}
	archive := filepath.Join(b.TempDir(), "image.tar")
	tag, _ := name.NewTag("localhost/cpk/bench:1")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(4 * 16 << 20)
	b.ResetTimer()
	for b.Loop() {
		p, err := registry.Prepare(context.Background(), archive, 2, nil)
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}
