#!/bin/bash
set -eu
chown -R cloudron:cloudron /app/data
export OAUTH_CLIENT_ID="${OAUTH_CLIENT_ID}"
export DNS_PORT="${DNS_PORT:-}"
exec gosu cloudron:cloudron /app/code/server
