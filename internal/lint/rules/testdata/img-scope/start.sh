#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
source "${APP_CODE_DIR}/env.sh"
# $APP_CODE_DIR resolves from the Dockerfile's ENV (built from an ARG), as in every rule
echo ok > "${APP_CODE_DIR}/ready" # want "SH007 the redirection > .* writes /app/code/ready"
exec gosu cloudron:cloudron node "${APP_CODE_DIR}/server.js"
