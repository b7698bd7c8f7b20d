#!/usr/bin/env python3
"""Validates JSON documents against a schema of HMRC's VAT (MTD) OpenAPI with jsonschema.

Usage: hmrc-schema-check.py OPENAPI.yaml < LINES
Each input line is `SCHEMA_NAME<TAB>JSON`; each output line is `ok` or `invalid: <first error>`, in order.
Numbers are read as decimals (and the schema's bounds too), so `multipleOf: 0.01` is exact: jsonschema's float
arithmetic would refuse 0.07.
"""
import json
import sys
from decimal import Decimal

import jsonschema
import yaml


def decimals(node):
    if isinstance(node, float):
        return Decimal(str(node))
    if isinstance(node, dict):
        return {key: decimals(value) for key, value in node.items()}
    if isinstance(node, list):
        return [decimals(value) for value in node]
    return node


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    components = decimals(spec["components"])
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        name, _, text = line.partition("\t")
        if name not in components["schemas"]:
            print(f"invalid: no schema {name}", flush=True)
            continue
        schema = {"$ref": f"#/components/schemas/{name}", "components": components}
        try:
            document = json.loads(text, parse_float=Decimal)
        except ValueError as error:
            print(f"invalid: not JSON ({error})", flush=True)
            continue
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
        if errors:
            error = errors[0]
            print(f"invalid: /{'/'.join(str(p) for p in error.path)}: {error.message}", flush=True)
        else:
            print("ok", flush=True)


if __name__ == "__main__":
    main()
