#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
export LDAP_EARLY="${CLOUDRON_LDAP_URL}" # want "RT008 \\$CLOUDRON_LDAP_URL is read under set -u"

start_app() {
    exec gosu cloudron:cloudron node /app/code/server.js
}

# without Cloudron user management the app starts with local accounts
if [[ -z "${CLOUDRON_LDAP_SERVER:-}" ]]; then
    start_app
fi

# past the early exit the ldap variables are set
export LDAP_URL="${CLOUDRON_LDAP_URL}"
export LDAP_BIND_DN="${CLOUDRON_LDAP_BIND_DN}"
export LDAP_SERVER="${CLOUDRON_LDAP_SERVR:-}" # want "XF001 CLOUDRON_LDAP_SERVR is not set by the platform: did you mean CLOUDRON_LDAP_SERVER\\?"
start_app
