#!/bin/bash
set -eu

mkdir -p /run/app
chown -R cloudron:cloudron /app/data /run/app
exec /usr/bin/supervisord --nodaemon -c /app/pkg/supervisor.conf # want "RT011 supervisord starts with /app/pkg/supervisor.conf \\(supervisor.conf\\), which has no \\[supervisord\\] section"
