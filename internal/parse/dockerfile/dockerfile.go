// Package dockerfile parses a Dockerfile with BuildKit's own parser and keeps
// positions. It knows nothing of lint rules.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// File is a parsed Dockerfile.
type File struct {
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand // ARGs before the first FROM
}

// Error is a parse error at a line (0 when BuildKit gives none).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Parse parses data as BuildKit does before a build.
func Parse(data []byte) (f *File, err error) {
	defer func() {
		// The parser is not meant for hostile input; never let it take cpk down.
		if r := recover(); r != nil {
			f, err = nil, &Error{Msg: fmt.Sprintf("the Dockerfile parser failed: %v", r)}
		}
	}()
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, wrap(err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, wrap(err)
	}
	if len(stages) == 0 {
		return nil, &Error{Msg: "no FROM instruction: a Dockerfile must start a stage"}
	}
	return &File{Stages: stages, MetaArgs: metaArgs}, nil
}

func wrap(err error) error {
	var loc *parser.LocationError
	if errors.As(err, &loc) && len(loc.Locations) > 0 && len(loc.Locations[0]) > 0 {
		return &Error{Line: loc.Locations[0][0].Start.Line, Msg: errors.Unwrap(err).Error()}
	}
	return &Error{Msg: err.Error()}
}

// Final returns the last stage: the one that becomes the image.
func (f *File) Final() *instructions.Stage { return &f.Stages[len(f.Stages)-1] }

// Line returns the first line of a command (0 when unknown).
func Line(c instructions.Command) int {
	if loc := c.Location(); len(loc) > 0 {
		return loc[0].Start.Line
	}
	return 0
}
