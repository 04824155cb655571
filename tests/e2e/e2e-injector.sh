#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dynmon-injector, the seed's tool, through the real daemon's REST API: its three situations — a
# new monitor (created with the dataplane and attached), a monitor already on the interface (only
# injected), a monitor on another interface (moved, then injected) — each proven by counting
# exact traffic on the interface where the probe must be and on the one where it must not; then
# its failures: what dynmond refuses, with dynmond's message and the exit status --help promises,
# and nothing left half-done.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

INJECTOR=$DYNMON_BUILD_DIR/cli/dynmon-injector
[[ -x $INJECTOR ]] || die "missing tool: $INJECTOR (build first)"
PORT=9000 # the injector's default, on namespace A's own loopback
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT" --rest-allow-writes)
e2e_setup

# A second pair, in the same namespaces: the interface a monitor is moved to.
VETH_C=dm${E2E_ID}c
VETH_D=dm${E2E_ID}d
IP_C=198.51.100.1
IP_D=198.51.100.2
veth_pair "$VETH_C" "$VETH_D" "$IP_C" "$IP_D" 02:00:00:00:00:0c 02:00:00:00:00:0d
start_sink a "$NS_A" "$IP_A" 5000 # B -> A over the first pair
start_sink c "$NS_A" "$IP_C" 5002 # D -> C over the second pair

# inj ARGS...: the injector, run where the daemon's loopback is.
inj() { ip netns exec "$NS_A" "$INJECTOR" "$@"; }

# attached_to NAME: the interface dynmonctl says the monitor is attached to ("" if none).
attached_to() {
	dm --json show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["interface"])'
}

# probe_on DEV: "bpf" when a BPF filter is on DEV's ingress, else "none".
probe_on() {
	if grep -q bpf <<<"$(tc_filters "$NS_A" "$1" ingress)"; then echo bpf; else echo none; fi
}

# --- the usage is the seed's ------------------------------------------------------------------
assert_rc "-h exits 0" 0 "$INJECTOR" -h
assert_eq "-h: the seed's usage line" \
	"Usage: dynmon-injector [-h] [-a ADDRESS] [-p PORT] [-v] cube_name peer_interface path_to_dataplane" \
	"$(head -n 1 <<<"$RUN_OUT")"
HELP=$RUN_OUT
for opt in "-a ADDRESS, --address ADDRESS" "-p PORT, --port PORT" "-v, --version" \
	"(default: localhost)" "(default: 9000)" "Exit status:"; do
	check "-h documents $opt" grep -qF -- "$opt" <<<"$HELP"
done
assert_rc "-v exits 0" 0 "$INJECTOR" -v
assert_eq "-v prints dynmond's version" "dynmon-injector $("$DYNMOND" --version | awk '{print $NF}')" \
	"$RUN_OUT"
assert_rc "two arguments: usage error (exit 2)" 2 "$INJECTOR" mon0 "$VETH_A"
assert_rc "a port that is not one: usage error (exit 2)" 2 \
	"$INJECTOR" -p 70000 mon0 "$VETH_A" "$EXAMPLES/packet_counter.json"

# --- 1. a new monitor: created with the dataplane, attached ------------------------------------
assert_rc "new monitor: inject mon0 on $VETH_A (default address and port)" 0 \
	inj mon0 "$VETH_A" "$EXAMPLES/packet_counter.json"
assert_match "new monitor: it says it created mon0 and attached it" \
	"^Created monitor mon0 with .*packet_counter\.json and attached it to $VETH_A\.$" "$RUN_OUT"
assert_eq "new monitor: mon0 is attached to $VETH_A" "$VETH_A" "$(attached_to mon0)"
assert_eq "new monitor: a probe on $VETH_A, none on $VETH_C" "bpf none" \
	"$(probe_on "$VETH_A") $(probe_on "$VETH_C")"
send_udp "$NS_B" "$IP_A" 5000 10
send_udp "$NS_B" "$IP_C" 5002 4
assert_eq "new monitor: it counts the 10 packets to $VETH_A, not the 4 to $VETH_C" "[10]" \
	"$(metric_value mon0 packets_total ingress)"

# --- 2. the monitor exists on the same interface: only the dataplane changes --------------------
assert_rc "same interface: inject the ingress+egress counter into mon0 on $VETH_A" 0 \
	inj -a 127.0.0.1 -p "$PORT" mon0 "$VETH_A" "$EXAMPLES/ingress_egress_counter.json"
assert_eq "same interface: it says mon0 stays, then injects" \
	"Monitor mon0 is attached to $VETH_A already.|Injected $EXAMPLES/ingress_egress_counter.json into monitor mon0." \
	"$(paste -sd '|' <<<"$RUN_OUT")"
assert_eq "same interface: mon0 is still attached to $VETH_A" "$VETH_A" "$(attached_to mon0)"
send_udp "$NS_B" "$IP_A" 5000 7
send_udp "$NS_B" "$IP_C" 5002 3
assert_eq "same interface: the new dataplane counts the 7 packets to $VETH_A" "[7]" \
	"$(metric_value mon0 ingress_packets_total ingress)"
assert_eq "same interface: the old dataplane's metric is gone" "<missing>" \
	"$(metric_value mon0 packets_total ingress)"

# --- 3. the monitor exists on another interface: moved, then injected --------------------------
assert_rc "another interface: inject the packet counter into mon0 on $VETH_C" 0 \
	inj mon0 "$VETH_C" "$EXAMPLES/packet_counter.json"
assert_eq "another interface: it says it moved mon0, then injected" \
	"Detached monitor mon0 from $VETH_A.|Attached monitor mon0 to $VETH_C.|Injected $EXAMPLES/packet_counter.json into monitor mon0." \
	"$(paste -sd '|' <<<"$RUN_OUT")"
assert_eq "another interface: mon0 is attached to $VETH_C" "$VETH_C" "$(attached_to mon0)"
assert_eq "another interface: the probe left $VETH_A for $VETH_C" "none bpf" \
	"$(probe_on "$VETH_A") $(probe_on "$VETH_C")"
assert_no_match "another interface: the clsact dynmon made on $VETH_A is gone" clsact \
	"$(tc_qdiscs "$NS_A" "$VETH_A")"
send_udp "$NS_B" "$IP_A" 5000 5
send_udp "$NS_B" "$IP_C" 5002 12
assert_eq "another interface: it counts the 12 packets to $VETH_C, not the 5 to $VETH_A" "[12]" \
	"$(metric_value mon0 packets_total ingress)"

# A detached monitor is only attached: there is nothing to detach it from.
assert_rc "detach mon0 (dynmonctl)" 0 dm detach mon0
assert_rc "detached monitor: inject mon0 on $VETH_A" 0 \
	inj mon0 "$VETH_A" "$EXAMPLES/packet_counter.json"
assert_eq "detached monitor: attached to $VETH_A, then injected" \
	"Attached monitor mon0 to $VETH_A.|Injected $EXAMPLES/packet_counter.json into monitor mon0." \
	"$(paste -sd '|' <<<"$RUN_OUT")"
send_udp "$NS_B" "$IP_A" 5000 9
assert_eq "detached monitor: it counts the 9 packets to $VETH_A" "[9]" \
	"$(metric_value mon0 packets_total ingress)"

# --- failures: dynmond's message, the documented exit status, nothing half-done ----------------
BROKEN=$TMPD/broken.json
"$PY" "$E2E_DIR/breakcode.py" "$EXAMPLES/packet_counter.json" ingress "__u32 key = 0;" \
	"$BROKEN" >/dev/null || die "could not write a configuration that does not compile"
assert_rc "code that does not compile: input rejected (exit 3)" 3 inj mon0 "$VETH_A" "$BROKEN"
assert_match "code that does not compile: the compiler's diagnostics are shown" \
	"^dynmon-injector: Cannot inject .* into monitor mon0: .*this_identifier_is_not_declared" \
	"$(paste -sd ' ' <<<"$RUN_ERR")"
send_udp "$NS_B" "$IP_A" 5000 6
assert_eq "code that does not compile: mon0's dataplane kept counting (9 + 6)" "[15]" \
	"$(metric_value mon0 packets_total ingress)"

printf '{"ingress-path": ' >"$TMPD/not-json.json"
assert_rc "a file that is not JSON: input rejected (exit 3)" 3 \
	inj mon0 "$VETH_A" "$TMPD/not-json.json"
assert_match "a file that is not JSON: it says where" "not valid JSON \(line 1" "$RUN_ERR"
assert_rc "a file that does not exist: exit 1" 1 inj mon0 "$VETH_A" "$TMPD/no-such-file.json"

assert_rc "a new monitor on an interface that does not exist: not found (exit 4)" 4 \
	inj mon1 nosuchdev0 "$EXAMPLES/packet_counter.json"
assert_match "no such interface: dynmond's message" \
	"^dynmon-injector: Cannot attach monitor mon1 to nosuchdev0: .*nosuchdev0" "$RUN_ERR"
assert_rc "no such interface: the new monitor was deleted again" 4 dm show mon1

assert_rc "nothing listens on the port: unreachable (exit 6)" 6 \
	inj -p 9 mon0 "$VETH_A" "$EXAMPLES/packet_counter.json"
assert_match "unreachable: it names the address" "Cannot reach dynmond at http://localhost:9" \
	"$RUN_ERR"

# REST writes are off unless the operator turns them on: nothing moves.
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT")
e2e_daemon_restart term
assert_rc "REST writes off: permission denied (exit 5)" 5 \
	inj mon0 "$VETH_C" "$EXAMPLES/packet_counter.json"
assert_match "REST writes off: dynmond's message names --rest-allow-writes" \
	"^dynmon-injector: Cannot .* --rest-allow-writes" "$(paste -sd ' ' <<<"$RUN_ERR")"
assert_eq "REST writes off: mon0 stayed on $VETH_A" "$VETH_A" "$(attached_to mon0)"
assert_rc "REST writes off: a new monitor is refused too (exit 5)" 5 \
	inj mon2 "$VETH_C" "$EXAMPLES/packet_counter.json"
assert_rc "REST writes off: mon2 does not exist" 4 dm show mon2

assert_rc "del mon0" 0 dm del mon0
stop_sink a
assert_eq "every datagram to $VETH_A arrived: the probes let them through" "$((10 + 7 + 5 + 9 + 6)) 0" \
	"$SINK_RECEIVED $SINK_DROPS"
stop_sink c
assert_eq "every datagram to $VETH_C arrived" "$((4 + 3 + 12)) 0" "$SINK_RECEIVED $SINK_DROPS"
