package manifest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// want describes one expected error.
type want struct {
	ptr       string
	line, col int
	kind      Kind
	msg       string // substring
}

func assertErrors(t *testing.T, got []Error, wants []want) {
	t.Helper()
	for i := 0; i < max(len(got), len(wants)); i++ {
		switch {
		case i >= len(got):
			t.Errorf("missing error %d: %+v", i, wants[i])
		case i >= len(wants):
			t.Errorf("unexpected error %d: %q %d:%d %v %s", i, got[i].Pointer, got[i].Line, got[i].Column, got[i].Kind, got[i].Message)
		default:
			g, w := got[i], wants[i]
			if g.Pointer != w.ptr || g.Line != w.line || g.Column != w.col || g.Kind != w.kind || !strings.Contains(g.Message, w.msg) {
				t.Errorf("error %d:\n got  %q %d:%d %v %s\n want %q %d:%d %v …%s…", i, g.Pointer, g.Line, g.Column, g.Kind, g.Message, w.ptr, w.line, w.col, w.kind, w.msg)
			}
		}
	}
}

func TestCheckReportsAllErrors(t *testing.T) {
	in := `{
  "id": "com.Example.app",
  "title": "X",
  "healthcheckPath": "/",
  "version": "1.0.0",
  "httpPort": "8000",
  "tcpPorts": {
    "ssh_port": { "title": "SSH", "description": "The SSH port" },
    "GIT": { "title": "G", "enabledByDefault": true },
    "CLOUDRON_X": { "title": "ab", "description": "abcde" }
  },
  "udpPorts": { "GIT": { "title": "Git", "description": "Git over UDP" } },
  "addons": {
    "proxyauth": {},
    "localstorage": { "sqlite": { "path": "/app/data/db" } },
    "oidc": {},
    "scheduler": { "a-b": { "schedule": "* * * * * *" }, "ok": { "schedule": "61 * * * *", "cmd": "x" } }
  },
  "memoryLimit": "512M",
  "tags": [ "a", "b", "a", 3 ],
  "persistentDirs": [ "/var/lib/x" ],
  "runtimeDirs": [ "/tmp/x", "/app/code/x" ],
  "dockerImage": "https://docker.io/x/y:1",
  "capabilities": [ "sys_admin" ],
  "optionalSso": {},
  "documentationUrl": "",
  "description": "abc😀",
  "httpPorts": { "U": { "title": "ab", "description": "abcde", "containerPort": 1e400 } }
}`
	r := Check([]byte(in), Options{})
	if r.Valid || r.Doc == nil {
		t.Fatalf("Valid = %v, Doc = %v", r.Valid, r.Doc)
	}
	assertErrors(t, r.Errors, []want{
		{"", 1, 1, Required, `missing required property "manifestVersion"`},
		{"/id", 2, 9, Format, `id: format validation failed (Invalid id): "com.Example.app"`},
		{"/title", 3, 12, Constraint, "title: string is too short (1 chars), minimum 2"},
		{"/healthcheckPath", 4, 3, Unknown, `unknown property "healthcheckPath" (not in schema; did you mean "healthCheckPath"?)`},
		{"/httpPort", 6, 15, Type, `httpPort: invalid type: string "8000" (expected integer); remove the quotes`},
		{"/tcpPorts/ssh_port", 8, 5, Unknown, `unknown property "ssh_port" in tcpPorts (not in schema; did you mean "SSH_PORT"?)`},
		{"/tcpPorts/GIT", 9, 12, Required, `missing required property "description" in tcpPorts.GIT`},
		{"/tcpPorts/GIT/title", 9, 23, Constraint, "tcpPorts.GIT.title: string is too short (1 chars), minimum 2"},
		{"/tcpPorts/GIT/enabledByDefault", 9, 28, Unknown, `unknown property "enabledByDefault" in tcpPorts.GIT (not in schema)`},
		{"/tcpPorts/CLOUDRON_X", 10, 5, Format, "tcpPorts.CLOUDRON_X: format validation failed (CLOUDRON_ prefix is reserved)"},
		{"/udpPorts/GIT", 12, 17, ExtraCheck, `Duplicate env vars in tcpPorts/udpPorts/httpPorts: "GIT" is already declared in tcpPorts`},
		{"/addons/proxyauth", 14, 5, Unknown, `unknown addon "proxyauth" (not in schema; did you mean "proxyAuth"?)`},
		{"/addons/localstorage/sqlite", 15, 33, ExtraCheck, "sqlite.paths is required"},
		{"/addons/oidc", 16, 13, Required, `missing required property "loginRedirectUri" in addons.oidc`},
		{"/addons/scheduler/a-b", 17, 20, Unknown, `unknown property "a-b" in addons.scheduler (not in schema; did you mean "a_b"?)`},
		{"/addons/scheduler/ok/schedule", 17, 78, Format, "addons.scheduler.ok.schedule: format validation failed (Invalid cron pattern"},
		{"/addons/scheduler/ok/cmd", 17, 92, Unknown, `unknown property "cmd" in addons.scheduler.ok (not in schema`},
		{"/memoryLimit", 19, 18, Format, `memoryLimit: data does not match any schemas from "oneOf": found string "512M"`},
		{"/tags/2", 20, 23, Constraint, `tags[2]: array items are not unique: item 2 repeats item 0`},
		{"/tags/3", 20, 28, Type, "tags[3]: invalid type: number 3 (expected string)"},
		{"/persistentDirs", 21, 3, Gate, `unknown property "persistentDirs" (not in schema of validator 5.27.0; needs minBoxVersion ≥ 9.1.0, minBoxVersion is not set)`},
		{"/runtimeDirs/0", 22, 20, ExtraCheck, `runtimeDirs[0]: Invalid run time dir: "/tmp/x"`},
		{"/dockerImage", 23, 18, ExtraCheck, `dockerImage: Invalid docker image name: "https://docker.io/x/y:1" contains "//"`},
		{"/capabilities/0", 24, 21, Constraint, `capabilities[0]: string "sys_admin" does not match pattern ^(net_admin|mlock|ping|vaapi)$`},
		{"/optionalSso", 25, 18, Type, "optionalSso: invalid type: object (expected boolean)"},
		{"/documentationUrl", 26, 23, Constraint, "documentationUrl: string is too short (0 chars), minimum 1"},
		{"/httpPorts/U/containerPort", 28, 81, Type, "httpPorts.U.containerPort: invalid type: number 1e400 (expected integer); JavaScript reads 1e400 as Infinity"},
	})
	// "abc😀" is 5 UTF-16 code units: long enough, as in JavaScript.
}

func TestCheckTopLevelMustBeAnObject(t *testing.T) {
	for in, found := range map[string]string{
		"null": "null", "42": "number 42", `"x"`: `string "x"`, "[]": "array", "true": "boolean true", " \n [1]": "array",
	} {
		r := Check([]byte(in), Options{Appstore: true})
		if r.Valid || len(r.Errors) != 1 || r.Doc == nil {
			t.Fatalf("%s: %+v", in, r)
		}
		e := r.Errors[0]
		if e.Kind != Syntax || e.Pointer != "" || !strings.Contains(e.Message, "must be a JSON object") || !strings.Contains(e.Message, "found "+found) {
			t.Errorf("%s: %+v", in, e)
		}
		if r.Appstore.Valid || len(r.Appstore.Errors) != 1 {
			t.Errorf("%s: appstore %+v", in, r.Appstore)
		}
	}
	if _, _, ok := Check([]byte(" \n [1]"), Options{}).Doc.Position(""); !ok {
		t.Error("Position of the root")
	}
}

func TestCheckSyntaxErrorHasNoDocument(t *testing.T) {
	r := Check([]byte(`{"a": 1,}`), Options{Appstore: true})
	if r.Valid || r.Doc != nil || len(r.Errors) != 1 || r.Errors[0].Kind != Syntax {
		t.Fatalf("%+v", r)
	}
	if r.Appstore == nil || r.Appstore.Valid || len(r.Appstore.Errors) != 1 {
		t.Errorf("appstore %+v", r.Appstore)
	}
}

func TestCheckDuplicateKeysStillValidates(t *testing.T) {
	r := Check([]byte(`{"manifestVersion": 2, "version": "1.0.0", "httpPort": 80, "title": "ok", "title": "x"}`), Options{})
	assertErrors(t, r.Errors, []want{
		{"/title", 1, 75, Syntax, `duplicate property "title"`},
		{"/title", 1, 84, Constraint, "title: string is too short (1 chars), minimum 2"},
	})
}

// The official validator would say "Invalid type" then stop; cpk must not
// add length or format complaints about a value of the wrong type, nor report
// a problem twice.
func TestCheckOneProblemPerValue(t *testing.T) {
	r := Check([]byte(`{"manifestVersion": 2, "version": 1, "httpPort": 80, "website": ["x"], "forumUrl": "", "tags": [1, 1]}`), Options{})
	assertErrors(t, r.Errors, []want{
		{"/version", 1, 35, Type, "version: invalid type: number 1 (expected string)"},
		{"/website", 1, 65, Type, "website: invalid type: array (expected string); write the string without the brackets"},
		{"/forumUrl", 1, 84, Constraint, "string is too short (0 chars), minimum 1"},
		{"/tags/0", 1, 97, Type, "tags[0]: invalid type: number 1 (expected string)"},
		{"/tags/1", 1, 100, Type, "tags[1]: invalid type: number 1 (expected string)"},
	})
}

func TestCheckGatedFields(t *testing.T) {
	base := obj{{"manifestVersion", 2}, {"version", "1.0.0"}, {"httpPort", 8000}}
	for _, g := range []struct {
		key, gate string
		good, bad any
	}{
		{"persistentDirs", "9.1.0", []any{"/var/lib/search"}, []any{""}},
		{"backupCommand", "9.1.0", "/app/code/backup.sh", ""},
		{"restoreCommand", "9.1.0", "/app/code/restore.sh", []any{}},
		{"iconUrl", "9.1.0", "https://example.com/icon.png", "not-valid"},
		{"packagerName", "9.1.0", "Jane Doe", "J"},
		{"packagerUrl", "9.1.0", "https://example.com", "not-valid"},
		{"packageUrl", "10.0.0", "https://git.example.com/app", "not-valid"},
	} {
		t.Run(g.key, func(t *testing.T) {
			r := Check([]byte(encode(base.with(g.good, g.key))), Options{})
			if r.Valid || len(r.Errors) != 1 || r.Errors[0].Kind != Gate || r.Errors[0].Pointer != "/"+g.key ||
				!strings.Contains(r.Errors[0].Message, "needs minBoxVersion ≥ "+g.gate+", minBoxVersion is not set") {
				t.Errorf("without minBoxVersion: %v", r.Errors)
			}
			r = Check([]byte(encode(base.with(g.good, g.key).with("9.0.99", "minBoxVersion"))), Options{})
			if r.Valid || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "minBoxVersion is 9.0.99") {
				t.Errorf("below the gate: %v", r.Errors)
			}
			r = Check([]byte(encode(base.with(g.good, g.key).with("1.0", "minBoxVersion"))), Options{})
			if r.Valid || len(r.Errors) != 2 || !strings.Contains(r.Errors[0].Message, `minBoxVersion "1.0" is not a valid version`) {
				t.Errorf("invalid minBoxVersion: %v", r.Errors)
			}
			r = Check([]byte(encode(base.with(g.good, g.key).with(g.gate, "minBoxVersion"))), Options{})
			if !r.Valid {
				t.Errorf("at the gate: %v", r.Errors)
			}
			r = Check([]byte(encode(base.with(g.bad, g.key).with("10.1.0", "minBoxVersion"))), Options{})
			if r.Valid || len(r.Errors) != 1 || r.Errors[0].Pointer != "/"+g.key && !strings.HasPrefix(r.Errors[0].Pointer, "/"+g.key+"/") {
				t.Errorf("bad value at the gate: %v", r.Errors)
			}
		})
	}
}

func TestCheckSuggestions(t *testing.T) {
	for key, msg := range map[string]string{
		"healthcheckPath":  `did you mean "healthCheckPath"?`,
		"HTTPPORT":         `did you mean "httpPort"?`,
		"titel":            `did you mean "title"?`,
		"minboxversion":    `did you mean "minBoxVersion"?`,
		"memorylimit":      `did you mean "memoryLimit"?`,
		"persistentDir":    `did you mean "persistentDirs"?`,
		"developmentMode":  `unknown property "developmentMode" (not in schema)`,
		"zzz":              `unknown property "zzz" (not in schema)`,
		"documentationURL": `did you mean "documentationUrl"?`,
	} {
		r := Check([]byte(encode(obj{{"manifestVersion", 2}, {"version", "1.0.0"}, {"httpPort", 8000}, {key, 1}})), Options{})
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, msg) {
			t.Errorf("%s: %v", key, r.Errors)
		}
	}
	r := Check([]byte(`{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "addons": {"postgres": {}, "foo": {}}}`), Options{})
	assertErrors(t, r.Errors, []want{
		{"/addons/postgres", 1, 73, Unknown, `unknown addon "postgres" (not in schema; did you mean "postgresql"?)`},
		{"/addons/foo", 1, 89, Unknown, `unknown addon "foo" (not in schema): known addons are ldap, redis`},
	})
}

func TestAppstore(t *testing.T) {
	in := `{
  "manifestVersion": 2, "version": "1.2.3-beta+b1", "httpPort": 8000,
  "id": "io.example.app", "dockerImage": "cloudron/io.example.other:1",
  "title": "", "icon": "", "tags": [], "mediaLinks": [],
  "upstreamVersion": "1.0", "minBoxVersion": "7.0.0",
  "tcpPorts": { "A": { "title": "ab", "description": "abcde", "portCount": 2 }, "B": null },
  "addons": { "sendmail": { "requiresValidCertificate": 1 }, "localstorage": { "sqlite": { "paths": [] } } }
}`
	r := Check([]byte(in), Options{Appstore: true})
	if r.Appstore == nil || r.Appstore.Valid {
		t.Fatalf("%+v", r.Appstore)
	}
	assertErrors(t, r.Appstore.Errors, []want{
		{"", 1, 1, Appstore, "description is missing in manifest"},
		{"", 1, 1, Appstore, "tagline is missing in manifest"},
		{"", 1, 1, Appstore, "website is missing in manifest"},
		{"", 1, 1, Appstore, "contactEmail is missing in manifest"},
		{"", 1, 1, Appstore, "author is missing in manifest"},
		{"", 1, 1, Appstore, "changelog is missing in manifest"},
		{"", 1, 1, Appstore, "healthCheckPath is missing in manifest"},
		{"/version", 2, 36, Appstore, `Version can only contain a numeric prerelease: "1.2.3-beta+b1"`},
		{"/version", 2, 36, Appstore, `Build cannot contains build`},
		{"/dockerImage", 3, 42, Appstore, `dockerImage must be in cloudron/appid format: "cloudron/io.example.other:1" does not start with "cloudron/io.example.app:"`},
		{"/title", 4, 12, Appstore, "title is empty in manifest"},
		{"/icon", 4, 24, Appstore, "icon is empty in manifest"},
		{"/mediaLinks", 4, 54, Appstore, "mediaLinks is empty in manifest"},
		{"/upstreamVersion", 5, 22, Gate, "upstreamVersion requires minBoxVersion of at least 7.1.0 (minBoxVersion is 7.0.0)"},
		{"/tcpPorts/A/portCount", 6, 76, Gate, "tcpPorts.portCount requires minBoxVersion of at least 7.7.0"},
		{"/addons/sendmail/requiresValidCertificate", 7, 57, Gate, "requiresValidCertificate requires minBoxVersion of at least 9.0.0"},
		{"/addons/localstorage/sqlite", 7, 90, Gate, "sqlite addon requires minBoxVersion of at least 8.2.0"},
	})
}

// The official checkAppstoreRequirements throws on such values; cpk must not
// crash and leaves them to the main validation.
func TestAppstoreNeverCrashes(t *testing.T) {
	for _, in := range []string{
		`{"version": 5, "minBoxVersion": 5, "upstreamVersion": "x", "mediaLinks": null, "dockerImage": 5, "id": 3}`,
		`{"version": "x", "minBoxVersion": "nope", "logPaths": [], "tcpPorts": {"A": null, "B": 5, "C": []}, "udpPorts": []}`,
		`{"addons": null, "mediaLinks": "", "tags": 0, "checklist": {}}`,
		`{"addons": {"localstorage": [], "sendmail": "x"}, "dockerImage": "cloudron/undefined:1"}`,
		`{"addons": {"localstorage": {"sqlite": 0}}, "minBoxVersion": ""}`,
	} {
		r := Check([]byte(in), Options{Appstore: true})
		if r.Appstore == nil || r.Appstore.Valid != (len(r.Appstore.Errors) == 0) {
			t.Errorf("%s: %+v", in, r.Appstore)
		}
	}
}

func TestManifestView(t *testing.T) {
	in := `{
  "id": "io.example.app", "title": "App", "version": "1.0.0", "manifestVersion": 2, "httpPort": 8000,
  "memoryLimit": "512MB", "minBoxVersion": "9.1.0", "persistentDirs": ["/var/lib/x"], "backupCommand": "backup",
  "addons": {"localstorage": {"sqlite": {"paths": ["/app/data/db"]}}, "postgresql": {}, "oidc": {"loginRedirectUri": "/cb"}},
  "tcpPorts": {"SSH_PORT": {"title": "SSH", "description": "SSH port", "containerPort": 22, "defaultValue": 2222, "portCount": 3, "readOnly": true}},
  "httpPorts": {"API_DOMAIN": {"title": "API", "description": "The API", "containerPort": 9000, "defaultValue": "api", "aliasableDomain": true}},
  "checklist": {"a": {"message": "m", "sso": false}, "b": {"message": "n"}},
  "tags": ["a", 1, "b"], "optionalSso": "yes", "multiDomain": true, "healthCheckPath": 5
}`
	r := Check([]byte(in), Options{})
	m := r.Doc.Manifest()
	f := false
	expect := Manifest{
		ID: "io.example.app", Title: "App", Version: "1.0.0", ManifestVersion: 2, HTTPPort: 8000,
		MemoryLimit: "512MB", MinBoxVersion: "9.1.0", PersistentDirs: []string{"/var/lib/x"}, BackupCommand: "backup",
		Addons: map[string]map[string]any{
			"localstorage": {"sqlite": map[string]any{"paths": []any{"/app/data/db"}}},
			"postgresql":   {},
			"oidc":         {"loginRedirectUri": "/cb"},
		},
		TCPPorts:  map[string]Port{"SSH_PORT": {Title: "SSH", Description: "SSH port", ContainerPort: 22, DefaultValue: 2222, PortCount: 3, ReadOnly: true}},
		HTTPPorts: map[string]HTTPPort{"API_DOMAIN": {Title: "API", Description: "The API", ContainerPort: 9000, DefaultValue: "api", AliasableDomain: true}},
		Checklist: map[string]ChecklistItem{"a": {Message: "m", SSO: &f}, "b": {Message: "n"}},
		Tags:      []string{"a", "b"}, MultiDomain: true,
	}
	if !reflect.DeepEqual(m, expect) {
		t.Errorf("Manifest() =\n%+v\nwant\n%+v", m, expect)
	}
	if got := (*Document)(nil).Manifest(); !reflect.DeepEqual(got, Manifest{}) {
		t.Errorf("nil document: %+v", got)
	}
	r = Check([]byte(`{"memoryLimit": 1e400, "httpPort": 1e10}`), Options{})
	if m := r.Doc.Manifest(); fmt.Sprint(m.MemoryLimit) != "+Inf" || m.HTTPPort != 0 {
		t.Errorf("%v %v", m.MemoryLimit, m.HTTPPort)
	}
}
