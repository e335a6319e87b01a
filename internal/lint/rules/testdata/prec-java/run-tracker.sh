#!/bin/bash

set -eu

# the heap follows the memory limit the admin sets for the app
if [[ -f /sys/fs/cgroup/memory.max ]]; then
    limit=$(cat /sys/fs/cgroup/memory.max)
else
    limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
fi
[[ "${limit}" == "max" ]] && limit=2147483648
heap_mb=$(( limit / 1024 / 1024 * 3 / 4 ))

trap 'kill -TERM "${pid}"; wait "${pid}"' TERM INT

/usr/local/bin/gosu cloudron:cloudron java -Xmx${heap_mb}m -XX:+ExitOnOutOfMemoryError \
    -Dspring.config.location=/run/tracker/application.properties \
    -jar /app/code/tracker.jar &
pid=$!

wait "${pid}"
