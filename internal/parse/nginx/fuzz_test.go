package nginx

import (
	"testing"
	"testing/fstest"
)

// FuzzParse: no input makes the parser panic, positions are 1-based, and
// Load (with includes of the file itself and of a glob) terminates.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"server { listen 8000; location / { proxy_pass http://x; } }",
		`log_format a '$x "y"' "\"z\\";`,
		"a ${b}c { d; }",
		"include *.conf; include self.conf;",
		"x \"unterminated",
		"}",
		"a\\",
		"# only a comment",
		"é ü { ß; }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, _ := Parse("f", data)
		if file == nil {
			t.Fatal("nil file")
		}
		Walk(file.Directives, func(d *Directive, _ []*Directive) bool {
			if d.Pos.Line < 1 || d.Pos.Col < 1 || len(d.Args) != len(d.ArgPos) || len(d.Args) != len(d.Quoted) {
				t.Fatalf("bad directive %+v", d)
			}
			return true
		})
		fsys := fstest.MapFS{"self.conf": {Data: data}, "x.conf": {Data: data}}
		if _, err := Load(fsys, "self.conf", Options{Prefix: "/"}); err != nil {
			_ = err.Error()
		}
	})
}
