#!/bin/bash
set -eu

mkdir -p /run/board
chown -R cloudron:cloudron /app/data

export DATABASE_URL="${CLOUDRON_POSTGRESQL_URL}"

# want "SV002 the stock supervisord.conf logs to /var/log/supervisor/supervisord.log"
# want "SV010 supervisord is started without --nodaemon"
exec supervisord -c /etc/supervisor/supervisord.conf
