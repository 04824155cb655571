#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Restarts lose nothing. dynmond is stopped (SIGTERM, then SIGKILL as a crash) and started again
# with the same state and pin directories, while the probes keep counting:
#   - N packets before the stop, M while no daemon runs (the programs stay on their hooks and
#     count into pinned maps), K after the start: every counter reads exactly N+M+K;
#   - for swap-on-read, whose reads empty what they return, the reads before and after the
#     restart sum to exactly N+M+K, and a last read returns 0: nothing lost, nothing twice;
#   - the monitors come back with their modes, attachments, states, log levels and
#     configurations, and the new daemon's programs replace the old ones on the hooks in place
#     (one filter per hook, a new program id, the old programs freed);
#   - tc (ingress and egress), XDP generic, XDP driver mode with swap-on-read (the XDP pivot and
#     a tc pivot), a monitor with a '.' in its name, one with nothing injected;
#   - a broken entry of the state file is skipped (and stays saved until deleted), the others
#     come back; a state file that is not JSON is set aside; a pin directory that is not on a bpffs is refused clearly;
#   - deleting a monitor unpins its maps and forgets it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
for tool in bpftool clang; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done

MONITOR_IF=org.polycube.Dynmon.Monitor
VETH_C=dm${E2E_ID}c
VETH_D=dm${E2E_ID}d
VETH_E=dm${E2E_ID}e
VETH_F=dm${E2E_ID}f
IP_C=198.51.100.1
IP_D=198.51.100.2
IP_E=203.0.113.1
IP_F=203.0.113.2
veth_pair "$VETH_C" "$VETH_D" "$IP_C" "$IP_D" 02:00:00:00:00:0c 02:00:00:00:00:0d
veth_pair "$VETH_E" "$VETH_F" "$IP_E" "$IP_F" 02:00:00:00:00:0e 02:00:00:00:00:0f

# The monitors, and what each counts:
#   tcmon     TC       on A: ingress_packets_total (B->A), egress_packets_total (A->B)
#   xdp.mon   XDP_SKB  on C: packets_total (B->C), upstream's counter in the Polycube dialect
#   swapmon   XDP_DRV  on E: in_total (B->E, XDP), out_total (A->F, tc), both swap-on-read
#   idle      TC       nothing injected, detached
UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
"$PY" - "$TMPD/swap.json" <<'PYEOF'
import json, sys
code = r"""
BPF_ARRAY(%s, uint64_t, 1);
static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *c = %s.lookup(&key);
    if (c)
        __sync_fetch_and_add(c, 1);
    return RX_OK;
}
"""
def path(name, metric, m):
    return {"name": name, "code": code % (m, m), "metric-configs": [{
        "name": metric, "map-name": m, "extraction-options": {"swap-on-read": True},
        "open-metrics-metadata": {"help": metric, "type": "counter", "labels": []}}]}
json.dump({"ingress-path": path("in", "in_total", "IN_COUNTER"),
           "egress-path": path("out", "out_total", "OUT_COUNTER")}, open(sys.argv[1], "w"))
PYEOF

prop() {
	bus --json=short get-property org.polycube.Dynmon "$(monitor_path "$1")" $MONITOR_IF "$2" |
		"$PY" "$E2E_DIR/jsonpick.py" busctl
}

# tc_prog_ids NS DEV ingress|egress: the ids of the programs of the hook's BPF filters.
tc_prog_ids() {
	tc_filters "$1" "$2" "$3" | grep -o ' id [0-9]*' | awk '{print $2}' | xargs
}

# xdp_prog_id NS DEV: the id of the XDP program on DEV, "none" when there is none.
xdp_prog_id() {
	ip -n "$1" -d -j link show dev "$2" | "$PY" -c '
import json, sys
link = json.load(sys.stdin)[0]
print(link.get("xdp", {}).get("prog", {}).get("id", "none"))'
}

# prog_gone ID: whether the kernel freed the program (waits up to 2 s for it to go).
prog_gone() {
	local i
	for ((i = 0; i < 40; i++)); do
		bpftool prog show id "$1" >/dev/null 2>&1 || return 0
		sleep 0.05
	done
	return 1
}

# hooks: what is on every hook, with the program ids.
hooks() {
	echo "A ingress: $(tc_prog_ids "$NS_A" "$VETH_A" ingress)"
	echo "A egress: $(tc_prog_ids "$NS_A" "$VETH_A" egress)"
	echo "C xdp: $(xdp_prog_id "$NS_A" "$VETH_C")"
	echo "C ingress: $(tc_prog_ids "$NS_A" "$VETH_C" ingress)"
	echo "E xdp: $(xdp_prog_id "$NS_A" "$VETH_E")"
	echo "E egress: $(tc_prog_ids "$NS_A" "$VETH_E" egress)"
}

# traffic COUNT: COUNT datagrams on each probed way.
traffic() {
	send_udp "$NS_B" "$IP_A" 5000 "$1"
	send_udp "$NS_A" "$IP_B" 5001 "$1"
	send_udp "$NS_B" "$IP_C" 5002 "$1"
	send_udp "$NS_B" "$IP_E" 5003 "$1"
	send_udp "$NS_A" "$IP_F" 5004 "$1"
	SENT=$((SENT + $1))
}

# swap_read: one read of swapmon (it swaps); adds what it returned to SWAP_IN and SWAP_OUT, and
# leaves it in READ_IN and READ_OUT.
swap_read() {
	local json
	json=$(dm metrics swapmon) || die "dm metrics swapmon failed"
	READ_IN=$("$PY" "$E2E_DIR/jsonpick.py" metric ingress in_total <<<"$json" | tr -d '[]')
	READ_OUT=$("$PY" "$E2E_DIR/jsonpick.py" metric egress out_total <<<"$json" | tr -d '[]')
	[[ $READ_IN =~ ^[0-9]+$ && $READ_OUT =~ ^[0-9]+$ ]] || die "unexpected swapmon read: $json"
	SWAP_IN=$((SWAP_IN + READ_IN))
	SWAP_OUT=$((SWAP_OUT + READ_OUT))
}

# counts WHEN: every counter against the packets sent so far.
counts() {
	assert_eq "$1: tcmon ingress counts all $SENT" "[$SENT]" \
		"$(metric_value tcmon ingress_packets_total ingress)"
	assert_eq "$1: tcmon egress counts all $SENT" "[$SENT]" \
		"$(metric_value tcmon egress_packets_total egress)"
	assert_eq "$1: xdp.mon counts all $SENT" "[$SENT]" \
		"$(metric_value xdp.mon packets_total ingress)"
}

# swap_counts WHEN: swapmon's reads so far, plus two more (one per copy), sum to what was sent;
# a third read finds nothing left.
swap_counts() {
	swap_read
	swap_read
	assert_eq "$1: swapmon's reads of the XDP path sum to $SENT" "$SENT" "$SWAP_IN"
	assert_eq "$1: swapmon's reads of the tc path sum to $SENT" "$SENT" "$SWAP_OUT"
	swap_read
	assert_eq "$1: a further read of swapmon finds nothing left (nothing counted twice)" \
		"0 0" "$READ_IN $READ_OUT"
}

# description: what list, show and the properties say of every monitor.
description() {
	local name
	dm --json list
	for name in tcmon xdp.mon swapmon idle; do
		dm --json show "$name"
		echo "$name LogLevel=$(prop "$name" LogLevel) State=$(prop "$name" State)"
	done
}

# still_hooked: while no daemon runs, its programs are still on the hooks.
still_hooked() {
	assert_eq "no daemon runs: the hooks still hold the programs it left" "$HOOKS_BEFORE" \
		"$(hooks)"
}

# adopted WHEN: after a restart every hook holds one program, a new one, and the old ones are
# gone from the kernel.
adopted() {
	local now old
	now=$(hooks)
	assert_eq "$1: every hook holds one program" \
		"$(sed -E 's/[0-9]+/N/g' <<<"$HOOKS_BEFORE")" "$(sed -E 's/[0-9]+/N/g' <<<"$now")"
	for old in $(grep -o '[0-9]*' <<<"$HOOKS_BEFORE"); do
		if grep -qw "$old" <<<"$now"; then
			fail "$1: program $old was replaced by the new daemon's" "$now"
		elif prog_gone "$old"; then
			pass "$1: program $old was replaced, and the kernel freed it"
		else
			fail "$1: the replaced program $old was freed" "bpftool still shows it"
		fi
	done
}

for s in "a $NS_A $IP_A 5000" "b $NS_B $IP_B 5001" "c $NS_A $IP_C 5002" "e $NS_A $IP_E 5003" \
	"f $NS_B $IP_F 5004"; do
	# shellcheck disable=SC2086 # the words are the arguments
	start_sink $s
done
SENT=0
SWAP_IN=0
SWAP_OUT=0

# --- the monitors -------------------------------------------------------------------------------
must dm add tcmon --config "$EXAMPLES/ingress_egress_counter.json"
must dm attach tcmon "$VETH_A"
must bus set-property org.polycube.Dynmon "$(monitor_path tcmon)" $MONITOR_IF LogLevel s INFO
must dm add xdp.mon --type XDP_SKB --config "$UPSTREAM/v1.1/packet_counter.json"
must dm attach xdp.mon "$VETH_C"
must dm add swapmon --type XDP_DRV --config "$TMPD/swap.json"
must dm attach swapmon "$VETH_E"
must dm add idle

check "the pins of tcmon are in the pin directory" \
	test -e "$PIN_DIR/tcmon/ingress/INGRESS_COUNTER" -a -e "$PIN_DIR/tcmon/egress/EGRESS_COUNTER"
check "xdp.mon's pins are under a name the bpffs takes ('.' escaped)" \
	test -e "$PIN_DIR/xdp%2emon/ingress/PKT_COUNTER"
check "swap-on-read pins both copies' maps and the pivot's program array" \
	test -e "$PIN_DIR/swapmon/ingress/IN_COUNTER" -a -e "$PIN_DIR/swapmon/ingress/copy-b/IN_COUNTER" \
	-a -e "$PIN_DIR/swapmon/ingress/pivot-progs" -a -e "$PIN_DIR/swapmon/egress/pivot-progs"
assert_eq "nothing is pinned for a monitor with nothing injected" "no" \
	"$([[ -e $PIN_DIR/idle ]] && echo yes || echo no)"
check "the state file names the four monitors" "$PY" -c '
import json, sys
names = sorted(m["name"] for m in json.load(open(sys.argv[1]))["monitors"])
sys.exit(names != ["idle", "swapmon", "tcmon", "xdp.mon"])' "$STATE_DIR/monitors.json"

# --- SIGTERM: N before, M while down, K after ---------------------------------------------------
traffic 100
counts "before the stop"
swap_read
assert_eq "before the stop: a read of swapmon returns the 100" "100 100" "$READ_IN $READ_OUT"
DESCRIPTION_BEFORE=$(description)
HOOKS_BEFORE=$(hooks)
say "hooks before the stop: $(xargs <<<"$HOOKS_BEFORE")"

e2e_daemon_restart term eval "still_hooked; traffic 50"
assert_eq "after SIGTERM and a start: the monitors, modes, attachments, states, log levels and configs are back" \
	"$DESCRIPTION_BEFORE" "$(description)"
assert_eq "tcmon's log level is back" "INFO" "$(prop tcmon LogLevel)"
assert_eq "swapmon's mode is back" "XDP_DRV" "$(prop swapmon Mode)"
assert_eq "xdp.mon is attached again" "attached $VETH_C" \
	"$(prop xdp.mon State) $(prop xdp.mon Interface)"
assert_eq "idle is back, detached, with nothing injected" "detached ''" \
	"$(prop idle State) '$(prop idle Interface)'"
adopted "after SIGTERM"
traffic 30
counts "SIGTERM: 100 before, 50 while down, 30 after"
swap_counts "SIGTERM"

# --- SIGKILL: the state was saved at the last change --------------------------------------------
traffic 70
must bus set-property org.polycube.Dynmon "$(monitor_path xdp.mon)" $MONITOR_IF LogLevel s DEBUG
counts "before the crash (xdp.mon rebuilt at log level DEBUG on its maps)"
HOOKS_BEFORE=$(hooks)
DESCRIPTION_BEFORE=$(description)
e2e_daemon_restart kill eval "still_hooked; traffic 40"
assert_eq "after SIGKILL and a start: everything is back" "$DESCRIPTION_BEFORE" "$(description)"
assert_eq "xdp.mon's last change (log level DEBUG) was saved before the crash" "DEBUG" \
	"$(prop xdp.mon LogLevel)"
adopted "after SIGKILL"
traffic 20
counts "SIGKILL: 70 before, 40 while down, 20 after"
swap_counts "SIGKILL"

# --- a broken entry is skipped, the others come back --------------------------------------------
break_entries() {
	"$PY" - "$STATE_DIR/monitors.json" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
for m in doc["monitors"]:
    if m["name"] == "idle":
        m["type"] = "BOGUS"
doc["monitors"].append({"name": 5})
json.dump(doc, open(sys.argv[1], "w"))
PYEOF
}
e2e_daemon_restart term break_entries
assert_eq "with broken entries: the others are back" "swapmon tcmon xdp.mon" \
	"$(dm -q list | awk '{print $1}' | xargs)"
assert_match "the monitor with an unknown type is skipped, and the log says so" \
	"Cannot bring back monitor idle; it stays in the state file until deleted: unknown type \"BOGUS\"" \
	"$(cat "$TMPD/dynmond.log")"
assert_match "the malformed entry is skipped, and the log says so" \
	"Entry 4 of the state file is broken .*ignoring it" "$(cat "$TMPD/dynmond.log")"
traffic 10
counts "after a start with broken entries"
must dm del idle
assert_no_match "idle, deleted, leaves the state file" '"name": "idle"' \
	"$(cat "$STATE_DIR/monitors.json")"

# --- delete: the monitor's pins and its entry go ------------------------------------------------
must dm del tcmon
assert_eq "deleting tcmon removes its pins" "no" \
	"$([[ -e $PIN_DIR/tcmon ]] && echo yes || echo no)"
assert_eq "deleting tcmon removes its filters" "" \
	"$(tc_prog_ids "$NS_A" "$VETH_A" ingress)$(tc_prog_ids "$NS_A" "$VETH_A" egress)"
check "the state file forgets tcmon" "$PY" -c '
import json, sys
names = sorted(m["name"] for m in json.load(open(sys.argv[1]))["monitors"])
sys.exit(names != ["swapmon", "xdp.mon"])' "$STATE_DIR/monitors.json"
e2e_daemon_restart term
assert_eq "a deleted monitor does not come back" "swapmon xdp.mon" \
	"$(dm -q list | awk '{print $1}' | xargs)"
assert_eq "nothing of tcmon came back on $VETH_A" "" \
	"$(tc_prog_ids "$NS_A" "$VETH_A" ingress)$(tc_prog_ids "$NS_A" "$VETH_A" egress)"

# --- XDP: only our own program is replaced -----------------------------------------------------
# While no daemon runs, someone puts a program of their own on C's XDP hook in place of ours: the
# restarted daemon leaves it there, and xdp.mon comes back detached, saying why.
cat >"$TMPD/foreign.c" <<'EOF'
/* Not dynmon's: a program of its own that passes everything. */
struct xdp_md;

__attribute__((section("xdp"), used)) int foreign_pass(struct xdp_md *ctx)
{
	return 2; /* XDP_PASS */
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
EOF
clang -O2 -g -target bpf -c "$TMPD/foreign.c" -o "$TMPD/foreign.o" ||
	die "cannot compile the foreign XDP program"
foreign() {
	ip -force -n "$NS_A" link set dev "$VETH_C" xdpgeneric obj "$TMPD/foreign.o" sec xdp ||
		die "cannot put the foreign program on $VETH_C"
}
e2e_daemon_restart term foreign
assert_eq "a foreign XDP program in place of ours: the restarted daemon leaves it" \
	"xdpgeneric foreign_pass" "$(xdp_show "$NS_A" "$VETH_C")"
assert_eq "... and xdp.mon comes back detached" "detached ''" \
	"$(prop xdp.mon State) '$(prop xdp.mon Interface)'"
assert_match "... saying why" \
	"Monitor xdp.mon: cannot attach to $VETH_C again, leaving it detached: Interface $VETH_C runs another XDP program already" \
	"$(cat "$TMPD/dynmond.log")"
assert_eq "swapmon, beside it, is attached again" "attached" "$(prop swapmon State)"

# --- a state file that is not JSON --------------------------------------------------------------
garble() { echo '{"version": 1, "monitors": [' >"$STATE_DIR/monitors.json"; }
e2e_daemon_restart term garble
assert_eq "a state file that is not JSON: the daemon runs, with no monitor" "" "$(dm -q list)"
assert_match "the log says the state file was set aside" \
	"Cannot read the state file .*monitors.json .*set aside as .*monitors.json.broken-" \
	"$(cat "$TMPD/dynmond.log")"

# --- the pin directory must be on a bpffs -------------------------------------------------------
mkdir "$TMPD/not-bpffs"
run timeout 20 "$DYNMOND" --bpf-include-dir "$DYNMON_SOURCE_DIR/bpf/include" \
	--state-dir "$TMPD/state-2" --pin-dir "$TMPD/not-bpffs/dynmon"
assert_eq "a pin directory on another file system: dynmond refuses to start" 1 "$RUN_RC"
assert_match "... and says why" \
	"The pin directory $TMPD/not-bpffs/dynmon is not on a BPF file system" "$RUN_ERR"

for s in a b c e f; do
	stop_sink "$s"
	assert_eq "sink $s received every datagram" "$SENT 0" "$SINK_RECEIVED $SINK_DROPS"
done
