import http.server
import os
import signal
import subprocess
import sys

URL = os.environ["CLOUDRON_POSTGRESQL_URL"]


def psql(sql):
    out = subprocess.run(["psql", URL, "-v", "ON_ERROR_STOP=1", "-Atc", sql], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return out.stdout.strip().splitlines()[-1]  # the last statement's answer


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, sql):
        try:
            body, code = psql(sql), 200
        except Exception as e:  # the database does not answer: unhealthy
            body, code = str(e), 503
        data = (body + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer("CREATE TABLE IF NOT EXISTS notes (v text); SELECT count(*) FROM notes")

    def do_POST(self):
        self.answer("CREATE TABLE IF NOT EXISTS notes (v text); INSERT INTO notes VALUES ('a note'); SELECT count(*) FROM notes")


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
