#!/bin/bash
set -eu

# Easy Gate's dashboard is the admin's file /app/data/easy-gate.json, made
# once from the package's example; Easy Gate reloads it when it changes.
# The listening address and the proxy mode are put back on every start if
# the admin changed them: the platform needs them as they are.

if [[ ! -f /app/data/.initialized ]]; then
    echo "==> First run: creating /app/data/easy-gate.json"
    cp -n /app/pkg/easy-gate.json /app/data/easy-gate.json
    touch /app/data/.initialized
fi

if ! jq -e '.addr == "0.0.0.0:8080" and .behind_proxy == true' /app/data/easy-gate.json >/dev/null; then
    echo "==> Setting addr and behind_proxy in /app/data/easy-gate.json"
    jq '.addr = "0.0.0.0:8080" | .behind_proxy = true' /app/data/easy-gate.json > /app/data/easy-gate.json.new
    mv /app/data/easy-gate.json.new /app/data/easy-gate.json
fi

chown -R cloudron:cloudron /app/data

export EASY_GATE_CONFIG_PATH=/app/data/easy-gate.json

# Easy Gate has no database and nothing to migrate.
echo "==> Starting Easy Gate"
exec gosu cloudron:cloudron /app/code/easy-gate
