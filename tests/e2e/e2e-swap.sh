#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# swap-on-read: every read is atomic with respect to the dataplane. While B sends exactly N
# datagrams as fast as it can, a reader reads the metrics in a loop; each read returns what was
# counted since the previous one, so the sum of all reads plus a final read must be N exactly —
# one packet lost in a swap makes it N-1, one counted twice N+1. Checked for an array map (the
# upstream packet counter, unchanged but for its extraction option), a per-CPU array and a hash.
# It also checks that the reads do not stall the daemon: during the swaps, other calls answer.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=7000
N=200000

e2e_setup
start_sink s "$NS_A" "$IP_A" $PORT

# Polycube dialect, as users write it: three maps, each read with swap-on-read.
"$PY" - "$TMPD/swap.json" <<'PYEOF'
import json, sys
code = r"""
BPF_ARRAY(PKT_COUNTER, uint64_t, 1);
BPF_PERCPU_ARRAY(PCPU_COUNTER, uint64_t, 1);
BPF_HASH(BY_LEN, uint32_t, uint64_t, 64);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *c = PKT_COUNTER.lookup(&key);
    /* Work between the lookup and the increment widens the window in which a packet is
     * between the two when a swap happens: without the grace period, the read of the old
     * copy misses such increments. */
    volatile uint32_t spin = 0;
    for (int i = 0; i < 200; i++)
        spin += bpf_get_prandom_u32();
    if (c)
        __sync_fetch_and_add(c, 1);
    uint64_t *p = PCPU_COUNTER.lookup(&key);
    if (p)
        *p += 1;
    uint32_t len = ctx->len;
    uint64_t zero = 0;
    uint64_t *l = BY_LEN.lookup_or_try_init(&len, &zero);
    if (l)
        __sync_fetch_and_add(l, 1);
    return RX_OK;
}
"""
swap = {"swap-on-read": True}
metric = lambda name, m: {"name": name, "map-name": m, "extraction-options": swap,
    "open-metrics-metadata": {"help": name, "type": "counter", "labels": []}}
doc = {"ingress-path": {"name": "swap", "code": code, "metric-configs": [
    metric("packets_total", "PKT_COUNTER"), metric("pcpu_packets_total", "PCPU_COUNTER"),
    metric("by_len_total", "BY_LEN")]}, "egress-path": {}}
json.dump(doc, open(sys.argv[1], "w"))
PYEOF

must dm add mon0
must dm inject mon0 "$TMPD/swap.json"
must dm attach mon0 "$VETH_A"

# --- the basics: a read returns what came since the last read ---------------------------------
send_udp "$NS_B" "$IP_A" $PORT 100
assert_eq "a read returns the 100 packets so far" "[100]" "$(metric_value mon0 packets_total)"
assert_eq "the next read returns what came since: nothing" "[0]" \
	"$(metric_value mon0 packets_total)"
send_udp "$NS_B" "$IP_A" $PORT 7
assert_eq "then 7" "[7]" "$(metric_value mon0 packets_total)"
send_udp "$NS_B" "$IP_A" $PORT 5
run dm open-metrics mon0
check "OpenMetrics swaps too: packets_total 5" "$PY" "$E2E_DIR/omcheck.py" packets_total 5 \
	<<<"$RUN_OUT"
# The JSON read after an OpenMetrics read gets what OpenMetrics did not export... all three
# metrics are exported, so nothing is left.
assert_eq "after the OpenMetrics read, nothing is left" "[0]" "$(metric_value mon0 packets_total)"

# --- N packets at full speed, read in a loop -------------------------------------------------
rm -f "$TMPD/stop"
"$PY" "$E2E_DIR/swap_reader.py" "$DYNMONCTL" mon0 packets_total pcpu_packets_total \
	by_len_total --stop "$TMPD/stop" --max-seconds 120 >"$TMPD/reader.json" &
READER=$!
BG_PIDS+=("$READER")
# Meanwhile, other callers: each ListMonitors must answer although reads keep swapping.
(
	slowest=0
	while [[ ! -e $TMPD/stop ]]; do
		t0=$(date +%s%N)
		bus call org.polycube.Dynmon /org/polycube/Dynmon org.polycube.Dynmon.Manager \
			ListMonitors >/dev/null || exit 1
		t=$((($(date +%s%N) - t0) / 1000000))
		((t > slowest)) && slowest=$t
	done
	echo "$slowest" >"$TMPD/slowest"
) &
CALLER=$!
BG_PIDS+=("$CALLER")

start=$(date +%s%N)
send_udp "$NS_B" "$IP_A" $PORT $N
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
touch "$TMPD/stop"
wait "$READER"
wait "$CALLER" && pass "ListMonitors kept answering during the swaps" ||
	fail "ListMonitors kept answering during the swaps" "a call failed"
BG_PIDS=()
say "sent $N datagrams in $elapsed_ms ms; slowest ListMonitors meanwhile: $(cat "$TMPD/slowest") ms"

read -r reads s_arr s_pcpu s_len < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
s = r["sums"]
print(r["reads"], s["packets_total"], s["pcpu_packets_total"], s["by_len_total"])
' "$TMPD/reader.json")
say "the reader read $reads times during the traffic"
if ((reads >= 10)); then
	pass "the reads really ran during the traffic ($reads reads)"
else
	fail "the reads really ran during the traffic" "only $reads reads"
fi
# One final read for all three: each read swaps, so a second read would only see what came
# after the first (and what the first returned for the other metrics would be thrown away).
run dm --json metrics mon0
read -r final final_pcpu final_len < <("$PY" -c '
import json, sys
m = {x["name"]: x["value"] for x in json.loads(sys.argv[1])["ingress-metrics"]}
print(m["packets_total"][0], sum(m["pcpu_packets_total"][0]),
      sum(e["value"] for e in m["by_len_total"]))
' "$RUN_OUT")
assert_eq "array: the reads during the traffic plus a final read sum to exactly $N" \
	"$N" "$((s_arr + final))"
assert_eq "per-CPU array: the reads plus a final read sum to exactly $N" \
	"$N" "$((s_pcpu + final_pcpu))"
assert_eq "hash: the reads plus a final read sum to exactly $N" "$N" "$((s_len + final_len))"

stop_sink s
assert_eq "every datagram arrived: the swaps dropped none" "$((N + 112)) 0" \
	"$SINK_RECEIVED $SINK_DROPS"
