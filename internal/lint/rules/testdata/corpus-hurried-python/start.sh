#!/bin/bash
set -eu

chown -R cloudron:cloudron /app/data

# want "RT008 .CLOUDRON_MYSQL_DATABASE_PREFIX is read under set -u, but it is set only with the mysql addon.s option"
export DATABASE_PREFIX="${CLOUDRON_MYSQL_DATABASE_PREFIX}"
export EMAIL_HOST="${CLOUDRON_MAIL_SMTP_SERVER}"

gosu cloudron:cloudron /app/code/venv/bin/python /app/code/manage.py migrate --noinput
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf
