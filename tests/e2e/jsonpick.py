#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Small JSON picks for the end-to-end tests (jq is not assumed). Reads JSON on stdin and prints
compact JSON (strings raw), or "<missing>" with exit status 1 when the thing is not there.

  jsonpick.py metric DIRECTION NAME   value of metric NAME in {"DIRECTION-metrics": [...]}
  jsonpick.py busctl                  the "data" of `busctl --json=short` output (one element
                                      unwrapped when it is a one-element list)
  jsonpick.py has KEY=VALUE...        exit 0 if some object anywhere holds all KEY=VALUE pairs
                                      (keys compared case-insensitively, values as strings)
  jsonpick.py managed-objects         object paths of a GetManagedObjects reply (busctl --json)
"""
import json
import sys


def out(value):
    if isinstance(value, str):
        print(value)
    else:
        print(json.dumps(value, separators=(",", ":")))
    return 0


def missing():
    print("<missing>")
    return 1


def metric(doc, direction, name):
    for m in doc.get(direction + "-metrics") or []:
        if m.get("name") == name:
            return out(m.get("value"))
    return missing()


def busctl(doc):
    data = doc["data"]
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    return out(data)


def objects(doc):
    for v in doc.values() if isinstance(doc, dict) else doc:
        if isinstance(v, (dict, list)):
            yield from objects(v)
    if isinstance(doc, dict):
        yield doc


def has(doc, pairs):
    want = dict(p.split("=", 1) for p in pairs)
    for obj in objects(doc):
        lower = {str(k).lower(): v for k, v in obj.items()}
        if all(k.lower() in lower and str(lower[k.lower()]) == v for k, v in want.items()):
            return 0
    return 1


def managed_objects(doc):
    data = doc["data"]
    if isinstance(data, list):
        data = data[0]
    for path in sorted(data):
        print(path)
    return 0


def main():
    doc = json.load(sys.stdin)
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "metric":
        return metric(doc, *rest)
    if cmd == "busctl":
        return busctl(doc)
    if cmd == "has":
        return has(doc, rest)
    if cmd == "managed-objects":
        return managed_objects(doc)
    print(f"jsonpick.py: unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
