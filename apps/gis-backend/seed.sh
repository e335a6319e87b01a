#!/bin/bash
set -eu

# The scheduler's "seed" task: mapproxy-seed with /app/data/mapproxy/seed.yaml
# (overview levels rendered ahead of the first visitor, old detail tiles
# removed), as cloudron, with the app's configuration. It runs in a
# container of its own that shares /run and /app/data with the app; the
# configuration is written when that /run does not have it yet.

[[ -f /app/data/mapproxy/seed.yaml ]] || install -o cloudron -g cloudron -m 0644 /app/pkg/sample/seed.yaml /app/data/mapproxy/seed.yaml
[[ -f /run/mapproxy/mapproxy.yaml && -f /run/mapserver/gis.map ]] || /app/pkg/configure.sh
export MAPSERVER_CONFIG_FILE=/run/mapserver/mapserver.conf HOME=/run/mapproxy PYTHONDONTWRITEBYTECODE=1

echo "==> Seeding the tile cache (/app/data/mapproxy/seed.yaml)"
gosu cloudron:cloudron /usr/bin/mapproxy-seed --concurrency 2 \
    -f /run/mapproxy/mapproxy.yaml -s /app/data/mapproxy/seed.yaml
echo "==> Seeding done: $(find /app/data/cache -type f | wc -l) tiles in /app/data/cache"
