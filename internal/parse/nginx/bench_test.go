package nginx

import (
	"bytes"
	"os"
	"runtime"
	"testing"

	"cpk/internal/parse/parsetest"
	"cpk/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.BenchChildren(map[string]func() error{
		"config": func() error { return parseOnce(bigConfig()) },
	})
	os.Exit(m.Run())
}

// bigConfig is a 10 MB configuration of server blocks.
func bigConfig() []byte {
	const server = `server {
    listen 8000 default_server;
    server_name _;
    root /app/code/public;
    client_max_body_size 100m;
    location / { try_files $uri $uri/ /index.php?$query_string; }
    location ~ \.php$ {
        fastcgi_pass unix:/run/php/php-fpm.sock;
        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        include fastcgi_params;
    }
    log_format main '$remote_addr - "$request" $status';
}
`
	var b bytes.Buffer
	b.Grow(10<<20 + len(server))
	for b.Len() < 10<<20 {
		b.WriteString(server)
	}
	return b.Bytes()
}

// BenchmarkParseConfig parses a 10 MB nginx configuration; peak-RSS-MB is
// the peak memory of a process that parses it once (testenv.ReportPeak).
func BenchmarkParseConfig(b *testing.B) { parsetest.Bench(b, "config", bigConfig(), parseOnce) }

func parseOnce(src []byte) error {
	f, err := Parse("nginx.conf", src)
	runtime.KeepAlive(f)
	return err
}
