#!/bin/bash
set -eu

# Run by supervisor as cloudron (upstream's image runs APISIX as a user of
# its own too): generates nginx.conf from config.yaml, waits (at most a
# minute) for etcd, lets APISIX write its keys into it, then runs OpenResty
# in the foreground.
/usr/bin/apisix init
for _ in $(seq 1 60); do
    if /usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 endpoint health >/dev/null 2>&1; then
        break
    fi
    sleep 1
done
/usr/bin/apisix init_etcd
exec /usr/local/openresty/bin/openresty -p /usr/local/apisix -g "daemon off;"
