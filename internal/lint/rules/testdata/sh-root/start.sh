#!/usr/bin/env bash
set -euo pipefail
mkdir -p /app/data/uploads /run/app
chown -R cloudron:cloudron /run/app
chown -R root:root /app/data
exec node /app/code/server.js # want "SH005 exec node runs the app as root: write exec gosu cloudron:cloudron node /app/code/server.js"
