package shell

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"

	"cpk/internal/parse/dockerfile"
	"cpk/internal/parse/parsetest"
	"cpk/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.BenchChildren(map[string]func() error{
		"chain": func() error { return parseOnce(chainScript()) },
		"lines": func() error { return parseOnce(linesScript()) },
		"runs":  func() error { return runsOnce(parsetest.BigDockerfile()) },
	})
	os.Exit(m.Run())
}

func parseOnce(src []byte) error {
	s, err := Parse(src)
	runtime.KeepAlive(s)
	return tooLargeOK(err)
}

// tooLargeOK: a 10 MB script is more than cpk keeps of one script; it
// parses to its end all the same.
func tooLargeOK(err error) error {
	if e, ok := err.(*Error); ok && e.TooLarge {
		return nil
	}
	return err
}

// tenMB is the size of the benchmarks' scripts.
const tenMB = 10 << 20

// chainScript is a 10 MB start script of one && chain: the shape that was
// quadratic.
func chainScript() []byte {
	var b bytes.Buffer
	b.Grow(tenMB + 1024)
	b.WriteString("#!/bin/sh\n")
	for b.Len() < tenMB {
		b.WriteString("echo hello world && ")
	}
	b.WriteString("true\n")
	return b.Bytes()
}

// linesScript is a 10 MB start script of ordinary statements: conditions,
// assignments, here-documents, pipes, substitutions and a function.
func linesScript() []byte {
	const chunk = `if [[ ! -f /app/data/.initialized ]]; then
    mkdir -p /app/data/uploads "${CLOUDRON_DATA_DIR:-/app/data}/cache"
    cp -r /app/pkg/defaults/. /app/data/
fi
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
[ -f /app/data/config.ini ] || touch /app/data/config.ini
cat > /run/app/config.json <<EOF
{ "db": "${CLOUDRON_POSTGRESQL_URL}", "port": $((PORT + 1)), "from": "$(hostname)" }
EOF
for f in /app/data/*.conf; do sed -e "s/x/y/" "$f" | grep -v '^#' > /dev/null; done
setup() { local dir=$1; chown -R cloudron:cloudron "$dir" && echo "ready: $dir"; }
setup /run/app
`
	var b bytes.Buffer
	b.Grow(tenMB + 1024)
	b.WriteString("#!/bin/bash\nset -eu\nPORT=8000\n")
	for b.Len() < tenMB {
		b.WriteString(chunk)
	}
	b.WriteString("exec gosu cloudron:cloudron node /app/code/server.js\n")
	return b.Bytes()
}

// BenchmarkParseChain parses a 10 MB script of one && chain; besides time
// and allocations it reports the peak memory of a process that parses it
// once (peak-RSS-MB, see testenv.ReportPeak).
func BenchmarkParseChain(b *testing.B) { parsetest.Bench(b, "chain", chainScript(), parseOnce) }

// BenchmarkParseLines parses a 10 MB script of ordinary statements.
func BenchmarkParseLines(b *testing.B) { parsetest.Bench(b, "lines", linesScript(), parseOnce) }

func runsOnce(src []byte) error {
	f, err := dockerfile.Parse(src)
	if err != nil {
		return err
	}
	runs := Runs(src, f)
	for _, r := range runs {
		if r.Err != nil {
			return fmt.Errorf("line %d: %w", dockerfile.Line(r.Command), r.Err)
		}
	}
	runtime.KeepAlive(runs)
	return nil
}

// BenchmarkRuns parses a 10 MB Dockerfile and each of its RUN commands as
// a shell script, as lint does: the many separate RUN lines that were
// quadratic.
func BenchmarkRuns(b *testing.B) { parsetest.Bench(b, "runs", parsetest.BigDockerfile(), runsOnce) }
