#!/bin/bash
set -eu

# draw.io runs in the browser: the server only serves files. On every start
# the app's own address goes into js/PreConfig.js, so that the links it makes
# (viewer, lightbox, embed and "publish link") point at this app and follow
# a change of domain.

mkdir -p /run/nginx /run/drawio

origin=$(jq -n --arg v "${CLOUDRON_APP_ORIGIN}" '$v')
cat > /run/drawio/PreConfig.js <<JS
// Written by the Cloudron package on every start (start.sh): do not edit.
window.DRAWIO_BASE_URL = ${origin};
window.DRAWIO_VIEWER_URL = ${origin} + '/js/viewer.min.js';
window.DRAWIO_LIGHTBOX_URL = ${origin};
window.DRAW_MATH_URL = 'math';
window.DRAWIO_CONFIG = null;
urlParams['sync'] = 'manual';
JS
chmod 0644 /run/drawio/PreConfig.js

echo "==> Starting nginx for draw.io at ${CLOUDRON_APP_ORIGIN}"
exec /usr/sbin/nginx
