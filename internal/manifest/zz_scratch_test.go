package manifest

import (
	"fmt"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	f := os.Getenv("SCRATCH")
	if f == "" {
		t.Skip()
	}
	b, _ := os.ReadFile(f)
	r := Check(b, Options{Appstore: true})
	fmt.Println("valid", r.Valid)
	for _, e := range r.Errors {
		fmt.Printf("  %q %d:%d [%s] %s\n", e.Pointer, e.Line, e.Column, e.Kind, e.Message)
	}
	fmt.Println("store", r.Appstore.Valid)
	for _, e := range r.Appstore.Errors {
		fmt.Printf("  %q %d:%d [%s] %s\n", e.Pointer, e.Line, e.Column, e.Kind, e.Message)
	}
}
