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
exec gosu cloudron:cloudron /app/code/server
