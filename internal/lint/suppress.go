package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"cpk/internal/cpk"
)

// Suppressions are data: a comment `# cpk:ignore CODE[,CODE…] -- reason` (or
// with `;` in INI files) on the line above a finding silences it, and the
// sidecar file IgnoreFile lists suppressions for files that cannot carry
// comments, such as the JSON manifest:
//
//	MF003 CloudronManifest.json:12 -- the store reviewers asked for this
//	PK004 CloudronManifest.json -- the whole file
//
// A suppression without a reason, or one that silenced nothing, is itself a
// finding (SUP001, SUP002), so stale pragmas do not pile up.

// IgnoreFile is the package's sidecar list of suppressions.
const IgnoreFile = ".cpk-ignore"

// The framework's own rule codes.
const (
	SuppressionNoReason = "SUP001"
	SuppressionUnused   = "SUP002"
)

// FrameworkRules documents the findings the framework itself reports; every
// registry includes them.
func FrameworkRules() []*Rule {
	return []*Rule{
		{
			Code: SuppressionNoReason, Title: "a suppression says why", Severity: cpk.Warning,
			Doc: `A cpk:ignore pragma must give its reason after " -- ", so that the next
packager knows whether it still holds.

Bad:

    # cpk:ignore DF004
    RUN mkdir -p /app/data/cache

Good:

    # cpk:ignore DF004 -- the upstream installer insists; start.sh moves it on first run
    RUN mkdir -p /app/data/cache`,
			Run: func(*Pass) {},
		},
		{
			Code: SuppressionUnused, Title: "a suppression silences something", Severity: cpk.Warning,
			Doc: `A cpk:ignore pragma (or a line of .cpk-ignore) that matches no finding is
stale: the problem was fixed or moved. Remove it.

Bad:

    # cpk:ignore SH002 -- old start script
    exec gosu cloudron:cloudron node server.js

Good:

    exec gosu cloudron:cloudron node server.js`,
			Run: func(*Pass) {},
		},
	}
}

// suppression is one pragma or sidecar line.
type suppression struct {
	codes  []string
	file   string // the file whose findings it silences
	line   int    // the line it silences; 0 = the whole file
	reason string
	at     cpk.Finding // where the pragma itself is, for SUP findings
	used   bool
}

var pragma = regexp.MustCompile(`^\s*[#;]\s*cpk:ignore\s+([A-Za-z0-9, ]+?)\s*(?:--\s*(.*?))?\s*$`)

// maxScan bounds the files read for pragmas: a pragma lives in text a human edits.
const maxScan = 1 << 20

// collectSuppressions reads the pragmas of every text file of the package
// (through the pass, so files the rules read are not read again) and its
// sidecar list.
func collectSuppressions(p *Pass) []*suppression {
	var out []*suppression
	for _, rel := range p.Files() {
		data, err := p.ReadFile(rel)
		if err != nil || len(data) > maxScan || bytes.IndexByte(data, 0) >= 0 {
			continue
		}
		if rel == IgnoreFile {
			out = append(out, parseIgnoreFile(p.ID, data)...)
			continue
		}
		if !bytes.Contains(data, []byte("cpk:ignore")) {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, maxScan)
		for n := 1; sc.Scan(); n++ {
			m := pragma.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			out = append(out, &suppression{
				codes: splitCodes(m[1]), file: rel, line: n + 1, reason: strings.TrimSpace(m[2]),
				at: cpk.Finding{App: p.ID, File: rel, Line: n, Column: 1},
			})
		}
	}
	return out
}

// parseIgnoreFile reads the sidecar: "CODE[,CODE] FILE[:LINE] -- reason".
func parseIgnoreFile(app string, data []byte) []*suppression {
	var out []*suppression
	for n, line := range strings.Split(string(data), "\n") {
		text, reason, _ := strings.Cut(line, "--")
		fields := strings.Fields(text)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		s := &suppression{codes: splitCodes(fields[0]), reason: strings.TrimSpace(reason),
			at: cpk.Finding{App: app, File: IgnoreFile, Line: n + 1, Column: 1}}
		if len(fields) > 1 {
			file, ln, ok := strings.Cut(fields[1], ":")
			s.file = file
			if ok {
				s.line, _ = strconv.Atoi(ln)
			}
		}
		out = append(out, s)
	}
	return out
}

func splitCodes(s string) []string {
	var codes []string
	for _, c := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		codes = append(codes, strings.ToUpper(c))
	}
	return codes
}

func (s *suppression) matches(f cpk.Finding) bool {
	if f.File != s.file || (s.line != 0 && f.Line != s.line) {
		return false
	}
	for _, c := range s.codes {
		if c == f.Rule {
			return true
		}
	}
	return false
}

// applySuppressions drops the findings a pragma silences and adds findings
// for pragmas without a reason or that silenced nothing.
func (r *Registry) applySuppressions(p *Pass) []cpk.Finding {
	findings := p.findings
	sups := collectSuppressions(p)
	if len(sups) == 0 {
		return findings
	}
	kept := findings[:0]
	for _, f := range findings {
		silenced := false
		for _, s := range sups {
			if s.matches(f) {
				s.used, silenced = true, true
			}
		}
		if !silenced {
			kept = append(kept, f)
		}
	}
	for _, s := range sups {
		report := func(code, msg string) {
			if rule := r.byCode[code]; rule != nil && !r.disabled[code] {
				f := s.at
				f.Rule, f.Severity, f.Message = code, r.Severity(rule), msg
				kept = append(kept, f)
			}
		}
		if s.reason == "" {
			report(SuppressionNoReason, fmt.Sprintf("cpk:ignore %s has no reason: add \" -- why\"", strings.Join(s.codes, ",")))
		}
		if !s.used {
			report(SuppressionUnused, fmt.Sprintf("cpk:ignore %s silences nothing here: remove it", strings.Join(s.codes, ",")))
		}
	}
	return kept
}
