#!/bin/bash
set -eu

# The platform's restoreCommand, run before the app starts: etcd's data
# again from the snapshot the backup holds.
if [[ -f /app/data/etcd-snapshot.db ]]; then
    rm -rf /var/lib/etcd/member /tmp/etcd-restore
    /usr/local/bin/etcdutl snapshot restore /app/data/etcd-snapshot.db --data-dir /tmp/etcd-restore \
        --name apisix --initial-cluster apisix=http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380
    mv /tmp/etcd-restore/member /var/lib/etcd/member
    chown -R cloudron:cloudron /var/lib/etcd
fi
