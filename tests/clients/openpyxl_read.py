"""Reads an XLSX workbook with openpyxl (PyPI), as an analyst's script would, and prints each
sheet's rows as JSON lists, cells as their stored types (number, boolean, text, null).

usage: python3 openpyxl_read.py FILE
"""
import json
import sys

from openpyxl import load_workbook

book = load_workbook(sys.argv[1], read_only=True, data_only=True)
out = {}
for sheet in book.worksheets:
    out[sheet.title] = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
json.dump(out, sys.stdout)
