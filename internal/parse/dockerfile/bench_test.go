package dockerfile

import (
	"bytes"
	"os"
	"runtime"
	"testing"

	"cpk/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.BenchChildren(map[string]func() error{
		"dockerfile": func() error {
			f, err := Parse(bigDockerfile())
			runtime.KeepAlive(f)
			return err
		},
	})
	os.Exit(m.Run())
}

// BenchmarkParse parses a 10 MB Dockerfile with BuildKit's parser;
// peak-RSS-MB is the peak memory of a process that parses it once
// (testenv.ReportPeak).
func BenchmarkParse(b *testing.B) {
	src := bigDockerfile()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
	testenv.ReportPeak(b, "dockerfile")
}

// bigDockerfile is a 10 MB Dockerfile: ARG, ENV, COPY and RUN lines, some
// RUN continued over several lines.
func bigDockerfile() []byte {
	const step = `ARG VERSION=1.2.3
ENV DATA=/app/data NODE_ENV=production
RUN curl -fsSL -o /tmp/x.tgz https://example.com/x-${VERSION}.tgz \
    && tar -xzf /tmp/x.tgz -C /app/code --strip-components 1 \
    && rm /tmp/x.tgz
COPY start.sh /app/pkg/
RUN mkdir -p $DATA/uploads && chown -R cloudron:cloudron /app/data
RUN ["touch", "/app/data/.ready"]
`
	var b bytes.Buffer
	b.Grow(10<<20 + len(step))
	b.WriteString("FROM cloudron/base:5.0.0\n")
	for b.Len() < 10<<20 {
		b.WriteString(step)
	}
	b.WriteString("CMD [\"/app/pkg/start.sh\"]\n")
	return b.Bytes()
}
