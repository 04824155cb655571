#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Picks from the JSON a REST call answered (stdin), for e2e-rest.sh (jq is not assumed).

  restpick.py PATH      the member at PATH: keys and list indexes separated by "/", e.g.
                        "metrics/ingress-metrics/0/value" ("" is the whole document); printed as
                        compact JSON, strings raw; "<missing>" and exit status 1 when absent
  restpick.py keys PATH the sorted keys of the object at PATH, one line, space-separated
  restpick.py names     the "name" of each element of a list, one line, space-separated
"""
import json
import sys


def at(doc, path):
    for part in [p for p in path.split("/") if p]:
        if isinstance(doc, list):
            doc = doc[int(part)]
        else:
            doc = doc[part]
    return doc


def main():
    try:
        doc = json.loads(sys.stdin.read())
        if sys.argv[1] == "keys":
            print(" ".join(sorted(at(doc, sys.argv[2]))))
        elif sys.argv[1] == "names":
            print(" ".join(e["name"] for e in doc))
        else:
            v = at(doc, sys.argv[1])
            print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
    except (ValueError, KeyError, IndexError, TypeError) as e:
        print(f"<missing: {e!r}>")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
