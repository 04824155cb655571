#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Polycube's own dataplanes run on dynmon unchanged: each of the six upstream example files
# (tests/data/polycube/v1.0 and v1.1, byte copies) is injected as it is, in TC mode, and counts a
# known mix of traffic exactly — every packet, exactly the NTP ones, exactly those of mode 7 —
# through `dynmonctl metrics` and OpenMetrics. Then both paths written in the Polycube dialect,
# with a map declared _SHARED on one and "extern" on the other; and a compile error in Polycube
# code, reported at the user's own line.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup

UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
EXTRA=$DYNMON_SOURCE_DIR/tests/data/polycube-extra

# --- the mix, sent from B to A ----------------------------------------------------------------
# NTP is what the upstream probes call NTP: UDP from or to port 123 (their only test). Mode is the
# low 3 bits of the first payload byte, read only when a whole 48-byte NTP header is there.
#
#   what                                          count  NTP  mode 7  lands on (in A)
#   mode 3 (client), ephemeral port -> 123          20    yes    -     sink ntp (123)
#   mode 4 (server), 123 -> 5123                    15    yes    -     sink reply (5123)
#   mode 7 (private), ephemeral port -> 123         12    yes   yes    sink ntp
#   mode 7, 123 -> 123: NTP once, not twice          5    yes   yes    sink ntp
#   mode 6 (control), ephemeral port -> 123          4    yes    -     sink ntp
#   mode 7 but a 10-byte header, -> 123              3    yes    -     sink ntp
#   mode 7 payload between ports that are not 123   6     -     -     sink other (5000)
#   other UDP, ephemeral port -> 5000               25     -     -     sink other
#   TCP SYN -> 123: not UDP, so not NTP              8     -     -     (A answers RST: egress)
MIX=(--ntp 3:0:123:20 --ntp 4:123:5123:15 --ntp 7:0:123:12 --ntp 7:123:123:5 --ntp 6:0:123:4
	--ntp 7:0:123:3:10 --ntp 7:0:5000:6 --udp 0:5000:25 --tcp 123:8)
MIX_ALL=98
MIX_NTP=59
MIX_MODE7=17
MIX_TO_SINK_NTP=44
MIX_TO_SINK_REPLY=15
MIX_TO_SINK_OTHER=31

start_sink ntp "$NS_A" "$IP_A" 123
start_sink reply "$NS_A" "$IP_A" 5123
start_sink other "$NS_A" "$IP_A" 5000

# The metrics each upstream example must show after one mix, in the daemon's order.
declare -A EXPECTED=(
	[packet_counter.json]="ingress-metrics: packets_total=[$MIX_ALL] | egress-metrics:"
	[ntp_packets_counter.json]="ingress-metrics: ntp_packets_total=[$MIX_NTP] | egress-metrics:"
	[ntp_packets_ntp_mode_private_counters.json]="ingress-metrics: ntp_packets_total=[$MIX_NTP] ntp_mode_private_packets_total=[$MIX_MODE7] | egress-metrics:"
)
NTP_LABELS='\{IP_PROTO="UDP",L4="NTP"\}'

# check_openmetrics NAME SAMPLE VALUE LABELS: the strict parser accepts the monitor's OpenMetrics
# and finds SAMPLE = VALUE; the sample's line carries exactly LABELS (an ERE, "" for none).
check_openmetrics() {
	local name=$1 sample=$2 value=$3 labels=$4 om
	om=$(dm open-metrics "$name")
	check "$name: OpenMetrics is valid and $sample = $value" \
		"$PY" "$E2E_DIR/omcheck.py" "$sample" "$value" <<<"$om"
	assert_match "$name: OpenMetrics line $sample${labels:+ with the upstream labels} $value" \
		"^$sample$labels $value(\.0)?( [0-9.]+)?\$" "$om"
}

# --- the six upstream files, unchanged, in TC mode --------------------------------------------
n=0
for version in v1.0 v1.1; do
	for file in packet_counter.json ntp_packets_counter.json \
		ntp_packets_ntp_mode_private_counters.json; do
		name=pc$((n++))
		what="$version/$file"
		assert_rc "$what: add $name (TC)" 0 dm add "$name" --type TC
		assert_rc "$what: inject the file as it is" 0 dm inject "$name" "$UPSTREAM/$what"
		assert_rc "$what: attach to $VETH_A" 0 dm attach "$name" "$VETH_A"
		assert_match "$what: a BPF filter on $VETH_A ingress" "bpf" \
			"$(tc_filters "$NS_A" "$VETH_A" ingress)"
		assert_eq "$what: no filter on $VETH_A egress (the egress path is empty)" "" \
			"$(tc_filters "$NS_A" "$VETH_A" egress)"

		send_ntp "$NS_B" "$IP_A" "${MIX[@]}"
		assert_eq "$what: dynmonctl metrics after the mix" "${EXPECTED[$file]}" \
			"$(metrics_shape "$name")"
		case $file in
		packet_counter.json)
			check_openmetrics "$name" packets_total "$MIX_ALL" ""
			;;
		ntp_packets_counter.json)
			check_openmetrics "$name" ntp_packets_total "$MIX_NTP" "$NTP_LABELS"
			;;
		ntp_packets_ntp_mode_private_counters.json)
			check_openmetrics "$name" ntp_packets_total "$MIX_NTP" "$NTP_LABELS"
			check_openmetrics "$name" ntp_mode_private_packets_total "$MIX_MODE7" \
				"$NTP_LABELS"
			;;
		esac

		# A second mix: the counters go on from where they were.
		send_ntp "$NS_B" "$IP_A" "${MIX[@]}"
		expected=${EXPECTED[$file]}
		expected=${expected//"[$MIX_ALL]"/"[$((2 * MIX_ALL))]"}
		expected=${expected//"[$MIX_NTP]"/"[$((2 * MIX_NTP))]"}
		expected=${expected//"[$MIX_MODE7]"/"[$((2 * MIX_MODE7))]"}
		assert_eq "$what: dynmonctl metrics after a second mix" "$expected" \
			"$(metrics_shape "$name")"

		assert_rc "$what: del $name" 0 dm del "$name"
		assert_eq "$what: no filter left on $VETH_A ingress" "" \
			"$(tc_filters "$NS_A" "$VETH_A" ingress)"
	done
done

# The probes are transparent: every datagram of the twelve mixes reached its receiver.
for sink in ntp reply other; do
	stop_sink "$sink"
	case $sink in
	ntp) want=$((12 * MIX_TO_SINK_NTP)) ;;
	reply) want=$((12 * MIX_TO_SINK_REPLY)) ;;
	other) want=$((12 * MIX_TO_SINK_OTHER)) ;;
	esac
	assert_eq "the receiver $sink got every datagram of the 12 mixes" "$want 0" \
		"$SINK_RECEIVED $SINK_DROPS"
done

# --- both paths in the Polycube dialect, one map shared between them --------------------------
# shared_ingress_egress.json: each path counts in its own array, and both in shared_total, which
# ingress declares BPF_TABLE_SHARED and egress BPF_TABLE("extern", ...). The egress path exposes
# the shared map under a metric of its own.
start_sink a "$NS_A" "$IP_A" 5000
start_sink b "$NS_B" "$IP_B" 5001
SHARED=$EXTRA/shared_ingress_egress.json
assert_rc "shared: add shm (TC)" 0 dm add shm
assert_rc "shared: inject both Polycube paths" 0 dm inject shm "$SHARED"
assert_rc "shared: attach to $VETH_A" 0 dm attach shm "$VETH_A"
assert_match "shared: a BPF filter on $VETH_A egress" "bpf" "$(tc_filters "$NS_A" "$VETH_A" egress)"
send_udp "$NS_B" "$IP_A" 5000 37
send_udp "$NS_A" "$IP_B" 5001 21
assert_eq "shared: 37 in, 21 out: each path its own count, the shared map their sum" \
	"ingress-metrics: ingress_packets_total=[37] shared_packets_total=[58] | egress-metrics: egress_packets_total=[21] shared_packets_seen_from_egress_total=[58]" \
	"$(metrics_shape shm)"
send_udp "$NS_A" "$IP_B" 5001 4
assert_eq "shared: 4 more out: only egress and the shared map move" \
	"ingress-metrics: ingress_packets_total=[37] shared_packets_total=[62] | egress-metrics: egress_packets_total=[25] shared_packets_seen_from_egress_total=[62]" \
	"$(metrics_shape shm)"
check_openmetrics shm shared_packets_total 62 ""
check_openmetrics shm shared_packets_seen_from_egress_total 62 ""
check_openmetrics shm egress_packets_total 25 ""
assert_rc "shared: del shm" 0 dm del shm
stop_sink a
assert_eq "shared: the receiver in A got all 37" "37 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink b
assert_eq "shared: the receiver in B got all 25" "25 0" "$SINK_RECEIVED $SINK_DROPS"

# --- a compile error is reported at the user's own line ---------------------------------------
# The upstream file with one bad line put in after the counter's increment: the translation adds
# code around the user's, and CRLF line ends, BPF_ARRAY() and .lookup() are rewritten, yet the
# compiler must name the line as the user wrote it.
assert_rc "compile error: add bad" 0 dm add bad
for version in v1.0 v1.1; do
	line=$("$PY" "$E2E_DIR/breakcode.py" "$UPSTREAM/$version/ntp_packets_counter.json" ingress \
		"*ntp_pckts_counter+=1;" "$TMPD/broken.json")
	assert_rc "compile error ($version, ingress): dynmonctl inject exits 3" 3 \
		dm inject bad "$TMPD/broken.json"
	assert_match "compile error ($version, ingress): the diagnostic names ingress.bpf.c:$line" \
		"ingress\.bpf\.c:$line:[0-9]+: error: .*this_identifier_is_not_declared" "$RUN_ERR"
done
line=$("$PY" "$E2E_DIR/breakcode.py" "$SHARED" egress "lock_xadd(own, 1);" "$TMPD/broken.json")
assert_rc "compile error (egress): dynmonctl inject exits 3" 3 dm inject bad "$TMPD/broken.json"
assert_match "compile error (egress): the diagnostic names egress.bpf.c:$line" \
	"egress\.bpf\.c:$line:[0-9]+: error: .*this_identifier_is_not_declared" "$RUN_ERR"
assert_rc "compile error: del bad" 0 dm del bad
