#!/bin/bash
set -eu

mkdir -p /run/app
chown -R cloudron:cloudron /app/data /run/app
exec gosu cloudron:cloudron /usr/bin/supervisord --configuration /etc/supervisor/supervisord.conf --nodaemon
