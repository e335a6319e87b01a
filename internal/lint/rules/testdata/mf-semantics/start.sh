#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export DATABASE_URL="${CLOUDRON_MYSQL_URL}"
export REDIS_URL="${CLOUDRON_REDIS_URL}"
export SMTP_HOST="${CLOUDRON_MAIL_SMTP_SERVER}"
exec gosu cloudron:cloudron /app/code/server
