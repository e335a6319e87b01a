#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
[[ -f /app/data/.session_secret ]] || openssl rand -hex 32 > /app/data/.session_secret
export SESSION_SECRET=$(< /app/data/.session_secret)
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
exec gosu cloudron:cloudron node /app/code/server.js
