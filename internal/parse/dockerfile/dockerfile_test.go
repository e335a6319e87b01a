package dockerfile

import (
	"errors"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

func TestParseKeepsStagesAndLines(t *testing.T) {
	src := "ARG V=1\nFROM golang AS build\nRUN go build\n\nFROM cloudron/base:5.0.0\nCOPY start.sh /app/code/\nCMD [\"/app/code/start.sh\"]\n"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stages) != 2 || len(f.MetaArgs) != 1 {
		t.Fatalf("got %d stages, %d meta args", len(f.Stages), len(f.MetaArgs))
	}
	final := f.Final()
	if final.BaseName != "cloudron/base:5.0.0" {
		t.Errorf("final base = %q", final.BaseName)
	}
	cmd, ok := final.Commands[1].(*instructions.CmdCommand)
	if !ok || Line(cmd) != 7 || cmd.PrependShell || cmd.CmdLine[0] != "/app/code/start.sh" {
		t.Errorf("CMD = %#v at line %d", final.Commands[1], Line(final.Commands[1]))
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"empty":       "",
		"no from":     "RUN echo hi\n",
		"bad command": "FROM x\nFOO bar\n",
		"bad json":    "FROM x\nCOPY --chown= a\n",
		"nul bytes":   "\x00\x00FROM",
	} {
		_, err := Parse([]byte(src))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: want *Error, got %v", name, err)
		}
	}
	_, err := Parse([]byte("FROM x\nFOO bar\n"))
	if pe := err.(*Error); pe.Line != 2 {
		t.Errorf("unknown instruction: line %d, want 2 (%v)", pe.Line, err)
	}
}
