#!/bin/bash
set -eu

# Review Board's site directory is /app/data/site: uploaded files, the
# static files of this version, extensions' data. Its settings_local.py is a
# link to /run/reviewboard/settings_local.py, written on every start from the
# platform's variables; the site configuration Review Board keeps in its
# database (address, mail, login) is set from them on every start too.

readonly site=/app/data/site
readonly settings=/run/reviewboard/settings_local.py

mkdir -p /run/reviewboard/cache /run/reviewboard/home /run/nginx
chown -R cloudron:cloudron /run/reviewboard

# As the app user; HOME in /run, where Python, git and ssh may write.
as_cloudron() {
    gosu cloudron:cloudron env HOME=/run/reviewboard/home "$@"
}
rbsite() {
    as_cloudron /app/code/venv/bin/rb-site "$@"
}

# The secret key signs sessions and encrypts stored repository passwords:
# made once and kept with the data.
if [[ ! -s /app/data/secret_key ]]; then
    echo "==> First start: generating the secret key"
    openssl rand -base64 48 | tr -d '\n/+=' | cut -c1-50 > /app/data/secret_key
fi
chown cloudron:cloudron /app/data/secret_key
chmod 0600 /app/data/secret_key

echo "==> Waiting for the database"
export PGPASSWORD="${CLOUDRON_POSTGRESQL_PASSWORD}"
for _ in $(seq 1 60); do
    if psql -h "${CLOUDRON_POSTGRESQL_HOST}" -p "${CLOUDRON_POSTGRESQL_PORT}" -U "${CLOUDRON_POSTGRESQL_USERNAME}" \
        -d "${CLOUDRON_POSTGRESQL_DATABASE}" -c "SELECT 1" >/dev/null 2>&1; then
        break
    fi
    sleep 1
done
tables=$(psql -h "${CLOUDRON_POSTGRESQL_HOST}" -p "${CLOUDRON_POSTGRESQL_PORT}" -U "${CLOUDRON_POSTGRESQL_USERNAME}" \
    -d "${CLOUDRON_POSTGRESQL_DATABASE}" -tAc "SELECT count(*) FROM information_schema.tables WHERE table_name = 'siteconfig_siteconfiguration'")
unset PGPASSWORD

# First start (an empty database): rb-site install
# creates the site directory, the tables and the administrator "admin",
# whose generated password is kept in /app/data/admin_password.
if [[ "${tables}" != "1" ]]; then
    echo "==> Installing the Review Board site"
    if [[ ! -s /app/data/admin_password ]]; then
        openssl rand -base64 18 | tr -d '\n/+=' > /app/data/admin_password
    fi
    chown cloudron:cloudron /app/data/admin_password
    chmod 0600 /app/data/admin_password
    rbsite install --noinput --opt-out-support-data \
        --domain-name="${CLOUDRON_APP_DOMAIN}" --site-root=/ \
        --static-url=static/ --media-url=media/ \
        --db-type=postgresql --db-name="${CLOUDRON_POSTGRESQL_DATABASE}" \
        --db-host="${CLOUDRON_POSTGRESQL_HOST}" \
        --db-user="${CLOUDRON_POSTGRESQL_USERNAME}" --db-pass="${CLOUDRON_POSTGRESQL_PASSWORD}" \
        --cache-type=file --cache-info=/run/reviewboard/cache \
        --secret-key="$(cat /app/data/secret_key)" \
        --admin-user=admin --admin-password="$(cat /app/data/admin_password)" \
        --admin-email="${CLOUDRON_MAIL_FROM:-admin@${CLOUDRON_APP_DOMAIN}}" \
        --allow-non-empty-sitedir --sitelist=/run/reviewboard/sites \
        "${site}"
fi

echo "==> Writing ${settings}"
as_cloudron /app/code/venv/bin/python /app/pkg/write_settings.py "${settings}"
ln -sfn "${settings}" "${site}/conf/settings_local.py"
chown -R cloudron:cloudron /app/data

# Migrations and the static files of this version, on every start.
echo "==> Upgrading the site"
rbsite upgrade --noinput --sitelist=/run/reviewboard/sites "${site}"

echo "==> Site configuration from the environment"
rbsite manage "${site}" shell -- -c "exec(open('/app/pkg/configure.py').read())"

# The search index: built in full when there is none (a new site, or a site
# from before search was on); the scheduler's search_index task adds what
# changed since.
if [[ ! -d "${site}/data/search-index" ]]; then
    echo "==> Building the search index"
    rbsite manage "${site}" index -- --full
fi

echo "==> Starting nginx and gunicorn"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf
