"""Reads every feature of the service's OGC API – Features endpoint with OWSLib, a client
written by others, and prints one JSON line: the collections and, per collection, the feature
ids read.

usage: python3 owslib_read.py http://127.0.0.1:PORT/ogc
"""
import json
import sys

from owslib.ogcapi.features import Features

url = sys.argv[1]
api = Features(url)
conformance = api.conformance()["conformsTo"]
collections = [c["id"] for c in api.collections()["collections"]]
ids = {}
for collection in collections:
    api.collection(collection)
    read = ids[collection] = []
    offset = 0
    while True:
        page = api.collection_items(collection, limit=7, offset=offset)
        features = page["features"]
        read.extend(f["id"] for f in features)
        for f in features:
            assert f["type"] == "Feature" and "properties" in f
        if not any(link["rel"] == "next" for link in page.get("links", [])):
            break
        offset += len(features)
    one = api.collection_item(collection, read[0])
    assert one["id"] == read[0], one
print(json.dumps({"conformance": conformance, "collections": collections, "ids": ids}))
