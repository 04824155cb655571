#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the shape of `dynmonctl metrics` JSON on stdin (upstream's: {"ingress-metrics":
[{"name", "value", "timestamp"}], "egress-metrics": [...]}, nothing more, nothing less) and
prints its content on one line, for a test to compare whole:

  ingress-metrics: NAME=VALUE NAME=VALUE | egress-metrics: NAME=VALUE

VALUE is compact JSON, metrics in the daemon's order. Exit status 1, with the reason, when the
shape is wrong.
"""
import json
import sys

DIRECTIONS = ("ingress-metrics", "egress-metrics")
ENTRY_KEYS = {"name", "value", "timestamp"}


def main():
    try:
        doc = json.load(sys.stdin)
    except ValueError as e:
        print(f"not JSON: {e}")
        return 1
    if not isinstance(doc, dict) or set(doc) != set(DIRECTIONS):
        print(f"top-level keys are not {DIRECTIONS}: {doc!r:.200}")
        return 1
    parts = []
    for direction in DIRECTIONS:
        entries = doc[direction]
        if not isinstance(entries, list):
            print(f"{direction} is not a list")
            return 1
        shown = []
        for e in entries:
            if not isinstance(e, dict) or set(e) != ENTRY_KEYS:
                print(f"{direction}: an entry's keys are not {sorted(ENTRY_KEYS)}: {e!r:.200}")
                return 1
            if not isinstance(e["timestamp"], int) or e["timestamp"] <= 0:
                print(f"{direction}: {e['name']} has no usable timestamp: {e['timestamp']!r}")
                return 1
            shown.append(f"{e['name']}={json.dumps(e['value'], separators=(',', ':'))}")
        parts.append(" ".join([direction + ":"] + shown))
    print(" | ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
