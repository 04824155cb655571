#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The samples of OpenMetrics text, after prometheus_client's strict parser accepted it (a
missing "# EOF" or any other violation is an error, exit status 1). Prints one line per sample
of the families named (all families if none is), sorted:

  omsamples.py [FAMILY...]      NAME{LABEL="VALUE",...} VALUE TYPE

labels sorted by name, VALUE as an integer when it is one, TYPE the family's.
"""
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def number(v):
    return str(int(v)) if float(v).is_integer() else repr(v)


def main():
    wanted = set(sys.argv[1:])
    try:
        families = list(text_string_to_metric_families(sys.stdin.read()))
    except Exception as e:  # the parser raises ValueError and friends on any violation
        print(f"not valid OpenMetrics: {e}")
        return 1
    lines = []
    for family in families:
        if wanted and family.name not in wanted:
            continue
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            lines.append(f"{s.name}{{{labels}}} {number(s.value)} {family.type}")
    print("\n".join(sorted(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
