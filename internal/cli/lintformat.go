package cli

import (
	"fmt"
	"strings"

	"cpk/internal/cpk"
	"cpk/internal/lint"
)

// Lint output formats beyond text and JSON: SARIF 2.1.0 for code-scanning
// UIs, and GitHub Actions workflow commands for inline annotations.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string    `json:"id"`
	Name                 string    `json:"name"`
	ShortDescription     sarifText `json:"shortDescription"`
	FullDescription      sarifText `json:"fullDescription"`
	Help                 sarifText `json:"help"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI       string `json:"uri"`
			URIBaseID string `json:"uriBaseId"`
		} `json:"artifactLocation"`
		Region *sarifRegion `json:"region,omitempty"`
	} `json:"physicalLocation"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

func sarifLevel(s cpk.Severity) string {
	switch s {
	case cpk.Error:
		return "error"
	case cpk.Warning:
		return "warning"
	}
	return "note"
}

// toSARIF describes every rule of the registry and each finding, with paths
// relative to the repository root (uriBaseId %SRCROOT%).
func toSARIF(reg *lint.Registry, findings []cpk.Finding, path func(cpk.Finding) string) sarifLog {
	driver := sarifDriver{Name: "cpk", Rules: []sarifRule{}}
	index := map[string]int{}
	for i, r := range reg.Rules() {
		sr := sarifRule{ID: r.Code, Name: r.Code, ShortDescription: sarifText{Text: r.Title},
			FullDescription: sarifText{Text: r.Doc}, Help: sarifText{Text: r.Doc, Markdown: r.Doc}}
		sr.DefaultConfiguration.Level = sarifLevel(r.Severity)
		driver.Rules = append(driver.Rules, sr)
		index[r.Code] = i
	}
	results := []sarifResult{}
	for _, f := range findings {
		res := sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity), Message: sarifText{Text: f.Message}}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = path(f)
		loc.PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Column}
		}
		res.Locations = []sarifLocation{loc}
		results = append(results, res)
	}
	return sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
}

// githubAnnotation is a GitHub Actions workflow command for one finding.
func githubAnnotation(f cpk.Finding, path string) string {
	kind := map[cpk.Severity]string{cpk.Error: "error", cpk.Warning: "warning", cpk.Info: "notice"}[f.Severity]
	props := []string{"file=" + ghProperty(path)}
	if f.Line > 0 {
		props = append(props, fmt.Sprintf("line=%d", f.Line))
		if f.Column > 0 {
			props = append(props, fmt.Sprintf("col=%d", f.Column))
		}
	}
	props = append(props, "title="+ghProperty(f.Rule))
	return fmt.Sprintf("::%s %s::%s", kind, strings.Join(props, ","), ghData(f.Message))
}

// ghData and ghProperty escape as the workflow-command syntax requires.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
