package base

import (
	"reflect"
	"strings"
	"testing"
)

const pinned = "cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c"

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		pinned:                              "cloudron/base",
		"docker.io/cloudron/node-base:24":   "cloudron/node-base",
		"cloudron/php-base@sha256:abc":      "cloudron/php-base",
		"debian":                            "debian",
		"docker.io/library/debian:bookworm": "debian",
		"localhost:5000/team/app:1":         "localhost:5000/team/app",
		"localhost/cpk/base:bookworm-abc":   "localhost/cpk/base",
	} {
		if got := Repository(in); got != want {
			t.Errorf("Repository(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMappingTarget(t *testing.T) {
	local := "localhost/cpk/base:bookworm-0123456789ab"
	off := Mapping{Offline: true, LocalRef: local}
	for _, ref := range []string{pinned, "cloudron/node-base:24-20260920@sha256:d9", "docker.io/cloudron/php-base:8.4"} {
		if got, ok := off.Target(ref); !ok || got != local {
			t.Errorf("offline %s → %q %v", ref, got, ok)
		}
	}
	if _, ok := off.Target("debian:bookworm"); ok {
		t.Error("offline maps only Cloudron's images")
	}
	if _, ok := (Mapping{LocalRef: local}).Target(pinned); ok {
		t.Error("nothing is mapped unless configured")
	}
	m := Mapping{Map: map[string]string{"cloudron/base": Local, "node": "localhost/mirror/node:20"}, LocalRef: local}
	if got, ok := m.Target(pinned); !ok || got != local {
		t.Errorf("map to local: %q %v", got, ok)
	}
	if got, ok := m.Target("node:20-bookworm"); !ok || got != "localhost/mirror/node:20" {
		t.Errorf("map to an image: %q %v", got, ok)
	}
}

const multiStage = `# syntax=docker/dockerfile:1
ARG BASE=cloudron/base:5.0.0@sha256:04fd70dbd8ad6149c19de39e35718e024417c3e01dc9c6637eaf4a41ec4e596c
ARG NODE_VERSION=20
FROM --platform=linux/amd64 node:${NODE_VERSION} AS Build
RUN npm ci
FROM build AS test
RUN npm test
FROM scratch AS empty
FROM \
    ${BASE}
COPY --from=build /src/dist /app/code
CMD ["/app/code/start.sh"]
`

func TestFroms(t *testing.T) {
	froms, err := Froms([]byte(multiStage), map[string]string{"NODE_VERSION": "22", "UNDECLARED": "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := []From{
		{Stage: 0, Line: 4, Raw: "node:${NODE_VERSION}", Ref: "node:22"},
		{Stage: 1, Line: 6, Raw: "build", Ref: "build", PrevStage: true},
		{Stage: 2, Line: 8, Raw: "scratch", Ref: "scratch", Scratch: true},
		{Stage: 3, Line: 9, Raw: "${BASE}", Ref: pinned},
	}
	if !reflect.DeepEqual(froms, want) {
		t.Errorf("got\n%+v\nwant\n%+v", froms, want)
	}
	if _, err := Froms([]byte("RUN echo no from\n"), nil); err == nil {
		t.Error("a Dockerfile without FROM is an error")
	}
}

func TestRewriteChangesOnlyTheImages(t *testing.T) {
	froms, err := Froms([]byte(multiStage), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Rewrite([]byte(multiStage), froms, map[int]string{0: "localhost/cpk-tmp/x-1:build", 3: "localhost/cpk-tmp/x-2:build"})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(multiStage, "node:${NODE_VERSION} AS Build", "localhost/cpk-tmp/x-1:build AS Build", 1)
	want = strings.Replace(want, "    ${BASE}\n", "    localhost/cpk-tmp/x-2:build\n", 1)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}

	simple := "FROM " + pinned + "\nRUN echo " + pinned + "\n"
	froms, _ = Froms([]byte(simple), nil)
	out, err = Rewrite([]byte(simple), froms, map[int]string{0: "localhost/cpk/base:bookworm-1"})
	if err != nil || string(out) != "FROM localhost/cpk/base:bookworm-1\nRUN echo "+pinned+"\n" {
		t.Errorf("got %q %v", out, err)
	}
	lower := "from " + pinned + " as final\r\n"
	froms, _ = Froms([]byte(lower), nil)
	out, err = Rewrite([]byte(lower), froms, map[int]string{0: "img"})
	if err != nil || string(out) != "from img as final\r\n" {
		t.Errorf("lower case, CRLF: %q %v", out, err)
	}
}
