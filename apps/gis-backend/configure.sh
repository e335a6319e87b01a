#!/bin/bash
set -eu

# Writes the configuration the app runs with, from the CLOUDRON_* variables
# and the settings in /app/data, into /run (fresh on every start). The
# admin's parts are read from /app/data and never rewritten here:
#   /app/data/mapproxy/layers.yaml  MapProxy layers, caches, sources, grids
#   /app/data/mapserver/layers.map  MapServer LAYER blocks (the rendering)
# start.sh runs it on every start.

origin="${CLOUDRON_APP_ORIGIN:?CLOUDRON_APP_ORIGIN is not set}"
origin="${origin%/}"

mkdir -p /run/mapproxy/locks /run/mapproxy/tile_locks /run/mapserver/work

# --- MapServer: the map file MapProxy's sources name, its fonts and its
# global configuration (only map files from /run/mapserver are accepted).
cat > /run/mapserver/fonts.txt <<'FONTS'
dejavu      /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
dejavu-bold /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
FONTS

cat > /run/mapserver/mapserver.conf <<'CONF'
CONFIG
  ENV
    MS_MAP_PATTERN "^/run/mapserver/[a-z]+\.map$"
    MS_ERRORFILE "stderr"
  END
END
CONF

cat > /run/mapserver/gis.map.tmp <<MAPFILE
# Generated on every start by /app/pkg/configure.sh: edit the layers in
# /app/data/mapserver/layers.map instead.
MAP
  NAME "gis"
  EXTENT -180 -90 180 90
  SIZE 256 256
  MAXSIZE 4096
  UNITS DD
  IMAGECOLOR 255 255 255
  IMAGETYPE "png"
  FONTSET "/run/mapserver/fonts.txt"
  SHAPEPATH "/app/data/geodata"
  PROJECTION
    "init=epsg:4326"
  END
  OUTPUTFORMAT
    NAME "png"
    DRIVER AGG/PNG
    MIMETYPE "image/png"
    IMAGEMODE RGBA
    EXTENSION "png"
  END
  WEB
    METADATA
      "wms_title" "${CLOUDRON_APP_DOMAIN:-gis} (MapServer, behind MapProxy)"
      "wms_srs" "EPSG:4326 EPSG:3857 EPSG:900913 EPSG:4258 CRS:84"
      "wms_enable_request" "*"
    END
  END
  INCLUDE "/app/data/mapserver/layers.map"
END
MAPFILE
mv /run/mapserver/gis.map.tmp /run/mapserver/gis.map

# --- MapProxy: services and globals here; layers, caches, sources and grids
# come from the admin's file (base:), which this file overrides where both
# set a value. The service metadata's online resource is the app's origin.
cat > /run/mapproxy/mapproxy.yaml.tmp <<YAML
# Generated on every start by /app/pkg/configure.sh from CLOUDRON_APP_ORIGIN:
# edit /app/data/mapproxy/layers.yaml instead.
base: /app/data/mapproxy/layers.yaml

services:
  demo: {}
  kml: {}
  tms:
    use_grid_names: false
  wmts:
    restful: true
    kvp: true
    md:
      online_resource: ${origin}/
  wms:
    md:
      online_resource: ${origin}/service

globals:
  cache:
    base_dir: /app/data/cache
    lock_dir: /run/mapproxy/locks
    tile_lock_dir: /run/mapproxy/tile_locks
  mapserver:
    binary: /usr/lib/cgi-bin/mapserv
    working_dir: /run/mapserver/work
YAML
mv /run/mapproxy/mapproxy.yaml.tmp /run/mapproxy/mapproxy.yaml

chown -R cloudron:cloudron /run/mapproxy /run/mapserver
