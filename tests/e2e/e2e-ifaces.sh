#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Interfaces that come and go. When the interface a monitor is attached to disappears (its veth
# pair is deleted), the monitor's State becomes "waiting" (announced by PropertiesChanged) and its
# Interface keeps the name; when an interface of that name appears again in the daemon's
# namespace, the monitor attaches to it by itself, with no call: State "attached", its programs
# on the new interface, and packets counted exactly, on its maps of before. Checked for tc and
# XDP; and: an interface of that name in another namespace is not taken; Detach ends the wait;
# a waiting monitor still waits after a restart of the daemon; a renamed interface is followed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
command -v stdbuf >/dev/null || die "missing tool: stdbuf"

MONITOR_IF=org.polycube.Dynmon.Monitor
VETH_C=dm${E2E_ID}c
VETH_D=dm${E2E_ID}d
VETH_E=dm${E2E_ID}e
VETH_F=dm${E2E_ID}f
VETH_R=dm${E2E_ID}r # VETH_C renamed
IP_C=198.51.100.1
IP_D=198.51.100.2
IP_E=203.0.113.1
IP_F=203.0.113.2
pair_c() { veth_pair "$VETH_C" "$VETH_D" "$IP_C" "$IP_D" 02:00:00:00:00:0c 02:00:00:00:00:0d; }
pair_e() { veth_pair "$VETH_E" "$VETH_F" "$IP_E" "$IP_F" 02:00:00:00:00:0e 02:00:00:00:00:0f; }
pair_c
pair_e

prop() {
	bus --json=short get-property org.polycube.Dynmon "$(monitor_path "$1")" $MONITOR_IF "$2" |
		"$PY" "$E2E_DIR/jsonpick.py" busctl
}

# wait_state NAME STATE: the monitor's State once it is STATE, or after 5 s what it is then.
wait_state() {
	local i s
	for ((i = 0; i < 50; i++)); do
		s=$(prop "$1" State)
		[[ $s == "$2" ]] && break
		sleep 0.1
	done
	echo "$s"
}

# described NAME: the monitor's State and Interface, and what show says of it.
described() {
	echo "State=$(prop "$1" State) Interface=$(prop "$1" Interface)"
	dm --json show "$1" |
		"$PY" -c 'import json, sys; d = json.load(sys.stdin); print("show:", d["state"], d["interface"])'
	dm show "$1" | grep '^State:'
}

UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
must dm add tcmon --config "$EXAMPLES/ingress_egress_counter.json"
must dm attach tcmon "$VETH_C"
must dm add xdpmon --type XDP_SKB --config "$UPSTREAM/v1.1/packet_counter.json"
must dm attach xdpmon "$VETH_E"
TCMON=$(monitor_path tcmon)
stdbuf -oL gdbus monitor -a "$BUS_ADDR" -d org.polycube.Dynmon -o "$TCMON" \
	>"$TMPD/signals" 2>&1 &
BG_PIDS+=("$!")
sleep 0.5 # the match is in place

start_sink c "$NS_A" "$IP_C" 5002
send_udp "$NS_B" "$IP_C" 5002 10
assert_eq "tcmon counts 10 on $VETH_C" "[10]" "$(metric_value tcmon ingress_packets_total ingress)"
assert_eq "tcmon is attached" "attached $VETH_C" "$(prop tcmon State) $(prop tcmon Interface)"
stop_sink c
assert_eq "the 10 arrived" "10 0" "$SINK_RECEIVED $SINK_DROPS"

# --- the pair goes: tcmon waits --------------------------------------------------------------------
ip -n "$NS_A" link del "$VETH_C"
assert_eq "the interface is gone: State becomes waiting" "waiting" "$(wait_state tcmon waiting)"
assert_eq "waiting: Interface keeps the name; list and show say waiting" \
	"State=waiting Interface=$VETH_C
show: waiting $VETH_C
State:     waiting" "$(described tcmon)"
assert_match "dm list shows tcmon waiting for $VETH_C" "tcmon +$VETH_C +waiting +TC" "$(dm list)"
assert_match "PropertiesChanged announced State waiting" "'State': <'waiting'>" \
	"$(cat "$TMPD/signals")"
assert_eq "the metrics are still there while waiting" "[10]" \
	"$(metric_value tcmon ingress_packets_total ingress)"
assert_eq "xdpmon, on another interface, is not concerned" "attached" "$(prop xdpmon State)"

# --- an interface of that name in another namespace is not ours ----------------------------------
ip link add "$VETH_C" netns "$NS_B" type veth peer name "$VETH_D" netns "$NS_B"
sleep 1
assert_eq "$VETH_C appearing in another namespace: tcmon still waits" "waiting" \
	"$(prop tcmon State)"
ip -n "$NS_B" link del "$VETH_C"

# --- it comes back: tcmon attaches by itself -------------------------------------------------------
pair_c
assert_eq "$VETH_C is back: State becomes attached with no call" "attached" \
	"$(wait_state tcmon attached)"
assert_match "PropertiesChanged announced State attached" "'State': <'attached'>" \
	"$(cat "$TMPD/signals")"
assert_match "the new $VETH_C has dynmon's filter on ingress" "handle 0xd7" \
	"$(tc_filters "$NS_A" "$VETH_C" ingress)"
assert_match "... and on egress" "handle 0xd7" "$(tc_filters "$NS_A" "$VETH_C" egress)"
start_sink c "$NS_A" "$IP_C" 5002
start_sink d "$NS_B" "$IP_D" 5003
send_udp "$NS_B" "$IP_C" 5002 25
send_udp "$NS_A" "$IP_D" 5003 7
assert_eq "tcmon counts on, exactly: 10 before + 25 on the new interface" "[35]" \
	"$(metric_value tcmon ingress_packets_total ingress)"
assert_eq "tcmon's egress path counts the 7 that left" "[7]" \
	"$(metric_value tcmon egress_packets_total egress)"
stop_sink c
assert_eq "the 25 arrived" "25 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink d
assert_eq "the 7 arrived" "7 0" "$SINK_RECEIVED $SINK_DROPS"

# --- XDP: the same ------------------------------------------------------------------------------
start_sink e "$NS_A" "$IP_E" 5004
send_udp "$NS_B" "$IP_E" 5004 12
assert_eq "xdpmon counts 12 on $VETH_E" "[12]" "$(metric_value xdpmon packets_total ingress)"
stop_sink e
ip -n "$NS_B" link del "$VETH_F" # from the other end: the pair goes all the same
assert_eq "XDP: $VETH_E is gone: xdpmon waits" "waiting $VETH_E" \
	"$(wait_state xdpmon waiting) $(prop xdpmon Interface)"
pair_e
assert_eq "XDP: $VETH_E is back: xdpmon attached again" "attached" \
	"$(wait_state xdpmon attached)"
assert_eq "XDP: the program is on the new $VETH_E, in generic mode" "xdpgeneric dynmon_ingress" \
	"$(xdp_show "$NS_A" "$VETH_E")"
start_sink e "$NS_A" "$IP_E" 5004
send_udp "$NS_B" "$IP_E" 5004 8
assert_eq "XDP: xdpmon counts on, exactly: 12 + 8" "[20]" \
	"$(metric_value xdpmon packets_total ingress)"
stop_sink e
assert_eq "XDP: the 8 arrived" "8 0" "$SINK_RECEIVED $SINK_DROPS"

# --- a waiting monitor still waits after a restart of the daemon ---------------------------------
ip -n "$NS_A" link del "$VETH_E"
assert_eq "xdpmon waits again" "waiting" "$(wait_state xdpmon waiting)"
e2e_daemon_restart term
assert_eq "after a restart, xdpmon still waits for $VETH_E" "waiting $VETH_E" \
	"$(prop xdpmon State) $(prop xdpmon Interface)"
assert_eq "after a restart, tcmon is attached to $VETH_C" "attached $VETH_C" \
	"$(prop tcmon State) $(prop tcmon Interface)"
pair_e
assert_eq "$VETH_E is back: the restarted daemon attaches xdpmon" "attached" \
	"$(wait_state xdpmon attached)"
start_sink e "$NS_A" "$IP_E" 5004
send_udp "$NS_B" "$IP_E" 5004 5
assert_eq "xdpmon counts on across the restart and the new interface: 20 + 5" "[25]" \
	"$(metric_value xdpmon packets_total ingress)"
stop_sink e

# --- Detach ends the wait -------------------------------------------------------------------------
ip -n "$NS_A" link del "$VETH_E"
assert_eq "xdpmon waits once more" "waiting" "$(wait_state xdpmon waiting)"
assert_rc "detach a waiting monitor" 0 dm detach xdpmon
assert_eq "detached: no interface any more" "detached ''" \
	"$(prop xdpmon State) '$(prop xdpmon Interface)'"
pair_e
sleep 1
assert_eq "$VETH_E comes back: a detached monitor does not attach" "detached" \
	"$(prop xdpmon State)"
assert_eq "nothing of dynmon on the new $VETH_E" "none" "$(xdp_show "$NS_A" "$VETH_E")"

# --- a renamed interface is followed ------------------------------------------------------------
ip -n "$NS_A" link set "$VETH_C" down
ip -n "$NS_A" link set "$VETH_C" name "$VETH_R"
ip -n "$NS_A" link set "$VETH_R" up
for ((i = 0; i < 50; i++)); do
	[[ $(prop tcmon Interface) == "$VETH_R" ]] && break
	sleep 0.1
done
assert_eq "renamed to $VETH_R: tcmon follows it, attached" "attached $VETH_R" \
	"$(prop tcmon State) $(prop tcmon Interface)"
start_sink c "$NS_A" "$IP_C" 5002
send_udp "$NS_B" "$IP_C" 5002 3
assert_eq "tcmon counts on $VETH_R: 35 + 3" "[38]" \
	"$(metric_value tcmon ingress_packets_total ingress)"
stop_sink c
assert_rc "detach tcmon from $VETH_R" 0 dm detach tcmon
assert_eq "no filter left on $VETH_R" "" \
	"$(tc_filters "$NS_A" "$VETH_R" ingress)$(tc_filters "$NS_A" "$VETH_R" egress)"
