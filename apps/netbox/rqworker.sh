#!/bin/bash
set -eu

# NetBox's background worker (RQ, with its scheduler), run as cloudron by
# supervisord and started once gunicorn answers: both load all of NetBox at
# start, and on a busy machine the web process, which the health check waits
# for, gets the CPU first (at most 120 s of waiting).
for _ in $(seq 120); do
    if curl -fso /dev/null http://127.0.0.1:8001/login/; then
        break
    fi
    sleep 1
done

export HOME=/run/netbox/home
exec /app/code/venv/bin/netbox rqworker high default low
