#!/bin/bash
set -eu

# Run by supervisor: an etcd snapshot every hour besides the one taken at
# backup time, so that /app/data always holds a recent consistent copy.
while true; do
    sleep 3600
    /app/pkg/etcd-snapshot.sh || echo "etcd snapshot failed"
done
