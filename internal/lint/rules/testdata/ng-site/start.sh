#!/bin/bash
set -eu

mkdir -p /run/nginx
chown -R cloudron:cloudron /app/data

echo "==> Starting nginx and the app"
exec /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon -i Site
