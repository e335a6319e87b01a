#!/bin/bash
set -e

mkdir -p /run/app
if [[ -n "${CLOUDRON_MAIL_SMTP_SERVER:-}" ]]; then
    export SMTP_HOST="${CLOUDRON_MAIL_SMTP_SERVER}" SMTP_PORT="${CLOUDRON_MAIL_SMTP_PORT}"
fi
export SMTP_USER="${CLOUDRON_MAIL_SMTP_USERNAME}" # want "XF004 \\$CLOUDRON_MAIL_SMTP_USERNAME may be unset \\(sendmail is optional"
export IMAP_HOST="${CLOUDRON_MAIL_IMAP_SERVER:-}"
export IMAP_USER="$CLOUDRON_MAIL_IMAP_USERNAME" # want "XF004 \\$CLOUDRON_MAIL_IMAP_USERNAME may be unset \\(the admin can disable recvmail"
[[ -v CLOUDRON_LDAP_URL ]] && export LDAP_URL="${CLOUDRON_LDAP_URL}"
export LDAP_BIND="${CLOUDRON_LDAP_BIND_DN}" # want "XF004 \\$CLOUDRON_LDAP_BIND_DN may be unset \\(with optionalSso"
export SSH_LISTEN="${SSH_PORT}" # want "XF004 \\$SSH_PORT may be unset \\(the user can disable the port"
cat > /run/app/mail.ini <<INI
to=${CLOUDRON_MAIL_TO}
INI
chown -R cloudron:cloudron /app/data /run/app
exec gosu cloudron:cloudron /app/code/server
