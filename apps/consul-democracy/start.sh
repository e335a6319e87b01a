#!/bin/bash
set -eu

# Consul Democracy reads its configuration from the environment (see
# config/database.yml and config/secrets.yml): it is exported here on every
# start from the platform's variables, which may change on any restart.

mkdir -p /run/consul/tmp/pids /run/consul/tmp/cache /run/consul/log /run/nginx /app/data/system /app/data/storage

first_run=false
if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: creating the secret key base and the admin password"
    openssl rand -hex 64 > /app/data/secret_key_base
    openssl rand -hex 12 > /app/data/admin_password
    first_run=true
fi

export RAILS_ENV=production
export RAILS_LOG_TO_STDOUT=true
export HOME=/run/consul
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
export REDIS_URL="${CLOUDRON_REDIS_URL}"
SECRET_KEY_BASE=$(cat /app/data/secret_key_base)
export SECRET_KEY_BASE
export SERVER_NAME="${CLOUDRON_APP_DOMAIN}"
export SMTP_ADDRESS="${CLOUDRON_MAIL_SMTP_SERVER}"
export SMTP_PORT="${CLOUDRON_MAIL_SMTP_PORT}"
export SMTP_USERNAME="${CLOUDRON_MAIL_SMTP_USERNAME}"
export SMTP_PASSWORD="${CLOUDRON_MAIL_SMTP_PASSWORD}"
export MAIL_FROM="${CLOUDRON_MAIL_FROM}"

chown -R cloudron:cloudron /app/data /run/consul
rails() { gosu cloudron:cloudron /app/code/bin/rails "$@"; }

cd /app/code
if [[ "${first_run}" == true ]]; then
    echo "==> First run: loading the schema and the seed data"
    rails db:schema:load
    rails db:seed
    # The seed's administrator gets the password made above instead of the
    # well-known default.
    rails runner 'u = User.find_by(email: "admin@consul.dev"); u&.update!(password: File.read("/app/data/admin_password").strip, password_confirmation: File.read("/app/data/admin_password").strip)'
    touch /app/data/.initialized
fi

# Migrations and Consul's release tasks, on every start (an update brings
# new ones; both do nothing when there is nothing to do).
echo "==> Running migrations and release tasks"
rails db:migrate
gosu cloudron:cloudron /app/code/bin/rake consul:execute_release_tasks

# The sender of Consul's mail is a site setting: keep it at the platform's.
rails runner 'Setting["mailer_from_address"] = ENV["MAIL_FROM"]'

echo "==> Starting nginx, puma and the job worker"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i consul
