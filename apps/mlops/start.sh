#!/bin/bash
set -eu

# /app/data/artifacts: the artifact store (served by the tracking server).
# /app/data/admin-password, /app/data/secret-key: made on the first start.
# /app/data/env.sh: the admin's settings. /run/mlflow: configuration, HOME,
# TMPDIR, made on every start.
mkdir -p /app/data/artifacts /run/mlflow/home /run/mlflow/tmp

if [[ ! -f /app/data/env.sh ]]; then
    echo "==> First start: writing /app/data/env.sh (settings)"
    cat > /app/data/env.sh <<'ENV'
# MLflow settings, read on every start (restart the app after a change).
# uvicorn worker processes serving the tracking server.
MLFLOW_WORKERS=2
# Permission every user has on experiments and models not granted otherwise:
# READ, USE, EDIT, MANAGE or NO_PERMISSIONS.
MLFLOW_DEFAULT_PERMISSION=READ
# Seconds a worker remembers a user's checked password (0: check every
# request; each check costs about half a second of CPU by design).
MLFLOW_AUTH_CACHE_SECONDS=60
ENV
fi
if [[ ! -s /app/data/admin-password ]]; then
    echo "==> First start: generating the admin password (/app/data/admin-password)"
    openssl rand -base64 24 | tr -d '/+=\n' > /app/data/admin-password
fi
if [[ ! -s /app/data/secret-key ]]; then
    openssl rand -hex 32 > /app/data/secret-key
fi
chmod 0600 /app/data/admin-password /app/data/secret-key

set -a
# shellcheck disable=SC1091
source /app/data/env.sh
set +a
if [[ ! "${MLFLOW_AUTH_CACHE_SECONDS:-60}" =~ ^[0-9]+$ ]]; then
    echo "==> MLFLOW_AUTH_CACHE_SECONDS in /app/data/env.sh is not a number of seconds: using 60" >&2
    MLFLOW_AUTH_CACHE_SECONDS=60
fi

# The database, on every start (the credentials may change): the tracking
# store in the public schema, the users and permissions of the basic-auth
# app in their own schema, mlflow_auth.
urlenc() { jq -rn --arg v "$1" '$v | @uri'; }
db_base="postgresql+psycopg://$(urlenc "${CLOUDRON_POSTGRESQL_USERNAME}"):$(urlenc "${CLOUDRON_POSTGRESQL_PASSWORD}")@${CLOUDRON_POSTGRESQL_HOST}:${CLOUDRON_POSTGRESQL_PORT}/$(urlenc "${CLOUDRON_POSTGRESQL_DATABASE}")"
# the server reads it from the environment (not on its command line)
export MLFLOW_BACKEND_STORE_URI="${db_base}"
auth_db="${db_base}?options=-csearch_path%3Dmlflow_auth"

PGPASSWORD="${CLOUDRON_POSTGRESQL_PASSWORD}" psql -q -v ON_ERROR_STOP=1 \
    -h "${CLOUDRON_POSTGRESQL_HOST}" -p "${CLOUDRON_POSTGRESQL_PORT}" \
    -U "${CLOUDRON_POSTGRESQL_USERNAME}" -d "${CLOUDRON_POSTGRESQL_DATABASE}" \
    -c 'CREATE SCHEMA IF NOT EXISTS mlflow_auth'

# The basic-auth app's configuration (configparser: % doubled).
cat > /run/mlflow/basic_auth.ini <<INI
[mlflow]
default_permission = ${MLFLOW_DEFAULT_PERMISSION:-READ}
database_uri = ${auth_db//%/%%}
admin_username = admin
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = ${MLFLOW_AUTH_CACHE_SECONDS:-60}
INI
chmod 0600 /run/mlflow/basic_auth.ini
chown -R cloudron:cloudron /app/data /run/mlflow

export HOME=/run/mlflow/home TMPDIR=/run/mlflow/tmp PYTHONDONTWRITEBYTECODE=1
export MLFLOW_AUTH_CONFIG_PATH=/run/mlflow/basic_auth.ini
# read by the server when it makes the admin (only while there is none)
MLFLOW_AUTH_ADMIN_PASSWORD="$(cat /app/data/admin-password)"
MLFLOW_FLASK_SERVER_SECRET_KEY="$(cat /app/data/secret-key)"
export MLFLOW_AUTH_ADMIN_PASSWORD MLFLOW_FLASK_SERVER_SECRET_KEY
# nothing is sent out: no usage telemetry; no job runner (GenAI scorers
# and judges, which call LLM providers)
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false

# The tracking schema: created on an empty database, migrated otherwise.
echo "==> Database: mlflow db upgrade"
gosu cloudron:cloudron /app/code/bin/mlflow db upgrade "${MLFLOW_BACKEND_STORE_URI}"

# CHECK constraints written as IN lists of varchar are stored by PostgreSQL
# in a form that a dump and restore turns into another (equal) one; each is
# re-created once in the form a restore gives (see NOTES.md).
PGPASSWORD="${CLOUDRON_POSTGRESQL_PASSWORD}" psql -q -v ON_ERROR_STOP=1 \
    -h "${CLOUDRON_POSTGRESQL_HOST}" -p "${CLOUDRON_POSTGRESQL_PORT}" \
    -U "${CLOUDRON_POSTGRESQL_USERNAME}" -d "${CLOUDRON_POSTGRESQL_DATABASE}" \
    -f /app/pkg/normalize-checks.sql

echo "==> Starting the MLflow tracking server (basic-auth, ${MLFLOW_WORKERS:-2} workers) on port 5000"
exec gosu cloudron:cloudron /app/pkg/serve.sh /app/code/bin/mlflow server \
    --host 0.0.0.0 --port 5000 --workers "${MLFLOW_WORKERS:-2}" \
    --serve-artifacts --artifacts-destination /app/data/artifacts \
    --app-name basic-auth \
    --uvicorn-opts "--timeout-graceful-shutdown 5 --proxy-headers --forwarded-allow-ips ${CLOUDRON_PROXY_IP:-127.0.0.1}" \
    --allowed-hosts "${CLOUDRON_APP_DOMAIN},localhost,127.0.0.1,localhost:*,127.0.0.1:*" \
    --cors-allowed-origins "${CLOUDRON_APP_ORIGIN}"
