#!/usr/bin/env python3
"""Validate JSON documents against a JSON Schema (draft 2020-12).

Usage: validate_json_schema.py SCHEMA FILE...   ('-' reads standard input)
Exit 0 when every document is valid, 1 otherwise (the errors on stderr),
2 when the schema itself is invalid or python3-jsonschema is missing.
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(2)


def main(argv):
    with open(argv[1]) as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        print(f"invalid schema: {e.message}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for name in argv[2:]:
        doc = json.load(sys.stdin if name == "-" else open(name))
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            bad += 1
            path = "/".join(str(p) for p in err.path)
            print(f"{name}: /{path}: {err.message[:300]}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
