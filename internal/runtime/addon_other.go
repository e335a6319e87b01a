package runtime

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cpk/internal/engine"
)

// --- localstorage (§3.3): a volume at /app/data ---

type localstorage struct{}

func (localstorage) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	if a.DataVolume == "" {
		v := a.ID + "-localstorage"
		if err := a.box.createVolume(ctx, v, "data"); err != nil {
			return nil, err
		}
		a.DataVolume = v
	}
	return nil, nil
}

func (localstorage) Teardown(ctx context.Context, a *App) error {
	if a.DataVolume == "" {
		return nil
	}
	// The data helper mounts the volume: it goes first.
	if err := a.helperGone(a.dropHelper(ctx)); err != nil {
		return err
	}
	err := a.box.Engine.RemoveVolume(ctx, a.DataVolume)
	a.DataVolume = ""
	return err
}

// SQLitePaths are the files localstorage's sqlite option lists.
func SQLitePaths(opts map[string]any) []string {
	sq, _ := opts["sqlite"].(map[string]any)
	list, _ := sq["paths"].([]any)
	var out []string
	for _, p := range list {
		if s, ok := p.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// --- redis (§3.2: one server per app, redis-<app id>:6379, a password) ---

type redis struct{}

func redisKind(a *App) string { return "redis-" + a.ID }

func noPassword(a *App) bool {
	v, _ := a.Manifest.Addons["redis"]["noPassword"].(bool)
	return v
}

func (redis) service(ctx context.Context, a *App) (*service, string, error) {
	pw := ""
	if !noPassword(a) {
		var err error
		if pw, err = a.creds.secret("redis.password"); err != nil {
			return nil, "", err
		}
	}
	cmd := []string{"redis-server", "--bind", "0.0.0.0", "--port", "6379", "--dir", "/var/lib/redis", "--enable-debug-command", "local", "--protected-mode", "no"}
	env := map[string]string{}
	if pw != "" {
		// The password reaches redis-server through the environment, never a command line.
		cmd = []string{"/bin/sh", "-c", `exec "$@" --requirepass "$REDIS_PASSWORD"`, "redis"}
		cmd = append(cmd, "redis-server", "--bind", "0.0.0.0", "--port", "6379", "--dir", "/var/lib/redis", "--enable-debug-command", "local")
		env["REDIS_PASSWORD"] = pw
	}
	sv, err := a.box.service(ctx, serviceSpec{kind: redisKind(a), aliases: []string{redisKind(a)}, cmd: cmd, env: env,
		ready: []string{"/bin/sh", "-c", `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG`}})
	return sv, pw, err
}

func (r redis) cli(ctx context.Context, a *App, args ...string) ([]byte, error) {
	sv, _, err := r.service(ctx, a)
	if err != nil {
		return nil, err
	}
	return a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: append([]string{"/bin/sh", "-c", `REDISCLI_AUTH="$REDIS_PASSWORD" exec redis-cli "$@"`, "redis-cli"}, args...)})
}

func (r redis) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	_, pw, err := r.service(ctx, a)
	if err != nil {
		return nil, err
	}
	host := redisKind(a)
	env := map[string]string{"CLOUDRON_REDIS_HOST": host, "CLOUDRON_REDIS_PORT": "6379", "CLOUDRON_REDIS_URL": "redis://" + host + ":6379"}
	if pw != "" {
		env["CLOUDRON_REDIS_PASSWORD"] = pw
		env["CLOUDRON_REDIS_URL"] = "redis://default:" + pw + "@" + host + ":6379"
	}
	return env, nil
}

func (r redis) Teardown(ctx context.Context, a *App) error {
	return a.box.stopService(ctx, redisKind(a))
}

func (redis) DumpFile() string { return "dump.rdb" }

func (r redis) Dump(ctx context.Context, a *App, path string) error {
	if _, err := r.cli(ctx, a, "SAVE"); err != nil {
		return err
	}
	sv, _, err := r.service(ctx, a)
	if err != nil {
		return err
	}
	out, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"cat", "/var/lib/redis/dump.rdb"}})
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

func (r redis) Load(ctx context.Context, a *App, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sv, _, err := r.service(ctx, a)
	if err != nil {
		return err
	}
	if _, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"/bin/sh", "-c", "cat > /var/lib/redis/dump.rdb"}, Stdin: bytes.NewReader(data)}); err != nil {
		return err
	}
	_, err = r.cli(ctx, a, "DEBUG", "RELOAD", "NOSAVE")
	return err
}

// Digest identifies the app's lasting Redis data: every key without an
// expiry, with the digest of its value (DEBUG DIGEST-VALUE does not depend
// on the encoding). Keys with an expiry are a cache by their nature: they
// may expire between the backup and the restore, as they would on the
// platform, so they are not part of what a restore must give back.
func (r redis) Digest(ctx context.Context, a *App) (string, error) {
	sv, _, err := r.service(ctx, a)
	if err != nil {
		return "", err
	}
	out, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"/bin/sh", "-c", `export REDISCLI_AUTH="$REDIS_PASSWORD"
redis-cli --scan | while IFS= read -r k; do
  [ "$(redis-cli pttl "$k")" = -1 ] || continue
  printf '%s %s\n' "$k" "$(redis-cli debug digest-value "$k")"
done | LC_ALL=C sort | sha256sum`}})
	if err != nil {
		return "", err
	}
	sum, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	return sum, nil
}

// --- sendmail (§3.3: server mail, SMTP 2525, SMTPS 2465, the app's
// mailbox <location>.app@<domain>) ---

type sendmail struct{}

func (sendmail) service(ctx context.Context, b *Box) (*service, error) {
	return mailService(ctx, b)
}

func (s sendmail) Setup(ctx context.Context, a *App, opts map[string]any) (map[string]string, error) {
	if optional, _ := opts["optional"].(bool); optional {
		return nil, nil // all sendmail variables are absent (§3.3)
	}
	sv, err := s.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	pw, err := a.creds.secret("sendmail.password")
	if err != nil {
		return nil, err
	}
	from := a.Location + ".app@" + a.box.Domain
	if _, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"/bin/sh", "-c", "cat >> /var/mail/cpk/users"},
		Stdin: strings.NewReader(from + " " + pw + "\n")}); err != nil {
		return nil, err
	}
	env := map[string]string{
		"CLOUDRON_MAIL_SMTP_SERVER":   "mail",
		"CLOUDRON_MAIL_SMTP_PORT":     "2525",
		"CLOUDRON_MAIL_SMTPS_PORT":    "2465",
		"CLOUDRON_MAIL_SMTP_USERNAME": from,
		"CLOUDRON_MAIL_SMTP_PASSWORD": pw,
		"CLOUDRON_MAIL_FROM":          from,
		"CLOUDRON_MAIL_DOMAIN":        a.box.Domain,
	}
	if dn, _ := opts["supportsDisplayName"].(bool); dn {
		name := a.Manifest.Title
		if name == "" {
			name = a.Location
		}
		env["CLOUDRON_MAIL_FROM_DISPLAY_NAME"] = name
	}
	return env, nil
}

func (sendmail) Teardown(context.Context, *App) error { return nil }

// Mail is one message the mail server kept.
type Mail struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Mails returns every mail the box's mail server has received.
func (b *Box) Mails(ctx context.Context) ([]Mail, error) {
	b.mu.Lock()
	sv, ok := b.services["mail"]
	b.mu.Unlock()
	if !ok {
		return nil, nil
	}
	script := `import json, mailbox
out = []
for m in mailbox.Maildir("/var/mail/cpk/box", create=False):
    body = m.get_payload(decode=True) if not m.is_multipart() else b""
    out.append({"from": m.get("From", ""), "to": m.get("To", ""), "subject": m.get("Subject", ""), "body": (body or b"").decode("utf-8", "replace")})
print(json.dumps(out))`
	out, err := b.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"python3", "-c", script}})
	if err != nil {
		return nil, err
	}
	var mails []Mail
	if err := json.Unmarshal(out, &mails); err != nil {
		return nil, fmt.Errorf("read the mails: %w", err)
	}
	return mails, nil
}

// --- ldap (§3.2: users and groups under dc=cloudron, a bind DN per app) ---

type ldap struct{}

// TestUserPassword is the password of the seeded LDAP users admin and user.
const TestUserPassword = "cpk-test-password"

func (ldap) service(ctx context.Context, b *Box) (*service, error) {
	return b.service(ctx, serviceSpec{kind: "ldap", aliases: []string{"ldap"},
		cmd:   []string{"/usr/local/lib/cpk/ldap.sh"},
		env:   map[string]string{"LDAP_ROOT_PASSWORD": NewRunID() + NewRunID(), "LDAP_USER_PASSWORD": TestUserPassword},
		ready: []string{"ldapsearch", "-x", "-H", "ldap://127.0.0.1:3002", "-b", "", "-s", "base", "namingContexts"}})
}

func ldapBindDN(a *App) string { return "cn=" + a.ID + ",ou=apps,dc=cloudron" }

func (l ldap) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	sv, err := l.service(ctx, a.box)
	if err != nil {
		return nil, err
	}
	pw, err := a.creds.secret("ldap.password")
	if err != nil {
		return nil, err
	}
	ldif := fmt.Sprintf("dn: %s\nchangetype: add\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: %s\nuserPassword: %s\n", ldapBindDN(a), a.ID, pw)
	res, err := a.box.Engine.Exec(ctx, sv.container, engine.ExecSpec{Cmd: []string{"ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", "ldapi:///", "-c"}, Stdin: strings.NewReader(ldif)})
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 && res.ExitCode != 68 { // 68: already exists (set up again)
		return nil, fmt.Errorf("add the bind DN: exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return map[string]string{
		"CLOUDRON_LDAP_SERVER":         "ldap",
		"CLOUDRON_LDAP_HOST":           "ldap",
		"CLOUDRON_LDAP_PORT":           "3002",
		"CLOUDRON_LDAP_URL":            "ldap://ldap:3002",
		"CLOUDRON_LDAP_USERS_BASE_DN":  "ou=users,dc=cloudron",
		"CLOUDRON_LDAP_GROUPS_BASE_DN": "ou=groups,dc=cloudron",
		"CLOUDRON_LDAP_BIND_DN":        ldapBindDN(a),
		"CLOUDRON_LDAP_BIND_PASSWORD":  pw,
	}, nil
}

func (l ldap) Teardown(ctx context.Context, a *App) error {
	sv, err := l.service(ctx, a.box)
	if err != nil {
		return err
	}
	res, err := a.box.Engine.Exec(ctx, sv.container, engine.ExecSpec{Cmd: []string{"ldapdelete", "-Q", "-Y", "EXTERNAL", "-H", "ldapi:///", ldapBindDN(a)}})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 && res.ExitCode != 32 { // 32: no such object
		return fmt.Errorf("remove the bind DN: exit %d: %s", res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

// --- tls (§3.2: a certificate at /etc/certs/tls_{cert,key}.pem, read-only) ---

type tlsAddon struct{}

func (a *App) certDir() string {
	if _, ok := a.Manifest.Addons["tls"]; !ok {
		return ""
	}
	return filepath.Join(a.box.StateDir, "apps", a.ID, "certs")
}

func (tlsAddon) Setup(_ context.Context, a *App, _ map[string]any) (map[string]string, error) {
	dir := a.certDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cert, key, err := selfSigned(a.FQDN())
	if err != nil {
		return nil, err
	}
	// Readable by the app's user: the platform's files are root's, but the
	// emulation cannot tell which user an app reads them as.
	if err := os.WriteFile(filepath.Join(dir, "tls_cert.pem"), cert, 0o644); err != nil {
		return nil, err
	}
	return nil, os.WriteFile(filepath.Join(dir, "tls_key.pem"), key, 0o644)
}

func (tlsAddon) Teardown(_ context.Context, a *App) error { return os.RemoveAll(a.certDir()) }

// selfSigned makes a certificate and key for host, valid for 90 days.
func selfSigned(host string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
