#!/bin/bash
set -eu

chown -R cloudron:cloudron /app/data

echo "==> Starting the app"
exec /usr/bin/supervisord -c /etc/supervisor/supervisord.conf
