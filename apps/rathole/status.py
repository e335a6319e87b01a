#!/usr/bin/python3
"""The rathole server's status page on port 8000.

rathole has no HTTP interface of its own. This page reads which of its
ports are listening from /proc/net/tcp{,6}: the control channel is
listening while the server runs, and a service's port is listening while
a client that forwards it is connected (UDP services: bound, from
/proc/net/udp{,6}). It never connects to the ports (a connection to a
service port would be forwarded to a client).

GET /healthz      200 while the control channel listens, else 503
GET /status.json  the same facts as JSON
GET /             them as a page
"""

import html
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENV_FILE = "/run/rathole/status.env"
LISTEN = "0A"


def config():
    env = {}
    with open(ENV_FILE, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            env[key] = value
    return env


def bound_ports(proto):
    """The local ports of TCP sockets listening, or of UDP sockets bound."""
    ports = set()
    for path in (f"/proc/net/{proto}", f"/proc/net/{proto}6"):
        try:
            with open(path, encoding="ascii") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if proto == "udp" or fields[3] == LISTEN:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            pass
    return ports


def services(env, prefix, kind, ports):
    first = int(env[f"FIRST_{kind}SERVICE_PORT"])
    public_first = env.get(f"PUBLIC_FIRST_{kind}SERVICE_PORT") or ""
    return [{
        "name": f"{prefix}{i + 1}",
        "port": int(public_first) + i if public_first else None,
        "connected": first + i in ports,
    } for i in range(int(env.get(f"{kind}SERVICE_COUNT") or 0))]


def status():
    env = config()
    tcp = bound_ports("tcp")
    control = int(env["CONTROL_PORT"])
    return {
        "server": "rathole",
        "running": control in tcp,
        "control": {"host": env.get("DOMAIN", ""), "port": int(env["PUBLIC_CONTROL_PORT"]) if env.get("PUBLIC_CONTROL_PORT") else None},
        "transport": "noise",
        "publicKey": env.get("PUBLIC_KEY", ""),
        "services": services(env, "service", "", tcp),
        "udpServices": services(env, "udp", "UDP_", bound_ports("udp")),
    }


def page(s):
    rows = "".join(
        f"<tr><td>{html.escape(v['name'])}</td><td>{v['port'] or 'disabled'}{suffix}</td>"
        f"<td>{'client connected' if v['connected'] else 'waiting for a client'}</td></tr>"
        for services, suffix in ((s["services"], ""), (s["udpServices"], "/udp")) for v in services)
    control = f"{s['control']['host']}:{s['control']['port']}" if s["control"]["port"] else "disabled"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>rathole server</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:50em}}td,th{{padding:.2em 1em;text-align:left}}code{{word-break:break-all}}</style>
</head><body>
<h1>rathole server</h1>
<p>Server: <strong>{'running' if s['running'] else 'not running'}</strong></p>
<p>Control channel (clients' <code>remote_addr</code>): <code>{html.escape(control)}</code>, transport Noise,
server public key (clients' <code>remote_public_key</code>): <code>{html.escape(s['publicKey'])}</code></p>
<p>The token and a client configuration to start from are in the app's data
(<code>/app/data/token</code>, <code>/app/data/client.toml.example</code>).</p>
<table><tr><th>service</th><th>public port</th><th>state</th></tr>{rows}</table>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "rathole-status"
    sys_version = ""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        try:
            s = status()
        except (OSError, KeyError, ValueError) as e:
            return self.send(503, "text/plain", f"status unavailable: {e}\n")
        if path == "/healthz":
            if s["running"]:
                return self.send(200, "text/plain", "ok\n")
            return self.send(503, "text/plain", "the rathole server is not listening\n")
        if path == "/status.json":
            return self.send(200, "application/json", json.dumps(s, indent=2) + "\n")
        if path == "/":
            return self.send(200, "text/html; charset=utf-8", page(s))
        return self.send(404, "text/plain", "not found\n")

    def send(self, code, ctype, body):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        if not self.path.startswith("/healthz"):
            super().log_message(fmt, *args)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
