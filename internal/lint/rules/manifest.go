package rules

import (
	"cpk/internal/cpk"
	"cpk/internal/lint"
	"cpk/internal/manifest"
)

// CatalogRule is the code under which problems of cpk.yaml are reported:
// the catalog loader finds them (strict decoding needs the whole catalog,
// for duplicate ids), and the package carries them into the pass, where
// this rule reports them like any other, suppressions and configuration
// included.
const CatalogRule = "CY001"

var manifestRules = []*lint.Rule{
	{
		Code: "MF001", Title: "the package has a CloudronManifest.json", Severity: cpk.Error,
		Doc: `Every Cloudron package has CloudronManifest.json at its root: the platform
reads the ports, add-ons, health check and memory limit from it.

Bad:

    apps/grist/Dockerfile   (and no CloudronManifest.json)

Good:

    { "manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, … }`,
		Run: func(p *lint.Pass) {
			if p.Manifest() == nil {
				p.Reportf(lint.ManifestFile, 0, 0, "no %s: every package needs one at its root", lint.ManifestFile)
			}
		},
	},
	manifestKindRule("MF002", "the manifest is a JSON object", manifest.Syntax, `The manifest must be one JSON object: no comments, no trailing commas, no
byte-order mark, no duplicate keys (the platform would silently keep the last).

Bad:

    { "version": "1.0.0", "httpPort": 8000, }

Good:

    { "version": "1.0.0", "httpPort": 8000 }`),
	manifestKindRule("MF003", "the manifest passes the official validator", 0, `The official validator (cloudron-manifestformat) rejects unknown properties at
every level, wrong types, too-short texts, invalid ids, URLs, e-mail addresses,
semver versions and cron patterns, duplicate port variables, a "//" in
dockerImage, runtimeDirs outside /app/code, /root or /home/cloudron, and
sqlite paths that are not a list. A manifest it rejects cannot be installed.

Bad:

    { "manifestVersion": 2, "version": "1.0", "httpPort": 8000, "healthcheckPath": "/" }

Good:

    { "manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "healthCheckPath": "/" }`),
	manifestKindRule("MF004", "newer manifest fields come with the minBoxVersion they need", manifest.Gate, `persistentDirs, backupCommand and restoreCommand need Cloudron 9.1, packageUrl
needs 10.0, and iconUrl, packagerName and packagerUrl come with the 9.1
version catalog. Older platforms reject them as unknown properties, so a
manifest that uses them must say so with minBoxVersion.

Bad:

    { "persistentDirs": ["/var/lib/opensearch"], … }

Good:

    { "minBoxVersion": "9.1.0", "persistentDirs": ["/var/lib/opensearch"], … }`),
	{
		Code: CatalogRule, Title: "cpk.yaml is a valid catalog entry", Severity: cpk.Error,
		Doc: `Each application's cpk.yaml is strictly checked when the catalog loads:
unknown keys, values outside the plan's tiers, phases, categories and
complexities, an id that does not match its folder, and hand-set states other
than blocked (with a reason) and retired are errors.

Bad:

    id: grist
    tire: 1
    phase: 5

Good:

    id: grist
    tier: 1
    phase: 2`,
		Run: func(p *lint.Pass) {
			for _, e := range p.EntryProblems {
				p.Reportf(e.File, e.Line, e.Column, "%s", e.Message)
			}
		},
	},
}

// manifestKindRule reports the manifest errors of one kind; kind 0 takes
// every schema-level kind (unknown, required, type, format, constraint, check).
func manifestKindRule(code, title string, kind manifest.Kind, doc string) *lint.Rule {
	return &lint.Rule{
		Code: code, Title: title, Severity: cpk.Error, Doc: doc,
		Run: func(p *lint.Pass) {
			m := p.Manifest()
			if m == nil {
				return
			}
			for _, e := range m.Errors {
				schema := e.Kind != manifest.Syntax && e.Kind != manifest.Gate && e.Kind != manifest.Appstore
				if e.Kind == kind || (kind == 0 && schema) {
					msg := e.Message
					if e.Pointer != "" {
						msg += " (at " + e.Pointer + ")"
					}
					p.Reportf(lint.ManifestFile, e.Line, e.Column, "%s", msg)
				}
			}
		},
	}
}

// pos returns the line and column of a manifest value, or of the document.
func pos(m *manifest.Report, pointer string) (int, int) {
	if m.Doc != nil {
		if l, c, ok := m.Doc.Position(pointer); ok {
			return l, c
		}
	}
	return 1, 1
}
