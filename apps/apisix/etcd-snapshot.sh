#!/bin/bash
set -eu

# The platform's backupCommand (and the hourly loop's): a consistent copy of
# etcd's data in /app/data, which the backup takes. /var/lib/etcd itself is
# a persistentDir and not in the backup.
/usr/local/bin/etcdctl --endpoints=http://127.0.0.1:2379 snapshot save /app/data/etcd-snapshot.db.new
mv /app/data/etcd-snapshot.db.new /app/data/etcd-snapshot.db
