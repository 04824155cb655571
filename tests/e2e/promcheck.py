#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Asks a real Prometheus server, through its HTTP API, what it scraped. Run inside the network
namespace where it listens (`ip netns exec`). Every waiting command polls, bounded by --timeout,
and exits 1 with what it saw last when the time is up.

  promcheck.py URL ready                       the server answers /-/ready
  promcheck.py URL scraped-after SECONDS       the target's last scrape began after this Unix
                                               time, and was healthy; prints "HEALTH LASTERROR"
  promcheck.py URL target                      prints the one target's "HEALTH" and lastError
  promcheck.py URL expect SELECTOR=VALUE...    each instant-vector selector is exactly one series
                                               of that value
  promcheck.py URL mirror MONITOR < OPENMETRICS
                                               every sample of MONITOR in the OpenMetrics text
                                               (strict parser) is a series of the same value
  promcheck.py URL histogram NAME MATCHERS SIZES
                                               the histogram NAME{MATCHERS} (NAME_bucket, _count,
                                               _sum) holds the observations SIZES ("64:3,100:2":
                                               3 of 64, 2 of 100): each bucket counts those <= le
  promcheck.py URL metadata NAME               the type of the family NAME in the metadata of
                                               the target, or "<none>"
"""
import argparse
import datetime
import json
import math
import sys
import time
import urllib.parse
import urllib.request

from prometheus_client.openmetrics.parser import text_string_to_metric_families

# The test's loopback: no proxy from the environment may stand in between.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url, path, **params):
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    with OPENER.open(url + path + query, timeout=10) as r:
        return r.read().decode()


def api(url, path, **params):
    doc = json.loads(get(url, path, **params))
    if doc.get("status") != "success":
        raise RuntimeError(f"{path}: {doc}")
    return doc["data"]


def escape(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def selector(name, labels):
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def query(url, sel):
    """The series the selector finds now: [(labels, value)]."""
    result = api(url, "/api/v1/query", query=sel)["result"]
    return [(r["metric"], float(r["value"][1])) for r in result]


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def poll(timeout, attempt):
    """Calls attempt() until it returns None (success) or the time is up; returns its last
    complaint, or None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            complaint = attempt()
        except OSError as e:  # not up yet, refused, reset
            complaint = f"no answer: {e}"
        except RuntimeError as e:  # no target yet, or an API error
            complaint = str(e)
        if complaint is None:
            return None
        if time.monotonic() > deadline:
            return complaint
        time.sleep(0.2)


def one_target(url):
    targets = api(url, "/api/v1/targets", state="active")["activeTargets"]
    if len(targets) != 1:
        raise RuntimeError(f"expected one active target, not {len(targets)}")
    return targets[0]


def scrape_time(target):
    """lastScrape as Unix time (RFC 3339 with nanoseconds; "0001-01-01T..." before any)."""
    stamp = target["lastScrape"]
    if stamp.startswith("0001-"):
        return 0.0
    return datetime.datetime.fromisoformat(stamp).timestamp()


def cmd_ready(args):
    def attempt():
        get(args.url, "/-/ready")
        return None

    return poll(args.timeout, attempt)


def cmd_scraped_after(args):
    seen = {}

    def attempt():
        t = one_target(args.url)
        seen["t"] = t
        if scrape_time(t) <= args.seconds:
            return f"last scrape {t['lastScrape']} is not after {args.seconds}"
        return None

    complaint = poll(args.timeout, attempt)
    if "t" in seen:
        print(seen["t"]["health"], json.dumps(seen["t"]["lastError"]))
    return complaint


def cmd_target(args):
    t = one_target(args.url)
    print(t["health"], json.dumps(t["lastError"]))
    return None


def check_values(url, wanted):
    """wanted: [(selector, value)]. None when Prometheus has each as exactly one series."""
    problems = []
    for sel, value in wanted:
        series = query(url, sel)
        if len(series) != 1:
            problems.append(f"{sel}: {len(series)} series {series}, expected one = {value:g}")
        elif not same(series[0][1], value):
            problems.append(f"{sel} = {series[0][1]:g}, expected {value:g}")
    return "\n".join(problems) or None


def cmd_expect(args):
    wanted = []
    for item in args.pairs:
        sel, _, value = item.rpartition("=")
        wanted.append((sel, float(value)))
    return poll(args.timeout, lambda: check_values(args.url, wanted))


def cmd_mirror(args):
    try:
        families = list(text_string_to_metric_families(sys.stdin.read()))
    except Exception as e:  # the parser raises ValueError and friends on any violation
        return f"not valid OpenMetrics: {e}"
    wanted = []
    for family in families:
        for s in family.samples:
            if s.labels.get("monitor") == args.monitor:
                wanted.append((selector(s.name, s.labels), float(s.value)))
    complaint = poll(args.timeout, lambda: check_values(args.url, wanted))
    if complaint is None:
        print(f"{len(wanted)} series")
    return complaint


def cmd_histogram(args):
    sizes = []
    for item in filter(None, args.sizes.split(",")):
        size, _, count = item.partition(":")
        sizes += [float(size)] * int(count)
    matchers = args.matchers

    def attempt():
        buckets = query(args.url, f"{args.name}_bucket{{{matchers}}}")
        if not buckets:
            return f"no series {args.name}_bucket{{{matchers}}}"
        problems = []
        les = sorted((float(labels["le"]), value) for labels, value in buckets)
        if les[-1][0] != math.inf:
            problems.append('no bucket le="+Inf"')
        previous = 0.0
        for le, value in les:
            want = sum(1 for s in sizes if s <= le)
            if value != want:
                problems.append(f'le="{le:g}": {value:g}, expected {want}')
            if value < previous:
                problems.append(f'le="{le:g}": {value:g} is below the bucket before it')
            previous = value
        for suffix, want in (("_count", len(sizes)), ("_sum", sum(sizes))):
            series = query(args.url, f"{args.name}{suffix}{{{matchers}}}")
            if [v for _, v in series] != [want]:
                problems.append(f"{args.name}{suffix}: {series}, expected {want:g}")
        return "\n".join(problems) or None

    complaint = poll(args.timeout, attempt)
    if complaint is None:
        print(f"{len(sizes)} observations")
    return complaint


def cmd_metadata(args):
    data = api(args.url, "/api/v1/targets/metadata", metric=args.name)
    types = sorted({m["type"] for m in data})
    print(",".join(types) or "<none>")
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=20)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ready").set_defaults(run=cmd_ready)
    s = sub.add_parser("scraped-after")
    s.add_argument("seconds", type=float)
    s.set_defaults(run=cmd_scraped_after)
    sub.add_parser("target").set_defaults(run=cmd_target)
    s = sub.add_parser("expect")
    s.add_argument("pairs", nargs="+")
    s.set_defaults(run=cmd_expect)
    s = sub.add_parser("mirror")
    s.add_argument("monitor")
    s.set_defaults(run=cmd_mirror)
    s = sub.add_parser("histogram")
    s.add_argument("name")
    s.add_argument("matchers")
    s.add_argument("sizes")
    s.set_defaults(run=cmd_histogram)
    s = sub.add_parser("metadata")
    s.add_argument("name")
    s.set_defaults(run=cmd_metadata)
    args = p.parse_args()
    try:
        complaint = args.run(args)
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        complaint = f"{type(e).__name__}: {e}"
    if complaint:
        print(complaint)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
