#!/bin/bash
set -eu
export DATABASE_URL="${CLOUDRON_MYSQL_URL}" # want "XF005 with manifestVersion 1 the platform sets MYSQL_URL, not CLOUDRON_MYSQL_URL"
export TRUSTED_PROXY="${CLOUDRON_PROXY_IP}"
chown -R cloudron:cloudron /app/data
exec gosu cloudron:cloudron /app/code/server
