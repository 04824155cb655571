#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The life of a monitor, end to end: add, inject, attach, count exact traffic in both directions,
# read the counts through every door (dynmonctl JSON, the D-Bus property, OpenMetrics), detach,
# delete — and leave the interface's tc setup as it was found, a user's own clsact included.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup

# A second pair whose A end has a clsact qdisc of its own before dynmon ever touches it.
VETH_C=dm${E2E_ID}c
VETH_D=dm${E2E_ID}d
IP_C=198.51.100.1
IP_D=198.51.100.2
veth_pair "$VETH_C" "$VETH_D" "$IP_C" "$IP_D" 02:00:00:00:00:0c 02:00:00:00:00:0d
ip netns exec "$NS_A" tc qdisc add dev "$VETH_C" clsact

start_sink a "$NS_A" "$IP_A" 5000 # B -> A lands here
start_sink b "$NS_B" "$IP_B" 5001 # A -> B lands here
start_sink c "$NS_A" "$IP_C" 5002 # B -> A over the second pair

# --- add, inject, attach ----------------------------------------------------------------------
assert_rc "add mon0" 0 dm add mon0
assert_rc "inject the packet counter into mon0" 0 dm inject mon0 "$EXAMPLES/packet_counter.json"
assert_rc "attach mon0 to $VETH_A" 0 dm attach mon0 "$VETH_A"
assert_match "tc shows a BPF filter on $VETH_A ingress" "bpf" "$(tc_filters "$NS_A" "$VETH_A" ingress)"

# --- exact ingress count through every door ---------------------------------------------------
send_udp "$NS_B" "$IP_A" 5000 100
assert_eq "dynmonctl metrics: packets_total after 100 packets B->A" "[100]" \
	"$(metric_value mon0 packets_total ingress)"

MON0=$(monitor_path mon0)
assert_match "GetMonitor gives an object path under /org/polycube/Dynmon/" \
	"^/org/polycube/Dynmon/." "$MON0"
metrics=$(bus --json=short get-property org.polycube.Dynmon "$MON0" org.polycube.Dynmon.Monitor \
	Metrics | "$PY" "$E2E_DIR/jsonpick.py" busctl)
assert_eq "busctl get-property Metrics: packets_total" "[100]" \
	"$("$PY" "$E2E_DIR/jsonpick.py" metric ingress packets_total <<<"$metrics")"
assert_match "Metrics holds a timestamp per metric" '"timestamp"' "$metrics"

om=$(dm open-metrics mon0)
assert_match "open-metrics: # TYPE packets counter" '^# TYPE packets counter$' "$om"
assert_match "open-metrics: # HELP packets" '^# HELP packets ' "$om"
assert_match "open-metrics: packets_total 100" '^packets_total(\{[^}]*\})? 100(\.0)?( [0-9.]+)?$' "$om"
assert_eq "open-metrics ends with # EOF" "# EOF" "$(tail -n 1 <<<"$om")"
check "open-metrics passes the strict OpenMetrics parser with packets_total 100" \
	"$PY" "$E2E_DIR/omcheck.py" packets_total 100 <<<"$om"
om_bus=$(bus --json=short get-property org.polycube.Dynmon "$MON0" org.polycube.Dynmon.Monitor \
	OpenMetrics | "$PY" "$E2E_DIR/jsonpick.py" busctl)
check "busctl get-property OpenMetrics: packets_total 100" \
	"$PY" "$E2E_DIR/omcheck.py" packets_total 100 <<<"$om_bus"

stop_sink a
assert_eq "the probe let all 100 packets through to the receiver" "100 0" \
	"$SINK_RECEIVED $SINK_DROPS"
start_sink a "$NS_A" "$IP_A" 5000

# --- list and show ----------------------------------------------------------------------------
assert_rc "list" 0 dm list
assert_match "list shows mon0 on $VETH_A" "mon0.*$VETH_A" "$RUN_OUT"
assert_rc "list --json" 0 dm --json list
check "list --json has mon0 attached to $VETH_A" \
	"$PY" "$E2E_DIR/jsonpick.py" has name=mon0 "interface=$VETH_A" <<<"$RUN_OUT"
assert_rc "show mon0" 0 dm show mon0
assert_match "show mon0 names $VETH_A" "$VETH_A" "$RUN_OUT"
assert_rc "show --json mon0" 0 dm --json show mon0
check "show --json has mon0 attached to $VETH_A" \
	"$PY" "$E2E_DIR/jsonpick.py" has name=mon0 "interface=$VETH_A" <<<"$RUN_OUT"
assert_eq "the Interface property is $VETH_A" "$VETH_A" \
	"$(bus --json=short get-property org.polycube.Dynmon "$MON0" org.polycube.Dynmon.Monitor \
		Interface | "$PY" "$E2E_DIR/jsonpick.py" busctl)"

# --- both directions: egress counts what leaves A, ingress what arrives -----------------------
# Re-injecting replaces both programs and their maps: both counters start again from zero.
assert_rc "re-inject mon0 with the ingress+egress counter" 0 \
	dm inject mon0 "$EXAMPLES/ingress_egress_counter.json"
assert_match "tc shows a BPF filter on $VETH_A egress" "bpf" "$(tc_filters "$NS_A" "$VETH_A" egress)"
send_udp "$NS_A" "$IP_B" 5001 50
assert_eq "egress_packets_total after 50 packets A->B" "[50]" \
	"$(metric_value mon0 egress_packets_total egress)"
assert_eq "ingress_packets_total unchanged by A->B traffic" "[0]" \
	"$(metric_value mon0 ingress_packets_total ingress)"
send_udp "$NS_B" "$IP_A" 5000 30
assert_eq "ingress_packets_total after 30 packets B->A" "[30]" \
	"$(metric_value mon0 ingress_packets_total ingress)"
assert_eq "egress_packets_total unchanged by B->A traffic" "[50]" \
	"$(metric_value mon0 egress_packets_total egress)"
stop_sink a
assert_eq "B->A: the receiver got all 30" "30 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink b
assert_eq "A->B: the receiver got all 50" "50 0" "$SINK_RECEIVED $SINK_DROPS"
start_sink a "$NS_A" "$IP_A" 5000

# --- detach: the probe and the clsact dynmon created are gone, the monitor stays --------------
assert_rc "detach mon0" 0 dm detach mon0
assert_eq "no filter left on $VETH_A ingress" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
assert_eq "no filter left on $VETH_A egress" "" "$(tc_filters "$NS_A" "$VETH_A" egress)"
assert_no_match "the clsact qdisc dynmon added to $VETH_A is gone" "clsact" \
	"$(tc_qdiscs "$NS_A" "$VETH_A")"
assert_eq "the Interface property is empty once detached" "" \
	"$(bus --json=short get-property org.polycube.Dynmon "$MON0" org.polycube.Dynmon.Monitor \
		Interface | "$PY" "$E2E_DIR/jsonpick.py" busctl)"
send_udp "$NS_B" "$IP_A" 5000 10
assert_eq "a detached monitor counts nothing" "[30]" \
	"$(metric_value mon0 ingress_packets_total ingress)"
stop_sink a
assert_eq "detached: traffic still flows (10 received)" "10 0" "$SINK_RECEIVED $SINK_DROPS"

# --- delete while attached: the filter and the clsact go with the monitor ---------------------
assert_rc "attach mon0 again" 0 dm attach mon0 "$VETH_A"
assert_match "attached again: a filter on $VETH_A ingress" "bpf" \
	"$(tc_filters "$NS_A" "$VETH_A" ingress)"
assert_rc "del mon0 (attached)" 0 dm del mon0
assert_eq "after del: no filter on $VETH_A ingress" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
assert_eq "after del: no filter on $VETH_A egress" "" "$(tc_filters "$NS_A" "$VETH_A" egress)"
assert_no_match "after del: no clsact qdisc on $VETH_A" "clsact" "$(tc_qdiscs "$NS_A" "$VETH_A")"
assert_rc "list after del" 0 dm list
assert_no_match "list no longer shows mon0" "mon0" "$RUN_OUT"
assert_rc "show mon0 after del: no such monitor (exit 4)" 4 dm show mon0

# --- a clsact that was there before stays there -----------------------------------------------
assert_rc "add mon1" 0 dm add mon1
assert_rc "inject the packet counter into mon1" 0 dm inject mon1 "$EXAMPLES/packet_counter.json"
assert_rc "attach mon1 to $VETH_C (it has its own clsact)" 0 dm attach mon1 "$VETH_C"
send_udp "$NS_B" "$IP_C" 5002 20
assert_eq "mon1 counts 20 packets on $VETH_C" "[20]" "$(metric_value mon1 packets_total ingress)"
assert_rc "detach mon1" 0 dm detach mon1
assert_eq "no filter left on $VETH_C ingress" "" "$(tc_filters "$NS_A" "$VETH_C" ingress)"
assert_match "the pre-existing clsact on $VETH_C is still there" "clsact" \
	"$(tc_qdiscs "$NS_A" "$VETH_C")"
assert_rc "attach mon1 to $VETH_C again" 0 dm attach mon1 "$VETH_C"
assert_rc "del mon1 (attached)" 0 dm del mon1
assert_eq "after del: no filter on $VETH_C ingress" "" "$(tc_filters "$NS_A" "$VETH_C" ingress)"
assert_match "after del: the pre-existing clsact on $VETH_C is still there" "clsact" \
	"$(tc_qdiscs "$NS_A" "$VETH_C")"
stop_sink c
assert_eq "the receiver on the second pair got all 20" "20 0" "$SINK_RECEIVED $SINK_DROPS"
