#!/bin/bash
set -eu

mkdir -p /run/portal/home /app/data/ssh

# The settings file is the admin's: a commented template on the first start.
if [[ ! -f /app/data/portal.conf ]]; then
    echo "==> First start: writing /app/data/portal.conf (set SSH_HOST there)"
    cp /app/pkg/portal.conf.default /app/data/portal.conf
fi
# Host keys of the target, trusted on first use and then enforced.
touch /app/data/ssh/known_hosts /app/data/audit.log

# Shell In A Box gives each session a clean environment, so the session
# program reads the ldap addon's values from here (regenerated on every
# start: they may change). Only the portal program reads it; sessions
# never get a shell in this container.
: > /run/portal/ldap.env
chmod 0600 /run/portal/ldap.env
for var in CLOUDRON_APP_DOMAIN CLOUDRON_LDAP_URL CLOUDRON_LDAP_USERS_BASE_DN \
        CLOUDRON_LDAP_BIND_DN CLOUDRON_LDAP_BIND_PASSWORD; do
    printf '%s=%q\n' "${var}" "${!var:-}" >> /run/portal/ldap.env
done
if [[ -z "${CLOUDRON_LDAP_URL:-}" ]]; then
    echo "==> No ldap addon values: every portal login will be refused"
fi

chown -R cloudron:cloudron /app/data /run/portal
chmod 0700 /app/data/ssh

echo "==> Starting Shell In A Box on port 4200"
exec gosu cloudron:cloudron /usr/bin/shellinaboxd --port=4200 --disable-ssl --disable-ssl-menu \
    --no-beep --disable-utmp-logging --verbose \
    --service="/:cloudron:cloudron:/run/portal/home:/app/pkg/portal"
