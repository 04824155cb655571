#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The seed's modes, XDP_SKB and XDP_DRV: the ingress path runs as an XDP program (generic or the
# driver's own), the egress path stays on tc. Upstream's packet counter counts exactly in both;
# `ip link` shows the program in the right mode and detach takes it away; a re-inject swaps the
# program with no moment without a probe; a driver without native XDP and an interface that runs
# someone else's XDP program are refused clearly, leaving nothing behind.
#
# veth has native XDP. A native XDP program on the receiving veth sees what its peer sends with
# nothing on the peer (attaching it turns on the veth's NAPI); only XDP_REDIRECT into a veth
# needs more. This test checks that: B's end never gets a program.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
command -v clang >/dev/null || die "missing tool: clang (for the foreign XDP program)"

UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
EXTRA=$DYNMON_SOURCE_DIR/tests/data/polycube-extra
MONITOR_IF=org.polycube.Dynmon.Monitor
ERR=org.polycube.Dynmon.Error

prop() { bus --json=short get-property org.polycube.Dynmon "$1" $MONITOR_IF "$2" |
	"$PY" "$E2E_DIR/jsonpick.py" busctl; }

# assert_bare DESC IF: nothing of dynmon's on IF: no XDP program, no tc filter, no clsact.
assert_bare() {
	assert_eq "$1: no XDP program on $2" "none" "$(xdp_show "$NS_A" "$2")"
	assert_eq "$1: no filter on $2 ingress" "" "$(tc_filters "$NS_A" "$2" ingress)"
	assert_eq "$1: no filter on $2 egress" "" "$(tc_filters "$NS_A" "$2" egress)"
	assert_no_match "$1: no clsact qdisc on $2" "clsact" "$(tc_qdiscs "$NS_A" "$2")"
}

start_sink a "$NS_A" "$IP_A" 5000
start_sink b "$NS_B" "$IP_B" 5001

# --- upstream's packet counter in both XDP modes ----------------------------------------------
declare -A SHOWN=([XDP_SKB]=xdpgeneric [XDP_DRV]=xdp)
for mode in XDP_SKB XDP_DRV; do
	name=${mode,,}
	name=${name//_/-}
	assert_rc "$mode: add $name --type $mode" 0 dm add "$name" --type "$mode"
	path=$(monitor_path "$name")
	assert_eq "$mode: the Mode property" "$mode" "$(prop "$path" Mode)"
	assert_rc "$mode: inject upstream's v1.1 packet counter" 0 \
		dm inject "$name" "$UPSTREAM/v1.1/packet_counter.json"
	assert_rc "$mode: attach to $VETH_A" 0 dm attach "$name" "$VETH_A"
	assert_eq "$mode: ip link shows ${SHOWN[$mode]} with dynmon's program" \
		"${SHOWN[$mode]} dynmon_ingress" "$(xdp_show "$NS_A" "$VETH_A")"
	assert_eq "$mode: the ingress path is not on tc" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
	assert_eq "$mode: nothing on the peer $VETH_B" "none" "$(xdp_show "$NS_B" "$VETH_B")"

	send_udp "$NS_B" "$IP_A" 5000 100
	assert_eq "$mode: packets_total after 100 packets" "[100]" \
		"$(metric_value "$name" packets_total ingress)"
	send_udp "$NS_A" "$IP_B" 5001 10
	assert_eq "$mode: A->B traffic is not counted by the ingress path" "[100]" \
		"$(metric_value "$name" packets_total ingress)"

	# A re-inject on the attached interface: the new program's own map counts from zero.
	old_id=$(ip -n "$NS_A" -d link show dev "$VETH_A" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	assert_rc "$mode: re-inject while attached" 0 \
		dm inject "$name" "$UPSTREAM/v1.0/packet_counter.json"
	new_id=$(ip -n "$NS_A" -d link show dev "$VETH_A" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	if [[ -n $new_id && $new_id != "$old_id" ]]; then
		pass "$mode: the re-inject put a new XDP program in place ($old_id -> $new_id)"
	else
		fail "$mode: the re-inject put a new XDP program in place" "before: $old_id" \
			"after: $new_id"
	fi
	assert_eq "$mode: still ${SHOWN[$mode]} after the re-inject" \
		"${SHOWN[$mode]} dynmon_ingress" "$(xdp_show "$NS_A" "$VETH_A")"
	send_udp "$NS_B" "$IP_A" 5000 40
	assert_eq "$mode: after the re-inject, packets_total counts exactly 40" "[40]" \
		"$(metric_value "$name" packets_total ingress)"

	assert_rc "$mode: detach" 0 dm detach "$name"
	assert_bare "$mode: detached" "$VETH_A"
	send_udp "$NS_B" "$IP_A" 5000 5
	assert_eq "$mode: detached, nothing counts" "[40]" \
		"$(metric_value "$name" packets_total ingress)"

	assert_rc "$mode: attach again" 0 dm attach "$name" "$VETH_A"
	assert_eq "$mode: ${SHOWN[$mode]} again" "${SHOWN[$mode]} dynmon_ingress" \
		"$(xdp_show "$NS_A" "$VETH_A")"
	assert_rc "$mode: del while attached" 0 dm del "$name"
	assert_bare "$mode: deleted" "$VETH_A"
done
stop_sink a
assert_eq "every datagram B->A arrived (XDP_PASS)" "$((2 * (100 + 40 + 5))) 0" \
	"$SINK_RECEIVED $SINK_DROPS"
stop_sink b
assert_eq "every datagram A->B arrived" "20 0" "$SINK_RECEIVED $SINK_DROPS"

# --- an egress path next to XDP: on tc, exact, sharing a map with the XDP program -------------
start_sink a "$NS_A" "$IP_A" 5000
start_sink b "$NS_B" "$IP_B" 5001
assert_rc "egress: add both --type XDP_SKB" 0 dm add both --type XDP_SKB
assert_rc "egress: inject both Polycube paths (a map shared between them)" 0 \
	dm inject both "$EXTRA/shared_ingress_egress.json"
assert_rc "egress: attach to $VETH_A" 0 dm attach both "$VETH_A"
assert_eq "egress: the ingress path is the XDP program" "xdpgeneric dynmon_ingress" \
	"$(xdp_show "$NS_A" "$VETH_A")"
assert_eq "egress: the ingress path is not on tc" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
assert_match "egress: the egress path is a tc filter" "bpf" "$(tc_filters "$NS_A" "$VETH_A" egress)"
send_udp "$NS_B" "$IP_A" 5000 33
send_udp "$NS_A" "$IP_B" 5001 19
assert_eq "egress: 33 in on XDP, 19 out on tc, the shared map their sum" \
	"ingress-metrics: ingress_packets_total=[33] shared_packets_total=[52] | egress-metrics: egress_packets_total=[19] shared_packets_seen_from_egress_total=[52]" \
	"$(metrics_shape both)"
assert_rc "egress: del" 0 dm del both
assert_bare "egress: deleted" "$VETH_A"
stop_sink a
assert_eq "egress: the receiver in A got all 33" "33 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink b
assert_eq "egress: the receiver in B got all 19" "19 0" "$SINK_RECEIVED $SINK_DROPS"

# --- re-inject under traffic: no moment without the XDP program -------------------------------
# As e2e-reinject does for tc: a probe that passes datagrams to PASS_PORT and drops those to
# DROP_PORT, re-injected while B sends to both as fast as it can. A drop-port datagram reaching
# its receiver would show a moment without a probe; a lost pass-port one, a swap that dropped.
PASS_PORT=6000
DROP_PORT=6001
REINJECTS=10
cat >"$TMPD/pass-or-drop.c" <<EOF
#include <uapi/linux/if_ether.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/udp.h>

BPF_ARRAY(PASSED, u64, 1);
BPF_ARRAY(DROPPED, u64, 1);

static __always_inline
int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    struct udphdr *udp = (void *)(ip + 1);
    int key = 0;

    if ((void *)(udp + 1) > data_end || eth->h_proto != htons(ETH_P_IP) || ip->ihl != 5 ||
        ip->protocol != IPPROTO_UDP)
        return RX_OK;
    if (udp->dest == htons($PASS_PORT)) {
        PASSED.increment(key);
        return RX_OK;
    }
    if (udp->dest == htons($DROP_PORT)) {
        DROPPED.increment(key);
        return RX_DROP;
    }
    return RX_OK;
}
EOF
"$PY" "$E2E_DIR/mkconfig.py" --ingress "$TMPD/pass-or-drop.c" \
	--metric ingress:passed_total:PASSED --metric ingress:dropped_total:DROPPED \
	>"$TMPD/pass-or-drop.json"

for mode in XDP_SKB XDP_DRV; do
	must dm add swap --type "$mode"
	must dm inject swap "$TMPD/pass-or-drop.json"
	must dm attach swap "$VETH_A"
	start_sink pass "$NS_A" "$IP_A" $PASS_PORT
	start_sink drop "$NS_A" "$IP_A" $DROP_PORT
	send_udp "$NS_B" "$IP_A" $PASS_PORT 50
	send_udp "$NS_B" "$IP_A" $DROP_PORT 50
	assert_eq "$mode swap: the probe passes and counts (RX_OK)" "[50]" \
		"$(metric_value swap passed_total ingress)"
	assert_eq "$mode swap: the probe drops and counts (RX_DROP)" "[50]" \
		"$(metric_value swap dropped_total ingress)"

	start_flood "$PASS_PORT,$DROP_PORT"
	for ((i = 0; i < 100; i++)); do
		v=$(counter swap passed_total ingress)
		[[ $v =~ ^[0-9]+$ ]] && ((v > 1000)) && break
		sleep 0.05
	done
	ok=0
	for ((i = 1; i <= REINJECTS; i++)); do
		dm inject swap "$TMPD/pass-or-drop.json" >"$TMPD/inject.out" 2>&1 && ok=$((ok + 1))
		sleep 0.05
	done
	sleep 0.2
	kill -TERM "$SENDER"
	wait "$SENDER" || true
	BG_PIDS=()
	assert_eq "$mode swap: $REINJECTS re-injects under traffic succeeded" "$REINJECTS" "$ok"
	read -r sent_pass stopped_by < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["sent"][sys.argv[2]], r["stopped_by"])' "$TMPD/sender.json" $PASS_PORT)
	assert_eq "$mode swap: the traffic outlasted every re-inject" "signal" "$stopped_by"
	stop_sink pass
	assert_eq "$mode swap: no pass-port datagram lost across the swaps" \
		"$((sent_pass + 50))" "$((SINK_RECEIVED + SINK_DROPS))"
	stop_sink drop
	assert_eq "$mode swap: no drop-port datagram got through: never a moment without a probe" \
		"0" "$((SINK_RECEIVED + SINK_DROPS))"
	assert_eq "$mode swap: one XDP program on $VETH_A" "${SHOWN[$mode]} dynmon_ingress" \
		"$(xdp_show "$NS_A" "$VETH_A")"
	must dm del swap
done

# --- XDP_DRV where the driver cannot: NotSupported, nothing left ------------------------------
# A device without native XDP (no ndo_bpf): dummy, or a bridge where dummy is not built.
NOXDP=dm${E2E_ID}n
ip -n "$NS_A" link add "$NOXDP" type dummy 2>/dev/null ||
	ip -n "$NS_A" link add "$NOXDP" type bridge ||
	die "cannot create a dummy or bridge interface in $NS_A"
ip -n "$NS_A" link set "$NOXDP" up
assert_rc "no native XDP: add drv --type XDP_DRV" 0 dm add drv --type XDP_DRV
assert_rc "no native XDP: inject upstream's packet counter" 0 \
	dm inject drv "$UPSTREAM/v1.1/packet_counter.json"
DRV=$(monitor_path drv)
dbus_error "$DRV" $MONITOR_IF.Attach "$NOXDP"
assert_eq "no native XDP: Attach fails with NotSupported" "$ERR.NotSupported" "$DBUS_ERROR_NAME"
assert_match "no native XDP: the message names the interface and the mode" \
	"$NOXDP.*XDP_DRV" "$DBUS_ERROR_MESSAGE"
assert_rc "no native XDP: dynmonctl attach fails (exit 1)" 1 dm attach drv "$NOXDP"
assert_match "no native XDP: dynmonctl says why" "$NOXDP.*XDP_DRV" "$RUN_ERR"
assert_bare "no native XDP" "$NOXDP"
assert_eq "no native XDP: the monitor is not attached" "" "$(prop "$DRV" Interface)"
assert_rc "no native XDP: the same monitor still attaches to $VETH_A" 0 dm attach drv "$VETH_A"
assert_eq "no native XDP: ... in driver mode there" "xdp dynmon_ingress" \
	"$(xdp_show "$NS_A" "$VETH_A")"
assert_rc "no native XDP: del drv" 0 dm del drv
assert_bare "no native XDP: deleted" "$VETH_A"

# --- someone else's XDP program on the interface: Busy, and it stays --------------------------
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
declare -A FOREIGN=([xdpgeneric]=XDP_SKB [xdpdrv]=XDP_DRV)
for foreign in xdpgeneric xdpdrv; do
	ip -n "$NS_A" link set dev "$VETH_A" "$foreign" obj "$TMPD/foreign.o" sec xdp ||
		die "cannot attach the foreign program in $foreign mode"
	before=$(xdp_show "$NS_A" "$VETH_A")
	for mode in XDP_SKB XDP_DRV; do
		what="foreign $foreign program, $mode"
		must dm add busy --type "$mode"
		must dm inject busy "$UPSTREAM/v1.1/packet_counter.json"
		busy=$(monitor_path busy)
		dbus_error "$busy" $MONITOR_IF.Attach "$VETH_A"
		assert_eq "$what: Attach fails with Busy" "$ERR.Busy" "$DBUS_ERROR_NAME"
		assert_match "$what: the message names the interface" "$VETH_A" "$DBUS_ERROR_MESSAGE"
		assert_rc "$what: dynmonctl attach exits 7" 7 dm attach busy "$VETH_A"
		assert_eq "$what: the foreign program is still there" "$before" \
			"$(xdp_show "$NS_A" "$VETH_A")"
		assert_eq "$what: no filter left on ingress" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
		assert_no_match "$what: no clsact left" "clsact" "$(tc_qdiscs "$NS_A" "$VETH_A")"
		assert_eq "$what: the monitor is not attached" "" "$(prop "$busy" Interface)"
		must dm del busy
	done
	assert_eq "foreign $foreign program: shown as such" \
		"${SHOWN[${FOREIGN[$foreign]}]} foreign_pass" "$before"
	ip -n "$NS_A" link set dev "$VETH_A" "$foreign" off
done
assert_bare "the foreign programs removed" "$VETH_A"
