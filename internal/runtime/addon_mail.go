package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"cpk/internal/engine"
)

// The box's mail server (§3.3), one container "mail" (mail.sh): the
// sendmail add-on's SMTP server, which keeps every mail apps send, beside
// Postfix and Dovecot, which hold the mailboxes of the recvmail and email
// add-ons. Ports, as the platform's mail container has them where the
// reference names them (SMTP 2525, SMTPS 2465, IMAP 9993, ManageSieve
// 4190) and cpk's choice elsewhere.
const (
	MailSMTPPort       = 2525 // sendmail: plain, every mail kept
	MailSMTPSPort      = 2465 // sendmail: TLS
	MailMXPort         = 25   // Postfix: mail from outside to the box's mailboxes
	MailSubmissionPort = 587  // Postfix: submission with authentication, STARTTLS offered
	MailSubmissionsTLS = 465  // Postfix: submission over TLS
	MailIMAPPort       = 9993
	MailIMAPSPort      = 9995
	MailPOP3Port       = 9994
	MailPOP3SPort      = 9996
	MailSievePort      = 4190
)

// mailService starts the box's mail server (or returns it).
func mailService(ctx context.Context, b *Box) (*service, error) {
	ports := []int{MailSMTPPort, MailSMTPSPort, MailMXPort, MailSubmissionPort, MailSubmissionsTLS, MailIMAPPort, MailSievePort}
	var probe strings.Builder
	probe.WriteString("import socket\n")
	for _, p := range ports {
		fmt.Fprintf(&probe, "socket.create_connection(('127.0.0.1', %d), 1).close()\n", p)
	}
	return b.service(ctx, serviceSpec{kind: "mail", aliases: []string{"mail", "mail." + b.Domain},
		cmd:   []string{"/usr/local/lib/cpk/mail.sh"},
		env:   map[string]string{"MAIL_DOMAIN": b.Domain, "MAIL_USER_PASSWORD": TestUserPassword},
		ready: []string{"python3", "-c", probe.String()}})
}

// --- recvmail (§3.3: the app's own mailbox, read over IMAP) ---

type recvmail struct{}

// MailboxAddress is the app's recvmail mailbox, <location>.app@<domain>
// (the platform's default mailbox name), or "" when the app does not
// declare recvmail.
func (a *App) MailboxAddress() string {
	if _, ok := a.Manifest.Addons["recvmail"]; !ok {
		return ""
	}
	return a.Location + ".app@" + a.box.Domain
}

// mailboxKey names the app's Maildir: it keeps its mail when a move
// changes the address.
func mailboxKey(a *App) string { return "app-" + a.ID }

func (recvmail) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	sv, err := mailService(ctx, a.box)
	if err != nil {
		return nil, err
	}
	pw, err := a.creds.secret("recvmail.password")
	if err != nil {
		return nil, err
	}
	addr := a.MailboxAddress()
	if _, err := a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"/usr/local/lib/cpk/mailbox.sh", "set", mailboxKey(a), addr},
		Stdin: strings.NewReader(pw + "\n")}); err != nil {
		return nil, fmt.Errorf("create the mailbox %s: %w", addr, err)
	}
	return map[string]string{
		"CLOUDRON_MAIL_IMAP_SERVER":   "mail",
		"CLOUDRON_MAIL_IMAP_PORT":     fmt.Sprint(MailIMAPPort),
		"CLOUDRON_MAIL_IMAPS_PORT":    fmt.Sprint(MailIMAPSPort),
		"CLOUDRON_MAIL_POP3_PORT":     fmt.Sprint(MailPOP3Port),
		"CLOUDRON_MAIL_POP3S_PORT":    fmt.Sprint(MailPOP3SPort),
		"CLOUDRON_MAIL_IMAP_USERNAME": addr,
		"CLOUDRON_MAIL_IMAP_PASSWORD": pw,
		"CLOUDRON_MAIL_TO":            addr,
		"CLOUDRON_MAIL_TO_DOMAIN":     a.box.Domain,
	}, nil
}

// Teardown removes the mailbox and its mail (uninstall). The platform does
// not back mail up with the app (§3.2), and neither does cpk.
func (recvmail) Teardown(ctx context.Context, a *App) error {
	sv, err := mailService(ctx, a.box)
	if err != nil {
		return err
	}
	_, err = a.box.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"/usr/local/lib/cpk/mailbox.sh", "remove", mailboxKey(a)}})
	return err
}

// mailLeftovers names the app's mailbox when it is still there.
func (a *App) mailLeftovers(ctx context.Context) ([]string, error) {
	a.box.mu.Lock()
	sv, ok := a.box.services["mail"]
	a.box.mu.Unlock()
	if !ok {
		return nil, nil
	}
	res, err := a.box.Engine.Exec(ctx, sv.container, engine.ExecSpec{Cmd: []string{"/bin/sh", "-c", `grep -c -F ":/var/mail/vhosts/$1:" /var/mail/cpk/passwd; test -d "/var/mail/vhosts/$1" && echo dir`, "sh", mailboxKey(a)}})
	if err != nil {
		return nil, err
	}
	out := strings.Fields(string(res.Stdout))
	if len(out) > 1 || (len(out) == 1 && out[0] != "0") {
		return []string{"mailbox of app " + a.ID}, nil
	}
	return nil, nil
}

// --- email (§3.3: webmail and mail clients: IMAP, SMTP, ManageSieve for
// the users' mailboxes; the seeded users admin@ and user@ the domain) ---

type email struct{}

func (email) Setup(ctx context.Context, a *App, _ map[string]any) (map[string]string, error) {
	if _, err := mailService(ctx, a.box); err != nil {
		return nil, err
	}
	d := a.box.Domain
	return map[string]string{
		"CLOUDRON_EMAIL_SMTP_SERVER":   "mail",
		"CLOUDRON_EMAIL_SMTP_PORT":     fmt.Sprint(MailSubmissionPort),
		"CLOUDRON_EMAIL_SMTPS_PORT":    fmt.Sprint(MailSubmissionsTLS),
		"CLOUDRON_EMAIL_STARTTLS_PORT": fmt.Sprint(MailSubmissionPort),
		"CLOUDRON_EMAIL_IMAP_SERVER":   "mail",
		"CLOUDRON_EMAIL_IMAP_PORT":     fmt.Sprint(MailIMAPPort),
		"CLOUDRON_EMAIL_IMAPS_PORT":    fmt.Sprint(MailIMAPSPort),
		"CLOUDRON_EMAIL_SIEVE_SERVER":  "mail",
		"CLOUDRON_EMAIL_SIEVE_PORT":    fmt.Sprint(MailSievePort),
		"CLOUDRON_EMAIL_DOMAIN":        d,
		"CLOUDRON_EMAIL_DOMAINS":       d,
		"CLOUDRON_EMAIL_SERVER_HOST":   "mail." + d,
	}, nil
}

// Teardown: the users' mailboxes belong to the box, not to the app.
func (email) Teardown(context.Context, *App) error { return nil }

// --- delivering mail into the box ---

// Delivery is a mail to deliver into a mailbox of the box.
type Delivery struct {
	From    string
	To      string
	Subject string
	Body    string
}

// Deliver sends a mail by SMTP into the box's mail server, as mail from
// outside arrives (Postfix on port 25), and returns once Dovecot holds it
// in the recipient's mailbox, with its Message-ID.
func (b *Box) Deliver(ctx context.Context, d Delivery) (string, error) {
	if d.To == "" {
		return "", errors.New("deliver: no recipient")
	}
	if d.From == "" {
		d.From = "cpk-test@example.com"
	}
	sv, err := mailService(ctx, b)
	if err != nil {
		return "", err
	}
	script := `import json, os, smtplib, subprocess, sys, time
from email.message import EmailMessage
from email.utils import make_msgid, formatdate
d = json.load(sys.stdin)
m = EmailMessage()
m["From"], m["To"], m["Subject"] = d["From"], d["To"], d["Subject"]
m["Date"] = formatdate(localtime=True)
m["Message-ID"] = mid = make_msgid(domain="cpk.test")
m.set_content(d["Body"] or "\n")
try:
    with smtplib.SMTP("127.0.0.1", 25) as s:
        s.send_message(m)
except smtplib.SMTPRecipientsRefused as e:
    code, msg = list(e.recipients.values())[0]
    sys.exit("the mail server refused %s: %d %s" % (d["To"], code, msg.decode(errors="replace")))
for _ in range(300):
    r = subprocess.run(["doveadm", "search", "-u", d["To"], "mailbox", "*", "header", "Message-ID", mid], capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip():
        print(mid)
        sys.exit(0)
    time.sleep(0.1)
sys.exit("the mail to %s was accepted but did not reach the mailbox within 30 s" % d["To"])
`
	in, _ := json.Marshal(d)
	out, err := b.execIn(ctx, sv.container, engine.ExecSpec{Cmd: []string{"python3", "-c", script}, Stdin: strings.NewReader(string(in))})
	if err != nil {
		return "", fmt.Errorf("deliver to %s: %w", d.To, err)
	}
	return strings.TrimSpace(string(out)), nil
}
