package nginx

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParse(t *testing.T) {
	src := `# a comment
user www-data;
pid /run/nginx.pid;
http {
    log_format main '$remote_addr "$request"';
    server {
        listen 8000 default_server; # trailing comment
        location ~ ^/api/(.*)$ {
            proxy_pass http://127.0.0.1:3000/$1;
            set $x "${host}a";
        }
        location = /ä { return 200 "ok\n"; }
        add_header X-A a\;b;
    }
}
`
	f, err := Parse("nginx.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Walk(f.Directives, func(d *Directive, parents []*Directive) bool {
		var names []string
		for _, p := range parents {
			names = append(names, p.Name)
		}
		got = append(got, strings.Join(append(names, d.Name), ">")+" "+strings.Join(d.Args, "|"))
		return true
	})
	want := []string{
		"user www-data",
		"pid /run/nginx.pid",
		"http ",
		`http>log_format main|$remote_addr "$request"`,
		"http>server ",
		"http>server>listen 8000|default_server",
		"http>server>location ~|^/api/(.*)$",
		"http>server>location>proxy_pass http://127.0.0.1:3000/$1",
		"http>server>location>set $x|${host}a",
		"http>server>location =|/ä",
		"http>server>location>return 200|ok\n",
		`http>server>add_header X-A|a\;b`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	listen := Find(f.Directives[2].Block[1].Block, "listen")[0]
	if listen.Pos != (Pos{7, 9}) || listen.ArgPos[1] != (Pos{7, 21}) {
		t.Errorf("listen at %v, args at %v", listen.Pos, listen.ArgPos)
	}
	ret := f.Directives[2].Block[1].Block[2].Block[0]
	if ret.Name != "return" || ret.Pos != (Pos{12, 25}) || !ret.Quoted[1] || ret.Quoted[0] {
		t.Errorf("return at %v quoted %v", ret.Pos, ret.Quoted)
	}
}

func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		"server {\n listen 80;\n": "3:1: unexpected end of file: the block opened at line 1",
		"listen 80;\n}":           "2:1: unexpected }: no block is open",
		"listen 80":               "1:10: unexpected end of file: directive \"listen\" is not terminated",
		"server { listen 80 }":    "1:20: unexpected }: directive \"listen\" is not terminated by ;",
		"; listen 80;":            `1:1: unexpected ';': a directive needs a name first`,
		"{":                       `1:1: unexpected '{'`,
		`return 200 "ok;`:         "1:12: unexpected end of file: the string opened with \" is not closed",
		`return 200 "ok"x;`:       `1:16: unexpected 'x' after a quoted string`,
		strings.Repeat("a{", 200): "blocks nested more than 100 deep",
		"a {\n b {\n c;\n}\n":     "5:1: unexpected end of file: the block opened at line 1",
	} {
		f, err := Parse("", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", src, err, want)
		}
		var pe *Error
		if !errors.As(err, &pe) || f == nil {
			t.Errorf("Parse(%q): want an *Error and a file", src)
		}
	}
}

func TestParseKeepsWhatParsed(t *testing.T) {
	f, err := Parse("x", []byte("user nobody;\nserver { listen 80;\n"))
	if err == nil || len(f.Directives) != 2 || f.Directives[1].Block[0].Name != "listen" {
		t.Fatalf("got %v, %+v", err, f.Directives)
	}
}

func TestLoadIncludes(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/nginx/nginx.conf":               {Data: []byte("pid /run/n.pid;\nhttp {\n include mime.types;\n include /etc/nginx/conf.d/*.conf;\n include /etc/nginx/sites-enabled/*;\n}\n")},
		"etc/nginx/conf.d/b.conf":            {Data: []byte("proxy_temp_path /run/b;\n")},
		"etc/nginx/conf.d/a.conf":            {Data: []byte("client_body_temp_path /run/a;\ninclude conf.d/a.conf;\n")},
		"etc/nginx/sites-enabled/app":        {Data: []byte("server { listen 8000; include snippets/x.conf; }\n")},
		"etc/nginx/sites-enabled/broken":     {Data: []byte("server { listen 8001;\n")},
		"etc/nginx/snippets/x.conf":          {Data: []byte("client_max_body_size 10m;\n")},
		"etc/nginx/sites-enabled/subdir/y.c": {Data: []byte("nope")},
	}
	cfg, err := Load(fsys, "etc/nginx/nginx.conf", Options{})
	if err == nil || !strings.Contains(err.Error(), "/etc/nginx/sites-enabled/broken:2:1: unexpected end of file") ||
		!strings.Contains(err.Error(), "includes itself") {
		t.Errorf("err = %v", err)
	}
	var got []string
	Walk(cfg.File.Directives, func(d *Directive, parents []*Directive) bool {
		got = append(got, d.File+":"+d.Name)
		return true
	})
	want := []string{
		"/etc/nginx/nginx.conf:pid", "/etc/nginx/nginx.conf:http",
		"/etc/nginx/nginx.conf:include",
		"/etc/nginx/nginx.conf:include",
		"/etc/nginx/conf.d/a.conf:client_body_temp_path", "/etc/nginx/conf.d/a.conf:include",
		"/etc/nginx/conf.d/b.conf:proxy_temp_path",
		"/etc/nginx/nginx.conf:include",
		"/etc/nginx/sites-enabled/app:server", "/etc/nginx/sites-enabled/app:listen", "/etc/nginx/sites-enabled/app:include",
		"/etc/nginx/snippets/x.conf:client_max_body_size",
		"/etc/nginx/sites-enabled/broken:server", "/etc/nginx/sites-enabled/broken:listen",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if len(cfg.Unresolved) != 1 || cfg.Unresolved[0].Arg(0) != "mime.types" {
		t.Errorf("unresolved = %v", cfg.Unresolved)
	}
	if len(cfg.Files) != 6 {
		t.Errorf("files = %v", cfg.Files)
	}
	if _, err := Load(fsys, "etc/nginx/missing.conf", Options{}); err == nil {
		t.Error("want an error for a missing main file")
	}
}

func TestLoadBoundsIncludes(t *testing.T) {
	fsys := fstest.MapFS{
		"a.conf":  {Data: []byte("include /b*.conf;")},
		"b1.conf": {Data: []byte("include /c*.conf;")}, "b2.conf": {Data: []byte("include /c*.conf;")},
		"c1.conf": {Data: []byte("x;")}, "c2.conf": {Data: []byte("x;")},
	}
	cfg, err := Load(fsys, "a.conf", Options{MaxFiles: 4})
	if err == nil || !strings.Contains(err.Error(), "more than 4 included files") || len(cfg.Files) != 4 {
		t.Errorf("files %v, err %v", cfg.Files, err)
	}
}
