#!/bin/bash
set -eu

# Makes the sample data set into the folder given ($1) with GDAL:
#   relief.tif   a colour relief (GeoTIFF, EPSG:4326, 720x360, with overviews),
#                interpolated from a handful of elevation points and coloured
#   sample.gpkg  a GeoPackage with the layers "regions" (polygons) and
#                "places" (points), both EPSG:4326
# The inputs are the package's GeoJSON files and colour table.

out="$1"
src=/app/pkg/sample
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gdal_grid -q -zfield elev -a invdist:power=2.0:smoothing=1.0 \
    -txe -180 180 -tye 90 -90 -outsize 720 360 -a_srs EPSG:4326 -ot Float32 -of GTiff \
    "$src/elevation-points.geojson" "$work/elevation.tif"
gdaldem color-relief -q -co COMPRESS=DEFLATE -co TILED=YES \
    "$work/elevation.tif" "$src/relief-colours.txt" "$work/relief.tif"
gdaladdo -q -r average "$work/relief.tif" 2 4 8

ogr2ogr -f GPKG "$work/sample.gpkg" "$src/regions.geojson" -nln regions -a_srs EPSG:4326
ogr2ogr -f GPKG -update "$work/sample.gpkg" "$src/places.geojson" -nln places -a_srs EPSG:4326

mv "$work/relief.tif" "$work/sample.gpkg" "$out/"
echo "sample data set: $(cd "$out" && ls relief.tif sample.gpkg | tr '\n' ' ')"
