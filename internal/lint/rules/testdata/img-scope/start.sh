#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
source "${APP_CODE_DIR}/env.sh"
exec gosu cloudron:cloudron node "${APP_CODE_DIR}/server.js"
