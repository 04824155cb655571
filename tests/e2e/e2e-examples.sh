#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dynmon's own examples, as a user runs them: each examples/*.json is injected unchanged,
# attached to a veth, and checked exactly against traffic the test makes (UDP of chosen sizes
# from two source addresses and both directions, ICMP echo, refused TCP connections). Bytes are
# what a probe at tc sees: skb->len, the Ethernet frame without its FCS.
#
# First, the examples cannot drift from their readable sources (examples/src) or go
# undocumented (examples/README.md).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

command -v ping >/dev/null || die "missing tool: ping (run data/install-deps.sh)"
e2e_setup

# A second source address on B's side, for the top talkers.
IP_B2=192.0.2.3
add_address "$NS_B" "$VETH_B" "$IP_B2" "$NS_A" "$VETH_A" "$MAC_B"
# A SYN's size depends on its options (MSS 4, SACK-permitted 2, timestamps 10, NOP 1, window
# scale 3 bytes: a 40-byte TCP header); these are the kernel's defaults, pinned here.
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=1 \
	net.ipv4.tcp_window_scaling=1
SYN_FRAME=$((14 + 20 + 40))
RST_FRAME=$((14 + 20 + 20))
# ping's default 56 bytes of data; an ICMP echo header is 8 bytes, like a UDP header.
ICMP_FRAME=$(frame_len 56)

start_sink a "$NS_A" "$IP_A" 5000 # B -> A lands here, from both of B's addresses
start_sink b "$NS_B" "$IP_B" 5001 # A -> B lands here
CLOSED_PORT=5999                  # nothing listens there: a SYN gets a RST

# --- the examples are what their sources give, and each one is documented ---------------------
check "examples/*.json are what examples/src/*.in.json and their code give" \
	"$PY" "$EXAMPLES/src/mkexamples.py" --check
readme=$(<"$EXAMPLES/README.md")
for f in "$EXAMPLES"/*.json; do
	assert_match "examples/README.md has a section on $(basename "$f")" \
		"^## .*$(basename "$f")" "$readme"
done

# use_example FILE: the monitor "ex", new, running examples/FILE on VETH_A.
use_example() {
	run dm del ex
	assert_rc "add ex for $1" 0 dm add ex
	assert_rc "inject $1 unchanged" 0 dm inject ex "$EXAMPLES/$1"
	assert_rc "attach $1 to $VETH_A" 0 dm attach ex "$VETH_A"
}

# delivered KEY N: the sink KEY received N datagrams since it started, and starts again. Called
# before metrics are read: what a sink has, the probe has seen.
delivered() {
	local key=$1 ns ip port
	case $key in
	a) ns=$NS_A ip=$IP_A port=5000 ;;
	b) ns=$NS_B ip=$IP_B port=5001 ;;
	esac
	stop_sink "$key"
	assert_eq "the probe let all $2 datagrams through to sink $key" "$2 0" \
		"$SINK_RECEIVED $SINK_DROPS"
	start_sink "$key" "$ns" "$ip" "$port"
}

# stats KEY PACKETS BYTES: one entry of a {packets, bytes} hash, as the daemon prints it.
stats() { printf '{"key":%s,"value":{"packets":%s,"bytes":%s}}' "$1" "$2" "$3"; }

# --- protocol_counter.json: packets and bytes per IP protocol, both directions ----------------
use_example protocol_counter.json
send_udp_mix "$NS_B" "$IP_A" 5000 100 5
send_udp_mix "$NS_B" "$IP_A" 5000 1000 3
send_udp_mix "$NS_A" "$IP_B" 5001 50 4
must ip netns exec "$NS_B" ping -q -n -c 3 -i 0.05 -W 2 "$IP_A"
must ip netns exec "$NS_B" "$PY" "$E2E_DIR/udpmix.py" tcp-refused --dst "$IP_A" \
	--port "$CLOSED_PORT" --count 2
delivered a 8
delivered b 4
json=$(dm metrics ex)
# Ingress: 3 echo requests, 2 SYNs, 5 + 3 datagrams. Egress: 3 replies, 2 RSTs, 4 datagrams.
assert_eq "protocol_counter: ingress ICMP, TCP and UDP packets and bytes" \
	"[$(stats 1 3 $((3 * ICMP_FRAME))),$(stats 6 2 $((2 * SYN_FRAME))),$(stats 17 8 \
		$((5 * $(frame_len 100) + 3 * $(frame_len 1000))))]" \
	"$(metric_canon "$json" ingress ingress_protocols hash)"
assert_eq "protocol_counter: egress ICMP, TCP and UDP packets and bytes" \
	"[$(stats 1 3 $((3 * ICMP_FRAME))),$(stats 6 2 $((2 * RST_FRAME))),$(stats 17 4 \
		$((4 * $(frame_len 50))))]" \
	"$(metric_canon "$json" egress egress_protocols hash)"

# --- top_talkers.json: packets and bytes per IPv4 source --------------------------------------
use_example top_talkers.json
send_udp_mix "$NS_B" "$IP_A" 5000 200 6 "$IP_B"
send_udp_mix "$NS_B" "$IP_A" 5000 300,1472 5 "$IP_B2" # 300, 1472, 300, 1472, 300
send_udp_mix "$NS_A" "$IP_B" 5001 100 3               # egress: not a talker here
delivered a 11
delivered b 3
json=$(dm metrics ex)
assert_eq "top_talkers: one entry per source address, keyed by the address in host order" \
	"[$(stats "$(ip_number "$IP_B")" 6 $((6 * $(frame_len 200)))),$(stats \
		"$(ip_number "$IP_B2")" 5 $((3 * $(frame_len 300) + 2 * $(frame_len 1472))))]" \
	"$(metric_canon "$json" ingress talkers hash)"

# --- ingress_egress_bytes.json: bytes in, bytes out, and a total both paths share -------------
use_example ingress_egress_bytes.json
send_udp_mix "$NS_B" "$IP_A" 5000 100 7
send_udp_mix "$NS_A" "$IP_B" 5001 400 5
bytes_in=$((7 * $(frame_len 100)))
bytes_out=$((5 * $(frame_len 400)))
delivered a 7
delivered b 5
json=$(dm metrics ex)
assert_eq "ingress_egress_bytes: ingress_bytes_total" "[$bytes_in]" \
	"$(metric_canon "$json" ingress ingress_bytes_total)"
assert_eq "ingress_egress_bytes: egress_bytes_total" "[$bytes_out]" \
	"$(metric_canon "$json" egress egress_bytes_total)"
assert_eq "ingress_egress_bytes: bytes_total, shared by both paths, is their sum" \
	"[$((bytes_in + bytes_out))]" "$(metric_canon "$json" ingress bytes_total)"
run dm open-metrics ex
assert_eq "ingress_egress_bytes: the three counters in OpenMetrics (strict parser)" \
	"$(printf '%s\n' "bytes_total{} $((bytes_in + bytes_out)) counter" \
		"egress_bytes_total{} $bytes_out counter" "ingress_bytes_total{} $bytes_in counter")" \
	"$("$PY" "$E2E_DIR/omsamples.py" <<<"$RUN_OUT")"

# --- packet_sizes.json (libbpf dialect): packets per frame-size bucket, both directions ---------
# The buckets, as examples/src/packet_sizes.bpf.c and the README describe them.
size_bucket() {
	local len=$1 i=0 limit
	for limit in 64 128 256 512 1024 1500; do
		((len < limit)) && break
		i=$((i + 1))
	done
	echo "$i"
}

# send_sizes NS DST PORT DIRECTION PAYLOAD:COUNT...: sends the mix, and adds it to the expected
# histogram HIST[DIRECTION:BUCKET] and to SENT[DIRECTION].
declare -A HIST=() SENT=()
send_sizes() {
	local ns=$1 dst=$2 port=$3 dir=$4 spec payload count b
	shift 4
	for spec in "$@"; do
		payload=${spec%:*} count=${spec#*:}
		send_udp_mix "$ns" "$dst" "$port" "$payload" "$count"
		b=$(size_bucket "$(frame_len "$payload")")
		HIST[$dir:$b]=$((${HIST[$dir:$b]:-0} + count))
		SENT[$dir]=$((${SENT[$dir]:-0} + count))
	done
}

# hist_json DIRECTION, hist_om DIRECTION: the expected metric, as JSON and as OpenMetrics.
hist_json() {
	local b counts=()
	for b in 0 1 2 3 4 5 6; do
		counts+=("${HIST[$1:$b]:-0}")
	done
	(IFS=,; echo "[${counts[*]}]")
}
hist_om() {
	local b
	for b in 0 1 2 3 4 5 6; do
		echo "$1_packet_sizes_total{index=\"$b\"} ${HIST[$1:$b]:-0} counter"
	done
}

use_example packet_sizes.json
# Each bucket's edges: frames of 63 and 64, 127 and 128, ... 1499 and 1500 bytes, and the
# largest frame MTU 1500 allows (1514); each bucket gets a different count.
send_sizes "$NS_B" "$IP_A" 5000 ingress 10:1 21:1 22:2 85:1 86:1 213:2 214:3 469:1 470:1 \
	981:4 982:2 1457:4 1458:3 1472:4
assert_eq "packet_sizes: the ingress mix fills every bucket differently" "[2,3,3,4,5,6,7]" \
	"$(hist_json ingress)"
send_sizes "$NS_A" "$IP_B" 5001 egress 30:3 600:2 1472:1
delivered a "${SENT[ingress]}"
delivered b "${SENT[egress]}"
json=$(dm metrics ex)
assert_eq "packet_sizes: ingress_packet_sizes, packets per bucket" "$(hist_json ingress)" \
	"$(metric_canon "$json" ingress ingress_packet_sizes)"
assert_eq "packet_sizes: egress_packet_sizes, packets per bucket" "$(hist_json egress)" \
	"$(metric_canon "$json" egress egress_packet_sizes)"
run dm open-metrics ex
assert_eq "packet_sizes: one OpenMetrics sample per bucket, labelled by its index" \
	"$( (hist_om ingress && hist_om egress) | sort)" \
	"$("$PY" "$E2E_DIR/omsamples.py" <<<"$RUN_OUT")"

assert_rc "del ex" 0 dm del ex
