package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDifferentialAgainstOfficial generates manifests deterministically, asks
// the official validator (one node process running
// testdata/official_verdicts.js) for its verdicts, and requires Check to agree
// on every one: Report.Valid with parseString, and, for manifests the official
// validator accepts, AppstoreReport.Valid with checkAppstoreRequirements.
//
// Excluded from the comparison, because cpk differs on purpose, are cases
// marked "deliberate" below; for those the test asserts cpk's own verdict:
//   - the gated superset fields with their minBoxVersion met (persistentDirs,
//     backupCommand, restoreCommand, iconUrl, packagerName, packagerUrl,
//     packageUrl): 5.27.0 does not know them, cpk accepts them;
//   - duplicate keys: JSON.parse keeps the last one, cpk rejects the file;
//   - properties named after Object.prototype members (constructor, toString,
//     __proto__…): tv4 finds a "schema" for them on the prototype and accepts
//     them; cpk reports them as unknown.
//
// Lone surrogates and invalid UTF-8 (also rejected on purpose) are covered by
// the decoder tests and not generated here.
func TestDifferentialAgainstOfficial(t *testing.T) {
	node, dir := officialValidator(t)
	cases := differentialCases()

	tmp := t.TempDir()
	for i, c := range cases {
		if err := os.WriteFile(filepath.Join(tmp, fmt.Sprintf("%04d.json", i)), []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(node, filepath.Join(dir, "..", "official_verdicts.js"), dir, tmp)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("official validator: %v\n%s", err, stderr.String())
	}
	var verdicts []struct {
		File       string `json:"file"`
		Valid      bool   `json:"valid"`
		Error      string `json:"error"`
		Store      *bool  `json:"store"`
		StoreError string `json:"storeError"`
	}
	if err := json.Unmarshal(out, &verdicts); err != nil {
		t.Fatalf("official validator output: %v", err)
	}
	if len(verdicts) != len(cases) {
		t.Fatalf("official validator returned %d verdicts for %d manifests", len(verdicts), len(cases))
	}

	var valid, invalid, storeValid, storeInvalid, deliberate, mismatches int
	for i, c := range cases {
		off := verdicts[i]
		if off.File != fmt.Sprintf("%04d.json", i) {
			t.Fatalf("verdict %d is for %s", i, off.File)
		}
		r := Check([]byte(c.text), Options{Appstore: true})
		if c.deliberate != "" {
			deliberate++
			if r.Valid != c.want {
				mismatches++
				t.Errorf("%s (%s): deliberate difference (%s): Valid = %v, want %v\n  manifest: %s\n  cpk: %s",
					off.File, c.name, c.deliberate, r.Valid, c.want, c.text, errorList(r.Errors))
			}
			continue
		}
		if off.Valid {
			valid++
		} else {
			invalid++
		}
		if r.Valid != off.Valid {
			mismatches++
			t.Errorf("%s (%s): Valid = %v, official %v (%s)\n  manifest: %s\n  cpk: %s",
				off.File, c.name, r.Valid, off.Valid, off.Error, c.text, errorList(r.Errors))
			continue
		}
		if off.Store == nil {
			continue
		}
		if *off.Store {
			storeValid++
		} else {
			storeInvalid++
		}
		if r.Appstore.Valid != *off.Store {
			mismatches++
			t.Errorf("%s (%s): Appstore.Valid = %v, official %v (%s)\n  manifest: %s\n  cpk: %s",
				off.File, c.name, r.Appstore.Valid, *off.Store, off.StoreError, c.text, errorList(r.Appstore.Errors))
		}
	}
	t.Logf("%d manifests: %d compared (%d valid, %d invalid; store: %d valid, %d invalid), %d deliberate differences, %d mismatches",
		len(cases), valid+invalid, valid, invalid, storeValid, storeInvalid, deliberate, mismatches)
	if len(cases) < 600 {
		t.Errorf("only %d manifests generated, want at least 600", len(cases))
	}
}

func errorList(errs []Error) string {
	if len(errs) == 0 {
		return "no errors"
	}
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n    %d:%d %s", e.Line, e.Column, e.Message)
	}
	return b.String()
}

type diffCase struct {
	name       string
	text       string
	deliberate string // why cpk differs on purpose; "" when compared with the official verdict
	want       bool   // cpk's verdict for a deliberate case
}

// diffBase is valid for parse() and for checkAppstoreRequirements.
func diffBase() obj {
	return obj{
		{"id", "io.cloudron.test"},
		{"title", "Bar App"},
		{"author", "Jane Doe <jane@example.com>"},
		{"description", "Long long ago, there was foo"},
		{"tagline", "Not your usual Foo App"},
		{"version", "1.2.3"},
		{"upstreamVersion", "4.5"},
		{"manifestVersion", 2},
		{"httpPort", 8000},
		{"healthCheckPath", "/"},
		{"dockerImage", "cloudron/io.cloudron.test:1.2.3"},
		{"website", "https://example.com"},
		{"contactEmail", "support@example.com"},
		{"icon", "file://icon.png"},
		{"changelog", "file://CHANGELOG"},
		{"tags", []any{"wiki"}},
		{"mediaLinks", []any{"https://example.com/shot.png"}},
		{"minBoxVersion", "8.2.0"},
		{"addons", obj{{"localstorage", obj{}}}},
	}
}

// A mutation changes the base manifest.
type mutation struct {
	name string
	f    func(obj) obj
}

func set(v any, keys ...string) func(obj) obj {
	return func(o obj) obj { return o.with(v, keys...) }
}

func del(keys ...string) func(obj) obj {
	return func(o obj) obj { return o.without(keys...) }
}

// Values of every JSON type, for wrong-type mutations.
var anyTypes = []any{nil, true, false, 0, 1, 1.5, -1, "", "x", "abcdefgh", []any{}, []any{"a"}, obj{}, obj{{"a", 1}}}

// strLen returns strings of UTF-16 length n-1 and n, in ASCII and with
// characters outside the BMP (two code units each).
func strLen(n int) []any {
	var out []any
	for _, l := range []int{n - 1, n} {
		if l < 0 {
			continue
		}
		out = append(out, strings.Repeat("a", l))
		if l >= 2 {
			out = append(out, strings.Repeat("a", l-2)+"😀")
		}
		if l >= 1 {
			out = append(out, strings.Repeat("é", l))
		}
	}
	return out
}

var (
	semverSamples = []any{"1.0.0", "v1.0.0", "=1.0.0", "1.0", "0.2", "1.0.0-1", "1.0.0-pre", "1.0.0+build", "01.0.0",
		"1.0.0-01", " 1.0.0 ", "1.2.3-1.2", "1.2.3-a.b", "1.2.3-0", "1.0.0-", "latest", "1.2.3.4", "v1.2.3-rc.1+b5",
		"99999999999999999999.0.0", "9007199254740991.0.0", "1.0.0-x-y", "1.0.0-😀", "1..0", "10.0.0", "9.1.0"}
	uriSamples = []any{"https://example.com", "http://example.com/x?y=1#z", "example.com", "ftp://example.com",
		"https://localhost", "https://ex_ample.com", "http://baz", "http://baz.com", "not-valid", "https://例子.测试",
		"https://xn--fsqu00a.xn--0zwm56d", "https://1.2.3.4", "mailto:a@b.com", "//example.com", "https://example.com:8080",
		"https://user:pw@example.com/", "https://exa mple.com", "https://example.com/ü", "HTTPS://EXAMPLE.COM",
		"https://-example.com", "https://example.c", "https://example.123", "https://cloudron.io/documentation/apps/wordpress",
		"https://a.b.c.d.example.museum", "http://example.com:99999", "https://[::1]/", "https://example.com."}
	emailSamples = []any{"support@example.com", "a@b", "a@b.c", "foo", "a.b@example.co.uk", `"a b"@example.com`,
		"a@example.com ", "ä@example.com", "a@[1.2.3.4]", "a@localhost", "a..b@example.com", ".a@example.com",
		"a+tag@example.com", "a@exa_mple.com", "Jane <jane@example.com>", "a@example.com.", "a@-example.com",
		strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 64) + ".com"}
	idSamples = []any{"io.cloudron.test", "simply", "12de", "in..x", "no.quest?on", "com.Bar-zoo", "c0m.bar1",
		"com.bar_zoo", "a.b", "-a.b", "a.-b", "a._b", "A.b", "é.b", " io.x", "io.x ", "io.x.", ".io.x", "a.b.c.d.e",
		"io.cloudron.test-app", "0.0"}
	cronSamples = []any{"* * * * *", "@service", "@reboot", "@daily", "@weekly", "@hourly", "@yearly", "@annually",
		"@monthly", "@midnight", "@every 5m", "1 2 3 4 m", "* * * * * *", "0 0 * * 0", "*/5 * * * *", "60 * * * *",
		"0 24 * * *", "0 0 32 * *", "0 0 0 * *", "0 0 * 12 *", "0 0 * 11 *", "0 0 * 0 *", "0 0 * 13 *", "0 0 * * 7",
		"0 0 * * 8", "1-3,5 * * * *", "", "* * * *", "*  * * * *", "0 0 * jan *", "0 0 * * mon", "0 0 * * MON-FRI",
		"5-1 * * * *", "*/0 * * * *", "0 0 1,15 * *", "30 4 * * 1-5", "? * * * *", "0 0 L * *", " * * * *", "a b c d e"}
	sizeSamples = []any{"10MB", "512mb", "1.5GB", "1 kb", "1  kb", "-1MB", "+2TB", "1p", "512M", "MB", "1e3MB",
		" 1MB", "1MB ", "1.MB", ".5MB", "1KB", "1Kb", "0MB", "512 MB", "1,5GB"}
)

func differentialCases() []diffCase {
	base := diffBase()
	var muts []mutation
	add := func(name string, f func(obj) obj) { muts = append(muts, mutation{name, f}) }
	values := func(prop string, vals []any) {
		for _, v := range vals {
			add(fmt.Sprintf("%s=%s", prop, encode(v)), set(v, prop))
		}
	}
	// Every top-level property: absent, every JSON type, specific values.
	props := []string{"addons", "aliasableDomain", "author", "capabilities", "checklist", "changelog", "configurePath",
		"contactEmail", "description", "dockerImage", "documentationUrl", "forumUrl", "healthCheckPath", "httpPort",
		"httpPorts", "icon", "id", "logPaths", "manifestVersion", "maxBoxVersion", "mediaLinks", "memoryLimit",
		"minBoxVersion", "multiDomain", "optionalSso", "postInstallMessage", "runtimeDirs", "tagline", "tags",
		"targetBoxVersion", "tcpPorts", "title", "udpPorts", "upstreamVersion", "version", "website"}
	for _, p := range props {
		add("without "+p, del(p))
		values(p, anyTypes)
	}
	for p, n := range map[string]int{"author": 2, "title": 2, "changelog": 5, "description": 5, "tagline": 5,
		"postInstallMessage": 5, "configurePath": 1, "dockerImage": 1, "healthCheckPath": 1, "upstreamVersion": 1} {
		values(p, strLen(n))
	}
	for _, p := range []string{"version", "minBoxVersion", "maxBoxVersion", "targetBoxVersion"} {
		values(p, semverSamples)
	}
	for _, p := range []string{"website", "documentationUrl", "forumUrl"} {
		values(p, uriSamples)
	}
	values("contactEmail", emailSamples)
	values("id", idSamples)
	values("httpPort", []any{-1, 0, 1, 65535, 65536, raw("8000.0"), raw("8e3"), raw("-0"), raw("1e400"), raw("-1e400"),
		raw("1e-400"), raw("0.1e1"), 80.5, "8000", raw("80000000000000000000000")})
	values("manifestVersion", []any{0, 1, 2, 3, raw("1.0"), raw("2e0"), 1.5, "2"})
	values("memoryLimit", append([]any{0, 1, 123456, -1, 1.5, raw("1e400"), raw("1e300"), raw("-0"), raw("1e-400")}, sizeSamples...))
	values("capabilities", []any{[]any{"net_admin", "mlock", "ping", "vaapi"}, []any{"test"}, []any{"net_admin", "net_admin"},
		[]any{"NET_ADMIN"}, []any{1}, "net_admin", []any{nil}, []any{"net_admin "}, []any{"sys_admin"}, []any{1, 1}, []any{obj{}, obj{}}})
	values("tags", []any{[]any{"a", "b"}, []any{"again", "and", "again"}, []any{234}, []any{""}, []any{[]any{"a"}, []any{"a"}},
		[]any{obj{{"a", 1}}, obj{{"a", 1}}}, []any{obj{{"a", 1}, {"b", 2}}, obj{{"b", 2}, {"a", 1}}}, []any{1, raw("1.0")},
		[]any{0, raw("-0")}, []any{"é", raw(`"\u00e9"`)}, []any{"e\u0301", "é"}, []any{nil, nil}, []any{[]any{1, 2}, []any{2, 1}}})
	values("runtimeDirs", []any{[]any{"/app/code"}, []any{"/app/codefoo"}, []any{"/root"}, []any{"/rootfoo"},
		[]any{"/home/cloudron/.npm"}, []any{"/whatever"}, []any{"/tmp/x"}, []any{""}, []any{"/app/code", "/app/code"},
		[]any{"app/code"}, []any{1}, []any{"/app/data"}, []any{"/home/cloudron"}, []any{"/home/cloudronx", "/tmp"}})
	values("logPaths", []any{[]any{"path1", "path2"}, []any{""}, []any{"a", "a"}, []any{1}, []any{"/app/data/log.txt"}})
	values("mediaLinks", []any{[]any{"http://foobar.de", "http://baz", "foobar"}, []any{"http://foobar.de", "http://baz.com", "http://foobar.de"},
		[]any{"http://foobar.de", "http://baz.com"}, []any{1}, []any{""}})
	for _, u := range uriSamples {
		add("mediaLinks=["+encode(u)+"]", set([]any{u}, "mediaLinks"))
	}
	values("dockerImage", []any{"https://docker.io/x/y:1", "girish/foo:0.2", "cloudron/io.cloudron.test", "cloudron/other:1",
		"a//b", "cloudron/io.cloudron.test:", "cloudron/io.cloudron.test:latest", "Cloudron/io.cloudron.test:1", "/"})
	values("icon", []any{"file://logo.png", "x"})

	// addons
	values("addons", []any{[]any{23}, []any{"mysql", 34}, []any{nil, "mysql"}, obj{{"andy", obj{}}}, obj{{"proxyauth", obj{}}},
		obj{{"simpleauth", obj{}}}, obj{{"_foo", obj{}}}, obj{{"MySQL", obj{}}}, obj{{"mysql ", obj{}}}, obj{{"mysqlx", obj{}}},
		obj{{"email", obj{{"whatever", 1}}}}, obj{{"mongodb", obj{{"cacheSize", 34}}}}})
	for _, name := range addonNames {
		if name == "oidc" || name == "scheduler" {
			continue
		}
		add("addon "+name, set(obj{}, "addons", name))
		add("addon "+name+" with options", set(obj{{"anything", obj{{"deep", []any{1, obj{{"x", nil}}}}}}}, "addons", name))
		for _, v := range []any{nil, true, 1, "x", []any{}} {
			add(fmt.Sprintf("addon %s=%s", name, encode(v)), set(v, "addons", name))
		}
	}
	for _, v := range []any{obj{}, obj{{"loginRedirectUri", "/someUri"}}, obj{{"loginRedirectUri", "/x"}, {"logoutRedirectUri", ""}},
		obj{{"loginRedirectUri", 5}}, obj{{"loginRedirectUri", ""}}, obj{{"loginRedirectUri", nil}}, obj{{"loginRedirecturi", "/x"}},
		obj{{"loginRedirectUri", "/x"}, {"extra", obj{{"deep", 1}}}}, []any{}, "x", nil} {
		add("oidc="+encode(v), set(v, "addons", "oidc"))
	}
	for _, v := range []any{obj{}, obj{{"nice", "try"}}, []any{}, "x", nil,
		obj{{"task1", obj{}}}, obj{{"task1", nil}}, obj{{"task1", []any{}}},
		obj{{"a-b", obj{}}}, obj{{"task 1", obj{}}}, obj{{"_", obj{}}}, obj{{"ä", obj{}}},
		obj{{"task1", obj{{"schedule", "* * * * *"}, {"extra", 1}}}},
		obj{{"task1", obj{{"command", 5}}}}, obj{{"task1", obj{{"command", ""}}}},
		obj{{"task1", obj{{"schedule", 5}}}}, obj{{"task1", obj{{"schedule", nil}}}},
		obj{{"t1", obj{{"schedule", "@daily"}, {"command", "a"}}}, {"t2", obj{{"schedule", "bad"}, {"command", "b"}}}},
	} {
		add("scheduler="+encode(v), set(v, "addons", "scheduler"))
	}
	for _, c := range cronSamples {
		add("schedule="+encode(c), set(obj{{"task1", obj{{"schedule", c}, {"command", "blah"}}}}, "addons", "scheduler"))
	}
	for _, v := range []any{obj{{"paths", []any{"/whatever"}}}, obj{{"path", "/x"}}, true, false, []any{}, []any{1},
		obj{{"paths", 0}}, obj{{"paths", "x"}}, obj{{"paths", []any{1}}}, obj{{"paths", []any{}}}, obj{{"paths", obj{}}},
		obj{{"paths", nil}}, obj{{"paths", ""}}, obj{{"paths", true}}, obj{{"paths", []any{"/a", nil}}},
		0, 1, "", "x", nil, raw("-0"), raw("1e-400"), obj{}} {
		add("sqlite="+encode(v), set(v, "addons", "localstorage", "sqlite"))
	}
	for _, v := range []any{true, false, 1, 0, "", "x", obj{}, []any{}, nil, raw("0.0")} {
		add("requiresValidCertificate="+encode(v), set(v, "addons", "sendmail", "requiresValidCertificate"))
	}

	// tcpPorts and udpPorts entries
	entry := obj{{"title", "SSH port"}, {"description", "The SSH port"}}
	portEntries := []any{
		obj{}, entry, "x", nil, []any{},
		entry.with(22, "containerPort"), entry.with(0, "containerPort"), entry.with(65535, "containerPort"), entry.with(65536, "containerPort"),
		entry.with("invalid", "containerPort"), entry.with(nil, "containerPort"), entry.with(-2, "containerPort"), entry.with(22.5, "containerPort"),
		entry.with(4000, "defaultValue"), entry.with(0, "defaultValue"), entry.with(65536, "defaultValue"), entry.with("4000", "defaultValue"),
		entry.with(1, "portCount"), entry.with(1000, "portCount"), entry.with(1001, "portCount"), entry.with(0, "portCount"), entry.with("100", "portCount"),
		entry.with(true, "readOnly"), entry.with("yes", "readOnly"), entry.with(true, "enabledByDefault"), entry.with(true, "aliasableDomain"),
		entry.with("t", "title"), entry.with("ab", "title"), entry.with("😀", "title"), entry.with(34, "title"),
		entry.with("abcd", "description"), entry.with("abcde", "description"), entry.with(34, "description"),
		entry.without("title"), entry.without("description"),
	}
	for _, group := range []string{"tcpPorts", "udpPorts"} {
		for _, e := range portEntries {
			add(group+".SSH_PORT="+encode(e), set(e, group, "SSH_PORT"))
		}
		for _, key := range []string{"ENV$", "smallercase", "CLOUDRON_OOPS", "CLOUDRON_", "CLOUDRONX", "cloudron_x", "A", "_", "1", "SSH-PORT", "É", ""} {
			add(group+" key "+key, set(entry, group, key))
		}
	}
	hentry := obj{{"title", "Admin UI"}, {"description", "The admin UI"}, {"containerPort", 9000}}
	for _, e := range []any{obj{}, hentry, hentry.without("containerPort"), hentry.without("title"), hentry.without("description"),
		hentry.with("ui.domain", "defaultValue"), hentry.with("", "defaultValue"), hentry.with(5, "defaultValue"),
		hentry.with(true, "aliasableDomain"), hentry.with("yes", "aliasableDomain"), hentry.with(1, "portCount"),
		hentry.with(0, "containerPort"), hentry.with(65536, "containerPort"), hentry.with("t", "title"), hentry.with("abcd", "description"), nil} {
		add("httpPorts.UI_DOMAIN="+encode(e), set(e, "httpPorts", "UI_DOMAIN"))
	}
	for _, key := range []string{"ui_domain", "CLOUDRON_UI", "UI-DOMAIN", "Ui1", ""} {
		add("httpPorts key "+key, set(hentry, "httpPorts", key))
	}
	// The same env var in two groups.
	add("dup tcp/udp", func(o obj) obj { return o.with(entry, "tcpPorts", "DUP").with(entry, "udpPorts", "DUP") })
	add("dup tcp/http", func(o obj) obj { return o.with(entry, "tcpPorts", "DUP").with(hentry, "httpPorts", "DUP") })
	add("dup udp/http", func(o obj) obj { return o.with(entry, "udpPorts", "DUP").with(hentry, "httpPorts", "DUP") })
	add("dup http lowercase/tcp unknown", func(o obj) obj { return o.with(entry, "tcpPorts", "dup").with(hentry, "httpPorts", "dup") })
	add("no dup tcp/udp", func(o obj) obj { return o.with(entry, "tcpPorts", "A").with(entry, "udpPorts", "B") })

	// checklist
	for _, v := range []any{"a toplevel string", obj{{"task1", "an object it must be"}}, obj{{"task1", obj{{"info", "x"}}}},
		obj{{"task1", obj{{"sso", 123}, {"message", "m"}}}}, obj{{"task1", obj{{"message", "m"}}}},
		obj{{"00-first-this", obj{{"sso", false}, {"message", "totally valid"}}}}, obj{{"that", obj{{"sso", true}, {"message", ""}}}},
		obj{{"bad key!", obj{{"message", "m"}}}}, obj{{"a", obj{{"message", "m"}, {"extra", 1}}}}, obj{{"a", obj{{"message", 5}}}},
		obj{{"a", obj{{"message", nil}}}}, obj{{"a_b-c", obj{{"message", "m"}}}}, obj{{"", obj{{"message", "m"}}}}} {
		add("checklist="+encode(v), set(v, "checklist"))
	}

	// Unknown properties at every level.
	for _, k := range []string{"foo", "healthcheckPath", "customAuth", "developmentMode", "Title", "ключ", "", "httpport", "$schema"} {
		add("unknown top-level "+k, set(1, k))
	}
	add("unknown in oidc", set(obj{{"loginRedirectUri", "/x"}, {"foo", 1}}, "addons", "oidc"))
	add("unknown in scheduler task", set(obj{{"task", obj{{"schedule", "@daily"}, {"command", "x"}, {"foo", 1}}}}, "addons", "scheduler"))
	add("unknown in checklist item", set(obj{{"a", obj{{"message", "m"}, {"foo", 1}}}}, "checklist"))
	add("unknown in tcpPorts entry", set(entry.with(1, "foo"), "tcpPorts", "X"))
	add("unknown in httpPorts entry", set(hentry.with(1, "foo"), "httpPorts", "X"))

	// Store requirements.
	for _, f := range []string{"id", "title", "description", "tagline", "website", "contactEmail", "author", "tags", "icon",
		"changelog", "mediaLinks", "healthCheckPath", "dockerImage", "upstreamVersion", "minBoxVersion"} {
		add("store without "+f, del(f))
	}
	values("icon", []any{"", nil, false, 0})
	values("tags", []any{[]any{}})
	for _, v := range []string{"1.2.3-1", "1.2.3-pre", "1.2.3+build", "1.2.3-1.2", "1.2.3-1+b", "1.2.3-0", "1.2.3-a.1", "v1.2.3-1", "1.2.3-9007199254740992"} {
		add("store version "+v, func(o obj) obj { return o.with(v, "version").with("cloudron/io.cloudron.test:"+v, "dockerImage") })
	}
	features := []mutation{
		{"upstreamVersion", set("4.5", "upstreamVersion")},
		{"logPaths", set([]any{"somefile"}, "logPaths")},
		{"logPaths empty", set([]any{}, "logPaths")},
		{"runtimeDirs", set([]any{"/app/code/x"}, "runtimeDirs")},
		{"tcpPorts.portCount", set(entry.with(100, "portCount"), "tcpPorts", "P")},
		{"udpPorts.portCount", set(entry.with(100, "portCount"), "udpPorts", "P")},
		{"checklist", set(obj{{"task", obj{{"message", "do this"}}}}, "checklist")},
		{"checklist empty", set(obj{}, "checklist")},
		{"sqlite", set(obj{{"paths", []any{"/app/data/db"}}}, "addons", "localstorage", "sqlite")},
		{"requiresValidCertificate", set(true, "addons", "sendmail", "requiresValidCertificate")},
	}
	for _, f := range features {
		for _, mb := range []any{nil, "7.0.0", "7.1.0", "7.3.2", "7.3.3", "7.7.0", "8.0.0", "8.1.9", "8.2.0", "9.0.0", "9.0.0-1", "10.0.0"} {
			f, mb := f, mb
			add(fmt.Sprintf("store gate %s minBoxVersion=%v", f.name, mb), func(o obj) obj {
				o = f.f(o.without("upstreamVersion"))
				if mb == nil {
					return o.without("minBoxVersion")
				}
				return o.with(mb, "minBoxVersion")
			})
		}
	}

	// Unicode strings and escapes.
	values("title", []any{raw(`"\u00e9"`), raw(`"\ud83d\ude00"`), raw(`"\u0041\u0042"`), "日本", "a\u0000b", "\t\n", raw(`"\/\/"`)})
	values("description", []any{"abcd😀", "😀😀", "😀😀😀", "e\u0301e\u0301", "ab\u2028c", "\ufeffabcd"})

	var cases []diffCase
	for _, m := range muts {
		cases = append(cases, diffCase{name: m.name, text: encode(m.f(base))})
	}
	// Combinations of two to four mutations, deterministically random.
	rng := rand.New(rand.NewPCG(2027, 5))
	for range 500 {
		o := base
		var names []string
		for range 2 + rng.IntN(3) {
			m := muts[rng.IntN(len(muts))]
			o = m.f(o)
			names = append(names, m.name)
		}
		cases = append(cases, diffCase{name: strings.Join(names, " + "), text: encode(o)})
	}
	// Formatting variants of the base: whitespace, escapes, number spellings.
	cases = append(cases,
		diffCase{name: "indented", text: indentJSON(encode(base))},
		diffCase{name: "top-level array", text: "[]"},
		diffCase{name: "top-level null", text: "null"},
		diffCase{name: "top-level number", text: "42"},
		diffCase{name: "top-level string", text: `"x"`},
		diffCase{name: "top-level true", text: "true"},
		diffCase{name: "top-level false", text: "false"},
		diffCase{name: "empty object", text: "{}"},
		diffCase{name: "trailing comma", text: `{"manifestVersion":2,"version":"1.0.0","httpPort":1,}`},
		diffCase{name: "comment", text: "// x\n" + encode(base)},
		diffCase{name: "single quotes", text: `{'manifestVersion':2}`},
		diffCase{name: "NaN", text: `{"manifestVersion":2,"version":"1.0.0","httpPort":NaN}`},
		diffCase{name: "BOM", text: "\ufeff" + encode(base)},
		diffCase{name: "trailing garbage", text: encode(base) + "x"},
		diffCase{name: "two documents", text: encode(base) + encode(base)},
		diffCase{name: "whitespace around", text: "\n\t \r\n" + encode(base) + "\n\n"},
		diffCase{name: "empty", text: ""},
		diffCase{name: "whitespace only", text: " \n"},
	)

	// Deliberate differences (see the comment of the test).
	deliberate := func(name, why string, want bool, o obj) {
		cases = append(cases, diffCase{name: name, text: encode(o), deliberate: why, want: want})
	}
	gated := []struct {
		key, version string
		good, bad    any
	}{
		{"persistentDirs", "9.1.0", []any{"/var/lib/opensearch"}, []any{"/a", "/a"}},
		{"backupCommand", "9.1.0", "/app/code/backup.sh", ""},
		{"restoreCommand", "9.1.0", "/app/code/restore.sh", 5},
		{"iconUrl", "9.1.0", "https://example.com/icon.png", "file://icon.png"},
		{"packagerName", "9.1.0", "Jane", "J"},
		{"packagerUrl", "9.1.0", "https://example.com", "not-valid"},
		{"packageUrl", "10.0.0", "https://git.example.com/app", "x"},
	}
	for _, g := range gated {
		// Without the gate both validators reject the field: compared.
		cases = append(cases,
			diffCase{name: g.key + " without minBoxVersion", text: encode(base.without("minBoxVersion").without("upstreamVersion").with(g.good, g.key))},
			diffCase{name: g.key + " below its gate", text: encode(base.with("9.0.0", "minBoxVersion").with(g.good, g.key))})
		deliberate(g.key+" at its gate", "gated superset field", true, base.with(g.version, "minBoxVersion").with(g.good, g.key))
		deliberate(g.key+" above its gate", "gated superset field", true, base.with("11.0.0", "minBoxVersion").with(g.good, g.key))
		deliberate(g.key+" at its gate, bad value", "gated superset field", false, base.with(g.version, "minBoxVersion").with(g.bad, g.key))
	}
	dupText := strings.Replace(encode(base), `"title":"Bar App"`, `"title":"Bar App","title":"Other"`, 1)
	cases = append(cases, diffCase{name: "duplicate key", text: dupText, deliberate: "duplicate keys", want: false})
	for _, k := range []string{"constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"} {
		deliberate("prototype name "+k, "Object.prototype member", false, base.with(1, k))
		deliberate("prototype name in tcpPorts entry "+k, "Object.prototype member", false, base.with(entry.with(1, k), "tcpPorts", "P"))
		deliberate("prototype name addon "+k, "Object.prototype member", false, base.with(1, "addons", k))
	}
	return cases
}

// indentJSON spreads compact JSON over lines, the way a person writes it.
func indentJSON(s string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(s), "", "    "); err != nil {
		panic(err)
	}
	return out.String()
}
