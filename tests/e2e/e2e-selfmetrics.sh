#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dynmon's own metrics (dynmon_*), with dynmond started --bpf-stats:
#   - /metrics carries them after the monitors' families: the strict OpenMetrics parser and
#     `promtool check metrics` (Prometheus text) accept the document;
#   - a hash map filled to its max_entries by real packets shows entries == max_entries, and the
#     shipped DynmonMapNearlyFull rule (data/dynmon-alerts.yml) fires, in a `promtool test rules`
#     unit test, on exactly the series this dynmond exported;
#   - the programs' run counts follow the packets; the verifier's count is there; monitors by
#     state, a failed inject, the grace periods of a swap-on-read, build info;
#   - the manager's SelfMetrics property is the same families, valid OpenMetrics.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9101
OPENMETRICS='application/openmetrics-text; version=1.0.0; charset=utf-8'
for tool in curl promtool; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT" --bpf-stats)
e2e_setup

MAX=8
# A hash keyed by frame length: each new length is one more entry, up to MAX.
"$PY" - "$MAX" >"$TMPD/fill.json" <<'PYEOF'
import json, sys
code = """#include <dynmon.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, %s);
} SIZES SEC(".maps");

SEC("tc")
int count_sizes(struct __sk_buff *skb)
{
	__u32 key = skb->len;
	__u64 one = 1, *n = bpf_map_lookup_elem(&SIZES, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&SIZES, &key, &one, BPF_NOEXIST);
	return DYNMON_PASS;
}
char LICENSE[] SEC("license") = "GPL";
""" % sys.argv[1]
print(json.dumps({"ingress-path": {"name": "fill", "code": code, "metric-configs": [
    {"name": "sizes", "map-name": "SIZES",
     "open-metrics-metadata": {"type": "counter", "help": "Packets by frame length.", "labels": []}},
    {"name": "top", "map-name": "SIZES",
     "open-metrics-metadata": {"type": "counter", "help": "The 2 commonest lengths.", "top-k": 2}}]}}))
PYEOF

# scrape ACCEPT: GET /metrics from namespace A into $TMPD/scrape.
scrape() {
	ip netns exec "$NS_A" curl -sS --max-time 30 -H "Accept: $1" -o "$TMPD/scrape" \
		"http://127.0.0.1:$PORT/metrics" || die "GET /metrics failed"
}
# om_value SAMPLE LABELS: the value of the sample whose labels include LABELS (k=v,...).
om_value() { "$PY" "$E2E_DIR/omsamples.py" <"$TMPD/scrape" | awk -v s="$1" -v l="$2" '
	{ name = $1; sub(/\{.*/, "", name) }
	name == s { ok = 1; n = split(l, want, ","); for (i = 1; i <= n; i++) if (index($1, want[i]) == 0) ok = 0; if (ok && !done) { print $2; done = 1 } }'; }

must dm add fill
must dm inject fill "$TMPD/fill.json"
must dm attach fill "$VETH_A"
must dm add idle
echo '{"ingress-path": {"name": "broken", "code": "int f( {"}}' >"$TMPD/broken.json"
assert_rc "code that does not compile is refused" 3 dm inject idle "$TMPD/broken.json"

start_sink a "$NS_A" "$IP_A" 5000
send_udp_mix "$NS_B" "$IP_A" 5000 10,20,30,40,50,60,70,80,90,100,110,120 24
stop_sink a

scrape "$OPENMETRICS"
READS=$(om_value dynmon_monitor_read_duration_seconds_count 'monitor="fill"')
scrape "$OPENMETRICS"
check "/metrics with dynmon's own families is valid OpenMetrics (strict parser)" \
	"$PY" "$E2E_DIR/omcheck.py" dynmon_build_info 1 <"$TMPD/scrape"
assert_eq "the monitors' families come first, dynmon's after them" "sizes dynmon_build_info" \
	"$(grep '^# TYPE' "$TMPD/scrape" | awk '{print $3}' | grep -m2 -E '^(sizes|dynmon_build_info)$' | xargs)"
assert_eq "a map filled by 12 lengths holds max_entries ($MAX)" "$MAX" \
	"$(om_value dynmon_map_entries 'monitor="fill",path="ingress",map="SIZES"')"
assert_eq "dynmon_map_max_entries" "$MAX" \
	"$(om_value dynmon_map_max_entries 'monitor="fill",map="SIZES"')"
assert_eq "the program ran once per datagram (BPF statistics on)" 24 \
	"$(om_value dynmon_program_runs_total 'monitor="fill",path="ingress"')"
assert_match "the program's run time is counted" '^[0-9.e-]+$' \
	"$(om_value dynmon_program_run_seconds_total 'monitor="fill"')"
assert_match "the verifier's instruction count" '^[1-9][0-9]*$' \
	"$(om_value dynmon_program_verified_instructions 'monitor="fill"')"
assert_eq "BPF statistics are on" 1 "$(om_value dynmon_bpf_stats_enabled '')"
assert_eq "one monitor attached" 1 "$(om_value dynmon_monitors 'state="attached"')"
assert_eq "one monitor detached" 1 "$(om_value dynmon_monitors 'state="detached"')"
assert_eq "monitor fill's state" 1 "$(om_value dynmon_monitor_state 'monitor="fill",state="attached"')"
assert_eq "injects: two" 2 "$(om_value dynmon_inject_duration_seconds_count '')"
assert_eq "injects: one failed" 1 "$(om_value dynmon_inject_failures_total '')"
assert_eq "two paths compiled" 2 "$(om_value dynmon_compile_duration_seconds_count '')"
assert_eq "one compile failed" 1 "$(om_value dynmon_compile_failures_total '')"
assert_eq "the read of a scrape is counted" $((READS + 1)) \
	"$(om_value dynmon_monitor_read_duration_seconds_count 'monitor="fill"')"
assert_eq "no read failed" 0 "$(om_value dynmon_monitor_read_failures_total 'monitor="fill"')"
assert_eq "the series budget folded nothing (8 entries, the default budget)" 0 \
	"$(om_value dynmon_series_folded 'monitor="fill",path="ingress",metric="sizes"')"
assert_eq "top-k 2 of the full map: $((MAX - 2)) entries folded" $((MAX - 2)) \
	"$(om_value dynmon_series_folded 'monitor="fill",path="ingress",metric="top"')"
assert_eq "... into one __overflow__ sample: 2 kept + 1, the same total as all 8" \
	"3 $(awk '/^sizes_total/ {s += $2} END {print s}' "$TMPD/scrape")" \
	"$(awk '/^top_total/ {n++; s += $2} END {print n, s}' "$TMPD/scrape")"
assert_eq "build info" 1 "$(om_value dynmon_build_info "version=\"$("$DYNMOND" --version | awk '{print $NF}')\"")"

scrape 'text/plain; version=0.0.4'
check "/metrics in the Prometheus text format passes promtool check metrics" \
	sh -c "promtool check metrics <'$TMPD/scrape'"

# The rule unit test: the series are this dynmond's own, as Prometheus would have scraped them.
scrape "$OPENMETRICS"
"$PY" - "$TMPD/scrape" >"$TMPD/rules-test.yml" "$DYNMON_SOURCE_DIR/data/dynmon-alerts.yml" <<'PYEOF'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text, rules = open(sys.argv[1]).read(), sys.argv[2]
series = []
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        if s.name in ("dynmon_map_entries", "dynmon_map_max_entries"):
            labels = ",".join(f'{k}="{v}"' for k, v in sorted({**s.labels, "instance": "host1"}.items()))
            series.append((s.name + "{" + labels + "}", s.value))
print(f"rule_files: [{rules}]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:")
for name, v in series:
    print(f"      - series: '{name}'\n        values: '{int(v)}x10'")
print("""    alert_rule_test:
      - eval_time: 3m
        alertname: DynmonMapNearlyFull
        exp_alerts: []
      - eval_time: 6m
        alertname: DynmonMapNearlyFull
        exp_alerts:
          - exp_labels: {severity: warning, instance: host1, monitor: fill, path: ingress, map: SIZES}
            exp_annotations:
              summary: "dynmon map SIZES of monitor fill is 100% full"
              description: "Raise max_entries in the dataplane, or let entries expire (an LRU map)." """)
PYEOF
check "DynmonMapNearlyFull fires on the full map's series (promtool test rules)" \
	promtool test rules "$TMPD/rules-test.yml"

# A swap-on-read monitor: its reads wait for grace periods, which are counted.
"$PY" - "$TMPD/fill.json" >"$TMPD/swap.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
for m in c["ingress-path"]["metric-configs"]:
    m["extraction-options"] = {"swap-on-read": True}
print(json.dumps(c))
PYEOF
must dm add swapper
must dm inject swapper "$TMPD/swap.json"
must dm open-metrics swapper
scrape "$OPENMETRICS"
assert_match "swap-on-read's grace periods are counted" '^[1-9][0-9]*$' \
	"$(om_value dynmon_swap_grace_period_seconds_count '')"

bus --json=short get-property org.polycube.Dynmon /org/polycube/Dynmon \
	org.polycube.Dynmon.Manager SelfMetrics | "$PY" "$E2E_DIR/jsonpick.py" busctl |
	sed '$ { /^$/ d }' >"$TMPD/self" # print()'s newline after the text's own
check "the SelfMetrics property is valid OpenMetrics with dynmon's families" \
	"$PY" "$E2E_DIR/omcheck.py" dynmon_map_max_entries "$MAX" <"$TMPD/self"
assert_eq "SelfMetrics has no monitor's family" "" "$(grep '^# TYPE' "$TMPD/self" | grep -v ' dynmon_' || true)"
