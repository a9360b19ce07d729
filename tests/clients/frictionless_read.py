"""Validates a Frictionless Data Package with frictionless (PyPI) and prints the validation
report's verdict and errors, and every resource's rows as frictionless reads them (typed by the
package's schema: numbers as numbers, integers as integers, a missing value as null).

usage: python3 frictionless_read.py PACKAGE.zip
"""
import json
import sys

from frictionless import Package, validate


def main():
    path = sys.argv[1]
    report = validate(path)
    errors = [f"{task.name}: {e.title}: {e.message}" for task in report.tasks for e in task.errors] + [e.message for e in report.errors]
    package = Package(path)
    tables = {}
    for resource in package.resources:
        rows = []
        for row in resource.read_rows():
            rows.append({k: (float(v) if hasattr(v, "is_nan") else v) for k, v in row.to_dict().items()})
        tables[resource.name] = rows
    json.dump({"valid": report.valid, "errors": errors[:20], "tables": tables}, sys.stdout, default=str)


# (frictionless validates in worker processes, which import this file again)
if __name__ == "__main__":
    main()
