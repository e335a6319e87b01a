// Package evidence is the proof that a package passed its lifecycle test,
// kept in the repository beside the package (test/evidence.json) so that it
// travels with every clone. It is the one place that decides what a
// package's content is (its content hash), when a test run verifies it, and
// whether the committed proof still holds for the files on disk.
package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cpk/internal/cpk"
	"cpk/internal/fsx"
)

// File is where a package keeps its evidence, relative to its folder. It
// is not part of the package's content: writing it does not change the hash
// it records.
const File = "test/evidence.json"

// Schema is the version of the file's format.
const Schema = 1

// Evidence is one passed lifecycle test of one exact package content. Its
// fields marshal in a fixed order, so a re-test shows as a small diff.
type Evidence struct {
	Schema      int    `json:"schema"`
	App         string `json:"app"`
	Version     string `json:"version"`     // the manifest version tested
	ContentHash string `json:"contentHash"` // ContentHash of the package folder
	Tested      string `json:"tested"`      // when the test finished, RFC 3339 in UTC
	// Where the test ran: "emulated" (cpk's emulated runtime) or the
	// Cloudron server's address.
	Where  string `json:"where"`
	CPK    string `json:"cpk"` // the cpk version that ran it
	Engine Engine `json:"engine"`
	Base   Image  `json:"baseImage"`
	// Update is where the update step started from; nil when it did not run.
	Update  *Update `json:"update,omitempty"`
	Seconds float64 `json:"seconds"`
	Steps   []Step  `json:"steps"`
	// Checks are the names of the checks that ran, the package's own
	// (test/checks.yaml) and cpk's, in the order they first ran.
	Checks []string `json:"checks"`
	// Digest is a SHA-256 over every other field as written: an edit by
	// hand no longer matches it.
	Digest string `json:"digest"`
}

// Engine is the container engine the test ran on.
type Engine struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Image names an image and its digest.
type Image struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

// Update is the update step's starting point.
type Update struct {
	From   string `json:"from"`   // the previous manifest version
	Source string `json:"source"` // where it came from: a git commit, an earlier tested image
}

// Step is one lifecycle step's outcome.
type Step struct {
	Name    string      `json:"name"`
	Outcome cpk.Outcome `json:"outcome"`
	Seconds float64     `json:"seconds"`
	Checks  int         `json:"checks"` // checks that passed in the step
}

// VerifiedSteps are the lifecycle steps that must each have passed for a
// test to verify a package. The update step is not among them: a package's
// first version has nothing to update from (CI requires it with cpk test
// --require-update).
var VerifiedSteps = []string{cpk.StepInstall, cpk.StepRestart, cpk.StepBackup, cpk.StepRestore, cpk.StepMove, cpk.StepUninstall}

// Verifies reports whether a test with these step outcomes verifies the
// content: the test passed and every one of VerifiedSteps passed.
func Verifies(outcome cpk.Outcome, steps map[string]cpk.Outcome) bool {
	if outcome != cpk.OutcomePassed {
		return false
	}
	for _, s := range VerifiedSteps {
		if steps[s] != cpk.OutcomePassed {
			return false
		}
	}
	return true
}

// Verified reports whether the evidence itself verifies its content.
func (e *Evidence) Verified() bool {
	steps := map[string]cpk.Outcome{}
	for _, s := range e.Steps {
		steps[s.Name] = s.Outcome
	}
	return Verifies(cpk.OutcomePassed, steps)
}

// StepPassed reports whether the evidence holds a passed step of this name.
func (e *Evidence) StepPassed(name string) bool {
	for _, s := range e.Steps {
		if s.Name == name {
			return s.Outcome == cpk.OutcomePassed
		}
	}
	return false
}

// Duration is how long the test took.
func (e *Evidence) Duration() time.Duration { return time.Duration(e.Seconds * float64(time.Second)) }

// seal sets Digest from the other fields.
func (e *Evidence) seal() error {
	d, err := e.digest()
	e.Digest = d
	return err
}

func (e *Evidence) digest() (string, error) {
	c := *e
	c.Digest = ""
	data, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Marshal returns the file's bytes: sealed, indented, one trailing newline.
func (e *Evidence) Marshal() ([]byte, error) {
	if err := e.seal(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write seals the evidence and writes it into the package folder
// atomically.
func Write(dir string, e *Evidence) error {
	data, err := e.Marshal()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, filepath.FromSlash(File))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fsx.WriteFile(path, data, 0o644)
}

// State says whether a package's committed evidence holds for its files.
type State string

const (
	Missing  State = "missing"  // no test/evidence.json
	Current  State = "current"  // it verifies exactly the files on disk
	Stale    State = "stale"    // it was made for other content: test again
	Invalid  State = "invalid"  // it does not parse, or it is not a verifying test
	Tampered State = "tampered" // its digest does not match its fields: edited by hand
)

// Status is a package's evidence and what it is worth now.
type Status struct {
	State    State     `json:"state"`
	Evidence *Evidence `json:"evidence,omitempty"`
	Hash     string    `json:"contentHash,omitempty"` // the content on disk
	Problem  string    `json:"problem,omitempty"`     // why it is not current, in words
}

// Current reports whether the evidence verifies the package as it is.
func (s Status) Current() bool { return s.State == Current }

// maxFile bounds the evidence file read.
const maxFile = 1 << 20

// Read parses a package's evidence file; (nil, nil) when there is none.
func Read(dir string) (*Evidence, error) {
	path := filepath.Join(dir, filepath.FromSlash(File))
	data, err := fsx.ReadPackageFile(dir, path, maxFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", File, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var e Evidence
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %v", File, err)
	}
	return &e, nil
}

// Check reads a package's evidence and compares it with the content hash of
// its files (hash; computed when "").
func Check(dir, hash string) Status {
	e, err := Read(dir)
	if err != nil {
		return Status{State: Invalid, Problem: err.Error(), Hash: hash}
	}
	if e == nil {
		return Status{State: Missing, Hash: hash, Problem: "no " + File + ": run cpk test"}
	}
	if hash == "" {
		if hash, err = ContentHash(dir); err != nil {
			return Status{State: Invalid, Evidence: e, Problem: err.Error()}
		}
	}
	st := Status{Evidence: e, Hash: hash}
	if d, err := e.digest(); err != nil || d != e.Digest {
		st.State, st.Problem = Tampered, File+" was edited by hand (its digest does not match its fields): run cpk test to write it again"
		return st
	}
	if e.Schema != Schema {
		st.State, st.Problem = Invalid, fmt.Sprintf("%s has schema %d; this cpk writes %d: run cpk test", File, e.Schema, Schema)
		return st
	}
	if !e.Verified() {
		st.State, st.Problem = Invalid, File+" does not record a passed install, restart, backup, restore, move and uninstall"
		return st
	}
	if e.ContentHash != hash {
		st.State, st.Problem = Stale, fmt.Sprintf("%s was written for other content (tested %s): the package changed since; run cpk test", File, e.Tested)
		return st
	}
	st.State = Current
	return st
}

// PackageFiles lists a package folder's own files as slash-separated paths,
// sorted: everything but cpk.yaml (planning data), the evidence file and
// hidden files and folders.
func PackageFiles(dir string) ([]string, error) {
	files, _, err := listPackage(dir)
	return files, err
}

// listPackage lists a package folder's own files (PackageFiles), and
// digests its hidden files and folders, version-control folders left out
// (Contents.Others).
func listPackage(dir string) (files []string, others string, err error) {
	h := sha256.New()
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		rel := "."
		if path != dir {
			r, rerr := filepath.Rel(dir, path)
			if rerr != nil {
				return rerr
			}
			rel = filepath.ToSlash(r)
		}
		hidden := strings.HasPrefix(rel, ".") && rel != "." || strings.Contains(rel, "/.")
		switch {
		case err != nil && hidden:
			fmt.Fprintf(h, "%s\x00unreadable\x00", rel)
			return nil // not content: lint reports what it cannot read
		case err != nil:
			return err
		case rel == ".":
			return nil
		case d.IsDir() && (d.Name() == ".git" || d.Name() == ".hg" || d.Name() == ".svn"):
			return filepath.SkipDir
		case hidden:
			if info, err := d.Info(); err == nil {
				fmt.Fprintf(h, "%s\x00%v\x00%d\x00%d\x00", rel, info.Mode(), info.Size(), info.ModTime().UnixNano())
			}
		case !d.IsDir() && rel != SpecFile && rel != File:
			files = append(files, rel)
		}
		return nil
	})
	slices.Sort(files)
	return files, hex.EncodeToString(h.Sum(nil)), err
}

// SpecFile is the catalog entry inside a package folder, which is not part
// of its content.
const SpecFile = "cpk.yaml"

// ContentHash identifies a package's content: a SHA-256 over the names,
// executable bits and bytes of its files (PackageFiles). A result recorded
// under one hash no longer counts once any file changes.
func ContentHash(dir string) (string, error) {
	c, err := readContents(dir, 0)
	if err != nil {
		return "", err
	}
	return c.Hash, nil
}

// Contents is a package folder's own files read once: their list, their
// content hash, and their bytes for whoever reads the package next (lint),
// so that no file is read twice.
type Contents struct {
	Files []string // PackageFiles
	Hash  string   // ContentHash
	// Others digests the rest of the folder that lint reads: the hidden
	// files and folders (.dockerignore, .cpk-ignore…), by name, type,
	// size and time; version-control folders left out. It is no part of
	// the content hash.
	Others string
	kept   map[string][]byte
}

// maxKept bounds the bytes a Contents keeps: the files past it are hashed
// but not kept, and are read again by whoever needs them.
const maxKept = 64 << 20

// ReadContents lists, reads and hashes a package folder's own files.
func ReadContents(dir string) (*Contents, error) { return readContents(dir, maxKept) }

// Read returns a file's bytes, and false when they were not kept: the file
// did not read (a link out of the package, a special or too large file) or
// came past maxKept (cpk.Package.Contents).
func (c *Contents) Read(rel string) ([]byte, bool) {
	data, ok := c.kept[rel]
	return data, ok
}

func readContents(dir string, keep int64) (*Contents, error) {
	files, others, err := listPackage(dir)
	if err != nil {
		return nil, err
	}
	c := &Contents{Files: files, Others: others, kept: map[string][]byte{}}
	h := sha256.New()
	for _, rel := range files {
		data, err := hashFile(h, dir, rel)
		if err != nil {
			return nil, err
		}
		if data != nil && int64(len(data)) <= keep {
			keep -= int64(len(data))
			c.kept[rel] = data
		}
	}
	c.Hash = hex.EncodeToString(h.Sum(nil))
	return c, nil
}

// hashFile hashes one package file and returns its bytes. Only regular
// files (or links to one inside the package) up to fsx.MaxPackageFile are
// read; a link that leaves the package or dangles counts by its target's
// name, a special file (a FIFO, a device) by its type, a larger file by its
// size and time: none of them is opened, so nothing here can hang or read
// without end (lint reports them, PK010).
func hashFile(h io.Writer, dir, rel string) ([]byte, error) {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	data, st, err := fsx.ReadPackageFileInfo(dir, path, 0)
	switch {
	case errors.Is(err, fsx.ErrOutside):
		target, _ := os.Readlink(path)
		fmt.Fprintf(h, "%s\x00link\x00%s\x00", rel, target)
		return nil, nil
	case errors.Is(err, fsx.ErrNotRegular):
		lst, _ := os.Lstat(path)
		fmt.Fprintf(h, "%s\x00special\x00%v\x00", rel, lst.Mode().Type())
		return nil, nil
	case errors.Is(err, fsx.ErrTooLarge) && st != nil:
		fmt.Fprintf(h, "%s\x00large\x00%d\x00%d\x00", rel, st.Size(), st.ModTime().UnixNano())
		return nil, nil
	case err != nil:
		return nil, err
	}
	fmt.Fprintf(h, "%s\x00%o\x00%d\x00", rel, st.Mode().Perm()&0o111, st.Size())
	h.Write(data)
	return data, nil
}
