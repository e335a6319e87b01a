#!/bin/bash
set -eu

# Grist reads its configuration from the environment: it is exported here on
# every start, from the platform's variables (which may change on any
# restart) and the installation's own settings in /app/data/env.sh.

mkdir -p /app/data/docs /run/grist/home

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: creating the session secret and /app/data/env.sh"
    openssl rand -hex 32 > /app/data/.session_secret
    cp /app/pkg/env.sh.template /app/data/env.sh
    touch /app/data/.initialized
fi

export NODE_ENV=production
export HOME=/run/grist/home
export PORT=8484
export GRIST_HOST=0.0.0.0
export APP_HOME_URL="${CLOUDRON_APP_ORIGIN}"
export GRIST_SINGLE_ORG=docs
export GRIST_SINGLE_PORT=true
export GRIST_SERVE_SAME_ORIGIN=true
export GRIST_FORCE_LOGIN=true
export GRIST_TELEMETRY_LEVEL=off
# Documents, the home database (users, sites, sharing) and sessions.
export GRIST_DATA_DIR=/app/data/docs
export GRIST_INST_DIR=/app/data
export TYPEORM_TYPE=sqlite
export TYPEORM_DATABASE=/app/data/home.sqlite3
GRIST_SESSION_SECRET=$(cat /app/data/.session_secret)
export GRIST_SESSION_SECRET
# Formulas run in the virtualenv, inside this container (gVisor, Grist's
# sandbox of choice, cannot run in a Cloudron app container).
export GRIST_SANDBOX_FLAVOR=unsandboxed
export GRIST_SANDBOX=/app/code/sandbox_venv3/bin/python3

# Cloudron login over OpenID Connect, when installed with SSO.
if [[ -n "${CLOUDRON_OIDC_ISSUER:-}" ]]; then
    export GRIST_OIDC_IDP_ISSUER="${CLOUDRON_OIDC_ISSUER}"
    export GRIST_OIDC_IDP_CLIENT_ID="${CLOUDRON_OIDC_CLIENT_ID:-}"
    export GRIST_OIDC_IDP_CLIENT_SECRET="${CLOUDRON_OIDC_CLIENT_SECRET:-}"
    export GRIST_OIDC_SP_HOST="${CLOUDRON_APP_ORIGIN}"
    export GRIST_OIDC_IDP_SCOPES="openid email profile"
    export GRIST_OIDC_IDP_SKIP_END_SESSION_ENDPOINT=true
fi

# The installation's own settings (GRIST_DEFAULT_EMAIL first of all).
# shellcheck source=/dev/null
source /app/data/env.sh

chown -R cloudron:cloudron /app/data /run/grist

# Grist migrates its home database itself when the server starts.
echo "==> Starting Grist"
exec gosu cloudron:cloudron node /app/code/_build/stubs/app/server/server.js
