package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cpk/internal/base/basetest"
	"cpk/internal/engine"
	"cpk/internal/engine/enginetest"
	"cpk/internal/testenv"
)

// TestConformance runs the engine conformance tests (enginetest) against
// both implementations: the REST API client and the command line, with
// podman; with docker too where it is installed and answers.
func TestConformance(t *testing.T) {
	pe := basetest.Engine(t)
	img := basetest.Image(t, pe)
	for _, kind := range []string{engine.Podman, engine.Docker} {
		for _, api := range []bool{true, false} {
			name := kind + "/cli"
			if api {
				name = kind + "/api"
			}
			t.Run(name, func(t *testing.T) {
				e := openEngine(t, kind, api)
				enginetest.Conformance(t, e, img)
			})
		}
	}
}

// openEngine opens podman (which the tests need) or docker (where it is
// installed: skipped otherwise, CPK_REQUIRE_ENGINE or not) through its API
// or its command line, closed when the test ends.
func openEngine(t *testing.T, kind string, api bool) engine.Engine {
	t.Helper()
	if kind == engine.Docker {
		if _, err := engine.LookPath("docker"); err != nil {
			t.Skip("docker is not installed")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := engine.Open(ctx, kind, api, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := engine.Close(e); err != nil {
			t.Errorf("close the engine: %v", err)
		}
	})
	info, err := e.Info(ctx)
	if err != nil {
		if kind == engine.Docker {
			t.Skipf("docker does not answer: %v", err)
		}
		t.Fatal(err)
	}
	if api && info.Details["api"] == "" {
		t.Fatalf("%s: not the API engine: %+v", kind, info)
	}
	return e
}

func nonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHTTP(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return string(b)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPodmanConcurrentTags: podman 4 loses a tag when two processes change
// one image's names at once; parallel builds alias the same base image, so
// the engine serialises those changes. No alias may go missing.
func TestPodmanConcurrentTags(t *testing.T) {
	e := basetest.Engine(t)
	img := basetest.Image(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	id := nonce()
	const n = 12
	refs := make([]string, n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ref, unalias, err := engine.Alias(ctx, e, img, fmt.Sprintf("cpk-test-%s-%d", id, i))
			t.Cleanup(func() { _ = unalias(context.Background()) })
			refs[i] = ref
			errs <- err
			if i%2 == 0 { // half of them go again while the others are added
				errs <- unalias(ctx)
				refs[i] = ""
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.InspectImage(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		if ref != "" && !contains(got.Tags, ref) {
			t.Errorf("alias %s was lost", ref)
		}
	}
}

// TestImageListers: with buildah installed, a local podman's images are
// listed by buildah (much faster with a few hundred images); both listers
// give the same images and tags for the same filters.
func TestImageListers(t *testing.T) {
	e := basetest.Engine(t)
	img := basetest.Image(t, e)
	testenv.LookPath(t, "buildah")
	if os.Getenv("CONTAINER_HOST") != "" || os.Getenv("CONTAINER_CONNECTION") != "" {
		t.Skip("podman is remote: its images are listed by podman")
	}
	ctx := context.Background()
	repo := "localhost/cpk/listers-" + nonce()
	for _, tag := range []string{repo + ":one", repo + ":two"} {
		if err := e.TagImage(ctx, img, tag); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.UntagImage(context.Background(), tag) })
	}
	t.Setenv("CPK_IMAGE_LISTER", "")
	fast, err := engine.New(engine.Podman, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CPK_IMAGE_LISTER", engine.Podman)
	slow, err := engine.New(engine.Podman, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	list := func(e engine.Engine, f engine.ImageFilter) []string {
		t.Helper()
		imgs, err := e.ListImages(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range imgs {
			for _, tag := range i.Tags {
				// Other runs tag the same base image meanwhile: the
				// test's own tags and the base's are compared.
				if strings.HasPrefix(tag, repo+":") || tag == img {
					out = append(out, i.ID+" "+tag)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	for _, c := range []struct {
		f    engine.ImageFilter
		want int
	}{
		{engine.ImageFilter{Reference: repo + "*"}, 2},
		{engine.ImageFilter{Reference: repo + "*", Labels: map[string]string{"io.cpk.base": ""}}, 2},
		{engine.ImageFilter{Reference: repo + "*", Labels: map[string]string{"io.cpk.base": "bookworm"}}, 2},
		{engine.ImageFilter{Reference: repo + "*", Labels: map[string]string{"io.cpk.app": ""}}, 0},
	} {
		a, b := list(fast, c.f), list(slow, c.f)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%+v:\nbuildah %q\npodman  %q", c.f, a, b)
		}
		// A matching image comes with all its tags (the base's own too).
		got := 0
		for _, row := range a {
			if strings.HasSuffix(row, " "+repo+":one") || strings.HasSuffix(row, " "+repo+":two") {
				got++
			}
		}
		if got != c.want {
			t.Errorf("%+v: %d of the test's tags, want %d: %q", c.f, got, c.want, a)
		}
	}
}
