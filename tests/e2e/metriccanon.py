#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A metric's value in a form a test can compare as a string. Reads `dynmonctl metrics` JSON on
stdin and prints the value of one metric as compact JSON, members in the daemon's order, or
"<missing>" with exit status 1.

  metriccanon.py DIRECTION NAME [SHAPE]

SHAPE says what the value must look like, and how it is made comparable:
  plain         as it is (array and queue/stack maps: their order is the map's)     [default]
  hash          a list of {"key", "value"}, sorted by key, numbers numerically (the kernel's
                order is its own)
  percpu-array  a list of per-CPU lists: each becomes {"cpus": N, "sum": S}
  percpu-hash   as hash, each "value" a per-CPU list that becomes {"cpus": N, "sum": S}
Which CPU counted a packet is the scheduler's business: the number of values per entry (the
possible CPUs) and their sum are what a test can know. A value of the wrong shape is printed
as it is, so that the comparison fails and shows it.
"""
import json
import sys


def fold(values):
    if isinstance(values, list) and all(isinstance(v, int) for v in values):
        return {"cpus": len(values), "sum": sum(values)}
    return values


def entry_order(entry):
    """Numbers in numeric order, then anything else (structs, lists) by its JSON text."""
    key = entry["key"]
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return (0, key, "")
    return (1, 0, json.dumps(key, sort_keys=True))


def sort_entries(value):
    if not isinstance(value, list) or not all(
            isinstance(e, dict) and list(e) == ["key", "value"] for e in value):
        return value
    return sorted(value, key=entry_order)


def canon(value, shape):
    if shape == "plain":
        return value
    if shape == "hash":
        return sort_entries(value)
    if shape == "percpu-array":
        return [fold(v) for v in value] if isinstance(value, list) else value
    if shape == "percpu-hash":
        value = sort_entries(value)
        if isinstance(value, list):
            value = [{"key": e["key"], "value": fold(e["value"])} for e in value]
        return value
    raise SystemExit(f"metriccanon.py: unknown shape {shape}")


def main():
    direction, name = sys.argv[1], sys.argv[2]
    shape = sys.argv[3] if len(sys.argv) > 3 else "plain"
    doc = json.load(sys.stdin)
    for m in doc.get(direction + "-metrics") or []:
        if m.get("name") == name:
            print(json.dumps(canon(m.get("value"), shape), separators=(",", ":")))
            return 0
    print("<missing>")
    return 1


if __name__ == "__main__":
    sys.exit(main())
