"""An SMTP server that accepts every mail and keeps it (cpk's sendmail add-on).

Plain SMTP on 2525 and SMTP over TLS on 2465, AUTH PLAIN/LOGIN accepted
without TLS with the credentials listed in /var/mail/cpk/users (one
"user password" per line, re-read on every login). Every mail is kept in
the Maildir /var/mail/cpk/box.
"""
import asyncio
import mailbox
import os
import signal
import ssl
import subprocess

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

USERS = "/var/mail/cpk/users"
BOX = "/var/mail/cpk/box"


def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    user, password = auth_data.login.decode(), auth_data.password.decode()
    try:
        with open(USERS) as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 1)
                if len(parts) == 2 and parts[0] == user and parts[1] == password:
                    return AuthResult(success=True)
    except FileNotFoundError:
        pass
    return AuthResult(success=False, handled=False)


def tls_context():
    cert, key = "/var/mail/cpk/tls_cert.pem", "/var/mail/cpk/tls_key.pem"
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-subj", "/CN=mail", "-keyout", key, "-out", cert], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    mailbox.Maildir(BOX, create=True)
    kw = dict(authenticator=authenticator, auth_require_tls=False, auth_required=False)
    plain = Controller(Mailbox(BOX), hostname="0.0.0.0", port=2525, **kw)
    tls = Controller(Mailbox(BOX), hostname="0.0.0.0", port=2465, ssl_context=tls_context(), **kw)
    plain.start()
    tls.start()
    print("mail: SMTP on 2525, SMTPS on 2465, mails kept in " + BOX, flush=True)
    # PID 1 of its container: without a handler SIGTERM is ignored and every
    # teardown waits for the engine's SIGKILL.
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    loop.run_forever()
    plain.stop()
    tls.stop()


if __name__ == "__main__":
    main()
