// Package parsetest holds what the parsers' benchmarks share: the loop
// that times a parse and reports its peak memory, and the large inputs
// more than one parser reads.
package parsetest

import (
	"bytes"
	"testing"

	"cpk/internal/testenv"
)

// Bench times parse over src (bytes per second, allocations), then
// reports the peak memory of a process that runs job once
// (testenv.ReportPeak; the package's TestMain registers job with
// testenv.BenchChildren).
func Bench(b *testing.B, job string, src []byte, parse func([]byte) error) {
	b.Helper()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parse(src); err != nil {
			b.Fatal(err)
		}
	}
	testenv.ReportPeak(b, job)
}

// BigDockerfile is a 10 MB Dockerfile: ARG, ENV, COPY and RUN lines, some
// RUN continued over several lines.
func BigDockerfile() []byte {
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
