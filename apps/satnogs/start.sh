#!/bin/bash
set -eu

# SatNOGS Network reads its settings from the environment (python-decouple).
# They are written into /run/satnogs/env.sh on every start from the
# platform's CLOUDRON_* variables and /app/data/settings.env (the admin's
# settings); supervisord starts gunicorn, the Celery worker and beat and
# nginx with them.

mkdir -p /run/satnogs/home /run/satnogs/static /run/satnogs/cache /run/nginx /app/data/media

if [[ ! -f /app/data/settings.env ]]; then
    echo "==> First start: writing /app/data/settings.env"
    cp /app/pkg/settings.env.template /app/data/settings.env
fi
# The session and signing key and the administrator's first password, made
# on the first start and kept with the data.
if [[ ! -s /app/data/secret_key ]]; then
    openssl rand -hex 32 > /app/data/secret_key
fi
if [[ ! -s /app/data/admin-password ]]; then
    openssl rand -base64 18 | tr -d '/+=' > /app/data/admin-password
fi

urlquote() {
    python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}
redis_url="redis://:$(urlquote "${CLOUDRON_REDIS_PASSWORD}")@${CLOUDRON_REDIS_HOST}:${CLOUDRON_REDIS_PORT}"
mail_from="${CLOUDRON_MAIL_FROM:-noreply@${CLOUDRON_APP_DOMAIN}}"
if [[ -n "${CLOUDRON_MAIL_FROM_DISPLAY_NAME:-}" ]]; then
    mail_from="${CLOUDRON_MAIL_FROM_DISPLAY_NAME} <${mail_from}>"
fi

echo "==> Writing the settings into /run/satnogs/env.sh"
{
    echo "# Written by start.sh on every start; edit /app/data/settings.env instead."
    grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' /app/data/settings.env || true
    printf '%s=%q\n' \
        ENVIRONMENT production \
        DEBUG False \
        AUTH0 False \
        SENTRY_ENABLED False \
        SECRET_KEY "$(cat /app/data/secret_key)" \
        ALLOWED_HOSTS "${CLOUDRON_APP_DOMAIN},localhost,127.0.0.1" \
        CSRF_TRUSTED_ORIGINS "${CLOUDRON_APP_ORIGIN}" \
        SECURE_PROXY_SSL_HEADER "HTTP_X_FORWARDED_PROTO,https" \
        DATABASE_URL "${CLOUDRON_POSTGRESQL_URL}" \
        CELERY_BROKER_URL "${redis_url}/0" \
        CELERY_RESULT_BACKEND "${redis_url}/0" \
        CACHE_BACKEND django.core.cache.backends.filebased.FileBasedCache \
        CACHE_LOCATION /run/satnogs/cache \
        EMAIL_HOST "${CLOUDRON_MAIL_SMTP_SERVER:-localhost}" \
        EMAIL_PORT "${CLOUDRON_MAIL_SMTP_PORT:-25}" \
        EMAIL_HOST_USER "${CLOUDRON_MAIL_SMTP_USERNAME:-}" \
        EMAIL_HOST_PASSWORD "${CLOUDRON_MAIL_SMTP_PASSWORD:-}" \
        EMAIL_USE_TLS False \
        DEFAULT_FROM_EMAIL "${mail_from}" \
        STATIC_ROOT /run/satnogs/static \
        MEDIA_ROOT /app/data/media \
        FILE_UPLOAD_TEMP_DIR /tmp \
        SITE_URL "${CLOUDRON_APP_ORIGIN}"
} > /run/satnogs/env.sh

chown -R cloudron:cloudron /app/data /run/satnogs
chmod 0600 /app/data/secret_key /app/data/admin-password /run/satnogs/env.sh

set -a
# shellcheck disable=SC1091
source /run/satnogs/env.sh
set +a
export HOME=/run/satnogs/home DJANGO_SETTINGS_MODULE=network.settings

# A stop while the database is migrated reaches the migration (bash would
# wait for it otherwise and be killed after 10 s).
child=
trap 'if [[ -n "${child}" ]]; then kill -TERM "${child}" 2>/dev/null; wait "${child}"; fi; exit 143' TERM INT
as_cloudron() {
    gosu cloudron:cloudron "$@" &
    child=$!
    wait "${child}"
    child=
}

echo "==> Migrating the database"
as_cloudron django-admin migrate --no-input

echo "==> Collecting the static files into /run/satnogs/static"
as_cloudron django-admin collectstatic --no-input --verbosity 0

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First start: creating the administrator admin (password in /app/data/admin-password)"
    DJANGO_SUPERUSER_PASSWORD="$(cat /app/data/admin-password)" \
        as_cloudron django-admin createsuperuser --no-input --username admin --email "admin@${CLOUDRON_APP_DOMAIN}"
    touch /app/data/.initialized
    chown cloudron:cloudron /app/data/.initialized
fi

# The site's domain and name (mails and links use them), and the
# administrator's address marked verified, so that the site's own login
# (which requires a verified address) lets the administrator in.
echo "==> Setting the site's domain to ${CLOUDRON_APP_DOMAIN}"
as_cloudron django-admin shell -c "
from django.contrib.sites.models import Site
from allauth.account.models import EmailAddress
from network.users.models import User
Site.objects.update_or_create(pk=1, defaults={'domain': '${CLOUDRON_APP_DOMAIN}', 'name': 'SatNOGS Network'})
for u in User.objects.filter(username='admin', is_superuser=True):
    if u.email and not EmailAddress.objects.filter(user=u).exists():
        EmailAddress.objects.create(user=u, email=u.email, verified=True, primary=True)
"

echo "==> Starting nginx, gunicorn, the Celery worker and beat"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf
