package cpk

import "fmt"

// Level is a package's quality level, 0 to MaxLevel: each level needs every
// level below it.
type Level int

// MaxLevel is the highest quality level.
const MaxLevel Level = 7

// levelNames say what each level needs, beyond the levels below it.
var levelNames = [...]string{
	"nothing yet",
	"manifest valid",
	"lint-clean",
	"builds",
	"installs healthy",
	"backup/restore identical",
	"updates from the previous version",
	"docs current, upstream fresh",
}

// String names what the level stands for.
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// Levels lists every level from 0 to MaxLevel.
func Levels() []Level {
	out := make([]Level, 0, MaxLevel+1)
	for l := Level(0); l <= MaxLevel; l++ {
		out = append(out, l)
	}
	return out
}

// LevelEvidence is what is known about a package's current content. Each
// fact counts only for the content hash it was established on.
type LevelEvidence struct {
	ManifestValid bool `json:"manifestValid"` // package files exist and the manifest has no error (1)
	LintClean     bool `json:"lintClean"`     // no error-level lint finding (2)
	Builds        bool `json:"builds"`        // the latest build of this content passed (3)
	Installs      bool `json:"installs"`      // a test installed it and it turned healthy (4)
	BackupRestore bool `json:"backupRestore"` // backup, then restore with identical data (5)
	Updates       bool `json:"updates"`       // updated from the previous package version (6)
	DocsCurrent   bool `json:"docsCurrent"`   // NOTES.md exists and README.md is generated and current (7)
	UpstreamFresh bool `json:"upstreamFresh"` // within a month of upstream (7)
}

// Level is the highest level whose needs, and those of every level below
// it, are met.
func (e LevelEvidence) Level() Level {
	steps := []bool{e.ManifestValid, e.LintClean, e.Builds, e.Installs, e.BackupRestore, e.Updates, e.DocsCurrent && e.UpstreamFresh}
	for i, ok := range steps {
		if !ok {
			return Level(i)
		}
	}
	return MaxLevel
}
