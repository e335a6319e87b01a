// Package manifest decodes and validates CloudronManifest.json.
//
// Check gives the verdict of the official validator (npm cloudron-manifestformat
// 5.27.0: its tv4 schema with unknown properties banned, then the extra checks
// of parse(), and optionally checkAppstoreRequirements) but reports every
// problem at once, each with a JSON pointer, a line and a column. cpk accepts
// a superset: fields of newer platforms (persistentDirs, backupCommand, …)
// pass when minBoxVersion reaches the version that introduced them.
// It is deliberately stricter than the official validator in a few places,
// each documented where it happens: duplicate keys, lone surrogates, invalid
// UTF-8, properties named after JavaScript's Object.prototype members.
package manifest

import (
	"fmt"
	"sort"
)

// Kind classifies an Error.
type Kind int

const (
	Syntax     Kind = iota + 1 // not usable JSON: malformed, duplicate keys, or not an object
	Unknown                    // a property the schema does not declare
	Required                   // a required property is missing
	Type                       // a value of the wrong JSON type
	Format                     // a string (or object keys) failing a named format
	Constraint                 // length, range, pattern, uniqueness, oneOf
	ExtraCheck                 // the extra checks of the official parse() (Check is taken by the function)
	Gate                       // a feature used without the minBoxVersion it needs
	Appstore                   // a requirement of the Cloudron App Store
)

func (k Kind) String() string {
	switch k {
	case Syntax:
		return "syntax"
	case Unknown:
		return "unknown"
	case Required:
		return "required"
	case Type:
		return "type"
	case Format:
		return "format"
	case Constraint:
		return "constraint"
	case ExtraCheck:
		return "check"
	case Gate:
		return "gate"
	case Appstore:
		return "appstore"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is one positioned problem of a manifest.
type Error struct {
	Pointer string `json:"pointer"` // JSON pointer, "" for the whole document
	Line    int    `json:"line"`    // 1-based; of the value (or key, for unknown properties) at Pointer
	Column  int    `json:"column"`  // 1-based, counted in characters (runes)
	Message string `json:"message"`
	Kind    Kind   `json:"-"`
}

func (e Error) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
}

// Options selects optional checks.
type Options struct {
	Appstore bool // also evaluate checkAppstoreRequirements
}

// Report is the outcome of Check.
type Report struct {
	Valid    bool            // what the official parse() says (cpk superset applied)
	Errors   []Error         // every problem, in document order
	Appstore *AppstoreReport // nil unless Options.Appstore
	Doc      *Document       // nil when the bytes are not a JSON document
}

// AppstoreReport is the outcome of the store requirements. Each condition of
// checkAppstoreRequirements is evaluated on its own; a condition whose fields
// have the wrong type is left to the main validation (the official function
// would crash on them), so a publishable manifest needs both Report.Valid and
// AppstoreReport.Valid.
type AppstoreReport struct {
	Valid  bool
	Errors []Error
}

// Check decodes and validates a CloudronManifest.json.
func Check(data []byte, opts Options) *Report {
	doc, errs := Decode(data)
	r := &Report{Doc: doc}
	if doc != nil {
		errs = append(errs, validate(doc)...)
	}
	r.Errors = sortErrors(errs)
	r.Valid = len(r.Errors) == 0
	if opts.Appstore {
		var store []Error
		if doc == nil || doc.Root.Kind != ObjectValue {
			store = []Error{{Line: 1, Column: 1, Kind: Appstore, Message: "store requirements not checked: the file is not a JSON object"}}
		} else {
			store = sortErrors(checkAppstore(doc.Root))
		}
		r.Appstore = &AppstoreReport{Valid: len(store) == 0, Errors: store}
	}
	return r
}

// sortErrors orders errors by position, keeping the order of equal positions.
func sortErrors(errs []Error) []Error {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	return errs
}
