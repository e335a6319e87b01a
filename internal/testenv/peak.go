package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// childEnv names the job a test binary started by ReportPeak runs.
const childEnv = "CPK_BENCH_CHILD"

// BenchChildren is called first in a test package's TestMain: when the
// binary was started by ReportPeak, it runs the named job once and exits,
// so that the process's peak memory is that job's alone.
func BenchChildren(jobs map[string]func() error) {
	name := os.Getenv(childEnv)
	if name == "" {
		return
	}
	job, ok := jobs[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "no benchmark job %q\n", name)
		os.Exit(2)
	}
	if err := job(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// VmHWM is the peak resident size of this process's memory since its
	// exec (the rusage of a child would also count the parent's pages at
	// the fork).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		os.Exit(0) // not measured on this system
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Println(peakPrefix + strings.TrimSpace(v))
		}
	}
	os.Exit(0)
}

const peakPrefix = "peak-rss: "

// ReportPeak runs the job name (see BenchChildren) once in a fresh process
// of the test binary and reports that process's peak resident memory as
// peak-RSS-MB: everything the job held at its worst moment (its input, the
// parser's trees, the garbage the collector had not yet returned, the Go
// runtime and the test binary itself), as the kernel counted it. Unlike
// B/op (the sum of all allocations) it is the memory a user's machine must
// have.
func ReportPeak(b *testing.B, name string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("benchmark job %s: %v\n%s", name, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, peakPrefix); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
			if err == nil {
				b.ReportMetric(kb/1024, "peak-RSS-MB")
				return
			}
		}
	}
	b.Log("peak memory: not measured on this system")
}
