package lint

import (
	"errors"
	"fmt"
	"strings"

	"cpk/internal/cpk"
	"cpk/internal/fsx"
)

// ConfigFile is the repository's lint configuration, at its root.
const ConfigFile = "cpk-lint.yaml"

// Config changes the registry for one repository:
//
//	disable: [PK004]          # rules that do not run
//	severity:                 # severities that differ from the rule's own
//	  DOC001: info
type Config struct {
	Disable  []string                `yaml:"disable"`
	Severity map[string]cpk.Severity `yaml:"severity"`
}

// LoadConfig reads a configuration file strictly; a missing file is an
// empty configuration.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	found, err := fsx.ReadYAML(path, &cfg)
	if err != nil && found {
		return Config{}, fmt.Errorf("%w (keys: disable, severity)", err)
	}
	return cfg, err
}

// Configure applies a configuration; unknown rule codes are errors.
func (r *Registry) Configure(cfg Config) error {
	var errs []error
	known := func(code string) bool {
		if r.byCode[strings.ToUpper(code)] != nil {
			return true
		}
		msg := fmt.Sprintf("%s: no rule %q", ConfigFile, code)
		if s := cpk.Suggest(code, r.codes()); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		errs = append(errs, errors.New(msg))
		return false
	}
	for _, code := range cfg.Disable {
		if known(code) {
			r.disabled[strings.ToUpper(code)] = true
		}
	}
	for code, sev := range cfg.Severity {
		if known(code) {
			r.overrides[strings.ToUpper(code)] = sev
		}
	}
	return errors.Join(errs...)
}

func (r *Registry) codes() []string {
	var out []string
	for _, rule := range r.rules {
		out = append(out, rule.Code)
	}
	return out
}

// Severity is the rule's severity after the configuration.
func (r *Registry) Severity(rule *Rule) cpk.Severity {
	if s, ok := r.overrides[rule.Code]; ok {
		return s
	}
	return rule.Severity
}

// Enabled reports whether a rule runs under the configuration.
func (r *Registry) Enabled(code string) bool { return !r.disabled[strings.ToUpper(code)] }
