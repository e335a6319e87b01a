"""The WSGI application gunicorn serves: WireViz-Web as its own command
line starts it (create_app and the wireviz-web blueprint), with one change
for a public server: the files a harness may name are confined.

WireViz reads every image a connector or cable names (`image: {src: …}`)
and embeds its bytes into the SVG, and the HTML output reads the template
its metadata names. On a server that renders what anyone posts, that would
hand out any file the app can read. Here an image must lie in the images
library (WIREVIZ_IMAGES, /app/data/images), named relative to it, and a
template must be one of WireViz's own.
"""

import logging
import os
from pathlib import Path

import yaml
from flask import send_file
from werkzeug.exceptions import BadRequest

import wireviz_web.server as server
from wireviz_web import create_app
from wireviz_web.util import setup_logging

IMAGES = Path(os.environ.get("WIREVIZ_IMAGES", "/app/data/images")).resolve()
URL_PREFIX = os.environ.get("WIREVIZ_URL", "")

logger = logging.getLogger("wireviz-web.cloudron")
_render = server.wireviz_render


def _confine(data):
    """Rewrite each image source to its file in the images library, or refuse."""
    if not isinstance(data, dict):
        return data
    for section in ("connectors", "cables"):
        items = data.get(section)
        if not isinstance(items, dict):
            continue
        for name, attribs in items.items():
            image = attribs.get("image") if isinstance(attribs, dict) else None
            if not isinstance(image, dict) or not image.get("src"):
                continue
            src = str(image["src"])
            target = (IMAGES / src).resolve()
            if Path(src).is_absolute() or not target.is_relative_to(IMAGES):
                raise BadRequest(description=f"{section}.{name}: image {src!r} must be a file of the images library, named relative to it")
            if not target.is_file():
                raise BadRequest(description=f"{section}.{name}: image {src!r} is not in the images library")
            image["src"] = str(target)
    metadata = data.get("metadata")
    template = metadata.get("template") if isinstance(metadata, dict) else None
    if isinstance(template, dict) and template.get("name") is not None:
        name = str(template["name"])
        if "/" in name or "\\" in name or name.startswith("."):
            raise BadRequest(description=f"metadata.template.name {name!r}: only WireViz's own templates can be used")
    return data


def confined_render(input_yaml, output_mimetype, output_filename):
    if isinstance(input_yaml, bytes):
        input_yaml = input_yaml.decode("utf-8", errors="replace")
    if not input_yaml.strip():
        raise BadRequest(description="No input data")
    try:
        data = yaml.safe_load(input_yaml)
    except yaml.YAMLError as ex:
        raise BadRequest(description=f"Unable to parse YAML: {ex}")
    data = _confine(data)
    return _render(
        input_yaml=yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        output_mimetype=output_mimetype,
        output_filename=output_filename,
    )


server.wireviz_render = confined_render

setup_logging()
app = create_app()

INDEX = Path(__file__).with_name("index.html")


@app.route(URL_PREFIX + "/")
def index():
    """The package's front page: a form that posts YAML to render (upstream has none).

    Added before the blueprint: flask-restx claims "/" for its API root too
    (a 404 here, since its documentation is at /doc), and the first rule wins.
    """
    return send_file(INDEX, mimetype="text/html", max_age=0)


app.register_blueprint(server.app, url_prefix=URL_PREFIX)
