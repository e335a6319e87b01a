package shell

import (
	"testing"

	"cpk/internal/parse/dockerfile"
)

// FuzzParse: no input makes the parser, the walk or the Dockerfile helper
// panic, and positions are never negative.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"#!/bin/bash\nset -eu\nexec gosu cloudron:cloudron node /app/code/server.js\n",
		"if [[ ! -f /app/data/.init ]]; then cp -r /a/. /app/data/; touch /app/data/.init; fi\n",
		"cat > /run/c.json <<EOF\n{\"u\": \"${CLOUDRON_MYSQL_URL:-x}\"}\nEOF\n",
		"until nc -z ${H:-db} 5432; do sleep 1; done &\nwait\n",
		"a=$(( ${#x} + 1 )); echo ${a/b/c} ${x:1:2} \"$(echo `date`)\" <(ls) >&2 2>/dev/null\n",
		"f() { local x=1; export Y=$x; }; case $1 in a|b) f;; *) exit 1;; esac\n",
		"FROM a\nRUN echo a \\\n  # c\n  && echo b\nRUN <<EOF\nx\nEOF\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse(src)
		if err == nil {
			for _, c := range s.Commands {
				if c.Pos.Line < 0 || c.Pos.Col < 0 {
					t.Errorf("bad position %+v", c.Pos)
				}
				_ = c.ExecArgs()
				_ = c.Name()
			}
		}
		if df, err := dockerfile.Parse(src); err == nil {
			for _, r := range Runs(src, df) {
				if r.Script == nil && r.Err == nil {
					t.Error("a run without script nor error")
				}
			}
		}
	})
}

// FuzzPieces: a script read in small pieces has the model it has read
// whole (mvdan's parser judges every cut; a wrong cut shows here).
func FuzzPieces(f *testing.F) {
	for _, s := range trickyScripts {
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, src []byte, size uint8) {
		if len(src) > 4096 {
			return
		}
		if d := samePieces(src, 1+int(size%64)); d != "" {
			t.Error(d)
		}
	})
}
