#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Several monitors on one interface, in the order Polycube's attach gives them: `position`
# (auto, first, last) or `before`/`after` another monitor, through dynmonctl, D-Bus and REST.
# Each monitor lets a packet on unless its code drops it, so the monitors ahead of a dropping one
# see what it drops and those behind it do not. Real packets count it exactly: B sends to A's
# port 5000 (every monitor lets it on) and to port 5002 (the monitor "drop" drops it). Re-inject,
# detach and a restart of the daemon keep the other monitors in place and counting. Another
# owner's filter sits where the first monitor would go (pref 50, dynmon's handle 0xd7): dynmon
# takes another place and never replaces or removes it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9102
for tool in curl clang; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT" --rest-allow-writes)
e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

# Two probes in Polycube's dialect (tc and XDP alike): one counts every packet it sees, the
# other counts too and drops UDP to port 5002.
cat >"$TMPD/count.c" <<'EOF'
BPF_ARRAY(SEEN, uint64_t, 1);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *n = SEEN.lookup(&key);
    if (n)
        __sync_fetch_and_add(n, 1);
    return RX_OK;
}
EOF
sed 's/return RX_OK;/return is_5002(ctx) ? RX_DROP : RX_OK;/' "$TMPD/count.c" >"$TMPD/drop.body"
cat >"$TMPD/drop.c" <<'EOF'
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

/* UDP over IPv4 to port 5002 (the test's traffic has no IP options). */
static __always_inline int is_5002(struct CTXTYPE *ctx) {
    void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    struct udphdr *udp = (void *)ip + sizeof(*ip);

    if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
        ip->protocol != IPPROTO_UDP)
        return 0;
    return udp->dest == bpf_htons(5002);
}
EOF
cat "$TMPD/drop.body" >>"$TMPD/drop.c"
for p in count drop; do
	"$PY" "$E2E_DIR/mkconfig.py" --ingress "$TMPD/$p.c" --metric ingress:seen:SEEN \
		>"$TMPD/$p.json" || die "mkconfig $p"
done

# Another owner's filter: transparent too (TC_ACT_UNSPEC), at the place dynmon's first monitor
# would take.
cat >"$TMPD/foreign.c" <<'EOF'
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int foreign(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
EOF
MULTIARCH=$(clang -print-multiarch 2>/dev/null || true)
must clang -O2 -g -target bpf ${MULTIARCH:+-idirafter "/usr/include/$MULTIARCH"} \
	-c "$TMPD/foreign.c" -o "$TMPD/foreign.o"
must ip netns exec "$NS_A" tc qdisc add dev "$VETH_A" clsact
must ip netns exec "$NS_A" tc filter add dev "$VETH_A" ingress pref 50 handle 0xd7 \
	bpf direct-action obj "$TMPD/foreign.o" sec tc

# seen NAME...: what each monitor counted, space-separated.
seen() {
	local out=() m
	for m in "$@"; do out+=("$(counter "$m" seen)"); done
	echo "${out[*]}"
}

# B sends N1 datagrams to port 5000 and N2 to port 5002.
traffic() {
	send_udp "$NS_B" "$IP_A" 5000 "$1"
	send_udp "$NS_B" "$IP_A" 5002 "$2"
}

# --- three monitors, placed three ways -------------------------------------------------------
for m in front drop back; do must dm add "$m"; done
must dm inject front "$TMPD/count.json"
must dm inject drop "$TMPD/drop.json"
must dm inject back "$TMPD/count.json"
must dm attach drop "$VETH_A" # auto: the first on the interface
# D-Bus: AttachWithOptions, last.
must bus call org.polycube.Dynmon "$(monitor_path back)" org.polycube.Dynmon.Monitor \
	AttachWithOptions 'sa{sv}' "$VETH_A" 1 position s last
# dynmonctl: before another monitor.
must dm attach front "$VETH_A" --before drop

# prefs [DIRECTION] [PROGRAM]: the priorities of the filters running PROGRAM (dynmon's
# dynmon_ingress by default), in order.
prefs() {
	ip netns exec "$NS_A" tc -j filter show dev "$VETH_A" "${1:-ingress}" | "$PY" -c '
import json, sys
print(" ".join(str(f["pref"]) for f in sorted(json.load(sys.stdin), key=lambda f: f["pref"])
               if f.get("options", {}).get("prog", {}).get("name") == sys.argv[1]))' \
		"${2:-dynmon_ingress}"
}
PREFS=$(prefs)
assert_match "three dynmon filters on ingress" '^[0-9]+ [0-9]+ [0-9]+$' "$PREFS"
assert_no_match "none of them at the other owner's pref 50" '\b50\b' "$PREFS"
assert_eq "the other owner's filter is still at pref 50" 50 "$(prefs ingress foreign)"

traffic 50 20
assert_eq "front sees all 70, drop all 70, back only the 50 drop let on" "70 70 50" \
	"$(seen front drop back)"

# --- re-inject the middle one: the others stay in place and keep counting ----------------------
must dm inject drop "$TMPD/drop.json"
assert_eq "after re-inject: the same three priorities" "$PREFS" "$(prefs)"
traffic 10 5
assert_eq "after re-inject: front and back kept counting; drop's new maps start over" \
	"85 15 60" "$(seen front drop back)"

# --- polycubed's combination rules and errors ---------------------------------------------------
must dm add extra
must dm inject extra "$TMPD/count.json"
run dm attach extra "$VETH_A" --before nosuch
assert_eq "before a monitor that does not exist: NoSuchMonitor (exit 4)" 4 "$RUN_RC"
run dm attach extra "$VETH_A" --after extra
assert_eq "after a monitor not on the interface: NotAttached (exit 7)" 7 "$RUN_RC"
run dm attach extra "$VETH_A" --position middle
assert_eq "an unknown position: InvalidArgument (exit 3)" 3 "$RUN_RC"
run dm attach extra "$VETH_A" --position first --after drop
assert_eq "dynmonctl: one place only (usage, exit 2)" 2 "$RUN_RC"
run bus call org.polycube.Dynmon "$(monitor_path extra)" org.polycube.Dynmon.Monitor \
	AttachWithOptions 'sa{sv}' "$VETH_A" 2 position s first before s drop
assert_match "D-Bus: position and before together: InvalidArgument" \
	'InvalidArgument|position and before' "$RUN_ERR"
run bus call org.polycube.Dynmon "$(monitor_path extra)" org.polycube.Dynmon.Monitor \
	AttachWithOptions 'sa{sv}' "$VETH_A" 1 place s first
assert_match "D-Bus: an unknown option: InvalidArgument" 'Unknown attach option' "$RUN_ERR"
must dm add x1 --type XDP_SKB
run dm attach x1 "$VETH_A"
assert_eq "an XDP monitor does not join tc monitors: Busy (exit 7)" 7 "$RUN_RC"
must dm del x1
assert_eq "none of that moved a filter" "$PREFS" "$(prefs)"

# REST, as polycubectl's attach sends it.
rest() {
	ip netns exec "$NS_A" curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' -d "$1" "http://127.0.0.1:$PORT/polycube/v1/$2"
}
assert_eq "REST: position with after is 400" 400 \
	"$(rest '{"cube":"extra","port":"'"$VETH_A"'","position":"last","after":"drop"}' attach)"
assert_eq "REST: before with after is 400" 400 \
	"$(rest '{"cube":"extra","port":"'"$VETH_A"'","before":"drop","after":"front"}' attach)"
assert_eq "REST: attach extra after drop" 200 \
	"$(rest '{"cube":"extra","port":"'"$VETH_A"'","after":"drop"}' attach)"
traffic 10 5
assert_eq "extra sits between drop and back: it sees only what drop let on" \
	"100 30 70 10" "$(seen front drop back extra)"
assert_eq "REST: detach extra" 200 "$(rest '{"cube":"extra","port":"'"$VETH_A"'"}' detach)"
assert_eq "after REST detach: the three priorities as before" "$PREFS" "$(prefs)"

# --- detach one: the others stay -----------------------------------------------------------------
must dm detach front
traffic 10 5
assert_eq "front detached: it counts no more; drop and back go on" "100 45 80" \
	"$(seen front drop back)"
# Back, behind everything: now it sees only what drop lets on.
must dm attach front "$VETH_A" --after back
traffic 10 5
assert_eq "front after back: it sees only what drop let on" "110 60 90" "$(seen front drop back)"
PREFS=$(prefs)

# --- a restart keeps the chain, in order and counting --------------------------------------------
e2e_daemon_restart term
assert_eq "after the restart: the same three priorities" "$PREFS" "$(prefs)"
traffic 10 5
assert_eq "after the restart: the order holds (drop, back, front)" "120 75 100" \
	"$(seen front drop back)"

assert_eq "the other owner's filter stayed through it all" 50 "$(prefs ingress foreign)"
stop_sink a
assert_eq "A's port 5000 got every datagram sent to it" "100 0" "$SINK_RECEIVED $SINK_DROPS"

# --- hot-plug: the interface goes and comes back; the chain comes back in order -------------------
ip -n "$NS_A" link del "$VETH_A"
veth_pair "$VETH_A" "$VETH_B" "$IP_A" "$IP_B" "$MAC_A" "$MAC_B"
for ((i = 0; i < 50; i++)); do
	[[ $(prefs) == "$PREFS" ]] && break
	sleep 0.1
done
assert_eq "the interface is back: the same three priorities" "$PREFS" "$(prefs)"
traffic 10 5
assert_eq "the interface is back: the order holds, the counters went on" "130 90 110" \
	"$(seen front drop back)"

# Deleting them all takes every filter of dynmon's; the clsact qdisc dynmon added (when the
# interface came back) goes with the last monitor of the interface, whichever leaves first.
for m in drop extra; do must dm del "$m"; done
must dm detach front
assert_match "front left: the clsact qdisc stays for back" clsact \
	"$(tc_qdiscs "$NS_A" "$VETH_A")"
must dm detach back
assert_eq "no filter of dynmon's left on ingress" "" "$(prefs)"
assert_no_match "back left last: the clsact qdisc went with it" clsact \
	"$(tc_qdiscs "$NS_A" "$VETH_A")"
for m in front back; do must dm del "$m"; done

# --- a full chain: seven monitors placed last take ranks 50, 58, ... 98; the eighth is refused as
# Busy (the interface has no room left), not as StateNotSaved (507: nothing failed to save).
for i in 0 1 2 3 4 5 6 7; do must dm add "full$i"; done
for i in 0 1 2 3 4 5 6; do must dm attach "full$i" "$VETH_A"; done
dbus_error "$(monitor_path full7)" org.polycube.Dynmon.Monitor.Attach "'$VETH_A'"
assert_eq "the eighth monitor placed last: Busy" org.polycube.Dynmon.Error.Busy "$DBUS_ERROR_NAME"
assert_match "... and the message says why" "^No room on $VETH_A auto: detach" "$DBUS_ERROR_MESSAGE"
for i in 0 1 2 3 4 5 6 7; do must dm del "full$i"; done
