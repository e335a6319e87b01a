// Package cpk holds the domain vocabulary shared by every part of cpk:
// severities, findings, package states. It depends on the standard library only.
package cpk

import (
	"fmt"
	"strings"
)

// Severity orders findings. The zero value is Info.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity is the inverse of String.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or info)", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one positioned result of a lint rule.
// File is relative to the package folder; Line and Column are 1-based, 0 when unknown.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	App      string   `json:"app"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
}

// State is where an application stands in the plan.
type State string

const (
	Planned  State = "planned"  // no package files yet
	Draft    State = "draft"    // package files exist, lint errors remain
	Packaged State = "packaged" // lint-clean
	Verified State = "verified" // its current content passed the lifecycle test
	Blocked  State = "blocked"  // set by hand, with a reason
	Retired  State = "retired"  // set by hand
)

// States lists every state in the order reports show them.
var States = []State{Planned, Draft, Packaged, Verified, Blocked, Retired}

// Package is a package folder as every service sees it: its catalog id (the
// folder's name outside the catalog), its folder, and where its releases
// come from (nil when it declares none). catalog.Select makes them from the
// command line.
type Package struct {
	ID       string
	Dir      string
	Upstream *Upstream
	// EntryProblems are the problems of its catalog entry (cpk.yaml) found
	// when the catalog loaded; lint reports them as CY001.
	EntryProblems []EntryProblem
	// Contents, when not nil, holds files of Dir read earlier (the content
	// hash's reads): lint takes them from there rather than read them again.
	Contents Contents
}

// Contents are a package's files read earlier. Read returns a file's bytes
// (a slash-separated path relative to the package), and false for a file
// it does not hold.
type Contents interface {
	Read(rel string) (data []byte, ok bool)
}

// EntryProblem is one problem of a cpk.yaml, at a position of the file
// (File is relative to the package folder).
type EntryProblem struct {
	File         string
	Line, Column int
	Message      string
}
