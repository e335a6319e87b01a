// Package rules holds cpk's lint rules, grouped by family: MF (the manifest),
// PK (the files a package needs). Codes are stable and never reused.
package rules

import "cpk/internal/lint"

// All returns every rule.
func All() []*lint.Rule {
	var all []*lint.Rule
	all = append(all, manifestRules...)
	all = append(all, packageRules...)
	return all
}

// Registry returns the validated registry of every rule.
func Registry() (*lint.Registry, error) { return lint.NewRegistry(All()...) }
