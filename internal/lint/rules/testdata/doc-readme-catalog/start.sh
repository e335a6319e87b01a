#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"
exec gosu cloudron:cloudron /app/code/server
