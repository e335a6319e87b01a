#!/bin/bash

set -eu

mkdir -p /run/boards /app/data/uploads

if [[ ! -f /app/data/.session_secret ]]; then
    echo "==> Creating the session secret"
    openssl rand -hex 32 > /app/data/.session_secret
fi
export SESSION_SECRET=$(< /app/data/.session_secret)

export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
export REDIS_URL="redis://:${CLOUDRON_REDIS_PASSWORD}@${CLOUDRON_REDIS_HOST}:${CLOUDRON_REDIS_PORT}"
export BASE_URL="${CLOUDRON_APP_ORIGIN}"

# mail is optional: the admin may configure it in the app instead
if [[ -n "${CLOUDRON_MAIL_SMTP_SERVER:-}" ]]; then
    export SMTP_HOST="${CLOUDRON_MAIL_SMTP_SERVER}" SMTP_PORT="${CLOUDRON_MAIL_SMTP_PORT}"
    export SMTP_USER="${CLOUDRON_MAIL_SMTP_USERNAME}" SMTP_PASSWORD="${CLOUDRON_MAIL_SMTP_PASSWORD}"
    export MAIL_FROM="${CLOUDRON_MAIL_FROM}"
fi

cat > "${CONFIG_FILE}" <<EOT
{ "uploads": "${APP_DIR}/uploads", "origin": "${CLOUDRON_APP_ORIGIN}" }
EOT

chown -R cloudron:cloudron /app/data /run/boards

echo "==> Migrating the database"
gosu cloudron:cloudron node "${APP_DIR}/bin/migrate.js"

start_server() {
    echo "==> Starting Boards"
    exec gosu cloudron:cloudron node "${APP_DIR}/server.js"
}

if [[ -z "${CLOUDRON_OIDC_ISSUER:-}" ]]; then
    echo "==> Without Cloudron login: local accounts"
    start_server
fi

export OIDC_ISSUER="${CLOUDRON_OIDC_ISSUER}"
export OIDC_CLIENT_ID="${CLOUDRON_OIDC_CLIENT_ID}"
export OIDC_CLIENT_SECRET="${CLOUDRON_OIDC_CLIENT_SECRET}"
start_server
