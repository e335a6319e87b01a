package runtime

import (
	"context"
	"fmt"
	"strings"

	"cpk/internal/engine"
)

// --- turn (§3.2: a TURN server, coturn, with the TURN REST API's shared
// secret: a client's username is "<expiry>:<name>", its password the
// base64 HMAC-SHA1 of the username under the secret) ---

type turn struct{}

// TURN ports of the box's coturn.
const (
	TURNPort    = 3478
	TURNTLSPort = 5349
)

func (turn) service(ctx context.Context, b *Box) (*service, error) {
	// The secret reaches coturn through the environment, never a command
	// line; one per box, as the platform has one per server.
	script := `set -e
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=turn.$TURN_REALM" \
    -addext "subjectAltName=DNS:turn,DNS:turn.$TURN_REALM" -keyout /tmp/turn_key.pem -out /tmp/turn_cert.pem 2>/dev/null
exec turnserver -n --no-cli --log-file=stdout --simple-log --fingerprint \
    --listening-port=` + fmt.Sprint(TURNPort) + ` --tls-listening-port=` + fmt.Sprint(TURNTLSPort) + ` \
    --use-auth-secret --static-auth-secret="$TURN_SECRET" --realm="$TURN_REALM" \
    --cert=/tmp/turn_cert.pem --pkey=/tmp/turn_key.pem --allow-loopback-peers`
	return b.service(ctx, serviceSpec{kind: "turn", aliases: []string{"turn", "turn." + b.Domain},
		cmd:   []string{"/bin/sh", "-c", script},
		env:   map[string]string{"TURN_SECRET": NewRunID() + NewRunID(), "TURN_REALM": b.Domain},
		ready: []string{"python3", "-c", fmt.Sprintf("import socket; socket.create_connection(('127.0.0.1', %d), 1).close(); socket.create_connection(('127.0.0.1', %d), 1).close()", TURNPort, TURNTLSPort)}})
}

func (t turn) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	sv, err := t.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	out, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"printenv", "TURN_SECRET"}})
	if err != nil {
		return nil, fmt.Errorf("read the TURN secret: %w", err)
	}
	return map[string]string{
		"CLOUDRON_TURN_SERVER":   "turn",
		"CLOUDRON_TURN_PORT":     fmt.Sprint(TURNPort),
		"CLOUDRON_TURN_TLS_PORT": fmt.Sprint(TURNTLSPort),
		"CLOUDRON_TURN_SECRET":   strings.TrimSpace(string(out)),
	}, nil
}

// Teardown: the TURN server is the box's, shared by its apps.
func (turn) Teardown(context.Context, *App) error { return nil }
