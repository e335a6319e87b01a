#!/bin/bash
set -eu

mkdir -p /run/app
export DATABASE_URL="${CLOUDRON_POSTGRES_URL}" # want "XF001 CLOUDRON_POSTGRES_URL is not set by the platform: did you mean CLOUDRON_POSTGRESQL_URL\\?"
export REDIS_URL="${CLOUDRON_REDIS_URL}" # want "XF002 CLOUDRON_REDIS_URL comes from the redis addon, which the manifest does not declare: add \"redis\": {}"
export ADMIN_EMAIL="${CLOUDRON_ADMIN_EMAIL}" # want "XF007 CLOUDRON_ADMIN_EMAIL: only the 2019 platform set it"
export MAIL_FROM_NAME="${CLOUDRON_MAIL_FROM_DISPLAY_NAME}" # want "RT008 .CLOUDRON_MAIL_FROM_DISPLAY_NAME is read under set -u, but it is set only with the sendmail addon's option \"supportsDisplayName\""
[[ -z "${CLOUDRON_MAIL_FROM_DISPLAY_NAME:-}" ]] || export MAIL_NAME="${CLOUDRON_MAIL_FROM_DISPLAY_NAME}" # want "XF006 CLOUDRON_MAIL_FROM_DISPLAY_NAME is set only with the sendmail addon's option \"supportsDisplayName\"" "XF006 CLOUDRON_MAIL_FROM_DISPLAY_NAME is set only"
export MAIL_HOST="${CLOUDRON_MAIL_SMTP_SERVER}" MAIL_FROM="${CLOUDRON_MAIL_FROM}"
export TLS_CERT=/etc/certs/tls_cert.pem # want "XF002 /etc/certs/tls_\\*.pem exist only with the tls addon"
envsubst < /app/pkg/config.json.template > "${CLOUDRON_APP_CONFIG}"
chown -R cloudron:cloudron /app/data /run/app
exec gosu cloudron:cloudron /app/code/server
