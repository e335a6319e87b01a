package registry

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image is an image ready to push: its config as the engine wrote it and
// its layers gzip-compressed once, in files, with their digests known.
// (go-containerregistry's own tarball image compresses each layer twice:
// once to learn its digest, once to upload it.)
type Image struct {
	img  v1.Image
	dir  string
	Size int64 // bytes of the manifest, config and compressed layers
}

// Digest is the manifest digest the registry will serve.
func (i *Image) Digest() string {
	d, _ := i.img.Digest()
	return d.String()
}

// ConfigDigest is the config's digest: the engine's image id.
func (i *Image) ConfigDigest() string {
	d, _ := i.img.ConfigName()
	return d.String()
}

// Close removes the compressed layers.
func (i *Image) Close() error { return os.RemoveAll(i.dir) }

// Prepare reads the image in the docker-archive tarball at archive and
// compresses its layers (gzip at the fastest level, up to jobs at a time)
// into a new folder beside it. The config is kept byte for byte, so the
// registry's config digest is the engine's image id, and the same image
// always gives the same manifest digest. progress, when set, hears the
// uncompressed bytes done and the total. Close the image afterwards.
func Prepare(ctx context.Context, archive string, jobs int, progress func(done, total int64)) (*Image, error) {
	// Every read of the archive stops when ctx is cancelled.
	src, err := tarball.Image(func() (io.ReadCloser, error) {
		f, err := os.Open(archive)
		if err != nil {
			return nil, err
		}
		return &ctxReader{ctx: ctx, f: f}, nil
	}, nil)
	readErr := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read the saved image: %w", err)
	}
	if err != nil {
		return nil, readErr(err)
	}
	rawConfig, err := src.RawConfigFile()
	if err != nil {
		return nil, readErr(err)
	}
	cfg, err := src.ConfigFile()
	if err != nil {
		return nil, readErr(err)
	}
	layers, err := src.Layers()
	if err != nil {
		return nil, readErr(err)
	}
	if len(layers) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("read the saved image: %d layers, %d diff ids in its config", len(layers), len(cfg.RootFS.DiffIDs))
	}
	// The archive's size stands for the uncompressed total (asking a
	// layer of the archive its size would compress it).
	st, err := os.Stat(archive)
	if err != nil {
		return nil, err
	}
	total := st.Size()
	dir, err := os.MkdirTemp(filepath.Dir(archive), "layers-")
	if err != nil {
		return nil, err
	}
	fi := &fileImage{rawConfig: rawConfig, layers: map[v1.Hash]*fileLayer{}}
	out := make([]*fileLayer, len(layers))
	var (
		mu    sync.Mutex
		done  int64
		first error
		wg    sync.WaitGroup
	)
	count := func(n int64) {
		mu.Lock()
		done += n
		d := done
		mu.Unlock()
		if progress != nil {
			progress(d, total)
		}
	}
	sem := make(chan struct{}, max(1, jobs))
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fl, err := compressLayer(ctx, l, cfg.RootFS.DiffIDs[i], filepath.Join(dir, fmt.Sprintf("layer-%03d.tar.gz", i)), count)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			out[i] = fl
		}()
	}
	wg.Wait()
	if first != nil {
		os.RemoveAll(dir)
		return nil, readErr(first)
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(rawConfig)), Digest: sha256Hash(rawConfig)},
	}
	size := int64(len(rawConfig))
	for _, l := range out {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerLayer, Size: l.size, Digest: l.digest})
		fi.layers[l.digest] = l
		size += l.size
	}
	if fi.rawManifest, err = json.Marshal(m); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	size += int64(len(fi.rawManifest))
	img, err := partial.CompressedToImage(fi)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Image{img: img, dir: dir, Size: size}, nil
}

// compressLayer writes a layer gzip-compressed to path, hashing what it
// writes and checking the uncompressed content against its diff id.
func compressLayer(ctx context.Context, l v1.Layer, diffID v1.Hash, path string, count func(int64)) (*fileLayer, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	compressed := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, compressed)}
	gz, err := gzip.NewWriterLevel(cw, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	uncompressed := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, rerr := rc.Read(buf)
		if n > 0 {
			uncompressed.Write(buf[:n])
			if _, err := gz.Write(buf[:n]); err != nil {
				return nil, err
			}
			count(int64(n))
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if got := hashOf(uncompressed); got != diffID {
		return nil, fmt.Errorf("layer %s: its content hashes to %s", diffID, got)
	}
	return &fileLayer{path: path, digest: hashOf(compressed), diffID: diffID, size: cw.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

func sha256Hash(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// fileImage is the image core go-containerregistry completes: the raw
// config and manifest, and the compressed layers in files.
type fileImage struct {
	rawConfig, rawManifest []byte
	layers                 map[v1.Hash]*fileLayer
}

func (i *fileImage) RawConfigFile() ([]byte, error)      { return i.rawConfig, nil }
func (i *fileImage) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }
func (i *fileImage) RawManifest() ([]byte, error)        { return i.rawManifest, nil }

func (i *fileImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == sha256Hash(i.rawConfig) {
		return partial.ConfigLayer(i)
	}
	l, ok := i.layers[h]
	if !ok {
		return nil, fmt.Errorf("no layer %s in the image", h)
	}
	return l, nil
}

// fileLayer is a gzip-compressed layer in a file.
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &gzipFile{gz, f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error { g.Reader.Close(); return g.f.Close() }
