"""Reads the service's OGC API – Features collections with QGIS's own OAPIF provider (the
desktop GIS most municipalities use; PyQGIS from Debian's python3-qgis, headless) and prints
one JSON line: per collection, what QGIS made of it.

usage: /usr/bin/python3 qgis_read.py http://127.0.0.1:PORT/ogc MINX MINY MAXX MAXY MAP_LAYER_URL

MAP_LAYER_URL, a GeoJSON layer of the service, is opened as a vector layer from a URL (the
OGR provider), the other way a GIS desk adds it.
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp())  # Qt wants one of mode 0700

from qgis.core import QgsApplication, QgsFeatureRequest, QgsRectangle, QgsVectorLayer, QgsWkbTypes  # noqa: E402

url = sys.argv[1]
rect = QgsRectangle(*map(float, sys.argv[2:6]))
map_layer_url = sys.argv[6]
# (a GUI application, offscreen: the OAPIF provider crashes without one in QGIS 3.22)
app = QgsApplication([], True)
app.initQgis()
report = {}
for collection, key in [("areas", "area_id"), ("municipalities", "municipality_code")]:
    # a small page size, so that QGIS follows the next links
    layer = QgsVectorLayer(f"pageSize='7' typename='{collection}' url='{url}'", collection, "OAPIF")
    if not layer.isValid():
        sys.exit(f"QGIS cannot open {collection}")
    count = layer.featureCount()  # numberMatched, before any feature is read
    features, read = {}, 0
    for f in layer.getFeatures():
        read += 1
        box = f.geometry().boundingBox()
        features[f[key]] = {
            "name": f["name"],
            "geometry": QgsWkbTypes.displayString(f.geometry().wkbType()),
            "bbox": [box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum()],
        }
    in_rect = [f[key] for f in layer.getFeatures(QgsFeatureRequest().setFilterRect(rect))]
    layer.setSubsetString("municipality_code = '101'")
    subset = [f[key] for f in layer.getFeatures()]
    report[collection] = {
        "crs": layer.crs().authid(),
        "feature_count": count,
        "fields": layer.fields().names(),
        "features": features,
        "read": read,
        "in_rect": in_rect,
        "subset": subset,
    }
layer = QgsVectorLayer(map_layer_url, "map", "ogr")
if not layer.isValid():
    sys.exit("QGIS cannot open the map layer")
def plain(value):
    """A field's value for JSON: QGIS gives a missing one as a NULL QVariant."""
    return None if value is None or (hasattr(value, "isNull") and value.isNull()) else value


report["map_layer"] = {
    "crs": layer.crs().authid(),
    "feature_count": layer.featureCount(),
    "features": {f["area_id"]: {"class": plain(f["class"]), "value": plain(f["value"])} for f in layer.getFeatures()},
}
print(json.dumps(report), flush=True)
# PyQGIS 3.22 now and then crashes tearing itself down (the layers' providers outlive the
# application in Python's garbage collection); everything is said, so leave without it
os._exit(0)
