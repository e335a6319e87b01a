#!/bin/bash
# cpk's mail server (the container "mail" of the emulated box):
#   - the sendmail add-on's SMTP server (mail.py: plain 2525, TLS 2465),
#     which keeps every mail apps send in /var/mail/cpk/box;
#   - Postfix: SMTP on 25 for mail to the box's domain (MAIL_DOMAIN), and
#     submission with authentication on 587 (STARTTLS offered) and 465
#     (TLS) for the email add-on; mail to other domains is relayed to
#     the sendmail server, which keeps it;
#   - Dovecot: IMAP 9993 (IMAPS 9995), POP3 9994 (POP3S 9996),
#     ManageSieve 4190, LMTP from Postfix, Sieve filters on delivery.
# The seeded users admin@ and user@ the domain have mailboxes with
# MAIL_USER_PASSWORD, as in the ldap add-on.
set -euo pipefail
domain=${MAIL_DOMAIN:?}
lib=/usr/local/lib/cpk
mkdir -p /var/mail/cpk /var/mail/vhosts
chown vmail:vmail /var/mail/vhosts

if [[ ! -s /var/mail/cpk/tls_cert.pem ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mail.$domain" \
        -addext "subjectAltName=DNS:mail,DNS:mail.$domain" \
        -keyout /var/mail/cpk/tls_key.pem -out /var/mail/cpk/tls_cert.pem 2>/dev/null
    chmod 0644 /var/mail/cpk/tls_cert.pem /var/mail/cpk/tls_key.pem
fi

for u in admin user; do
    printf '%s\n' "${MAIL_USER_PASSWORD:?}" | "$lib/mailbox.sh" set "user-$u" "$u@$domain"
done

postconf -e \
    "myhostname=mail.$domain" "mydomain=$domain" 'myorigin=$mydomain' "mydestination=" \
    "inet_interfaces=all" "inet_protocols=ipv4" "mynetworks=127.0.0.0/8" \
    "maillog_file=/dev/stdout" "compatibility_level=3.6" "biff=no" "append_dot_mydomain=no" \
    "alias_maps=" "alias_database=" "local_recipient_maps=" \
    "virtual_mailbox_domains=$domain" "virtual_mailbox_maps=texthash:/var/mail/cpk/vmailbox" \
    "virtual_transport=lmtp:unix:private/dovecot-lmtp" \
    "default_transport=smtp:[127.0.0.1]:2525" "relay_transport=smtp:[127.0.0.1]:2525" \
    "smtp_tls_security_level=none" \
    "smtpd_tls_cert_file=/var/mail/cpk/tls_cert.pem" "smtpd_tls_key_file=/var/mail/cpk/tls_key.pem" \
    "smtpd_tls_security_level=may" \
    "smtpd_sasl_type=dovecot" "smtpd_sasl_path=private/auth" \
    "smtpd_relay_restrictions=permit_mynetworks,permit_sasl_authenticated,reject_unauth_destination"
for svc in submission smtps; do
    postconf -M "$svc/inet=$svc inet n - n - - smtpd"
    postconf -P "$svc/inet/syslog_name=postfix/$svc" "$svc/inet/smtpd_sasl_auth_enable=yes" \
        "$svc/inet/smtpd_tls_auth_only=no" "$svc/inet/smtpd_client_restrictions=permit_sasl_authenticated,reject"
done
postconf -P "smtps/inet/smtpd_tls_wrappermode=yes"
postconf -F '*/*/chroot=n'

dovecot
postfix start
exec python3 "$lib/mail.py"
