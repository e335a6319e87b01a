package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The command lines of both engines, built from our verbs.

func engines(t *testing.T) (podman, docker *cliEngine) {
	t.Helper()
	t.Setenv("BUILDAH_ISOLATION", "")
	p, _ := New(Podman, "", nil)
	d, _ := New(Docker, "", nil)
	return p.(*cliEngine), d.(*cliEngine)
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, " "), strings.Join(want, " "))
	}
}

func TestBuildArgs(t *testing.T) {
	p, d := engines(t)
	spec := BuildSpec{
		ContextDir: "/repo/apps/grist",
		Dockerfile: "/repo/.cpk/build/grist/Dockerfile",
		BuildArgs:  map[string]string{"VERSION": "1.2", "NPM_TOKEN": "x"},
		Labels:     map[string]string{"io.cpk.app": "grist", "io.cpk.content": "abc"},
	}
	same(t, "podman build", p.buildArgs(spec, "/tmp/iid"), []string{
		"build", "--iidfile", "/tmp/iid", "--isolation", "chroot", "--layers", "--force-rm",
		"--file", "/repo/.cpk/build/grist/Dockerfile",
		"--build-arg", "NPM_TOKEN=x", "--build-arg", "VERSION=1.2",
		"--label", "io.cpk.app=grist", "--label", "io.cpk.content=abc",
		"/repo/apps/grist"})
	same(t, "docker build", d.buildArgs(spec, "/tmp/iid"), []string{
		"build", "--iidfile", "/tmp/iid",
		"--file", "/repo/.cpk/build/grist/Dockerfile",
		"--build-arg", "NPM_TOKEN=x", "--build-arg", "VERSION=1.2",
		"--label", "io.cpk.app=grist", "--label", "io.cpk.content=abc",
		"/repo/apps/grist"})
	same(t, "docker build env", d.buildEnv(), []string{"BUILDKIT_PROGRESS=plain"})
	if p.buildEnv() != nil {
		t.Error("podman needs no build environment")
	}
	t.Setenv("BUILDAH_ISOLATION", "oci")
	if got := strings.Join(p.buildArgs(BuildSpec{ContextDir: "."}, "f"), " "); strings.Contains(got, "--isolation") {
		t.Errorf("BUILDAH_ISOLATION set by the user must win: %s", got)
	}
}

func TestRunArgs(t *testing.T) {
	p, d := engines(t)
	spec := RunSpec{
		Name: "cpk-grist-1", Image: "localhost/cpk/grist:0123456789abcdef", Cmd: []string{"/app/code/start.sh"},
		Env:    map[string]string{"CLOUDRON": "1", "CLOUDRON_POSTGRESQL_PASSWORD": "pw"},
		Labels: map[string]string{"io.cpk.run": "r1", "io.cpk.app": "grist"},
		User:   "1000:1000", Hostname: "grist", WorkDir: "/app/code",
		Network: "cpk-r1", Aliases: []string{"grist"},
		Ports:   []Port{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 8000}, {ContainerPort: 53, Protocol: "udp"}},
		Volumes: []Mount{{Source: "/srv/data", Target: "/app/data"}, {Source: "cfg", Target: "/etc/x", ReadOnly: true}},
		Tmpfs:   []string{"/tmp", "/run"}, ReadOnly: true,
		Memory: 128 << 20, MemorySwap: 256 << 20, CPUShares: 512,
		CapDrop: []string{"NET_RAW"}, CapAdd: []string{"NET_ADMIN"}, Devices: []string{"/dev/dri"}, TTY: true,
	}
	common := func(readOnly ...string) []string {
		a := []string{"run", "--detach", "--name", "cpk-grist-1", "--hostname", "grist",
			"--label", "io.cpk.app=grist", "--label", "io.cpk.run=r1",
			"--user", "1000:1000", "--workdir", "/app/code"}
		a = append(a, readOnly...)
		return append(a,
			"--tmpfs", "/tmp", "--tmpfs", "/run",
			"--volume", "/srv/data:/app/data", "--volume", "cfg:/etc/x:ro",
			"--network", "cpk-r1", "--network-alias", "grist",
			"--publish", "127.0.0.1:8080:8000", "--publish", "53/udp",
			"--memory", "134217728", "--memory-swap", "268435456", "--cpu-shares", "512",
			"--cap-drop", "NET_RAW", "--cap-add", "NET_ADMIN", "--device", "/dev/dri", "--tty",
			"--env", "CLOUDRON=1", "--env", "CLOUDRON_POSTGRESQL_PASSWORD=pw",
			"localhost/cpk/grist:0123456789abcdef", "/app/code/start.sh")
	}
	same(t, "podman run", p.runArgs(spec), common("--read-only", "--read-only-tmpfs=false"))
	same(t, "docker run", d.runArgs(spec), common("--read-only"))
	same(t, "minimal run", d.runArgs(RunSpec{Image: "img"}), []string{"run", "--detach", "img"})
	if got := strings.Join(RedactArgs(p.runArgs(spec)), " "); strings.Contains(got, "=pw") {
		t.Errorf("the password reaches messages: %s", got)
	}
}

func TestPortString(t *testing.T) {
	for p, want := range map[Port]string{
		{ContainerPort: 8000}:                                                 "8000",
		{HostPort: 9000, ContainerPort: 8000}:                                 "9000:8000",
		{HostIP: "127.0.0.1", ContainerPort: 8000}:                            "127.0.0.1::8000",
		{HostIP: "0.0.0.0", HostPort: 53, ContainerPort: 53, Protocol: "udp"}: "0.0.0.0:53:53/udp",
		{HostPort: 25, ContainerPort: 2525, Protocol: "tcp"}:                  "25:2525",
	} {
		if got := p.String(); got != want {
			t.Errorf("%+v: %q, want %q", p, got, want)
		}
	}
}

func TestContainerVerbArgs(t *testing.T) {
	p, d := engines(t)
	for _, e := range []*cliEngine{p, d} {
		same(t, e.kind+" exec", e.execArgs("c1", ExecSpec{Cmd: []string{"sh", "-c", "id"}, User: "cloudron", WorkDir: "/app/data", Env: map[string]string{"B": "2", "A": "1"}}),
			[]string{"exec", "--user", "cloudron", "--workdir", "/app/data", "--env", "A=1", "--env", "B=2", "c1", "sh", "-c", "id"})
		same(t, e.kind+" exec stdin", e.execArgs("c1", ExecSpec{Cmd: []string{"cat"}, Stdin: strings.NewReader("x")}), []string{"exec", "--interactive", "c1", "cat"})
		same(t, e.kind+" logs", e.logsArgs("c1", LogsSpec{Tail: 50, Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}),
			[]string{"logs", "--tail", "50", "--since", "2026-01-02T03:04:05Z", "c1"})
		same(t, e.kind+" logs with timestamps", e.logsArgs("c1", LogsSpec{Timestamps: true}), []string{"logs", "--timestamps", "c1"})
		same(t, e.kind+" stop", e.stopArgs("c1", 10*time.Second), []string{"stop", "--time", "10", "c1"})
		same(t, e.kind+" stop rounds up", e.stopArgs("c1", 1500*time.Millisecond), []string{"stop", "--time", "2", "c1"})
		same(t, e.kind+" ps", e.listContainersArgs(map[string]string{"io.cpk.run": "r1", "io.cpk.app": ""}),
			[]string{"ps", "--all", "--no-trunc", "--filter", "label=io.cpk.app", "--filter", "label=io.cpk.run=r1", "--format", "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}"})
		same(t, e.kind+" images", e.listImagesArgs(ImageFilter{Labels: map[string]string{"io.cpk.app": ""}}),
			[]string{"images", "--no-trunc", "--filter", "label=io.cpk.app", "--format", "{{.ID}}\t{{.Repository}}\t{{.Tag}}"})
		same(t, e.kind+" images by reference", e.listImagesArgs(ImageFilter{Reference: "localhost/cpk/*", Labels: map[string]string{"io.cpk.app": "grist"}}),
			[]string{"images", "--no-trunc", "--all", "--filter", "reference=localhost/cpk/*", "--filter", "label=io.cpk.app=grist", "--format", "{{.ID}}\t{{.Repository}}\t{{.Tag}}"})
		same(t, e.kind+" network", e.networkCreateArgs(NetworkSpec{Name: "cpk-r1", Labels: map[string]string{"io.cpk.run": "r1"}, Internal: true}),
			[]string{"network", "create", "--label", "io.cpk.run=r1", "--internal", "cpk-r1"})
		same(t, e.kind+" volume", e.volumeCreateArgs(VolumeSpec{Name: "cpk-data", Labels: map[string]string{"io.cpk.run": "r1"}}),
			[]string{"volume", "create", "--label", "io.cpk.run=r1", "cpk-data"})
		same(t, e.kind+" import", e.importArgs(ImportSpec{Tarball: "/tmp/r.tar", Ref: "localhost/cpk/rootfs:x", Labels: map[string]string{"io.cpk.rootfs": "bookworm"}, Env: []string{"PATH=/usr/bin:/bin"}, Cmd: []string{"/bin/bash"}}),
			[]string{"import", "--change", `LABEL io.cpk.rootfs="bookworm"`, "--change", "ENV PATH=/usr/bin:/bin", "--change", `CMD ["/bin/bash"]`, "/tmp/r.tar", "localhost/cpk/rootfs:x"})
	}
	same(t, "podman rm", p.removeArgs("c1"), []string{"rm", "--force", "--volumes", "--time", "0", "c1"})
	same(t, "docker rm", d.removeArgs("c1"), []string{"rm", "--force", "--volumes", "c1"})
	same(t, "podman untag", p.untagArgs("localhost/x:1"), []string{"untag", "localhost/x:1", "localhost/x:1"})
	same(t, "docker untag", d.untagArgs("localhost/x:1"), []string{"image", "rm", "--no-prune", "localhost/x:1"})
}

func TestParseImageList(t *testing.T) {
	out := "sha256:aaa\tlocalhost/cpk/grist\t0123\n" +
		"sha256:bbb\t<none>\t<none>\n" +
		"aaa\tlocalhost/cpk/grist\tlatest\n" +
		"sha256:ccc\tlocalhost/cpk/hello\t4567\n"
	got := parseImageList([]byte(out))
	want := []Image{{ID: "sha256:aaa", Tags: []string{"localhost/cpk/grist:0123", "localhost/cpk/grist:latest"}}, {ID: "sha256:ccc", Tags: []string{"localhost/cpk/hello:4567"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

func TestNormalizeState(t *testing.T) {
	for in, want := range map[string]string{"Up 3 seconds ago": "running", "running": "running", "Exited (0) 2 minutes ago": "exited", "exited": "exited", "Created": "created", "Storage": "storage"} {
		if got := normalizeState(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func TestBuildWatcher(t *testing.T) {
	var steps [][2]int
	w := &buildWatcher{progress: func(s, n int) { steps = append(steps, [2]int{s, n}) }}
	for _, chunk := range []string{
		"STEP 1/3: FROM localhost/cpk-tmp/grist-0a1b2c3d4e:build\nSTEP 2/3: RUN echo hi\nhi\n--> 49d5ca33fd5\n",
		"STEP 3/3: COPY . /app\n--> Using cache 57665a5ace012bee3c3f43476c690a76699e380728107c323a3ce0c3fd07e95d\n",
		"Step 4/9 : RUN x\n#7 [stage-1 5/9] RUN y\n#8 [6/9] COPY z\n#9 DONE 0.1s\n--> partial",
	} {
		_, _ = w.Write([]byte(chunk))
	}
	w.flush()
	want := [][2]int{{1, 3}, {2, 3}, {3, 3}, {4, 9}, {5, 9}, {6, 9}}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("steps %v", steps)
	}
	if got := w.images(); !reflect.DeepEqual(got, []string{"49d5ca33fd5", "57665a5ace012bee3c3f43476c690a76699e380728107c323a3ce0c3fd07e95d"}) {
		t.Errorf("images %v", got)
	}
}

func TestOwnedWorkingContainers(t *testing.T) {
	owned := []string{workingName("localhost/cpk-tmp/grist-0a1b2c3d4e:build")}
	images := []string{"49d5ca33fd5"}
	for name, want := range map[string]bool{
		"grist-0a1b2c3d4e-working-container":   true,
		"grist-0a1b2c3d4e-working-container-2": true,
		"49d5ca33fd56-working-container":       true,  // from an intermediate image of this build
		"base-working-container":               false, // another build's, from the base itself
		"grist-working-container":              false,
		"57665a5ace01-working-container":       false, // another build's intermediate
		"my-app":                               false,
	} {
		if got := ownedWorkingContainer(name, owned, images); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := workingName("localhost/cpk/base:bookworm-1@sha256:abc"); got != "base" {
		t.Errorf("workingName %q", got)
	}
}

func TestKindAndCandidates(t *testing.T) {
	for in, want := range map[string]string{"podman": Podman, "/usr/bin/podman-remote": Podman, "docker": Docker, "/opt/bin/Docker": Docker} {
		if got, err := Kind(in); err != nil || got != want {
			t.Errorf("Kind(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := Kind("nerdctl"); err == nil {
		t.Error("nerdctl is not supported")
	}
	t.Setenv("CONTAINER_HOST", "")
	t.Setenv("DOCKER_HOST", "")
	same(t, "default order", Candidates(), []string{Podman, Docker})
	t.Setenv("DOCKER_HOST", "tcp://builder:2375")
	same(t, "DOCKER_HOST", Candidates(), []string{Docker, Podman})
	t.Setenv("CONTAINER_HOST", "ssh://builder/run/podman/podman.sock")
	same(t, "both set", Candidates(), []string{Podman, Docker})
}

func TestLabelLine(t *testing.T) {
	labels := map[string]string{"io.cpk.content": "abc", "io.cpk.app": "grist", "io.cpk.base-digest": ""}
	if got := labelLine(labels); got != `LABEL "io.cpk.app"="grist" "io.cpk.base-digest"="" "io.cpk.content"="abc"` {
		t.Errorf("%s", got)
	}
	if !plainLabels(labels) || plainLabels(map[string]string{"a": `x"y`}) || plainLabels(map[string]string{"a": "x\ny"}) || plainLabels(map[string]string{"a b": "x"}) {
		t.Error("plainLabels")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM x\nRUN y"), 0o644)
	f, err := withLabels(BuildSpec{ContextDir: dir, Labels: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f)
	if data, _ := os.ReadFile(f); string(data) != "FROM x\nRUN y\nLABEL \"a\"=\"1\"\n" {
		t.Errorf("%q", data)
	}
}
