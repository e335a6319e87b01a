package manifest

import (
	"fmt"
	"testing"
)

// The test suite of cloudron-manifestformat 5.27.0 (test/test.js), ported:
// same inputs, same verdicts. JSON.stringify turns NaN into null, so the
// NaN cases are written with null.

// officialBase is the manifest the "parseManifest" cases mutate.
func officialBase() obj {
	return obj{
		{"id", "io.cloudron.test"},
		{"title", "Bar App"},
		{"description", "Long long ago, there was foo"},
		{"tagline", "Not your usual Foo App"},
		{"author", "Herbert Burgermeister"},
		{"manifestVersion", 1},
		{"version", "0.1.2"},
		{"dockerImage", "girish/foo:0.2"},
		{"httpPort", 23},
		{"website", "https://example.com"},
		{"contactEmail", "support@example.com"},
	}
}

// officialStoreBase is the manifest the "checkAppstoreRequirements" cases
// mutate. It carries customAuth, unknown to the schema: those cases call
// checkAppstoreRequirements directly, without parse().
func officialStoreBase() obj {
	return obj{
		{"id", "io.cloudron.test"},
		{"title", "Bar App"},
		{"description", "Long long ago, there was foo"},
		{"tagline", "Not your usual Foo App"},
		{"author", "Herbert Burgermeister"},
		{"manifestVersion", 1},
		{"version", "0.1.2"},
		{"dockerImage", "cloudron/io.cloudron.test:0.1.2"},
		{"httpPort", 23},
		{"healthCheckPath", "/"},
		{"website", "https://example.com"},
		{"contactEmail", "support@example.com"},
		{"tags", []any{"something"}},
		{"mediaLinks", []any{"https://foo.ong"}},
		{"icon", "file://icon.png"},
		{"changelog", "file://changelog.md"},
		{"customAuth", false},
		{"postInstallMessage", "Nice!"},
	}
}

type officialCase struct {
	name  string
	text  string
	valid bool
}

func officialParseCases() []officialCase {
	b := officialBase()
	var cases []officialCase
	add := func(name string, valid bool, m any) {
		cases = append(cases, officialCase{name, encode(m), valid})
	}
	cases = append(cases, officialCase{"errors for empty string", "", false})
	cases = append(cases, officialCase{"errors for invalid json", "garbage", false})
	for _, key := range []string{"manifestVersion", "version", "httpPort"} {
		add("errors for missing "+key, false, b.without(key))
	}
	for i, addons := range []any{nil, []any{23}, []any{"mysql", 34}, []any{nil, "mysql"}} {
		add(fmt.Sprintf("fails for invalid addon testcase %d", i), false, b.with(addons, "addons"))
	}
	add("fails for bad version", false, b.with("0.2", "version"))
	for _, id := range []string{"simply", "12de", "in..x", "no.quest?on"} {
		add("fails for bad id "+id, false, b.with(id, "id"))
	}
	add("fails for bad minBoxVersion", false, b.with("0.2", "minBoxVersion"))
	add("fails for bad maxBoxVersion", false, b.with("0.2", "maxBoxVersion"))
	add("fails for bad targetBoxVersion", false, b.with("0.2", "targetBoxVersion"))
	add("fails for bad manifestVersion", false, b.with(3, "manifestVersion"))
	add("fails for bad capabilities", false, b.with([]any{"test"}, "capabilities"))
	for i, c := range []any{34, []any{}, []any{nil}, []any{56}} {
		add(fmt.Sprintf("fails for bad changelog %d", i), false, b.with(c, "changelog"))
	}
	badPorts := []any{
		45,
		obj{{"ENV$", obj{}}},
		obj{{"smallercase", obj{}}},
		obj{{"CLOUDRON_OOPS", obj{}}},
		obj{{"PORT_NAME", obj{}}},
		obj{{"PORT_NAME", obj{{"description", 34}}}},
		obj{{"PORT_NAME", obj{{"title", 34}}}},
		obj{{"PORT_NAME", obj{{"title", "t"}, {"description", "long enough"}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"containerPort", "invalid"}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"containerPort", nil}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"containerPort", -2}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", "invalid"}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", nil}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", -2}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", 4000}, {"portCount", 0}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", 4000}, {"portCount", "100"}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", 4000}, {"portCount", nil}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", 4000}, {"portCount", -1}}}},
		obj{{"PORT_NAME", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", 4000}, {"portCount", 1001}}}},
	}
	for _, group := range []string{"tcpPorts", "udpPorts"} {
		for i, p := range badPorts {
			add(fmt.Sprintf("fails for bad %s %d", group, i), false, b.with(p, group))
		}
	}
	add("fails for duplicate key in udp/tcpPorts", false, b.
		with(obj{{"UGOOD_PORT", obj{{"title", "t1"}, {"description", "description"}}}, {"DUP_PORT", obj{{"title", "t2"}, {"description", "duplicate"}}}}, "udpPorts").
		with(obj{{"DUP_PORT", obj{{"title", "t2"}, {"description", "duplicate"}}}, {"TGOOD_PORT", obj{{"title", "t1"}, {"description", "description"}}}}, "tcpPorts"))
	add("fails for bad addon", false, b.with(obj{{"andy", obj{}}}, "addons"))
	add("fails for bad tags", false, b.with([]any{234}, "tags"))
	add("fails for duplicate tags", false, b.with([]any{"again", "and", "again"}, "tags"))
	add("fails for bad scheduler addon", false, b.with(obj{{"scheduler", obj{{"nice", "try"}}}}, "addons"))
	add("fails for bad scheduler pattern", false, b.with(obj{{"scheduler", obj{{"task1", obj{{"schedule", "1 2 3 4 m"}, {"command", "blah"}}}}}}, "addons"))
	add("succeeds for good scheduler pattern", true, b.with(obj{{"scheduler", obj{{"task1", obj{{"schedule", "* * * * *"}, {"command", "blah"}}}}}}, "addons"))
	add("succeeds for good scheduler named pattern", true, b.with(obj{{"scheduler", obj{{"task1", obj{{"schedule", "@service"}, {"command", "blah"}}}}}}, "addons"))
	add("succeeds for good sqlite", true, b.with(obj{{"localstorage", obj{{"sqlite", obj{{"paths", []any{"/whatever"}}}}}}}, "addons"))
	add("succeeds for good capabilities (empty)", true, b.with([]any{}, "capabilities"))
	add("succeeds for good capabilities", true, b.with([]any{"net_admin", "mlock", "ping"}, "capabilities"))
	for _, group := range []string{"tcpPorts", "udpPorts"} {
		add("succeeds for good "+group+" 546", true, b.with(obj{{"PORT_NAME", obj{{"title", "12345"}, {"description", "12345"}, {"containerPort", 546}}}}, group))
		add("succeeds for good "+group+" 65535", true, b.with(obj{{"PORT_NAME", obj{{"title", "12345"}, {"description", "12345"}, {"containerPort", 65535}}}}, group))
		add("succeeds for good "+group+" portCount", true, b.with(obj{{"PORT_NAME", obj{{"title", "12345"}, {"description", "12345"}, {"containerPort", 65535}, {"portCount", 100}}}}, group))
	}
	add("succeeds for minimal valid manifest", true, b)
	add("succeeds for maximal valid manifest", true, b.
		with("0.0.1", "minBoxVersion").with("1.0.0", "maxBoxVersion").with("1.0.0", "targetBoxVersion").
		with(obj{{"mysql", obj{}}, {"postgresql", obj{}}, {"mongodb", obj{{"cacheSize", 34}}}}, "addons").
		with("Change upload size limit", "changelog").with([]any{"wiki", "collaboration"}, "tags").
		with([]any{"net_admin"}, "capabilities"))
	add("fails for bad memoryLimit", false, b.with("1p", "memoryLimit"))
	add("succeeds for int memoryLimit", true, b.with(123456, "memoryLimit"))
	add("succeeds for string memoryLimit", true, b.with("10MB", "memoryLimit"))
	add("fails for non uri type mediaLinks", false, b.with([]any{"http://foobar.de", "http://baz", "foobar"}, "mediaLinks"))
	add("fails for duplicate mediaLinks", false, b.with([]any{"http://foobar.de", "http://baz.com", "http://foobar.de"}, "mediaLinks"))
	add("succeeds with mediaLinks", true, b.with([]any{"http://foobar.de", "http://baz.com"}, "mediaLinks"))
	add("succeeds with upstreamVersion", true, b.with("1.2", "upstreamVersion"))
	add("succeeds with postInstallMessage", true, b.with("Can you see this? Thanks for installing", "postInstallMessage"))
	add("succeeds with optionalSso", true, b.with(true, "optionalSso"))
	add("fails with invalid documentationUrl", false, b.with("not-valid", "documentationUrl"))
	add("succeeds with forumUrl", true, b.with("https://cloudron.io/documentation/apps/wordpress", "forumUrl"))
	add("fails with invalid forumUrl", false, b.with("not-valid", "forumUrl"))
	add("succeeds with documentationUrl", true, b.with("https://cloudron.io/documentation/apps/wordpress", "documentationUrl"))
	add("succeeds for proxyAuth", true, b.with(obj{{"proxyAuth", obj{}}}, "addons"))
	add("fails for bad multiDomain", false, b.with(obj{}, "multiDomain"))
	add("succeeds for multiDomain", true, b.with(true, "multiDomain"))
	add("fails for bad aliasableDomain", false, b.with(obj{}, "aliasableDomain"))
	add("succeeds for aliasableDomain", true, b.with(true, "aliasableDomain"))
	add("fails with no httpPort or httpPorts", false, b.without("httpPort"))
	add("succeed with httpPorts", true, b.with(obj{{"UI_DOMAIN", obj{{"title", "title"}, {"description", "description"}, {"containerPort", 9000}, {"defaultValue", "ui.domain"}, {"aliasableDomain", true}}}}, "httpPorts"))
	add("succeed with logPaths", true, b.with([]any{"path1", "path2"}, "logPaths"))
	add("fails with bad runtimeDirs", false, b.with([]any{"/whatever"}, "runtimeDirs"))
	add("succeed with runtimeDirs", true, b.with([]any{"/app/code", "/app/code/bar", "/home/cloudron/.npm"}, "runtimeDirs"))
	add("requires loginRedirectUri for oidc", false, b.with(obj{{"oidc", obj{}}}, "addons"))
	add("succeeds with loginRedirectUri for oidc", true, b.with(obj{{"oidc", obj{{"loginRedirectUri", "/someUri"}}}}, "addons"))
	add("oidc accepts extra properties", true, b.with(obj{{"oidc", obj{{"loginRedirectUri", "/someUri"}, {"logoutRedirectUri", ""}}}}, "addons"))
	add("fails for bad checklist (string)", false, b.with("a toplevel string it must not be", "checklist"))
	add("fails for bad checklist (item string)", false, b.with(obj{{"task1", "an object it must be"}}, "checklist"))
	add("fails for bad checklist (no message)", false, b.with(obj{{"task1", obj{{"info", "requires a message property"}}}}, "checklist"))
	add("fails for bad checklist (sso type)", false, b.with(obj{{"task1", obj{{"sso", 123}, {"message", "sso if present must be a boolean"}}}}, "checklist"))
	add("succeeds for good checklist", true, b.with(obj{
		{"task1", obj{{"message", "really has to be done"}}},
		{"00-first-this", obj{{"sso", false}, {"message", "totally valid"}}},
		{"that", obj{{"sso", true}, {"message", "also totally valid"}}},
	}, "checklist"))
	// describe('isId'), through the id property.
	for _, id := range []string{"combarzoo", "com.Bar-zoo", "c.bar.zo$"} {
		add("isId false for "+id, false, b.with(id, "id"))
	}
	for _, id := range []string{"com.bar.zoo", "com.bar_zoo", "com.barzoo", "co.bar.zoo", "c0m.bar1", "com.bar-zoo"} {
		add("isId true for "+id, true, b.with(id, "id"))
	}
	return cases
}

func officialStoreCases() []officialCase {
	b := officialStoreBase()
	var cases []officialCase
	add := func(name string, valid bool, m obj) {
		cases = append(cases, officialCase{name, encode(m), valid})
	}
	add("fails without tags", false, b.without("tags"))
	add("fails without mediaLinks", false, b.without("mediaLinks"))
	add("fails without icon", false, b.without("icon"))
	add("fails without changelog", false, b.without("changelog"))
	add("fails with prerelease version", false, b.with("1.2.3-pre", "version"))
	add("fails with build version", false, b.with("1.2.3+build", "version"))
	add("succeeds with numeric prerelease version", true, b.with("cloudron/io.cloudron.test:1.2.3-1-timestamp", "dockerImage").with("1.2.3-1", "version"))
	gates := []struct {
		name, version string
		m             obj
	}{
		{"upstreamVersion", "7.1.0", b.with("3.5", "upstreamVersion")},
		{"logPaths", "7.1.0", b.with([]any{"somefile"}, "logPaths")},
		{"tcpPorts.portCount", "7.7.0", b.with(obj{{"env", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", 4000}, {"portCount", 100}}}}, "tcpPorts")},
		{"udpPorts.portCount", "7.7.0", b.with(obj{{"env", obj{{"title", "title"}, {"description", "description"}, {"defaultValue", 4000}, {"portCount", 100}}}}, "udpPorts")},
		{"checklist", "8.0.0", b.with(obj{{"task", obj{{"sso", true}, {"message", "do this and that"}}}}, "checklist")},
		{"sqlite", "8.2.0", b.with(obj{{"localstorage", obj{{"sqlite", obj{{"path", "/some/path"}}}}}}, "addons")},
		{"requiresValidCertificate", "9.0.0", b.with(obj{{"sendmail", obj{{"requiresValidCertificate", true}}}}, "addons")},
	}
	for _, g := range gates {
		add("requires "+g.version+" at least for "+g.name, false, g.m)
		add(g.name+" with minBoxVersion "+g.version, true, g.m.with(g.version, "minBoxVersion"))
	}
	add("succeeds with all requirements", true, b)
	return cases
}

func TestOfficialParseCases(t *testing.T) {
	for _, c := range officialParseCases() {
		t.Run(c.name, func(t *testing.T) {
			r := Check([]byte(c.text), Options{})
			if r.Valid != c.valid {
				t.Errorf("Valid = %v, want %v for %s; errors: %v", r.Valid, c.valid, c.text, r.Errors)
			}
		})
	}
}

func TestOfficialStoreCases(t *testing.T) {
	for _, c := range officialStoreCases() {
		t.Run(c.name, func(t *testing.T) {
			r := Check([]byte(c.text), Options{Appstore: true})
			if r.Appstore.Valid != c.valid {
				t.Errorf("Appstore.Valid = %v, want %v for %s; errors: %v", r.Appstore.Valid, c.valid, c.text, r.Appstore.Errors)
			}
			// The store base carries customAuth, which parse() rejects.
			if r.Valid {
				t.Errorf("Valid = true despite the unknown customAuth")
			}
		})
	}
}
