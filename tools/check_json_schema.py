#!/usr/bin/env python3
"""Validate JSON-form invoices against the committed JSON Schema (schema/invoice.schema.json).

    check_json_schema.py FILE.json...

Exits 1 when any file does not validate, printing where. Used by `make test` on the documented
examples and on every official sample converted with `ksef parse`.
"""
import json
import sys

import jsonschema

schema = json.load(open("schema/invoice.schema.json", encoding="utf-8"))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[1:]:
    doc = json.load(open(path, encoding="utf-8"))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:5]:
        print(f"{path}: /{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
    bad += bool(errors)
print(f"json-schema-check: {len(sys.argv) - 1 - bad} valid, {bad} invalid")
sys.exit(1 if bad or len(sys.argv) < 2 else 0)
