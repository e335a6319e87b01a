#!/bin/bash
set -eu

# after.sh HOST PORT COMMAND...: runs COMMAND once HOST:PORT accepts
# connections (at most 60 s later; the command then reports the problem).
host=$1 port=$2
shift 2
for _ in $(seq 1 60); do
    if (exec 3<>"/dev/tcp/${host}/${port}") 2>/dev/null; then
        break
    fi
    sleep 1
done
exec "$@"
