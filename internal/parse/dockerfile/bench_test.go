package dockerfile

import (
	"os"
	"runtime"
	"testing"

	"cpk/internal/parse/parsetest"
	"cpk/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.BenchChildren(map[string]func() error{
		"dockerfile": func() error { return parseOnce(parsetest.BigDockerfile()) },
	})
	os.Exit(m.Run())
}

// BenchmarkParse parses a 10 MB Dockerfile with BuildKit's parser;
// peak-RSS-MB is the peak memory of a process that parses it once
// (testenv.ReportPeak).
func BenchmarkParse(b *testing.B) {
	parsetest.Bench(b, "dockerfile", parsetest.BigDockerfile(), parseOnce)
}

func parseOnce(src []byte) error {
	f, err := Parse(src)
	runtime.KeepAlive(f)
	return err
}
