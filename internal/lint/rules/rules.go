// Package rules holds cpk's lint rules, grouped by family: MF (the manifest,
// its schema and its semantics), PK (the files a package needs), DF (the
// Dockerfile), SH (the start script), XF (environment variables across
// files), NG (nginx), SV (supervisor), SEC (security), DOC (build notes and
// docs), CY (cpk.yaml), RT (what the package does at run time, across its
// files). Codes are stable and never reused.
package rules

import (
	"strings"

	"cpk/internal/lint"
)

// All returns every rule.
func All() []*lint.Rule {
	var all []*lint.Rule
	all = append(all, manifestRules...)
	all = append(all, packageRules...)
	all = append(all, evidenceRules...)
	all = append(all, dockerfileRules...)
	all = append(all, shellRules...)
	all = append(all, envRules...)
	all = append(all, nginxRules...)
	all = append(all, supervisorRules...)
	all = append(all, semanticRules...)
	all = append(all, securityRules...)
	all = append(all, docRules...)
	all = append(all, runtimeRules...)
	return all
}

// Registry returns the validated registry of every rule.
func Registry() (*lint.Registry, error) { return lint.NewRegistry(All()...) }

// Every rule of the MF family judges the manifest: its errors mean the
// manifest is not valid (the family is the code's prefix, by design).
func init() {
	for _, r := range All() {
		if strings.HasPrefix(r.Code, "MF") {
			r.Counts = lint.CountsManifest
		}
	}
}
