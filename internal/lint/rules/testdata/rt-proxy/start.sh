#!/bin/bash
set -eu

mkdir -p /app/data/uploads /run/nginx /run/notes

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> Fresh installation: creating the session secret"
    openssl rand -hex 32 > /app/data/session_secret
    touch /app/data/.initialized
fi

echo "==> Writing the configuration from the environment"
cat > /run/notes/config.json <<CONFIG
{
  "databaseUrl": "${CLOUDRON_POSTGRESQL_URL}",
  "redisUrl": "${CLOUDRON_REDIS_URL}",
  "smtp": {
    "host": "${CLOUDRON_MAIL_SMTP_SERVER}",
    "port": ${CLOUDRON_MAIL_SMTP_PORT},
    "user": "${CLOUDRON_MAIL_SMTP_USERNAME}",
    "password": "${CLOUDRON_MAIL_SMTP_PASSWORD}",
    "from": "${CLOUDRON_MAIL_FROM}"
  },
  "origin": "${CLOUDRON_APP_ORIGIN}",
  "uploads": "/app/data/uploads",
  "sessionSecretFile": "/app/data/session_secret"
}
CONFIG

chown -R cloudron:cloudron /app/data /run/notes

echo "==> Running database migrations"
gosu cloudron:cloudron node /app/code/bin/migrate.js --config /run/notes/config.json

echo "==> Starting nginx and the app"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i Notes
