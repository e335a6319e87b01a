package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"

	"cpk/internal/parse/parsetest"
	"cpk/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.BenchChildren(map[string]func() error{
		"config":    func() error { return parseOnce(bigConfig()) },
		"continued": func() error { return parseOnce(continuedValue()) },
	})
	os.Exit(m.Run())
}

// bigConfig is a 10 MB configuration of program sections.
func bigConfig() []byte {
	var b bytes.Buffer
	b.Grow(10<<20 + 1024)
	b.WriteString("[supervisord]\nnodaemon=true\nlogfile=/dev/null\n\n")
	for i := 0; b.Len() < 10<<20; i++ {
		fmt.Fprintf(&b, `[program:worker%d]
command=/usr/bin/node /app/code/worker.js --queue %d
directory=/app/code
user=cloudron
autostart=true
autorestart=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
environment=HOME="/app/data",NODE_ENV="production"

`, i, i)
	}
	return b.Bytes()
}

// BenchmarkParseConfig parses a 10 MB supervisor configuration; peak-RSS-MB
// is the peak memory of a process that parses it once (testenv.ReportPeak).
func BenchmarkParseConfig(b *testing.B) { parsetest.Bench(b, "config", bigConfig(), parseOnce) }

// continuedValue is a 10 MB configuration of one key whose value goes on
// over every line (the value was built by repeated concatenation).
func continuedValue() []byte {
	var b bytes.Buffer
	b.Grow(10<<20 + 1024)
	b.WriteString("[program:x]\ncommand=/bin/x\n")
	for b.Len() < 10<<20 {
		b.WriteString("  --flag value\n")
	}
	return b.Bytes()
}

// BenchmarkParseContinued parses a 10 MB value continued over 700,000 lines.
func BenchmarkParseContinued(b *testing.B) {
	parsetest.Bench(b, "continued", continuedValue(), parseOnce)
}

func parseOnce(src []byte) error {
	f, err := Parse(src)
	runtime.KeepAlive(f)
	return err
}
