"""Decodes vector tiles with mapbox-vector-tile (PyPI) and prints, per area, its properties
and its outline's bounding box in longitude and latitude.

usage: python3 mvt_read.py Z/X/Y=FILE ...
"""
import json
import math
import sys

import mapbox_vector_tile

out = {}
for arg in sys.argv[1:]:
    zxy, path = arg.split("=", 1)
    z, x, y = (int(v) for v in zxy.split("/"))
    tile = mapbox_vector_tile.decode(open(path, "rb").read())
    layer = tile["areas"]
    extent = layer["extent"]
    n = 2 ** z

    def lonlat(px, py):
        # (mapbox-vector-tile turns y upwards by default: py counts from the tile's bottom)
        fx = (x + px / extent) / n
        fy = (y + (extent - py) / extent) / n
        return fx * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * fy))))

    for f in layer["features"]:
        g = f["geometry"]
        polygons = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        points = [lonlat(px, py) for polygon in polygons for ring in polygon for px, py in ring]
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        out.setdefault(f["properties"]["area_id"], []).append(
            {"tile": zxy, "type": layer["features"][0]["geometry"]["type"], "properties": f["properties"],
             "bbox": [min(lons), min(lats), max(lons), max(lats)]}
        )
json.dump(out, sys.stdout)
