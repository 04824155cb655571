#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dynmonctl metrics, open-metrics and watch, with what upstream's extractor tool offered: one
# path (--ingress, --egress), one metric by name, saving to a file (--output); and watch, the
# metrics live with per-second rates: its layout on a terminal and off one, its rates against
# traffic of a known rate, running totals and swap-on-read/empty-on-read deltas, --count,
# --interval, and SIGINT/SIGTERM ending it cleanly.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

command -v script >/dev/null || die "missing tool: script (run data/install-deps.sh)"
e2e_setup
start_sink a "$NS_A" "$IP_A" 5000
start_sink b "$NS_B" "$IP_B" 5001

# --- a dataplane with metrics on both paths --------------------------------------------------
# packets_total is on both paths (exported to OpenMetrics on ingress only); packets_dropped_total
# stays 0, and its family "packets_dropped" must not pass for the family "packets".
"$PY" - "$TMPD/two.json" <<'PYEOF'
import json, sys
code = r"""
BPF_ARRAY(PKTS, uint64_t, 1);
BPF_ARRAY(BYTES, uint64_t, 1);
BPF_ARRAY(DROPS, uint64_t, 1);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *p = PKTS.lookup(&key);
    if (p)
        __sync_fetch_and_add(p, 1);
    uint64_t *b = BYTES.lookup(&key);
    if (b)
        __sync_fetch_and_add(b, md->packet_len);
    return RX_OK;
}
"""
def metric(name, map_name, exported=True):
    m = {"name": name, "map-name": map_name}
    if exported:
        m["open-metrics-metadata"] = {"help": name, "type": "counter", "labels": []}
    return m
doc = {
    "ingress-path": {"name": "in", "code": code, "metric-configs": [
        metric("packets_total", "PKTS"), metric("packets_dropped_total", "DROPS"),
        metric("bytes_total", "BYTES"), metric("raw_packets", "PKTS", exported=False)]},
    "egress-path": {"name": "out", "code": code, "metric-configs": [
        metric("packets_total", "PKTS", exported=False),
        metric("egress_bytes_total", "BYTES")]},
}
json.dump(doc, open(sys.argv[1], "w"))
PYEOF
must dm add mon
must dm inject mon "$TMPD/two.json"
must dm attach mon "$VETH_A"

N_IN=23
N_OUT=9
send_udp_mix "$NS_B" "$IP_A" 5000 100 $N_IN
send_udp_mix "$NS_A" "$IP_B" 5001 300 $N_OUT
B_IN=$((N_IN * $(frame_len 100)))
B_OUT=$((N_OUT * $(frame_len 300)))
SENT_A=$N_IN
SENT_B=$N_OUT

# list_shape: a list of metrics (--ingress/--egress) as "NAME=VALUE ...", each checked to have
# upstream's members, or the reason it is not such a list.
list_shape() {
	"$PY" -c '
import json, sys
doc = json.load(sys.stdin)
if not isinstance(doc, list) or any(set(m) != {"name", "value", "timestamp"} for m in doc):
    sys.exit(f"not a list of metrics: {doc}")
print(" ".join(m["name"] + "=" + json.dumps(m["value"], separators=(",", ":")) for m in doc))'
}

# --- metrics: one path, one metric ------------------------------------------------------------
run dm metrics mon --ingress --json
assert_eq "metrics --ingress: the ingress path's list, in the configuration's order" \
	"0 packets_total=[$N_IN] packets_dropped_total=[0] bytes_total=[$B_IN] raw_packets=[$N_IN]" \
	"$RUN_RC $(list_shape <<<"$RUN_OUT" 2>&1)"
run dm metrics mon --egress
assert_eq "metrics --egress: the egress path's list" \
	"0 packets_total=[$N_OUT] egress_bytes_total=[$B_OUT]" "$RUN_RC $(list_shape <<<"$RUN_OUT" 2>&1)"
assert_eq "... indented, without --json" "[" "$(head -n 1 <<<"$RUN_OUT")"

run dm metrics mon raw_packets --json
assert_eq "metrics NAME METRIC: the metric's value" "0 [$N_IN]" "$RUN_RC $RUN_OUT"
run dm metrics mon bytes_total
assert_eq "... indented without --json" "0 [
  $B_IN
]" "$RUN_RC $RUN_OUT"
run dm metrics mon packets_total --ingress --json
assert_eq "metrics --ingress METRIC: a metric both paths have, the ingress one" "0 [$N_IN]" \
	"$RUN_RC $RUN_OUT"
run dm metrics mon --egress packets_total --json
assert_eq "metrics --egress METRIC: the egress one" "0 [$N_OUT]" "$RUN_RC $RUN_OUT"
run dm metrics mon packets_total
assert_eq "metrics METRIC on both paths, no path chosen: a usage error" 2 "$RUN_RC"
assert_eq "... that says to choose" "dynmonctl: Monitor mon has a metric \"packets_total\" on both paths; choose one with --ingress or --egress." \
	"$RUN_ERR"
run dm metrics mon nosuch
assert_eq "metrics with an unknown METRIC: exit status 4 and a message" \
	"4 dynmonctl: Monitor mon has no metric \"nosuch\"." "$RUN_RC $RUN_ERR"
run dm metrics mon bytes_total --egress
assert_eq "metrics METRIC on the other path only" \
	"4 dynmonctl: Monitor mon has no metric \"bytes_total\" on its egress path." \
	"$RUN_RC $RUN_ERR"
run dm metrics nomon packets_total
assert_eq "metrics of an unknown monitor: exit status 4" 4 "$RUN_RC"

# --- metrics -o FILE --------------------------------------------------------------------------
run dm metrics mon
FULL=$RUN_OUT
assert_eq "metrics without options: both lists, as before" \
	"ingress-metrics: packets_total=[$N_IN] packets_dropped_total=[0] bytes_total=[$B_IN] raw_packets=[$N_IN] | egress-metrics: packets_total=[$N_OUT] egress_bytes_total=[$B_OUT]" \
	"$(metrics_shape mon)"
mkdir "$TMPD/out"
run dm metrics mon -o "$TMPD/out/all.json"
assert_eq "metrics -o FILE: prints nothing, succeeds" "0 " "$RUN_RC $RUN_OUT$RUN_ERR"
# The timestamps differ from one read to the next; the rest is the same.
untimed() { sed -E 's/"timestamp": [0-9]+/"timestamp": T/'; }
assert_eq "... the file holds what it prints" "$(untimed <<<"$FULL")" \
	"$(untimed <"$TMPD/out/all.json")"
assert_eq "... a file of mode 0644 under umask 022, and no temporary file left" \
	"644 all.json" "$(stat -c %a "$TMPD/out/all.json") $(ls "$TMPD/out")"
echo stale >"$TMPD/out/one.json"
run dm metrics mon --ingress bytes_total --json --output="$TMPD/out/one.json"
assert_eq "metrics --ingress METRIC --output=FILE replaces the file's content" \
	"0 [$B_IN]" "$RUN_RC $(cat "$TMPD/out/one.json")"
run dm metrics mon -o "$TMPD/nodir/x.json"
assert_match "metrics -o into a missing directory: exit status 1, and why" \
	"^1 dynmonctl: Failed to write $TMPD/nodir/x.json: No such file or directory" \
	"$RUN_RC $RUN_ERR"
run dm metrics mon nosuch -o "$TMPD/out/none.json"
assert_eq "metrics -o with an unknown METRIC writes no file" "4 no" \
	"$RUN_RC $([[ -e $TMPD/out/none.json ]] && echo yes || echo no)"
run dm metrics mon raw_packets --json -o -
assert_eq "-o - is standard output" "0 [$N_IN]" "$RUN_RC $RUN_OUT"

# --- open-metrics: one path, one metric, a file -----------------------------------------------
# om_samples: the strict parser's samples of the OpenMetrics on stdin (omsamples.py).
om_samples() { "$PY" "$E2E_DIR/omsamples.py"; }
run dm open-metrics mon
assert_eq "open-metrics: every exported family" "$(printf '%s\n' \
	"bytes_total{} $B_IN counter" "egress_bytes_total{} $B_OUT counter" \
	"packets_dropped_total{} 0 counter" "packets_total{} $N_IN counter")" \
	"$(om_samples <<<"$RUN_OUT")"
run dm open-metrics mon --ingress
assert_eq "open-metrics --ingress: the ingress path's families, valid OpenMetrics" \
	"0 $(printf '%s\n' "bytes_total{} $B_IN counter" "packets_dropped_total{} 0 counter" \
		"packets_total{} $N_IN counter")" "$RUN_RC $(om_samples <<<"$RUN_OUT")"
assert_eq "... each with its # TYPE and # HELP, then # EOF" \
	"# TYPE packets counter|# HELP packets packets_total|packets_total $N_IN|# TYPE packets_dropped counter|# HELP packets_dropped packets_dropped_total|packets_dropped_total 0|# TYPE bytes counter|# HELP bytes bytes_total|bytes_total $B_IN|# EOF" \
	"$(paste -sd '|' <<<"$RUN_OUT")"
run dm open-metrics mon --egress
assert_eq "open-metrics --egress: the egress path's family" \
	"0 egress_bytes_total{} $B_OUT counter" "$RUN_RC $(om_samples <<<"$RUN_OUT")"
run dm open-metrics mon packets_total
assert_eq "open-metrics METRIC: its family only (not packets_dropped, whose name it begins)" \
	"0 packets_total{} $N_IN counter" "$RUN_RC $(om_samples <<<"$RUN_OUT")"
run dm open-metrics mon packets_dropped_total --ingress
assert_eq "open-metrics METRIC: the family packets_dropped" \
	"0 packets_dropped_total{} 0 counter" "$RUN_RC $(om_samples <<<"$RUN_OUT")"
run dm open-metrics mon packets_total --egress
assert_eq "open-metrics METRIC on a path where it is not exported: exit status 4" \
	"4 dynmonctl: Metric \"packets_total\" of monitor mon has no open-metrics-metadata: it is not exported in OpenMetrics." \
	"$RUN_RC $RUN_ERR"
run dm open-metrics mon raw_packets
assert_eq "open-metrics of a JSON-only metric: exit status 4" 4 "$RUN_RC"
run dm open-metrics mon nosuch
assert_eq "open-metrics with an unknown METRIC: exit status 4" \
	"4 dynmonctl: Monitor mon has no metric \"nosuch\"." "$RUN_RC $RUN_ERR"
run dm open-metrics mon bytes_total -o "$TMPD/out/bytes.om"
assert_eq "open-metrics METRIC -o FILE: the file is valid OpenMetrics with that family" \
	"0 bytes_total{} $B_IN counter" "$RUN_RC $(om_samples <"$TMPD/out/bytes.om")"
run dm open-metrics mon -o "$TMPD/out/all.om"
assert_eq "open-metrics -o FILE: all of it" "$(dm open-metrics mon)" "$(cat "$TMPD/out/all.om")"

# --- options where they do not belong ---------------------------------------------------------
assert_rc "--ingress with list: usage error" 2 dm list --ingress
assert_rc "--ingress and --egress together: usage error" 2 dm metrics mon --ingress --egress
assert_rc "-o with watch: usage error" 2 dm watch mon -o "$TMPD/out/w"
assert_rc "--interval with metrics: usage error" 2 dm metrics mon --interval 1
assert_rc "--count with open-metrics: usage error" 2 dm open-metrics mon --count 2
assert_rc "--count 0: usage error" 2 dm watch mon --count 0
assert_rc "--count -1: usage error" 2 dm watch mon --count -1
assert_rc "--interval 0.05 (below 0.1 s): usage error" 2 dm watch mon --interval 0.05
assert_rc "--interval x: usage error" 2 dm watch mon --interval x
assert_rc "metrics with two metric names: usage error" 2 dm metrics mon a b

# --- watch, no traffic: values, rates of zero, the layout off a terminal ------------------------
# watch_rows OUTPUT: watchparse.py's rows ("REFRESH PATH METRIC ELEMENT VALUE RATE").
watch_rows() { "$PY" "$E2E_DIR/watchparse.py" "$@"; }
# row ROWS REFRESH PATH METRIC ELEMENT: "VALUE RATE" of that row, or "<missing>".
row() {
	awk -v r="$2" -v p="$3" -v m="$4" -v e="$5" \
		'$1 == r && $2 == p && $3 == m && $4 == e { print $5, $6; found = 1 }
		END { if (!found) print "<missing>" }' <<<"$1"
}

run dm watch mon --count 3 --interval 0.5
assert_eq "watch --count 3 ends by itself, with status 0" 0 "$RUN_RC"
WATCH=$RUN_OUT
run watch_rows mon <<<"$WATCH"
assert_eq "watch's output off a terminal: three refreshes, titled, no escape sequences" \
	"0 3" "$RUN_RC $(awk '{ print $1 }' <<<"$RUN_OUT" | sort -u | tail -n 1)"
ROWS=$RUN_OUT
assert_eq "each refresh has every value of both paths: 6 rows" "6 6 6" \
	"$(for r in 1 2 3; do awk -v r=$r '$1 == r' <<<"$ROWS" | wc -l; done | paste -sd ' ')"
assert_eq "refresh 1: the values, no rate yet" "$N_IN -" \
	"$(row "$ROWS" 1 ingress packets_total '[0]')"
assert_eq "refresh 3: no traffic, rate 0.0" "$B_IN 0.0" \
	"$(row "$ROWS" 3 ingress bytes_total '[0]')"
assert_eq "... on egress too" "$N_OUT 0.0" "$(row "$ROWS" 3 egress packets_total '[0]')"

run dm watch mon --egress --count 1 -n 0.2
assert_eq "watch --egress -n 0.2: only the egress path's rows" \
	"egress egress_bytes_total egress packets_total" \
	"$(watch_rows mon <<<"$RUN_OUT" | awk '{ print $2, $3 }' | sort -u | paste -sd ' ')"
run dm watch mon raw_packets --count 1 --interval 0.2
assert_eq "watch METRIC: only that metric" "1 ingress raw_packets [0] $N_IN -" \
	"$(watch_rows mon <<<"$RUN_OUT")"
run dm watch mon packets_total --count 1
assert_eq "watch METRIC on both paths, no path chosen: usage error" 2 "$RUN_RC"
run dm watch mon nosuch --count 1
assert_eq "watch with an unknown METRIC: exit status 4" 4 "$RUN_RC"
assert_rc "watch of an unknown monitor: exit status 4" 4 dm watch nomon --count 1

# --- watch on a terminal: the screen redrawn each refresh ------------------------------------
run script -qec "$DYNMONCTL watch mon --ingress --count 2 --interval 0.2" /dev/null
assert_eq "watch on a terminal clears the screen before each refresh" "0 2" \
	"$RUN_RC $(watch_rows --tty mon <<<"$RUN_OUT" | awk '{ print $1 }' | sort -u | tail -n 1)"

# --- watch under traffic: running totals ------------------------------------------------------
RATE=1000
# start_traffic PORT: UDP at RATE packets per second from B to A, until stop_traffic.
start_traffic() {
	ip netns exec "$NS_B" "$PY" "$E2E_DIR/udp.py" send --dst "$IP_A" --ports "$1" \
		--count 1000000 --rate $RATE --until-signal --max-seconds 60 >"$TMPD/traffic.json" &
	TRAFFIC_PID=$!
	BG_PIDS+=("$TRAFFIC_PID")
	sleep 0.3 # it runs
}
# stop_traffic: sets SENT and SENT_RATE (what it sent, per second on average).
stop_traffic() {
	kill -TERM "$TRAFFIC_PID"
	wait "$TRAFFIC_PID" || die "the traffic generator failed: $(cat "$TMPD/traffic.json")"
	BG_PIDS=()
	read -r SENT SENT_RATE < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["total"], r["total"] / r["seconds"])' "$TMPD/traffic.json")
	sleep 0.2 # the last packets through the probe
}
# plausible DESC RATE: RATE is within half and one and a half times SENT_RATE.
plausible() {
	if awk -v r="$2" -v s="$SENT_RATE" 'BEGIN { exit !(r != "-" && r >= 0.5 * s && r <= 1.5 * s) }'; then
		pass "$1"
	else
		fail "$1" "rate $2, the sender's $SENT_RATE per second"
	fi
}

before=$(counter mon raw_packets)
start_traffic 5000
run dm watch mon --ingress packets_total --count 3 --interval 0.5
stop_traffic
SENT_A=$((SENT_A + SENT))
ROWS=$(watch_rows mon <<<"$RUN_OUT")
say "sent $SENT datagrams at $SENT_RATE per second; watch showed: $(paste -sd '|' <<<"$ROWS")"
read -r v1 r1 <<<"$(row "$ROWS" 1 ingress packets_total '[0]')"
read -r v2 r2 <<<"$(row "$ROWS" 2 ingress packets_total '[0]')"
read -r v3 r3 <<<"$(row "$ROWS" 3 ingress packets_total '[0]')"
plausible "watch under traffic: refresh 2's rate ($r2/s) is the sender's" "$r2"
plausible "... and refresh 3's ($r3/s)" "$r3"
assert_eq "refresh 1 has no rate" "-" "$r1"
after=$(counter mon packets_total ingress)
if ((before <= v1 && v1 <= v2 && v2 <= v3 && v3 <= after && after == before + SENT)); then
	pass "the values are running totals: $before <= $v1 <= $v2 <= $v3 <= $after = $before + $SENT"
else
	fail "the values are running totals" "$before $v1 $v2 $v3 $after, sent $SENT"
fi
# The rate is the change over the time between the reads: about the interval.
if awk -v d=$((v3 - v2)) -v r="$r3" 'BEGIN { exit !(r > 0 && d / r >= 0.35 && d / r <= 0.75) }'; then
	pass "refresh 3's rate is its change over about the interval"
else
	fail "refresh 3's rate is its change over about the interval" "change $((v3 - v2)), rate $r3"
fi

# --- watch under traffic: swap-on-read and empty-on-read return deltas -------------------------
"$PY" - "$TMPD/delta.json" <<'PYEOF'
import json, sys
code = r"""
BPF_ARRAY(SWAPPED, uint64_t, 1);
BPF_ARRAY(EMPTIED, uint64_t, 1);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *s = SWAPPED.lookup(&key);
    if (s)
        __sync_fetch_and_add(s, 1);
    uint64_t *e = EMPTIED.lookup(&key);
    if (e)
        __sync_fetch_and_add(e, 1);
    return RX_OK;
}
"""
def metric(name, map_name, option):
    return {"name": name, "map-name": map_name, "extraction-options": {option: True},
            "open-metrics-metadata": {"help": name, "type": "counter", "labels": []}}
doc = {"ingress-path": {"name": "delta", "code": code, "metric-configs": [
    metric("swapped_total", "SWAPPED", "swap-on-read"),
    metric("emptied_total", "EMPTIED", "empty-on-read")]}}
json.dump(doc, open(sys.argv[1], "w"))
PYEOF
must dm del mon
must dm add delta
must dm inject delta "$TMPD/delta.json"
must dm attach delta "$VETH_A"
start_traffic 5000
run dm watch delta --count 3 --interval 0.5
stop_traffic
SENT_A=$((SENT_A + SENT))
ROWS=$(watch_rows delta <<<"$RUN_OUT")
say "sent $SENT datagrams at $SENT_RATE per second; watch showed: $(paste -sd '|' <<<"$ROWS")"
json=$(dm metrics delta --json) # what came after watch's last read
for metric in swapped_total emptied_total; do
	read -r v3 r3 <<<"$(row "$ROWS" 3 ingress $metric '[0]')"
	read -r v2 r2 <<<"$(row "$ROWS" 2 ingress $metric '[0]')"
	plausible "$metric (a read returns what came since the last): refresh 2's rate ($r2/s)" "$r2"
	plausible "... and refresh 3's ($r3/s)" "$r3"
	rest=$(metric_canon "$json" ingress $metric)
	rest=${rest#[}
	rest=${rest%]}
	assert_eq "$metric: watch's value is the sum of its reads: with what came after, all $SENT" \
		"$SENT" "$((v3 + rest))"
done

# --- watch ends cleanly on SIGINT and SIGTERM --------------------------------------------------
for sig in INT TERM; do
	"$DYNMONCTL" watch delta --interval 0.2 >"$TMPD/watch-$sig.out" 2>&1 &
	pid=$!
	sleep 1
	kill -"$sig" "$pid"
	start=$(date +%s%N)
	status=0
	wait "$pid" || status=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	assert_eq "watch ends on SIG$sig with status 0" 0 "$status"
	if ((ms < 1000)); then
		pass "... at once ($ms ms)"
	else
		fail "... at once" "it took $ms ms"
	fi
	run watch_rows delta <"$TMPD/watch-$sig.out"
	assert_eq "... its output is whole refreshes" 0 "$RUN_RC"
done
must dm del delta

# --- a family both paths make: packet_size_histogram.json -------------------------------------
# Both paths export frame_size_bytes: OpenMetrics has the family once, its samples labelled
# path="ingress" and path="egress"; the JSON has a metric of that name on each path.
must dm add hist
must dm inject hist "$EXAMPLES/packet_size_histogram.json"
must dm attach hist "$VETH_A"
send_udp_mix "$NS_B" "$IP_A" 5000 100 4 # 142-byte frames: le="255.0"
send_udp_mix "$NS_A" "$IP_B" 5001 10 3  # 52-byte frames: le="63.0"
SENT_A=$((SENT_A + 4))
SENT_B=$((SENT_B + 3))
# paths_of: the path labels of the samples of the OpenMetrics on stdin, and how many samples.
paths_of() { om_samples | grep -o 'path="[a-z]*"' | sort | uniq -c | awk '{ print $2 ":" $1 }'; }
run dm open-metrics hist frame_size_bytes
assert_eq "open-metrics METRIC that both paths export: the one family, both paths' samples" \
	"0 path=\"egress\":9 path=\"ingress\":9" "$RUN_RC $(paths_of <<<"$RUN_OUT" | paste -sd ' ')"
run dm open-metrics hist --ingress
assert_eq "open-metrics --ingress: the family, with the ingress samples only" \
	"0 path=\"ingress\":9" "$RUN_RC $(paths_of <<<"$RUN_OUT")"
assert_match "... the ingress histogram: 4 frames of 142 bytes" \
	'frame_size_bytes_bucket\{le="255.0",path="ingress"\} 4 histogram' "$(om_samples <<<"$RUN_OUT")"
run dm open-metrics hist --egress frame_size_bytes
assert_eq "open-metrics --egress METRIC: the egress samples only" \
	"0 path=\"egress\":9" "$RUN_RC $(paths_of <<<"$RUN_OUT")"
assert_match "... the egress histogram: 3 frames of 52 bytes" \
	'frame_size_bytes_sum\{path="egress"\} 156 histogram' "$(om_samples <<<"$RUN_OUT")"
assert_rc "metrics METRIC that both paths have, in JSON: choose a path" 2 \
	dm metrics hist frame_size_bytes
run dm metrics hist frame_size_bytes --egress --json
assert_eq "metrics --egress METRIC: the egress struct" \
	'0 [{"buckets":[3,0,0,0,0,0,0],"sum":156}]' "$RUN_RC $RUN_OUT"
run dm watch hist --ingress --count 1
assert_eq "watch: a row per number of the struct, named by where it is" \
	"[0].buckets[0] [0].buckets[1] [0].buckets[2] [0].buckets[3] [0].buckets[4] [0].buckets[5] [0].buckets[6] [0].sum" \
	"$(watch_rows hist <<<"$RUN_OUT" | awk '{ print $4 }' | paste -sd ' ')"
must dm del hist

stop_sink a
assert_eq "sink a received every datagram B sent" "$SENT_A 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink b
assert_eq "sink b received every datagram A sent" "$SENT_B 0" "$SINK_RECEIVED $SINK_DROPS"
