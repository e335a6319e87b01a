package runtime_test

import (
	"strings"
	"testing"
	"time"

	"cpk/internal/manifest"
	"cpk/internal/runtime"
)

// TestMailAddonsEndToEnd installs an app with the sendmail, recvmail and
// email add-ons; delivers a mail by SMTP into its mailbox and reads it
// back from inside the app with Python's imaplib and poplib; sends through
// the email add-on's submission port as a seeded user, with a Sieve
// filter put over ManageSieve filing the mail into a folder; moves the
// app (its mailbox keeps its mail under the new address); and leaves no
// mailbox behind after the uninstall.
func TestMailAddonsEndToEnd(t *testing.T) {
	ctx, _, b, baseRef := testBox(t, "runtime-mail")
	doc, errs := manifest.Decode([]byte(`{"manifestVersion": 2, "version": "1.0.0", "httpPort": 8000, "healthCheckPath": "/",
	  "title": "Mail probe", "addons": {"sendmail": {}, "recvmail": {}, "email": {}}}`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	app := b.NewApp(baseRef, doc.Manifest(), "probe")
	app.Cmd = []string{"/bin/sh", "-c", `exec python3 -m http.server 8000 --directory /run`}
	if err := app.Install(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.WaitHealthy(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	env := app.Env()
	want := map[string]string{
		"CLOUDRON_MAIL_IMAP_SERVER": "mail", "CLOUDRON_MAIL_IMAP_PORT": "9993", "CLOUDRON_MAIL_TO": "probe.app@" + b.Domain,
		"CLOUDRON_MAIL_IMAP_USERNAME": "probe.app@" + b.Domain, "CLOUDRON_MAIL_TO_DOMAIN": b.Domain,
		"CLOUDRON_EMAIL_IMAP_PORT": "9993", "CLOUDRON_EMAIL_SIEVE_PORT": "4190", "CLOUDRON_EMAIL_DOMAIN": b.Domain,
		"CLOUDRON_MAIL_SMTP_PORT": "2525",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	for _, k := range []string{"CLOUDRON_MAIL_IMAP_PASSWORD", "CLOUDRON_MAIL_IMAPS_PORT", "CLOUDRON_MAIL_POP3_PORT", "CLOUDRON_MAIL_POP3S_PORT",
		"CLOUDRON_EMAIL_SMTP_SERVER", "CLOUDRON_EMAIL_SMTP_PORT", "CLOUDRON_EMAIL_SMTPS_PORT", "CLOUDRON_EMAIL_STARTTLS_PORT",
		"CLOUDRON_EMAIL_IMAP_SERVER", "CLOUDRON_EMAIL_IMAPS_PORT", "CLOUDRON_EMAIL_SIEVE_SERVER", "CLOUDRON_EMAIL_DOMAINS", "CLOUDRON_EMAIL_SERVER_HOST"} {
		if env[k] == "" {
			t.Errorf("no %s", k)
		}
	}

	mid, err := b.Deliver(ctx, runtime.Delivery{From: "customer@example.org", To: app.MailboxAddress(), Subject: "Printer on fire", Body: "Room 4, since noon."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Deliver(ctx, runtime.Delivery{To: "nobody@" + b.Domain, Subject: "x"}); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a mail to no mailbox: %v", err)
	}
	// Read it the way an app does: IMAP with the add-on's variables, then
	// POP3, from inside the app's container.
	read := `set -e
python3 - <<'PY'
import imaplib, os, poplib, ssl
e = os.environ
i = imaplib.IMAP4(e["CLOUDRON_MAIL_IMAP_SERVER"], int(e["CLOUDRON_MAIL_IMAP_PORT"]))
i.login(e["CLOUDRON_MAIL_IMAP_USERNAME"], e["CLOUDRON_MAIL_IMAP_PASSWORD"])
i.select("INBOX")
typ, nums = i.search(None, "UNSEEN")
for n in nums[0].split():
    typ, data = i.fetch(n, "(RFC822)")
    print(data[0][1].decode())
i.logout()
try:
    imaplib.IMAP4(e["CLOUDRON_MAIL_IMAP_SERVER"], int(e["CLOUDRON_MAIL_IMAP_PORT"])).login(e["CLOUDRON_MAIL_IMAP_USERNAME"], "wrong")
    print("WRONG PASSWORD ACCEPTED")
except imaplib.IMAP4.error:
    pass
s = imaplib.IMAP4_SSL(e["CLOUDRON_MAIL_IMAP_SERVER"], int(e["CLOUDRON_MAIL_IMAPS_PORT"]), ssl_context=ssl._create_unverified_context())
s.login(e["CLOUDRON_MAIL_IMAP_USERNAME"], e["CLOUDRON_MAIL_IMAP_PASSWORD"])
s.logout()
p = poplib.POP3(e["CLOUDRON_MAIL_IMAP_SERVER"], int(e["CLOUDRON_MAIL_POP3_PORT"]))
p.user(e["CLOUDRON_MAIL_IMAP_USERNAME"]); p.pass_(e["CLOUDRON_MAIL_IMAP_PASSWORD"])
print("pop3 messages:", p.stat()[0])
p.quit()
PY`
	res, err := app.Exec(ctx, "cloudron", "/bin/bash", "-c", read)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("read the mailbox: %v\n%s\n%s", err, res.Stdout, res.Stderr)
	}
	out := string(res.Stdout)
	for _, w := range []string{"Subject: Printer on fire", "From: customer@example.org", "Message-ID: " + mid, "Room 4, since noon.", "pop3 messages: 1"} {
		if !strings.Contains(out, w) {
			t.Errorf("the mailbox read over IMAP lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "WRONG PASSWORD ACCEPTED") {
		t.Error("IMAP accepted a wrong password")
	}

	// email: a seeded user puts a Sieve script over ManageSieve (raw
	// protocol, RFC 5804) that files mail with [cpk] in the subject into
	// the folder cpk, then sends one through submission with
	// authentication to the other seeded user, who finds it there.
	email := `set -e
python3 - <<'PY'
import base64, imaplib, os, smtplib, socket, time
e = os.environ
user, pw = "user@" + e["CLOUDRON_EMAIL_DOMAIN"], "` + runtime.TestUserPassword + `"
s = socket.create_connection((e["CLOUDRON_EMAIL_SIEVE_SERVER"], int(e["CLOUDRON_EMAIL_SIEVE_PORT"])))
f = s.makefile("rb")
def answer():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l)
        if l.startswith(("OK", "NO", "BYE")):
            return lines
greeting = answer()
assert any('"SIEVE"' in l for l in greeting), greeting
cred = base64.b64encode(("\0%s\0%s" % (user, pw)).encode()).decode()
s.sendall(('AUTHENTICATE "PLAIN" "%s"\r\n' % cred).encode())
assert answer()[-1].startswith("OK"), "sieve login"
script = 'require ["fileinto", "mailbox"];\r\nif header :contains "subject" "[cpk]" { fileinto :create "cpk"; }\r\n'
s.sendall(('PUTSCRIPT "cpk" {%d+}\r\n%s\r\n' % (len(script.encode()), script)).encode())
assert answer()[-1].startswith("OK"), "putscript"
s.sendall(b'SETACTIVE "cpk"\r\n')
assert answer()[-1].startswith("OK"), "setactive"
s.sendall(b"LISTSCRIPTS\r\n")
print("sieve scripts:", "".join(answer()).strip())
s.sendall(b"LOGOUT\r\n")
m = smtplib.SMTP(e["CLOUDRON_EMAIL_SMTP_SERVER"], int(e["CLOUDRON_EMAIL_SMTP_PORT"]))
m.login("admin@" + e["CLOUDRON_EMAIL_DOMAIN"], pw)
m.sendmail("admin@" + e["CLOUDRON_EMAIL_DOMAIN"], [user], "Subject: [cpk] filed\r\n\r\nby sieve\r\n")
m.quit()
try:
    smtplib.SMTP(e["CLOUDRON_EMAIL_SMTP_SERVER"], int(e["CLOUDRON_EMAIL_SMTP_PORT"])).login("admin@" + e["CLOUDRON_EMAIL_DOMAIN"], "wrong")
    print("WRONG PASSWORD ACCEPTED")
except smtplib.SMTPAuthenticationError:
    pass
i = imaplib.IMAP4(e["CLOUDRON_EMAIL_IMAP_SERVER"], int(e["CLOUDRON_EMAIL_IMAP_PORT"]))
i.login(user, pw)
for _ in range(100):
    typ, _ = i.select("cpk")
    if typ == "OK":
        typ, nums = i.search(None, "ALL")
        if nums[0]:
            print(i.fetch(nums[0].split()[0], "(BODY[HEADER.FIELDS (SUBJECT)])")[1][0][1].decode().strip())
            break
    time.sleep(0.2)
PY`
	res, err = app.Exec(ctx, "cloudron", "/bin/bash", "-c", email)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("email add-on: %v\n%s\n%s", err, res.Stdout, res.Stderr)
	}
	out = string(res.Stdout)
	if !strings.Contains(out, `"cpk" ACTIVE`) || !strings.Contains(out, "Subject: [cpk] filed") || strings.Contains(out, "WRONG PASSWORD ACCEPTED") {
		t.Errorf("email add-on: the Sieve script did not file the mail sent through submission:\n%s", out)
	}

	// A move changes the address; the mailbox keeps its mail.
	if _, err := app.Reconfigure(ctx, app.Image, app.Manifest, "moved"); err != nil {
		t.Fatal(err)
	}
	if got := app.Env()["CLOUDRON_MAIL_TO"]; got != "moved.app@"+b.Domain {
		t.Errorf("after the move CLOUDRON_MAIL_TO = %q", got)
	}
	res, err = app.Exec(ctx, "cloudron", "/bin/sh", "-c", `python3 -c '
import imaplib, os
e = os.environ
i = imaplib.IMAP4(e["CLOUDRON_MAIL_IMAP_SERVER"], int(e["CLOUDRON_MAIL_IMAP_PORT"]))
i.login(e["CLOUDRON_MAIL_IMAP_USERNAME"], e["CLOUDRON_MAIL_IMAP_PASSWORD"])
print("messages:", i.select("INBOX")[1][0].decode())'`)
	if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Stdout), "messages: 1") {
		t.Errorf("the mailbox after the move: %v %s %s", err, res.Stdout, res.Stderr)
	}
	if _, err := b.Deliver(ctx, runtime.Delivery{To: "probe.app@" + b.Domain, Subject: "old address"}); err == nil {
		t.Error("the old address still takes mail after the move")
	}

	if _, err := app.Uninstall(ctx); err != nil {
		t.Fatal(err)
	}
	left, err := app.Leftovers(ctx)
	if err != nil || len(left) > 0 {
		t.Errorf("after the uninstall: %v %v", left, err)
	}
}
