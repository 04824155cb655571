#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Re-injecting a dataplane on a busy interface drops no packet and leaves no moment without a
# probe.
#
# Why this proves it. A re-inject loads a new program with new maps, so no single counter spans
# the swaps, and concurrent traffic makes any read-before/read-after count inexact. Instead the
# probe here is a filter whose effect is visible at the receiver:
#   - datagrams to PASS_PORT are counted and passed;
#   - datagrams to DROP_PORT are counted and dropped.
# B sends to both ports, alternating, as fast as it can, while mon0 is re-injected 20 times.
# Receivers in A count what arrives on each port. Then:
#   - every PASS_PORT datagram sent reached the receiver's socket (received + the socket's own
#     buffer-overflow drops, counted exactly by the kernel, == sent): no swap dropped a packet
#     that should pass, and no half-installed state existed that drops;
#   - not one DROP_PORT datagram arrived: every packet met a probe. If there were a moment
#     without a probe (detach, then attach) the drop-port datagrams passing in that moment would
#     reach the receiver; at this density (one every few microseconds, the actual rate is
#     printed) a gap would be seen in every swap, and there are 20;
#   - the traffic outlasted every re-inject (the sender was still running when stopped), and the
#     hook holds as many filters afterwards as before (no probe left stacked behind);
#   - after the last re-inject, an exact burst is counted exactly by the new program's maps.
# What it does not prove: that no packet was counted twice across a swap (each program version
# has its own maps); the design measured that separately (BPF_TC_F_REPLACE is atomic).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PASS_PORT=6000
DROP_PORT=6001
REINJECTS=20
BURST=1000

e2e_setup

pass_or_drop_config "$PASS_PORT" "$DROP_PORT" >"$TMPD/pass-or-drop.json"

must dm add mon0
must dm inject mon0 "$TMPD/pass-or-drop.json"
must dm attach mon0 "$VETH_A"
FILTERS_BEFORE=$(tc_filters "$NS_A" "$VETH_A" ingress | grep -c ' handle ' || true)

# --- the probe works as a filter (so that silence on the drop port means something) ----------
start_sink pass "$NS_A" "$IP_A" $PASS_PORT
start_sink drop "$NS_A" "$IP_A" $DROP_PORT
send_udp "$NS_B" "$IP_A" $PASS_PORT 100
send_udp "$NS_B" "$IP_A" $DROP_PORT 100
assert_eq "the probe counts 100 passed" "[100]" "$(metric_value mon0 passed_total ingress)"
assert_eq "the probe counts 100 dropped" "[100]" "$(metric_value mon0 dropped_total ingress)"
stop_sink pass
assert_eq "the 100 passed datagrams arrived" "100 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink drop
assert_eq "none of the 100 dropped datagrams arrived" "0 0" "$SINK_RECEIVED $SINK_DROPS"

# --- re-inject under traffic -------------------------------------------------------------------
start_sink pass "$NS_A" "$IP_A" $PASS_PORT
start_sink drop "$NS_A" "$IP_A" $DROP_PORT
start_flood "$PASS_PORT,$DROP_PORT"

# The swaps start only once traffic is seen going through the probe.
for ((i = 0; i < 100; i++)); do
	v=$(counter mon0 passed_total ingress)
	[[ $v =~ ^[0-9]+$ ]] && ((v > 1000)) && break
	sleep 0.05
done
ok=0
start=$(date +%s%N)
for ((i = 1; i <= REINJECTS; i++)); do
	if dm inject mon0 "$TMPD/pass-or-drop.json" >"$TMPD/inject.out" 2>&1; then
		ok=$((ok + 1))
	else
		say "re-inject $i failed: $(cat "$TMPD/inject.out")"
	fi
	sleep 0.1
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
sleep 0.2
kill -TERM "$SENDER"
wait "$SENDER" || true
BG_PIDS=()
assert_eq "$REINJECTS re-injects under traffic succeeded" "$REINJECTS" "$ok"

read -r sent_pass sent_drop stopped_by seconds kpps < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
p, d = r["sent"][sys.argv[2]], r["sent"][sys.argv[3]]
print(p, d, r["stopped_by"], r["seconds"], round((p + d) / r["seconds"] / 1000))
' "$TMPD/sender.json" $PASS_PORT $DROP_PORT)
say "sent $sent_pass + $sent_drop datagrams in $seconds s ($kpps kpps);" \
	"$REINJECTS re-injects took $elapsed_ms ms"
assert_eq "the traffic outlasted every re-inject (the sender was stopped, not done)" \
	"signal" "$stopped_by"
if ((sent_pass >= 20000)); then
	pass "the traffic was dense ($sent_pass datagrams to each port)"
else
	fail "the traffic was dense" "only $sent_pass datagrams to each port"
fi

stop_sink pass
pass_arrived=$((SINK_RECEIVED + SINK_DROPS))
say "pass-port receiver: $SINK_RECEIVED received, $SINK_DROPS lost to its own full buffer"
assert_eq "no datagram to the pass port was lost across $REINJECTS re-injects" \
	"$sent_pass" "$pass_arrived"
stop_sink drop
drop_arrived=$((SINK_RECEIVED + SINK_DROPS))
assert_eq "no datagram to the drop port got through: never a moment without a probe" \
	"0" "$drop_arrived"
if ((drop_arrived != 0 || pass_arrived != sent_pass)); then
	ip netns exec "$NS_A" ip -s link show "$VETH_A"
	ip netns exec "$NS_B" ip -s link show "$VETH_B"
fi
assert_eq "the hook holds as many filters as before the re-injects" "$FILTERS_BEFORE" \
	"$(tc_filters "$NS_A" "$VETH_A" ingress | grep -c ' handle ' || true)"

# --- the last program counts exactly -----------------------------------------------------------
start_sink pass "$NS_A" "$IP_A" $PASS_PORT
start_sink drop "$NS_A" "$IP_A" $DROP_PORT
passed0=$(counter mon0 passed_total ingress)
dropped0=$(counter mon0 dropped_total ingress)
[[ $passed0 =~ ^[0-9]+$ && $dropped0 =~ ^[0-9]+$ ]] ||
	die "cannot read the counters after the re-injects: '$passed0' '$dropped0'"
send_udp "$NS_B" "$IP_A" $PASS_PORT $BURST
send_udp "$NS_B" "$IP_A" $DROP_PORT $BURST
assert_eq "after the last re-inject: passed_total grows by exactly $BURST" \
	"$((passed0 + BURST))" "$(counter mon0 passed_total ingress)"
assert_eq "after the last re-inject: dropped_total grows by exactly $BURST" \
	"$((dropped0 + BURST))" "$(counter mon0 dropped_total ingress)"
stop_sink pass
assert_eq "the burst's $BURST passed datagrams arrived" "$BURST 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink drop
assert_eq "none of the burst's dropped datagrams arrived" "0 0" "$SINK_RECEIVED $SINK_DROPS"
