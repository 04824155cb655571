#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A read takes only what it names. Metrics A and B count the same packets, both empty-on-read;
# C and D likewise with swap-on-read. Reading A (or C) a hundred times, through D-Bus'
# ReadMetrics, REST's metric paths and dynmonctl, leaves every count of B (D) for B's (D's)
# reader. And a generic read takes nothing: GetAll, GetManagedObjects and busctl introspect, by
# any user, never show Metrics or OpenMetrics, nor change a count (issue 10, F1); nor does HEAD.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9117
N=40
M=/polycube/v1/dynmon
command -v curl >/dev/null || die "missing tool: curl (run data/install-deps.sh)"
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT")
e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

"$PY" - "$TMPD/four.json" <<'PYEOF'
import json, sys
code = r"""
BPF_ARRAY(A_MAP, uint64_t, 1);
BPF_ARRAY(B_MAP, uint64_t, 1);
BPF_ARRAY(C_MAP, uint64_t, 1);
BPF_ARRAY(D_MAP, uint64_t, 1);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *a = A_MAP.lookup(&key), *b = B_MAP.lookup(&key);
    uint64_t *c = C_MAP.lookup(&key), *d = D_MAP.lookup(&key);
    if (a)
        __sync_fetch_and_add(a, 1);
    if (b)
        __sync_fetch_and_add(b, 1);
    if (c)
        __sync_fetch_and_add(c, 1);
    if (d)
        __sync_fetch_and_add(d, 1);
    return RX_OK;
}
"""
def metric(name, map_name, option):
    return {"name": name, "map-name": map_name, "extraction-options": {option: True},
            "open-metrics-metadata": {"help": name, "type": "counter", "labels": []}}
doc = {"ingress-path": {"name": "four", "code": code, "metric-configs": [
    metric("a_total", "A_MAP", "empty-on-read"), metric("b_total", "B_MAP", "empty-on-read"),
    metric("c_total", "C_MAP", "swap-on-read"), metric("d_total", "D_MAP", "swap-on-read")]},
    "egress-path": {}}
json.dump(doc, open(sys.argv[1], "w"))
PYEOF
must dm add mon
must dm inject mon "$TMPD/four.json"
must dm attach mon "$VETH_A"
MON=$(monitor_path mon)
IFACE=org.polycube.Dynmon.Monitor

# value_of: the first number of the JSON value on stdin ("[40]": 40; "0" when empty).
value_of() { "$PY" -c 'import json, sys; v = json.load(sys.stdin); print(v[0] if v else 0)'; }
# http_value PATH: the body of a GET from inside namespace A, where the daemon listens.
http_get() {
	ip netns exec "$NS_A" curl -sS --max-time 30 "http://127.0.0.1:$PORT$1" || echo "<curl failed>"
}
# read_metric DOOR METRIC: one read of METRIC's value through DOOR (bus, rest, ctl).
read_metric() {
	case $1 in
	bus) bus --json=short call org.polycube.Dynmon "$MON" $IFACE ReadMetrics sss ingress "$2" json |
		"$PY" -c 'import json, sys
doc = json.loads(json.load(sys.stdin)["data"][0])
print(json.dumps(doc["ingress-metrics"][0]["value"]) if doc["ingress-metrics"] else "[]")' ;;
	rest) http_get "$M/mon/metrics/ingress-metrics/$2/value" ;;
	ctl) dm metrics mon "$2" --json ;;
	esac
}

send_udp "$NS_B" "$IP_A" 5000 $N

# --- generic reads take nothing (F1) -----------------------------------------------------------
for who in root nobody; do
	caller=()
	[[ $who == nobody ]] && caller=(as_nobody)
	run "${caller[@]}" busctl --address="$BUS_ADDR" --json=short call org.polycube.Dynmon "$MON" \
		org.freedesktop.DBus.Properties GetAll s $IFACE
	assert_eq "$who: GetAll answers" 0 "$RUN_RC"
	assert_no_match "$who: GetAll has no Metrics or OpenMetrics" '"(Open)?Metrics"' "$RUN_OUT"
	run "${caller[@]}" busctl --address="$BUS_ADDR" --json=short call org.polycube.Dynmon \
		/org/polycube/Dynmon org.freedesktop.DBus.ObjectManager GetManagedObjects
	assert_eq "$who: GetManagedObjects answers" 0 "$RUN_RC"
	assert_no_match "$who: GetManagedObjects has no Metrics or OpenMetrics" '"(Open)?Metrics"' \
		"$RUN_OUT"
	run "${caller[@]}" busctl --address="$BUS_ADDR" introspect org.polycube.Dynmon "$MON"
	assert_match "$who: busctl introspect lists Metrics" '^\.Metrics +property' "$RUN_OUT"
	assert_no_match "$who: ... without reading it or OpenMetrics (no value shown)" \
		'^\.(Open)?Metrics .*(ingress-metrics|# TYPE|# EOF)' "$RUN_OUT"
done
assert_eq "after GetAll, GetManagedObjects and introspect, A still holds all $N packets" "$N" \
	"$(read_metric ctl a_total | value_of)"

# --- A read a hundred times through every door, B left intact ------------------------------------
reads=0 got=0
for i in $(seq 1 33); do
	for door in bus rest ctl; do
		v=$(read_metric "$door" a_total | value_of)
		got=$((got + v))
		reads=$((reads + 1))
	done
done
v=$(read_metric bus a_total | value_of)
assert_eq "A read $((reads + 1)) more times through D-Bus, REST and dynmonctl: nothing since" \
	"0" "$((got + v))"
run bus call org.polycube.Dynmon "$MON" $IFACE ReadMetrics sss "" a_total openmetrics
assert_match "ReadMetrics in OpenMetrics: A's family only" '^s "# TYPE a counter.*# EOF' "$RUN_OUT"
assert_no_match "... not B's" 'b_total' "$RUN_OUT"
assert_eq "open-metrics of A leaves B alone too" 0 "$(dm open-metrics mon a_total >/dev/null; echo $?)"
assert_eq "B, empty-on-read, still holds its $N packets" "[$N]" "$(read_metric rest b_total)"
assert_eq "... and its read emptied it" "[0]" "$(read_metric ctl b_total)"

# --- the same with swap-on-read: C read a hundred times, D intact ---------------------------------
# N more packets: C and D have 2N since nothing read them, A and B N.
send_udp "$NS_B" "$IP_A" 5000 $N
got=0
for i in $(seq 1 34); do
	for door in bus rest ctl; do
		got=$((got + $(read_metric "$door" c_total | value_of)))
	done
done
assert_eq "C read 102 times: its reads sum to the $((2 * N)) packets" "$((2 * N))" "$got"
# D's packets are in the copy that was live when they came; each read swaps, so two reads take
# both copies' (one of them empty).
d1=$(read_metric bus d_total | value_of)
d2=$(read_metric rest d_total | value_of)
assert_eq "D, swap-on-read, still holds its $((2 * N)) packets (two reads, one per copy)" \
	"$((2 * N))" \
	"$((d1 + d2))"
assert_eq "the Metrics property (all of it): A and B hold the last $N, C and D were just read" \
	"[$N] [$N] [0] [0]" "$(bus --json=short get-property org.polycube.Dynmon "$MON" $IFACE Metrics |
		"$PY" "$E2E_DIR/jsonpick.py" busctl | "$PY" -c 'import json, sys
doc = json.loads(sys.stdin.read())
print(" ".join(json.dumps(m["value"]) for m in doc["ingress-metrics"]))')"

# --- HEAD reads nothing that a read would empty or swap (RFC 9110 lets it leave out the length) --
send_udp "$NS_B" "$IP_A" 5000 $N
for path in "$M/mon/metrics/ingress-metrics/a_total/value" "$M/mon/metrics/ingress-metrics/c_total" \
	"$M/mon/metrics" "$M/mon/open-metrics" "$M/mon" /metrics; do
	headers=$(ip netns exec "$NS_A" curl -sS --max-time 30 -I "http://127.0.0.1:$PORT$path" |
		tr -d '\r')
	assert_match "HEAD $path: 200" "^HTTP/1.1 200" "$headers"
	assert_no_match "HEAD $path: no Content-Length (only reading would tell it)" \
		'^Content-Length:' "$headers"
done
assert_eq "after HEADs of A's paths, A, empty-on-read, holds its $N packets" "[$N]" \
	"$(read_metric rest a_total)"
c1=$(read_metric bus c_total | value_of)
c2=$(read_metric rest c_total | value_of)
assert_eq "... and C, swap-on-read, its $N (two reads, one per copy)" "$N" "$((c1 + c2))"
assert_eq "HEAD of a metric that does not exist: 404, as GET" 404 \
	"$(ip netns exec "$NS_A" curl -s --max-time 30 -o /dev/null -w '%{http_code}' -I \
		"http://127.0.0.1:$PORT$M/mon/metrics/ingress-metrics/nosuch")"

stop_sink a
assert_eq "every packet arrived" "$((3 * N)) 0" "$SINK_RECEIVED $SINK_DROPS"
