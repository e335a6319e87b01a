#!/bin/bash
set -eu

# NetBox from its wheel; the instance root (NETBOX_ROOT=/app/code/root) holds
# the static files collected at build time and conf/, a link to
# /run/netbox/conf, where the configuration is written on every start.

mkdir -p /run/netbox/conf /run/netbox/home /run/nginx \
    /app/data/media /app/data/scripts /app/data/reports

# Secrets made on the first start and kept with the data: the session and
# signing key, the pepper that hashes the API tokens (tokens stop working if
# it changes) and the first password of the administrator.
if [[ ! -s /app/data/secret_key ]]; then
    echo "==> First start: generating the secret key and the API token pepper"
    /app/code/venv/bin/netbox secret-key > /app/data/secret_key
fi
if [[ ! -s /app/data/api_token_pepper ]]; then
    /app/code/venv/bin/netbox secret-key > /app/data/api_token_pepper
fi
if [[ ! -s /app/data/admin_password ]]; then
    openssl rand -base64 18 | tr -d '/+=' > /app/data/admin_password
fi

echo "==> Writing the configuration"
/app/code/venv/bin/python /app/pkg/configure.py /run/netbox/conf

chown -R cloudron:cloudron /app/data /run/netbox
chmod 0600 /app/data/secret_key /app/data/api_token_pepper /app/data/admin_password
chmod 0600 /run/netbox/conf/*.py

as_cloudron() {
    gosu cloudron:cloudron env HOME=/run/netbox/home "$@"
}

# A stop while the database is migrated reaches the migration (bash would
# wait for it otherwise and be killed after 10 s).
child=
trap 'if [[ -n "${child}" ]]; then kill -TERM "${child}" 2>/dev/null; wait "${child}"; fi; exit 143' TERM INT
in_background() {
    "$@" &
    child=$!
    wait "${child}"
    child=
}

# An empty database (the first start) gets the schema migrated at build
# time: the several hundred migrations of a new NetBox take minutes, loading
# their result seconds.
export PGPASSWORD="${CLOUDRON_POSTGRESQL_PASSWORD}"
psql_app() {
    psql -h "${CLOUDRON_POSTGRESQL_HOST}" -p "${CLOUDRON_POSTGRESQL_PORT}" -U "${CLOUDRON_POSTGRESQL_USERNAME}" \
        -d "${CLOUDRON_POSTGRESQL_DATABASE}" -v ON_ERROR_STOP=1 -q "$@"
}
if [[ -z "$(psql_app -tAc "SELECT to_regclass('public.django_migrations')")" ]]; then
    echo "==> Empty database: loading the schema migrated at build time"
    gunzip -c /app/code/netbox-initial.sql.gz | sed "/^COMMENT ON EXTENSION/d" | psql_app -f - > /dev/null
fi
unset PGPASSWORD

# Migrations, missing cable paths, stale content types, the search index
# (lazily) and expired sessions, on every start. The static files are part of
# the image.
echo "==> Upgrading the database"
in_background as_cloudron /app/code/venv/bin/netbox upgrade --no-input --skip-static --skip-checks

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First start: creating the administrator netbox-admin"
    as_cloudron env DJANGO_SUPERUSER_PASSWORD="$(cat /app/data/admin_password)" \
        /app/code/venv/bin/netbox createsuperuser --no-input --skip-checks \
        --username netbox-admin --email "netbox-admin@${CLOUDRON_APP_DOMAIN}"
    touch /app/data/.initialized
    chown cloudron:cloudron /app/data/.initialized
fi

# gunicorn workers follow the app's memory limit (its RAM half, as the
# container sees it): one per 768 MiB, at least 2, at most 8 (the worker
# and a job's work horse take their share). A value set in
# NETBOX_GUNICORN_WORKERS wins.
if [[ -z "${NETBOX_GUNICORN_WORKERS:-}" ]]; then
    ram=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo max)
    workers=2
    if [[ "${ram}" =~ ^[0-9]+$ ]]; then
        workers=$(( ram / (768 * 1024 * 1024) ))
        (( workers < 2 )) && workers=2
        (( workers > 8 )) && workers=8
    fi
    export NETBOX_GUNICORN_WORKERS="${workers}"
fi

echo "==> Starting nginx, gunicorn (${NETBOX_GUNICORN_WORKERS} workers) and the background worker"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf
