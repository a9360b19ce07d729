"""Reads JSON-stat files with pyjstat (PyPI), as an analyst would into pandas, and prints each
file's cells as [{dimension id: category id, ..., "value": number or null}] under its path.

usage: python3 pyjstat_read.py FILE ...
"""
import json
import math
import sys

from pyjstat import pyjstat

out = {}
for path in sys.argv[1:]:
    frame = pyjstat.Dataset.read(open(path, encoding="utf-8").read()).write("dataframe", naming="id")
    rows = []
    for record in frame.to_dict(orient="records"):
        value = record["value"]
        record["value"] = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        rows.append({k: (str(v) if k != "value" else v) for k, v in record.items()})
    out[path] = rows
json.dump(out, sys.stdout)
