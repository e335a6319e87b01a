#!/bin/bash
set -eu

# The hooks live in /app/data/hooks.json: a sample on the first start,
# edited by the admin afterwards (webhook reloads it when it changes).
if [[ ! -f /app/data/hooks.json ]]; then
    echo "==> First start: installing the sample hooks"
    cp /app/pkg/hooks.json.default /app/data/hooks.json
fi
mkdir -p /app/data/scripts
chown -R cloudron:cloudron /app/data

echo "==> Starting webhook on port 8000"
exec gosu cloudron:cloudron /usr/bin/webhook -hooks /app/data/hooks.json -ip 0.0.0.0 -port 8000 -hotreload -verbose -x-request-id -x-request-id-limit 64
