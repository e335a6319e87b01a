#!/bin/bash
set -eu

# /app/data/images: the images library (connector and cable pictures a
# harness names by path relative to it). /app/data/env.sh: the admin's
# settings. /run/wireviz: HOME, TMPDIR and the font cache, fresh each start.
mkdir -p /app/data/images /run/wireviz/home /run/wireviz/tmp /run/wireviz/cache

if [[ ! -f /app/data/env.sh ]]; then
    echo "==> First start: writing /app/data/env.sh (settings)"
    cat > /app/data/env.sh <<'ENV'
# WireViz-Web settings, read on every start (restart the app after a change).
# Allow browsers on other sites to call the API (CORS headers on every route).
CORS_ENABLE=false
# gunicorn worker processes: requests rendered at the same time.
WIREVIZ_WORKERS=2
# Seconds a render may take before its worker is restarted.
WIREVIZ_TIMEOUT=120
ENV
fi
chown -R cloudron:cloudron /app/data /run/wireviz

# The settings, then the values the package fixes (not settings).
set -a
# shellcheck disable=SC1091
source /app/data/env.sh
set +a
export HOME=/run/wireviz/home TMPDIR=/run/wireviz/tmp XDG_CACHE_HOME=/run/wireviz/cache
export WIREVIZ_IMAGES=/app/data/images PYTHONDONTWRITEBYTECODE=1

echo "==> Starting WireViz-Web (gunicorn, ${WIREVIZ_WORKERS:-2} workers) on port 3005"
exec gosu cloudron:cloudron /app/code/bin/gunicorn \
    --bind 0.0.0.0:3005 --chdir /app/pkg \
    --workers "${WIREVIZ_WORKERS:-2}" --timeout "${WIREVIZ_TIMEOUT:-120}" \
    --worker-tmp-dir /run/wireviz/tmp --forwarded-allow-ips "${CLOUDRON_PROXY_IP:-127.0.0.1}" \
    --access-logfile - --error-logfile - --no-control-socket \
    wsgi:app
