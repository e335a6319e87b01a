package manifest

import "regexp"

// schema is the subset of JSON Schema draft 4 that SCHEMA_V1 of the official
// validator uses, with tv4's meaning of each keyword.
type schema struct {
	typ       string   // "string", "integer", "boolean", "array", "object"; "" accepts any type
	minLength int      // in UTF-16 code units, as JavaScript's String length
	min, max  *float64 // inclusive bounds of an integer
	pattern   *regexp.Regexp
	format    string // one of the names in formatCheck

	items  *schema
	unique bool // uniqueItems, with deep equality

	props    map[string]*schema
	patterns []patternProp
	anyKeys  bool // additionalProperties: true; without it unknown keys are banned
	required []string

	oneOf []*schema // memoryLimit only
	hint  string    // what oneOf expects, for messages

	gate string // cpk superset: the minBoxVersion that makes the property known
}

type patternProp struct {
	re     *regexp.Regexp
	schema *schema
	what   string // what a key must look like, for messages about unknown keys
}

func strSchema(minLength int) *schema { return &schema{typ: "string", minLength: minLength} }

func formatSchema(format string, minLength int) *schema {
	return &schema{typ: "string", format: format, minLength: minLength}
}

func intSchema(min, max float64) *schema {
	return &schema{typ: "integer", min: &min, max: &max}
}

func boolSchema() *schema { return &schema{typ: "boolean"} }

func uniqueArray(items *schema) *schema { return &schema{typ: "array", items: items, unique: true} }

func gated(version string, s *schema) *schema { s.gate = version; return s }

// anyObject is an addon declared with additionalProperties: true: any option passes.
func anyObject() *schema { return &schema{typ: "object", anyKeys: true} }

// The addons whose options the official schema does not look into.
var openAddons = regexp.MustCompile(`^(ldap|redis|sendmail|oauth|mysql|postgresql|mongodb|localstorage|email|recvmail|tls|turn|docker|proxyAuth)$`)

var addonNames = []string{"ldap", "redis", "sendmail", "oauth", "mysql", "postgresql", "mongodb",
	"localstorage", "email", "recvmail", "tls", "turn", "docker", "proxyAuth", "oidc", "scheduler"}

// portSchema is one entry of tcpPorts or udpPorts.
func portSchema() *schema {
	return &schema{typ: "object", required: []string{"title", "description"}, props: map[string]*schema{
		"title":         strSchema(2),
		"description":   strSchema(5),
		"containerPort": intSchema(1, 65535),
		"defaultValue":  intSchema(1, 65535),
		"portCount":     intSchema(1, 1000),
		"readOnly":      boolSchema(),
	}}
}

func portsSchema() *schema {
	return &schema{typ: "object", format: "envvar", patterns: []patternProp{{
		re: regexp.MustCompile(`^[A-Z0-9_]+$`), schema: portSchema(),
		what: "an environment variable name of upper-case letters, digits and _ (^[A-Z0-9_]+$)",
	}}}
}

var minOne = 1.0

// manifestSchema is SCHEMA_V1 of cloudron-manifestformat 5.27.0 plus the
// gated fields of newer platforms.
var manifestSchema = &schema{
	typ:      "object",
	required: []string{"manifestVersion", "version", "httpPort"},
	props: map[string]*schema{
		"addons": {
			typ: "object",
			patterns: []patternProp{{re: openAddons, schema: anyObject(),
				what: "a known addon name"}},
			props: map[string]*schema{
				"oidc": {typ: "object", anyKeys: true, required: []string{"loginRedirectUri"},
					props: map[string]*schema{"loginRedirectUri": strSchema(0)}},
				"scheduler": {typ: "object", patterns: []patternProp{{
					re: regexp.MustCompile(`^[a-zA-Z0-9_]+$`),
					schema: &schema{typ: "object", props: map[string]*schema{
						"schedule": formatSchema("cronpattern", 0),
						"command":  strSchema(0),
					}},
					what: "a task name of letters, digits and _ (^[a-zA-Z0-9_]+$)",
				}}},
			},
		},
		"aliasableDomain": boolSchema(),
		"author":          strSchema(2),
		"capabilities": uniqueArray(&schema{typ: "string",
			pattern: regexp.MustCompile(`^(net_admin|mlock|ping|vaapi)$`)}),
		"checklist": {typ: "object", patterns: []patternProp{{
			re: regexp.MustCompile(`^[a-zA-Z0-9_-]+$`),
			schema: &schema{typ: "object", required: []string{"message"}, props: map[string]*schema{
				"sso":     boolSchema(),
				"message": strSchema(0),
			}},
			what: "an item name of letters, digits, _ and - (^[a-zA-Z0-9_-]+$)",
		}}},
		"changelog":        strSchema(5),
		"configurePath":    strSchema(1),
		"contactEmail":     formatSchema("email", 0),
		"description":      strSchema(5),
		"dockerImage":      strSchema(1),
		"documentationUrl": formatSchema("uri", 1),
		"forumUrl":         formatSchema("uri", 1),
		"healthCheckPath":  strSchema(1),
		"httpPort":         intSchema(0, 65535),
		"httpPorts": {typ: "object", format: "envvar", patterns: []patternProp{{
			re: regexp.MustCompile(`^[a-zA-Z0-9_]+$`),
			schema: &schema{typ: "object", required: []string{"title", "description", "containerPort"},
				props: map[string]*schema{
					"title":           strSchema(2),
					"description":     strSchema(5),
					"containerPort":   intSchema(1, 65535),
					"defaultValue":    strSchema(1),
					"aliasableDomain": boolSchema(),
				}},
			what: "an environment variable name of letters, digits and _ (^[a-zA-Z0-9_]+$)",
		}}},
		"icon":            strSchema(0),
		"id":              formatSchema("reverseDomain", 0),
		"logPaths":        uniqueArray(strSchema(1)),
		"manifestVersion": intSchema(1, 2),
		"maxBoxVersion":   formatSchema("semver", 0),
		"mediaLinks":      uniqueArray(formatSchema("uri", 0)),
		"memoryLimit": {
			oneOf: []*schema{{typ: "integer", min: &minOne}, formatSchema("byteString", 0)},
			hint:  `an integer number of bytes (at least 1) or a size string such as "512MB" (a number, then kb, mb, gb or tb)`,
		},
		"minBoxVersion":      formatSchema("semver", 0),
		"multiDomain":        boolSchema(),
		"optionalSso":        boolSchema(),
		"postInstallMessage": strSchema(5),
		"runtimeDirs":        uniqueArray(strSchema(1)),
		"tagline":            strSchema(5),
		"tags":               uniqueArray(strSchema(0)),
		"targetBoxVersion":   formatSchema("semver", 0),
		"tcpPorts":           portsSchema(),
		"title":              strSchema(2),
		"udpPorts":           portsSchema(),
		"upstreamVersion":    strSchema(1),
		"version":            formatSchema("semver", 0),
		"website":            formatSchema("uri", 0),

		// Fields of newer platforms: unknown to 5.27.0, known to cpk when
		// minBoxVersion reaches the release that introduced them.
		"persistentDirs": gated("9.1.0", uniqueArray(strSchema(1))),
		"backupCommand":  gated("9.1.0", strSchema(1)),
		"restoreCommand": gated("9.1.0", strSchema(1)),
		"iconUrl":        gated("9.1.0", formatSchema("uri", 0)),
		"packagerName":   gated("9.1.0", strSchema(2)),
		"packagerUrl":    gated("9.1.0", formatSchema("uri", 0)),
		"packageUrl":     gated("10.0.0", formatSchema("uri", 0)),
	},
}
