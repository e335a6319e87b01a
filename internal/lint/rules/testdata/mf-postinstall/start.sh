#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
if [[ -n "${CLOUDRON_LDAP_URL:-}" ]]; then
    export LDAP_URL="${CLOUDRON_LDAP_URL}"
fi
exec gosu cloudron:cloudron /app/code/server
