package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"cpk/internal/cpk"
	"cpk/internal/fsx"
)

// ResultsFile is where the last check's results live, under the
// repository's .cpk/ folder.
const ResultsFile = "upstream.json"

// resultsDoc is the JSON shape of ResultsFile.
type resultsDoc struct {
	Checks []cpk.UpstreamCheck `json:"checks"`
}

// LoadResults reads the recorded results; a missing file is no results.
func LoadResults(path string) ([]cpk.UpstreamCheck, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc resultsDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v): delete it and run cpk upstream check", path, err)
	}
	return doc.Checks, nil
}

// SaveResults records checks, keeping the earlier results of applications
// not checked this time, and writes the file atomically.
func SaveResults(path string, checks []cpk.UpstreamCheck) error {
	old, err := LoadResults(path)
	if err != nil {
		old = nil // a damaged file is replaced
	}
	byApp := map[string]cpk.UpstreamCheck{}
	for _, c := range old {
		byApp[c.App] = c
	}
	for _, c := range checks {
		byApp[c.App] = c
	}
	doc := resultsDoc{Checks: make([]cpk.UpstreamCheck, 0, len(byApp))}
	for _, c := range byApp {
		doc.Checks = append(doc.Checks, c)
	}
	sort.Slice(doc.Checks, func(i, j int) bool { return doc.Checks[i].App < doc.Checks[j].App })
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return fsx.WriteFile(path, append(data, '\n'), 0o644)
}
