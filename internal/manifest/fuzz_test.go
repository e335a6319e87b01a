package manifest

import (
	"strings"
	"testing"
)

// FuzzCheck feeds Check arbitrary bytes: it must never panic and its reports
// must be consistent. Run it with
//
//	go test -fuzz=FuzzCheck ./internal/manifest/
//
// Crashers found go to testdata/fuzz/FuzzCheck and stay as regressions.
func FuzzCheck(f *testing.F) {
	for _, c := range officialParseCases() {
		f.Add([]byte(c.text))
	}
	for _, c := range officialStoreCases() {
		f.Add([]byte(c.text))
	}
	for _, s := range []string{
		"", " ", "\ufeff{}", "\xff\xfe{}", "{\"a\": \"\xe9\"}", "{} x", `{"a": 1,}`, `[1,]`, "{// c\n}", `{'a': 1}`,
		`{"a": NaN}`, `{"a": -Infinity}`, `{"a": 1, "a": 2}`, `{"httpPort": 1e400}`, `{"t": "\ud800"}`, `{"t": "\udc00\ud800"}`,
		`{"t": "\u12`, `"\`, `[[[[[[[[[[`, `{"a":{"b":{"c":`, "null", "42", `"x"`, "[]", "true", `{"__proto__": {"x": 1}}`,
		`{"addons": {"localstorage": {"sqlite": []}}}`, `{"tags": [{"a": [1, {"b": null}]}, {"a": [1, {"b": null}]}]}`,
		`{"tcpPorts": {"CLOUDRON_": null}, "udpPorts": {"CLOUDRON_": 1}, "httpPorts": {"CLOUDRON_": []}}`,
		strings.Repeat("[", 300), `{"minBoxVersion": "9.1.0", "persistentDirs": [1, 1], "memoryLimit": {}}`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte(indentJSON(encode(diffBase()))))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Check(data, Options{Appstore: true})
		if r.Valid != (len(r.Errors) == 0) {
			t.Fatalf("Valid = %v with %d errors", r.Valid, len(r.Errors))
		}
		checkErrors(t, "error", r.Errors, r.Doc)
		if r.Appstore == nil {
			t.Fatal("no appstore report")
		}
		if r.Appstore.Valid != (len(r.Appstore.Errors) == 0) {
			t.Fatalf("Appstore.Valid = %v with %d errors", r.Appstore.Valid, len(r.Appstore.Errors))
		}
		checkErrors(t, "appstore error", r.Appstore.Errors, r.Doc)
		if r.Doc == nil {
			if len(r.Errors) == 0 || r.Errors[0].Kind != Syntax {
				t.Fatalf("no document but no syntax error: %v", r.Errors)
			}
		} else {
			_ = r.Doc.Manifest()
		}
	})
}

func checkErrors(t *testing.T, what string, errs []Error, doc *Document) {
	t.Helper()
	for i, e := range errs {
		if e.Line < 1 || e.Column < 1 || e.Message == "" || e.Kind < Syntax || e.Kind > Appstore {
			t.Fatalf("%s %d is malformed: %+v", what, i, e)
		}
		if i > 0 && (e.Line < errs[i-1].Line || e.Line == errs[i-1].Line && e.Column < errs[i-1].Column) {
			t.Fatalf("%s %d is out of document order: %+v after %+v", what, i, e, errs[i-1])
		}
		if doc != nil && e.Kind != Syntax && !strings.HasPrefix(e.Message, "store requirements not checked") {
			if _, _, ok := doc.Position(e.Pointer); !ok {
				t.Fatalf("%s %d: pointer %q does not resolve: %+v", what, i, e.Pointer, e)
			}
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	data := []byte(indentJSON(encode(diffBase().
		with(obj{{"SSH_PORT", obj{{"title", "SSH"}, {"description", "The SSH port"}, {"containerPort", 22}}}}, "tcpPorts").
		with(obj{{"task", obj{{"schedule", "*/5 * * * *"}, {"command", "/app/code/cron.sh"}}}}, "addons", "scheduler"))))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if r := Check(data, Options{Appstore: true}); !r.Valid {
			b.Fatal(r.Errors)
		}
	}
}
