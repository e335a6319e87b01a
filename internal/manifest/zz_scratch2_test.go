package manifest

import (
	"os"
	"testing"
	"time"
)

func TestScratchBig(t *testing.T) {
	for _, f := range []string{"/tmp/big1.json", "/tmp/big2.json", "/tmp/big3.json", "/tmp/big4.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Skip()
		}
		start := time.Now()
		r := Check(b, Options{Appstore: true})
		t.Logf("%s: %v valid=%v errors=%d first=%v", f, time.Since(start), r.Valid, len(r.Errors), r.Errors[:min(1, len(r.Errors))])
	}
}
