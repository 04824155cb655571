#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a dataplane configuration (Polycube v1.1 JSON) from C source files, so that the tests'
own probes can be written as plain C in the test scripts.

  mkconfig.py [--ingress FILE.c] [--egress FILE.c] [--metric PATH:NAME:MAP[:TYPE]]...

PATH is ingress or egress, NAME the metric, MAP the map it reads, TYPE its OpenMetrics type
(counter by default). The configuration is printed on stdout.
"""
import argparse
import json
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ingress")
    p.add_argument("--egress")
    p.add_argument("--metric", action="append", default=[])
    args = p.parse_args()
    config = {}
    for path in ("ingress", "egress"):
        source = getattr(args, path)
        if not source:
            config[path + "-path"] = {}
            continue
        with open(source) as f:
            code = f.read()
        metrics = []
        for spec in args.metric:
            parts = spec.split(":")
            if parts[0] != path:
                continue
            metrics.append({
                "name": parts[1],
                "map-name": parts[2],
                "open-metrics-metadata": {
                    "help": f"{parts[1]} from map {parts[2]}",
                    "type": parts[3] if len(parts) > 3 else "counter",
                    "labels": [],
                },
            })
        config[path + "-path"] = {"name": f"e2e {path} probe", "code": code,
                                  "metric-configs": metrics}
    json.dump(config, sys.stdout, indent=4)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
