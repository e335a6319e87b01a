package cpk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RunKind is what a recorded run did.
type RunKind string

const (
	KindLint     RunKind = "lint"     // cpk lint over one package
	KindBuild    RunKind = "build"    // an image build
	KindTest     RunKind = "test"     // a lifecycle test (install, backup, restore, update…)
	KindUpstream RunKind = "upstream" // cpk upstream check of one package
)

// RunKinds lists every kind in the order reports show them.
var RunKinds = []RunKind{KindLint, KindBuild, KindTest, KindUpstream}

// Outcome is how a run, or one of its steps, ended.
type Outcome string

const (
	OutcomePassed    Outcome = "passed"
	OutcomeFailed    Outcome = "failed"    // the package is at fault: findings, a failed build or test
	OutcomeError     Outcome = "error"     // cpk or its environment is: no engine, a network failure
	OutcomeSkipped   Outcome = "skipped"   // not run, with the reason in the message
	OutcomeCancelled Outcome = "cancelled" // interrupted
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomePassed, OutcomeFailed, OutcomeError, OutcomeSkipped, OutcomeCancelled}

// Step names with a meaning for the quality level and the verified state:
// a lint run's manifest and docs steps, a test run's lifecycle steps.
const (
	StepManifest  = "manifest"  // lint: the manifest is valid (no error from MF rules or a missing manifest)
	StepDocs      = "docs"      // lint: NOTES.md exists and the generated README.md is current
	StepInstall   = "install"   // test: installs and turns healthy
	StepRestart   = "restart"   // test: restarts healthy, data kept
	StepBackup    = "backup"    // test: a backup is taken
	StepRestore   = "restore"   // test: the restored app holds identical data
	StepMove      = "move"      // test: healthy on another domain
	StepUpdate    = "update"    // test: updates from the previous package version
	StepUninstall = "uninstall" // test: nothing left
)

// Step is one part of a run.
type Step struct {
	Name     string        `json:"name"`
	Outcome  Outcome       `json:"outcome"`
	Duration time.Duration `json:"durationNs"`
	Message  string        `json:"message,omitempty"`
}

// Run is one recorded lint, build, test or upstream check of one package.
type Run struct {
	ID   int64   `json:"id,omitempty"` // set by the store
	App  string  `json:"app"`
	Kind RunKind `json:"kind"`
	// Hash is the content hash of the package files the run looked at
	// (catalog.App.ContentHash); "" when the package has none.
	Hash     string    `json:"contentHash,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Outcome  Outcome   `json:"outcome"`
	Steps    []Step    `json:"steps,omitempty"`
	// Figures are the run's numbers: findings, seconds, image bytes, days
	// behind upstream…
	Figures map[string]float64 `json:"figures,omitempty"`
	// Log is the path of the run's full log, relative to the repository
	// root; "" when there is none.
	Log string `json:"log,omitempty"`
}

// Validate reports what makes a run unfit for recording.
func (r Run) Validate() error {
	var errs []string
	if strings.TrimSpace(r.App) == "" {
		errs = append(errs, "no app")
	}
	if !slices.Contains(RunKinds, r.Kind) {
		errs = append(errs, fmt.Sprintf("kind %q is not one of lint, build, test, upstream", r.Kind))
	}
	if !slices.Contains(Outcomes, r.Outcome) {
		errs = append(errs, fmt.Sprintf("outcome %q is not one of passed, failed, error, skipped, cancelled", r.Outcome))
	}
	if r.Started.IsZero() || r.Finished.IsZero() {
		errs = append(errs, "started and finished are required")
	} else if r.Finished.Before(r.Started) {
		errs = append(errs, "finished before it started")
	}
	for i, s := range r.Steps {
		if s.Name == "" || !slices.Contains(Outcomes, s.Outcome) {
			errs = append(errs, fmt.Sprintf("step %d needs a name and a known outcome", i+1))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid %s run of %q: %s", r.Kind, r.App, strings.Join(errs, "; "))
	}
	return nil
}

// Step returns the step with this name.
func (r Run) Step(name string) (Step, bool) {
	for _, s := range r.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// Duration is how long the run took.
func (r Run) Duration() time.Duration { return r.Finished.Sub(r.Started) }

// Recorder keeps runs. Implementations are safe for concurrent use, and
// concurrent writers (parallel builds and tests, several processes) never
// lose a record.
type Recorder interface {
	Record(ctx context.Context, run Run) error
}

// RunQuery selects recorded runs; zero fields do not filter.
type RunQuery struct {
	App   string
	Kind  RunKind
	Hash  string
	Since time.Time // finished at or after
	Limit int       // at most this many, newest first; 0: all
}

// Results reads recorded runs.
type Results interface {
	// Runs returns the matching runs, newest first (by finish time, then id).
	Runs(ctx context.Context, q RunQuery) ([]Run, error)
	// Run returns one run by id, or an error wrapping ErrRunNotFound.
	Run(ctx context.Context, id int64) (Run, error)
}

// ErrRunNotFound is returned for an unknown run id.
var ErrRunNotFound = errors.New("no such run")
