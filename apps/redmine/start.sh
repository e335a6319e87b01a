#!/bin/bash
set -eu

# Writable parts of the Debian instance "default" (see the Dockerfile's
# symlinks): configuration, cache, logs and plugin assets in /run, uploaded
# files in /app/data.
mkdir -p /run/redmine/config /run/redmine/log /run/redmine/tmp/cache /run/redmine/tmp/pids \
    /run/redmine/tmp/sockets /run/redmine/tmp/thumbnails /run/redmine/plugin_assets \
    /run/redmine/home /app/data/files

# The session secret is made once and kept with the data, so sessions and
# signed links survive restarts, updates and restores.
if [[ ! -s /app/data/secret_key.txt ]]; then
    echo "==> First start: generating the secret key"
    openssl rand -hex 64 > /app/data/secret_key.txt
fi
cp /app/data/secret_key.txt /run/redmine/config/secret_key.txt

# database.yml from the postgresql addon, on every start (the credentials
# may change). jq quotes the values; JSON is valid YAML.
jq -n \
    --arg host "${CLOUDRON_POSTGRESQL_HOST}" \
    --arg port "${CLOUDRON_POSTGRESQL_PORT}" \
    --arg database "${CLOUDRON_POSTGRESQL_DATABASE}" \
    --arg username "${CLOUDRON_POSTGRESQL_USERNAME}" \
    --arg password "${CLOUDRON_POSTGRESQL_PASSWORD}" \
    '{production: {adapter: "postgresql", encoding: "utf8", pool: 10,
      host: $host, port: ($port | tonumber), database: $database,
      username: $username, password: $password}}' > /run/redmine/config/database.yml

# configuration.yml: outgoing mail through the sendmail addon (plain SMTP,
# no TLS), attachments in /app/data/files.
q() { jq -n --arg v "$1" '$v'; }
{
    echo "production:"
    echo "  attachments_storage_path: /app/data/files"
    if [[ -n "${CLOUDRON_MAIL_SMTP_SERVER:-}" ]]; then
        echo "  email_delivery:"
        echo "    delivery_method: :smtp"
        echo "    smtp_settings:"
        echo "      address: $(q "${CLOUDRON_MAIL_SMTP_SERVER}")"
        echo "      port: ${CLOUDRON_MAIL_SMTP_PORT}"
        echo "      domain: $(q "${CLOUDRON_APP_DOMAIN}")"
        echo "      authentication: :plain"
        echo "      user_name: $(q "${CLOUDRON_MAIL_SMTP_USERNAME:-}")"
        echo "      password: $(q "${CLOUDRON_MAIL_SMTP_PASSWORD:-}")"
        echo "      enable_starttls_auto: false"
    fi
} > /run/redmine/config/configuration.yml

chown -R cloudron:cloudron /app/data /run/redmine
chmod 0600 /app/data/secret_key.txt /run/redmine/config/secret_key.txt /run/redmine/config/database.yml

cd /usr/share/redmine
# HOME in /run: bundler and rake may write there (gosu sets the user's).
as_cloudron() {
    gosu cloudron:cloudron env HOME=/run/redmine/home "$@"
}
run_rake() {
    as_cloudron REDMINE_LANG=en REDMINE_ADMIN_PASSWORD_FILE=/app/data/admin-password \
        bundle exec rake --rakelibdir /app/pkg/tasks "$@"
}

# Migrations on every start, alone in their process: the models they load
# keep the old columns. SCHEMA=/dev/null: db:migrate dumps the schema
# afterwards, into the read-only code folder otherwise (Debian's postinst
# does the same).
echo "==> Migrating the database"
run_rake SCHEMA=/dev/null db:migrate redmine:plugins:migrate

setup_tasks=()
if [[ ! -f /app/data/.initialized ]]; then
    # First start: Redmine's default trackers, statuses, roles and
    # workflows, and a generated password for the admin account.
    echo "==> First start: loading the default data, setting the admin password"
    if [[ ! -s /app/data/admin-password ]]; then
        openssl rand -base64 18 | tr -d '/+=' > /app/data/admin-password
    fi
    chown cloudron:cloudron /app/data/admin-password
    chmod 0600 /app/data/admin-password
    setup_tasks+=(redmine:load_default_data cloudron:admin)
fi
# On every start: the platform settings and, with the ldap addon, the LDAP
# authentication source (from CLOUDRON_LDAP_*, which may change on any
# restart). An app installed without the addon keeps Redmine's own logins.
setup_tasks+=(cloudron:settings)
if [[ -n "${CLOUDRON_LDAP_SERVER:-}" ]]; then
    setup_tasks+=(cloudron:ldap)
else
    echo "==> No ldap addon: Redmine's own accounts only"
fi
run_rake "${setup_tasks[@]}"
touch /app/data/.initialized
chown cloudron:cloudron /app/data/.initialized

echo "==> Starting Redmine (puma) on port 3000"
exec gosu cloudron:cloudron env HOME=/run/redmine/home bundle exec puma --config /app/pkg/puma.rb
