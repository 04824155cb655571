#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Parses OpenMetrics text on stdin with prometheus_client's strict parser (it refuses anything
that breaks the specification, a missing "# EOF" included) and checks one sample.

  omcheck.py SAMPLE VALUE    exit 0 if a sample named SAMPLE (any labels) has value VALUE
"""
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    name, want = sys.argv[1], float(sys.argv[2])
    text = sys.stdin.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends on any violation
        print(f"not valid OpenMetrics: {e}")
        return 1
    seen = []
    for family in families:
        for sample in family.samples:
            seen.append(f"{sample.name}{sample.labels}={sample.value}")
            if sample.name == name and sample.value == want:
                print(f"{family.name} ({family.type}): {sample.name} {sample.value}")
                return 0
    print(f"no sample {name} = {want}; samples: {', '.join(seen) or 'none'}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
