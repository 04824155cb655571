#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reads a swap-on-read counter over REST in a loop, for e2e-rest.sh: each read returns what was
counted since the previous one, so the reads must sum to what was sent. Alternates between the
metric's /value (JSON, a one-element list) and the /metrics scrape (OpenMetrics, through the
strict parser, the sample labelled with the monitor), until the file STOP exists.

  restswap.py BASE-URL MONITOR METRIC FAMILY --stop STOP [--ready READY] [--max-seconds S]

READY, if given, is created once the reader is about to read (the traffic may start).

Prints {"reads": N, "value_reads": N, "scrape_reads": N, "sum": N} on stdout; exits 1 on any
failed or malformed read.
"""
import argparse
import json
import os
import sys
import time
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def read_value(args):
    url = f"{args.base}/polycube/v1/dynmon/{args.monitor}/metrics/ingress-metrics/{args.metric}/value"
    ctype, body = get(url)
    value = json.loads(body)
    if ctype != "application/json" or not isinstance(value, list) or len(value) != 1:
        raise ValueError(f"unexpected value read: {ctype} {body}")
    return value[0]


def read_scrape(args):
    ctype, body = get(f"{args.base}/metrics", "application/openmetrics-text")
    if ctype != OPENMETRICS:
        raise ValueError(f"unexpected Content-Type {ctype}")
    for family in text_string_to_metric_families(body):
        if family.name != args.family:
            continue
        for s in family.samples:
            if s.labels.get("monitor") == args.monitor:
                return int(s.value)
    raise ValueError(f"no {args.family} sample of {args.monitor} in:\n{body}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("monitor")
    p.add_argument("metric")
    p.add_argument("family")
    p.add_argument("--stop", required=True)
    p.add_argument("--ready")
    p.add_argument("--max-seconds", type=float, default=120)
    args = p.parse_args()

    counts = {"reads": 0, "value_reads": 0, "scrape_reads": 0, "sum": 0}
    end = time.monotonic() + args.max_seconds
    if args.ready:
        open(args.ready, "w").close()
    try:
        while not os.path.exists(args.stop) and time.monotonic() < end:
            if counts["reads"] % 2 == 0:
                counts["sum"] += read_value(args)
                counts["value_reads"] += 1
            else:
                counts["sum"] += read_scrape(args)
                counts["scrape_reads"] += 1
            counts["reads"] += 1
    except Exception as e:  # a failed read is the test's failure, reported with what it was
        print(json.dumps({"error": repr(e), **counts}))
        return 1
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
