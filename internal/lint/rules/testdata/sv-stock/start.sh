#!/bin/bash
set -eu

chown -R cloudron:cloudron /app/data

echo "==> Starting the app and its worker"
# want "SV002 the stock supervisord.conf logs to /var/log/supervisor/supervisord.log"
# want "SV010 supervisord is started without --nodaemon"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf
