#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Prometheus files in data/ parse as Prometheus parses them: the alerting rules with
# `promtool check rules`, and every query of the Grafana dashboard with the same parser (each
# becomes a recording rule, Grafana's variables given values as Grafana would).
set -euo pipefail
src=${DYNMON_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
command -v promtool >/dev/null || { echo "missing promtool (run data/install-deps.sh)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

promtool check rules "$src/data/dynmon-alerts.yml"

/usr/bin/python3 - "$src/data/dynmon-dashboard.json" >"$tmp/dashboard-rules.yml" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
if not exprs:
    sys.exit("the dashboard has no query")
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    e = e.replace("$__rate_interval", "5m").replace("$instance", ".*")
    if "$" in e:
        sys.exit(f"query {i} uses a variable this check does not know: {e}")
    print(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(e)}")
PYEOF
echo "the dashboard's $(grep -c 'record:' "$tmp/dashboard-rules.yml") queries:"
promtool check rules "$tmp/dashboard-rules.yml"
