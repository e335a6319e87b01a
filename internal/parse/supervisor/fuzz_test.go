package supervisor

import "testing"

// FuzzParse: no input makes the parser panic, and every key it returns has a
// lower-case name and sane positions.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[program:x]\ncommand=/bin/x ; c\n  more\n",
		"[supervisord]\nlogfile = /run/s.log\n",
		"x\n[\n]\n[a]b]\n=\n:\n",
		"\uFEFF[a]\r\nk: v # c\r\n",
		"[a]\nk=\n\n\n  v\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if file == nil {
			t.Fatal("nil file")
		}
		if err != nil {
			_ = err.Error()
		}
		for _, s := range file.Sections {
			s.Kind()
			for _, k := range s.Keys {
				if k.Line < 1 || k.Col < 1 || k.ValueLine < k.Line || k.ValueCol < 1 {
					t.Fatalf("bad key %+v", k)
				}
			}
		}
	})
}
