#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reads a monitor's metrics in a loop, as a Prometheus scraper would, and sums what it read.

  swap_reader.py DYNMONCTL MONITOR METRIC... --stop FILE [--max-seconds S]

Until FILE exists (or S seconds pass), calls `DYNMONCTL --json metrics MONITOR` again and again
and adds up, per metric, the sum of its values (array: its elements; hash: the entries' values).
With swap-on-read every read returns what was counted since the previous one, so the sums over
all reads are the totals. Prints one JSON line: {"reads": n, "sums": {METRIC: total, ...}}.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def value_sum(value):
    if isinstance(value, list):
        return sum(value_sum(v) for v in value)
    if isinstance(value, dict):
        return value_sum(value["value"]) if "value" in value else 0
    return value


def read_once(ctl, monitor, metrics, sums):
    out = subprocess.run([ctl, "--json", "metrics", monitor], check=True,
                         capture_output=True, text=True).stdout
    doc = json.loads(out)
    for direction in ("ingress-metrics", "egress-metrics"):
        for m in doc[direction]:
            if m["name"] in sums:
                sums[m["name"]] += value_sum(m["value"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ctl")
    p.add_argument("monitor")
    p.add_argument("metrics", nargs="+")
    p.add_argument("--stop", required=True)
    p.add_argument("--max-seconds", type=float, default=60)
    args = p.parse_args()
    sums = {m: 0 for m in args.metrics}
    reads = 0
    deadline = time.monotonic() + args.max_seconds
    while not os.path.exists(args.stop) and time.monotonic() < deadline:
        read_once(args.ctl, args.monitor, args.metrics, sums)
        reads += 1
    print(json.dumps({"reads": reads, "sums": sums}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
