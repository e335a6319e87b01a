#!/bin/bash
set -eu

# InvenTree reads its configuration from INVENTREE_* variables: they are
# exported here on every start from the platform's variables (which may
# change on any restart) and the secrets made on first run. Settings the
# admin changes in the web interface are kept in the database.

mkdir -p /app/data/media /app/data/backup /run/inventree /run/nginx

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: creating the secret key and the admin password"
    openssl rand -base64 48 > /app/data/secret_key.txt
    openssl rand -hex 12 > /app/data/admin_password
    touch /app/data/.initialized
fi

export HOME=/run/inventree
export INVENTREE_CONFIG_FILE=/app/data/config.yaml
export INVENTREE_SECRET_KEY_FILE=/app/data/secret_key.txt
export INVENTREE_PLUGIN_FILE=/app/data/plugins.txt
export INVENTREE_MEDIA_ROOT=/app/data/media
export INVENTREE_STATIC_ROOT=/app/code/static
export INVENTREE_BACKUP_DIR=/app/data/backup
export INVENTREE_SITE_URL="${CLOUDRON_APP_ORIGIN}"
export INVENTREE_LOG_LEVEL=WARNING
export INVENTREE_AUTO_UPDATE=False
export INVENTREE_DB_ENGINE=postgresql
export INVENTREE_DB_NAME="${CLOUDRON_POSTGRESQL_DATABASE}"
export INVENTREE_DB_HOST="${CLOUDRON_POSTGRESQL_HOST}"
export INVENTREE_DB_PORT="${CLOUDRON_POSTGRESQL_PORT}"
export INVENTREE_DB_USER="${CLOUDRON_POSTGRESQL_USERNAME}"
export INVENTREE_DB_PASSWORD="${CLOUDRON_POSTGRESQL_PASSWORD}"
# The cache in the platform's Redis (addon option noPassword: no password).
export INVENTREE_CACHE_ENABLED=True
export INVENTREE_CACHE_HOST="${CLOUDRON_REDIS_HOST}"
export INVENTREE_CACHE_PORT="${CLOUDRON_REDIS_PORT}"
export INVENTREE_EMAIL_HOST="${CLOUDRON_MAIL_SMTP_SERVER}"
export INVENTREE_EMAIL_PORT="${CLOUDRON_MAIL_SMTP_PORT}"
export INVENTREE_EMAIL_USERNAME="${CLOUDRON_MAIL_SMTP_USERNAME}"
export INVENTREE_EMAIL_PASSWORD="${CLOUDRON_MAIL_SMTP_PASSWORD}"
export INVENTREE_EMAIL_SENDER="${CLOUDRON_MAIL_FROM}"
export INVENTREE_EMAIL_TLS=False
export INVENTREE_EMAIL_SSL=False
# The administrator InvenTree creates when it does not exist yet.
export INVENTREE_ADMIN_USER=admin
export INVENTREE_ADMIN_EMAIL="admin@${CLOUDRON_APP_DOMAIN}"
INVENTREE_ADMIN_PASSWORD=$(cat /app/data/admin_password)
export INVENTREE_ADMIN_PASSWORD

# Cloudron login over OpenID Connect (django-allauth), when installed with SSO.
sso=False
if [[ -n "${CLOUDRON_OIDC_ISSUER:-}" ]]; then
    sso=True
    export INVENTREE_SOCIAL_BACKENDS=allauth.socialaccount.providers.openid_connect
    INVENTREE_SOCIAL_PROVIDERS=$(printf '{"openid_connect": {"SERVERS": [{"id": "cloudron", "name": "%s", "server_url": "%s", "APP": {"client_id": "%s", "secret": "%s"}}]}}' \
        "${CLOUDRON_OIDC_PROVIDER_NAME:-Cloudron}" "${CLOUDRON_OIDC_ISSUER:-}" "${CLOUDRON_OIDC_CLIENT_ID:-}" "${CLOUDRON_OIDC_CLIENT_SECRET:-}")
    export INVENTREE_SOCIAL_PROVIDERS
fi

chown -R cloudron:cloudron /app/data /run/inventree
manage() { gosu cloudron:cloudron /app/code/venv/bin/python /app/code/src/backend/InvenTree/manage.py "$@"; }

# Migrations on every start (an update brings new ones).
echo "==> Running migrations"
manage migrate --noinput

# Login with SSO on or off, following the install's SSO choice.
manage shell -c "from common.models import InvenTreeSetting as S
for key in ('LOGIN_ENABLE_SSO', 'LOGIN_ENABLE_SSO_REG', 'LOGIN_SIGNUP_SSO_AUTO'):
    S.set_setting(key, ${sso}, change_user=None)"

echo "==> Starting nginx, gunicorn and the background worker"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i inventree
