#!/bin/bash
set -eu

until pg_isready -q -h "${CLOUDRON_POSTGRESQL_HOST}"; do # want "SH010 this until loop waits without a limit"
    sleep 1
done
for i in $(seq 1 30); do
    pg_isready -q -h "${CLOUDRON_POSTGRESQL_HOST}" && break
    sleep 1
done
tries=0
while ! curl -fsS http://localhost:3000/health; do
    tries=$((tries + 1))
    sleep 1
done
gosu cloudron:cloudron /app/code/bin/migrate &
wait
chown -R cloudron:cloudron /app/data
gosu cloudron:cloudron node /app/code/worker.js & # want "SH009 gosu runs in the background and nothing waits for it"
# a one-off task in the background ends by itself: not a daemon
(
    for i in $(seq 1 30); do
        curl -sf http://localhost:8000/health && break
        sleep 2
    done
    gosu cloudron:cloudron /app/code/bin/create-admin
) &
( sleep 5; curl -s -X POST http://localhost:8000/api/warmup ) &
# a background job is one finding, however many commands it has
( sleep 5; gosu cloudron:cloudron node /app/code/scheduler.js ) & # want "SH009 the \\( … \\) job running gosu runs in the background"
while true; do # want "SH009 the while job running gosu runs in the background"
    gosu cloudron:cloudron node /app/code/cleanup.js
    sleep 3600
done &
exec gosu cloudron:cloudron /app/code/server
