#!/bin/bash
set -eu

# /app/data layout (all of it backed up):
#   geodata/             the data files MapServer renders (the sample on the first start)
#   mapserver/layers.map MapServer LAYER blocks, edited by the admin
#   mapproxy/layers.yaml MapProxy layers, caches, sources and grids, edited by the admin
#   mapproxy/seed.yaml   what the nightly "seed" task renders ahead and cleans up
#   cache/               MapProxy's tile cache
#   env.sh               settings of the server (workers, threads, timeout)
mkdir -p /app/data/geodata /app/data/mapserver /app/data/mapproxy /app/data/cache

if [[ ! -f /app/data/.sample-made ]]; then
    echo "==> First start: making the sample data set with GDAL into /app/data/geodata"
    chown -R cloudron:cloudron /app/data/geodata
    gosu cloudron:cloudron /app/pkg/sample/make-sample.sh /app/data/geodata
    touch /app/data/.sample-made
fi
[[ -f /app/data/mapserver/layers.map ]] || cp /app/pkg/sample/layers.map /app/data/mapserver/layers.map
[[ -f /app/data/mapproxy/layers.yaml ]] || cp /app/pkg/sample/layers.yaml /app/data/mapproxy/layers.yaml
[[ -f /app/data/mapproxy/seed.yaml ]] || cp /app/pkg/sample/seed.yaml /app/data/mapproxy/seed.yaml
[[ -f /app/data/README.txt ]] || cp /app/pkg/sample/README.txt /app/data/README.txt
if [[ ! -f /app/data/env.sh ]]; then
    cat > /app/data/env.sh <<'ENV'
# Settings of the map server, read on every start (restart the app after a change).
# gunicorn worker processes and threads per worker: requests served at the same time.
GIS_WORKERS=2
GIS_THREADS=4
# Seconds a request may take (a large GetMap rendered by MapServer) before its worker is restarted.
GIS_TIMEOUT=120
ENV
fi
chown -R cloudron:cloudron /app/data

# The configuration from CLOUDRON_* into /run, then the settings.
/app/pkg/configure.sh
set -a
# shellcheck disable=SC1091
source /app/data/env.sh
set +a
export MAPSERVER_CONFIG_FILE=/run/mapserver/mapserver.conf HOME=/run/mapproxy PYTHONDONTWRITEBYTECODE=1

echo "==> Starting MapProxy (gunicorn, ${GIS_WORKERS:-2} workers) on port 8000 for ${CLOUDRON_APP_ORIGIN}"
exec gosu cloudron:cloudron /usr/bin/gunicorn \
    --bind 0.0.0.0:8000 --chdir /app/pkg \
    --workers "${GIS_WORKERS:-2}" --threads "${GIS_THREADS:-4}" --timeout "${GIS_TIMEOUT:-120}" \
    --worker-tmp-dir /run/mapproxy --forwarded-allow-ips "${CLOUDRON_PROXY_IP:-127.0.0.1}" \
    --access-logfile - --error-logfile - \
    wsgi:application
