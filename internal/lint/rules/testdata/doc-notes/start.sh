#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
export REDIS_URL="${CLOUDRON_REDIS_URL}"
exec gosu cloudron:cloudron /app/code/server
