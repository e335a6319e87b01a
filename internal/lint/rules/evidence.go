package rules

import (
	"cpk/internal/cpk"
	"cpk/internal/evidence"
	"cpk/internal/lint"
)

// The committed proof of a lifecycle test (test/evidence.json, written by
// cpk test) against the files it claims to have tested.
var evidenceRules = []*lint.Rule{
	{
		Code: "PK008", Title: "the committed test evidence matches the package's content", Severity: cpk.Warning,
		Doc: `cpk test writes test/evidence.json when a package passes its lifecycle
test: the content hash of the files it tested, the engine, the base image,
every step and check. A package is verified, on any clone, while that hash
matches its files. This rule decides from the evidence's contentHash field
against the hash of the package's files now (every file but cpk.yaml, the
evidence itself and hidden files): a package whose files changed since its
test has stale evidence and is no longer verified.

Bad:

    test/evidence.json  "contentHash": "3f1c…"   (NOTES.md edited since)

Good:

    cpk test APP, then commit test/evidence.json with the package`,
		Run: checkEvidenceStale,
	},
	{
		Code: "PK009", Title: "the test evidence is as cpk test wrote it", Severity: cpk.Error,
		Doc: `test/evidence.json is machine-written: it carries a digest of its own
fields, so an edit by hand is detected. This rule decides from that digest,
from the file's schema, and from its steps (a verifying test passed install,
restart, backup, restore, move and uninstall). Evidence edited by hand, in
an unknown format, or recording a failed or partial test proves nothing.

Bad:

    test/evidence.json edited to say "outcome": "passed", or merged by hand

Good:

    cpk test APP writes it again; commit what it wrote`,
		Run: checkEvidenceIntact,
	},
}

// evidenceStatus is the package's evidence checked against its files, once
// per pass.
func evidenceStatus(p *lint.Pass) evidence.Status {
	return p.Memo("evidence:status", func() any { return evidence.Check(p.Dir, "") }).(evidence.Status)
}

func checkEvidenceStale(p *lint.Pass) {
	if st := evidenceStatus(p); st.State == evidence.Stale {
		p.Reportf(evidence.File, 1, 0, "%s", st.Problem)
	}
}

func checkEvidenceIntact(p *lint.Pass) {
	if st := evidenceStatus(p); st.State == evidence.Tampered || st.State == evidence.Invalid {
		p.Reportf(evidence.File, 1, 0, "%s", st.Problem)
	}
}
