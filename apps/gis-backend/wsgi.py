"""The WSGI application gunicorn serves: MapProxy with the configuration
configure.sh writes on every start. The reloader re-reads it, and the
admin's /app/data/mapproxy/layers.yaml it includes, when either changes,
so edited layers are served from the next request on without a restart."""

import logging
import os

from mapproxy.wsgiapp import make_wsgi_app

logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
logging.getLogger("mapproxy.config").setLevel(logging.INFO)

application = make_wsgi_app(os.environ.get("MAPPROXY_CONFIG", "/run/mapproxy/mapproxy.yaml"), reloader=True)
