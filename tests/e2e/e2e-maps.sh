#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every map type dynmon extracts, filled by a real dataplane from real packets and read back
# exactly: hash, percpu_hash, lru_hash, lru_percpu_hash, array, percpu_array, queue, stack, one
# metric each, in one Polycube-dialect program. Then the same with empty-on-read on every
# metric: a read returns the values and leaves the map empty (arrays zeroed, hashes without
# entries, queues and stacks drained), and what comes next is counted from zero. Without
# empty-on-read, reading changes nothing, queues and stacks included (they can only be read
# by popping: the daemon must push back what it popped, in order).
#
# Per-CPU values: which CPU counted a packet is the scheduler's business, so a per-CPU value is
# checked as {"cpus": N, "sum": S}: one value per possible CPU, and their sum.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
command -v bpftool >/dev/null || die "missing tool: bpftool"

e2e_setup

# possible_cpus: how many CPUs the kernel may ever bring up (per-CPU maps hold one value each).
possible_cpus() {
	local range first last n=0
	IFS=, read -ra ranges </sys/devices/system/cpu/possible
	for range in "${ranges[@]}"; do
		first=${range%-*} last=${range#*-}
		n=$((n + last - first + 1))
	done
	echo "$n"
}
NCPUS=$(possible_cpus)

BASE_PORT=7000
PORTS=(7000 7001 7002 7003) # the program counts UDP to these only; 7002 is never sent to
cat >"$TMPD/maps.c" <<EOF
#include <uapi/linux/if_ether.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/udp.h>

/* UDP to ports BASE_PORT .. BASE_PORT + N_PORTS - 1 only. */
#define BASE_PORT $BASE_PORT
#define N_PORTS ${#PORTS[@]}

BPF_HASH(HASH, u16, u64, 16);                                /* packets per port */
BPF_PERCPU_HASH(PERCPU_HASH, u16, u64, 16);                  /* packets per port */
BPF_TABLE("lru_hash", u16, u64, LRU_HASH, 16);               /* bytes per port */
BPF_TABLE("lru_percpu_hash", u16, u64, LRU_PERCPU_HASH, 16); /* bytes per port */
BPF_ARRAY(ARRAY, u64, N_PORTS);                              /* packets, by port - BASE_PORT */
BPF_PERCPU_ARRAY(PERCPU_ARRAY, u64, N_PORTS);                /* bytes, by port - BASE_PORT */
BPF_QUEUE(QUEUE, u32, 32);                                   /* frame lengths, in order */
BPF_STACK(STACK, u32, 32);                                   /* frame lengths, in order */

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	u32 len = md->packet_len;
	u64 zero = 0, *v;
	u16 port;
	int index;

	if ((void *)(udp + 1) > data_end || eth->h_proto != htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP)
		return RX_OK;
	port = ntohs(udp->dest);
	if (port < BASE_PORT || port >= BASE_PORT + N_PORTS)
		return RX_OK;
	index = port - BASE_PORT;

	HASH.atomic_increment(port);
	v = PERCPU_HASH.lookup_or_try_init(&port, &zero);
	if (v)
		*v += 1;
	LRU_HASH.atomic_increment(port, len);
	v = LRU_PERCPU_HASH.lookup_or_try_init(&port, &zero);
	if (v)
		*v += len;
	v = ARRAY.lookup(&index);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = PERCPU_ARRAY.lookup(&index);
	if (v)
		*v += len;
	QUEUE.push(&len, 0);
	STACK.push(&len, 0);
	return RX_OK;
}
EOF

# The metrics: name, map, and how metriccanon.py makes the value comparable.
METRICS=(hash:HASH:hash percpu_hash:PERCPU_HASH:percpu-hash lru_hash:LRU_HASH:hash
	lru_percpu_hash:LRU_PERCPU_HASH:percpu-hash array:ARRAY:plain
	percpu_array:PERCPU_ARRAY:percpu-array queue:QUEUE:plain stack:STACK:plain)

# mkconfig EMPTY_ON_READ: the configuration, every metric with that empty-on-read.
mkconfig() {
	"$PY" - "$TMPD/maps.c" "$1" "${METRICS[@]}" <<'EOF'
import json, sys
code = open(sys.argv[1]).read()
empty = sys.argv[2] == "true"
metrics = [{"name": m.split(":")[0], "map-name": m.split(":")[1],
            "extraction-options": {"empty-on-read": empty},
            "open-metrics-metadata": {"help": "map " + m.split(":")[1], "type": "gauge",
                                      "labels": []}} for m in sys.argv[3:]]
json.dump({"ingress-path": {"name": "every map type", "code": code, "metric-configs": metrics},
           "egress-path": {}}, sys.stdout, indent=4)
EOF
}
mkconfig false >"$TMPD/maps.json"
mkconfig true >"$TMPD/maps-empty.json"

# ---------------------------------------------------------------------------------------------
# What the maps must hold: a model of the traffic sent since the maps were last emptied.

declare -A PACKETS=() BYTES=()
FRAMES=() # frame lengths, in the order they were sent

model_reset() {
	PACKETS=() BYTES=() FRAMES=()
}

# send PORT:PAYLOAD...: sends the datagrams in this order from B to A, and models them. Returns
# once each port's sink has them all (so the probe has seen them too), checking that.
send() {
	local ports=() sizes=() pair port payload
	declare -A batch=()
	for pair in "$@"; do
		port=${pair%:*} payload=${pair#*:}
		ports+=("$port") sizes+=("$payload")
		batch[$port]=$((${batch[$port]:-0} + 1))
		PACKETS[$port]=$((${PACKETS[$port]:-0} + 1))
		BYTES[$port]=$((${BYTES[$port]:-0} + $(frame_len "$payload")))
		FRAMES+=("$(frame_len "$payload")")
	done
	send_udp_mix "$NS_B" "$IP_A" "$(IFS=,; echo "${ports[*]}")" "$(IFS=,; echo "${sizes[*]}")" $#
	for port in "${!batch[@]}"; do
		stop_sink "$port"
		assert_eq "the probe let all ${batch[$port]} datagrams to port $port through" \
			"${batch[$port]} 0" "$SINK_RECEIVED $SINK_DROPS"
		start_sink "$port" "$NS_A" "$IP_A" "$port"
	done
}

percpu() { printf '{"cpus":%s,"sum":%s}' "$NCPUS" "$1"; }

# hash_of COUNTS-ARRAY [percpu]: the expected hash metric, entries sorted by key.
hash_of() {
	local -n counts=$1
	local port entries=()
	for port in "${PORTS[@]}"; do
		[[ -n ${counts[$port]:-} ]] || continue
		if [[ ${2:-} == percpu ]]; then
			entries+=("{\"key\":$port,\"value\":$(percpu "${counts[$port]}")}")
		else
			entries+=("{\"key\":$port,\"value\":${counts[$port]}}")
		fi
	done
	(IFS=,; echo "[${entries[*]}]")
}

# array_of COUNTS-ARRAY [percpu]: the expected array metric, one element per port.
array_of() {
	local -n counts=$1
	local port elements=()
	for port in "${PORTS[@]}"; do
		if [[ ${2:-} == percpu ]]; then
			elements+=("$(percpu "${counts[$port]:-0}")")
		else
			elements+=("${counts[$port]:-0}")
		fi
	done
	(IFS=,; echo "[${elements[*]}]")
}

expected() {
	local i reversed=()
	for ((i = ${#FRAMES[@]} - 1; i >= 0; i--)); do
		reversed+=("${FRAMES[i]}")
	done
	case $1 in
	hash) hash_of PACKETS ;;
	percpu_hash) hash_of PACKETS percpu ;;
	lru_hash) hash_of BYTES ;;
	lru_percpu_hash) hash_of BYTES percpu ;;
	array) array_of PACKETS ;;
	percpu_array) array_of BYTES percpu ;;
	queue) (IFS=,; echo "[${FRAMES[*]}]") ;;    # pop order: first in, first out
	stack) (IFS=,; echo "[${reversed[*]}]") ;; # pop order: last in, first out
	esac
}

# om_expected: the OpenMetrics samples (as omsamples.py prints them): per-CPU values summed,
# hash entries labelled by key, the elements of arrays, queues and stacks by index (pop order).
om_expected() {
	local port i
	for port in "${PORTS[@]}"; do
		[[ -n ${PACKETS[$port]:-} ]] || continue
		echo "hash{key=\"$port\"} ${PACKETS[$port]} gauge"
		echo "percpu_hash{key=\"$port\"} ${PACKETS[$port]} gauge"
		echo "lru_hash{key=\"$port\"} ${BYTES[$port]} gauge"
		echo "lru_percpu_hash{key=\"$port\"} ${BYTES[$port]} gauge"
	done
	for i in "${!PORTS[@]}"; do
		echo "array{index=\"$i\"} ${PACKETS[${PORTS[i]}]:-0} gauge"
		echo "percpu_array{index=\"$i\"} ${BYTES[${PORTS[i]}]:-0} gauge"
	done
	for i in "${!FRAMES[@]}"; do
		echo "queue{index=\"$i\"} ${FRAMES[i]} gauge"
		echo "stack{index=\"$i\"} ${FRAMES[${#FRAMES[@]} - 1 - i]} gauge"
	done
}

# check_read WHAT: one `dynmonctl metrics` read; every metric as the model says.
check_read() {
	local json spec name shape
	json=$(dm metrics maps) || json="<dynmonctl metrics failed>"
	for spec in "${METRICS[@]}"; do
		name=${spec%%:*} shape=${spec##*:}
		assert_eq "$1: $name" "$(expected "$name")" \
			"$(metric_canon "$json" ingress "$name" "$shape")"
	done
}

for port in 7000 7001 7003; do
	start_sink "$port" "$NS_A" "$IP_A" "$port"
done

# --- without empty-on-read: reading changes nothing -------------------------------------------
assert_rc "add maps" 0 dm add maps
assert_rc "inject the every-map-type probe" 0 dm inject maps "$TMPD/maps.json"
assert_rc "attach it to $VETH_A" 0 dm attach maps "$VETH_A"
model_reset
check_read "before any packet, empty maps (arrays of zeros)"
send 7000:100 7001:200 7000:300 7003:400 7001:500 7000:600
check_read "after 6 datagrams"
check_read "read again right away: the same"

# The plain array is read through memory (service/kernel/mapped.h), the reads above counting
# exactly through it: dynmon creates it mappable (BPF_F_MMAPABLE, 0x400); the per-CPU array
# and the other types stay as the code declares them.
# map_flags NAME: the flags of the monitor's map NAME, from its pin.
map_flags() {
	local pin
	pin=$(find "$PIN_DIR" -path "*/ingress/$1" -print -quit)
	[[ -n $pin ]] || fail "map $1 is pinned" "no pin named $1 under $PIN_DIR"
	bpftool -j map show pinned "$pin" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["flags"])'
}
assert_eq "the plain array is created mappable" 1024 "$(($(map_flags ARRAY) & 1024))"
for map in PERCPU_ARRAY HASH QUEUE; do
	assert_eq "$map is left as declared" 0 "$(($(map_flags "$map") & 1024))"
done
send 7003:50 7000:60 7001:70 7003:80 7000:90
check_read "after 5 more: added to what was there (queue and stack in order)"
check_read "and read again: the same"
run dm open-metrics maps
assert_eq "OpenMetrics: every map's samples (strict parser)" "$(om_expected | sort)" \
	"$("$PY" "$E2E_DIR/omsamples.py" <<<"$RUN_OUT")"
check_read "reading OpenMetrics changed nothing either"

# --- empty-on-read: a read empties, and counting starts again from zero -----------------------
# Re-injecting makes new maps: the model starts from empty too.
assert_rc "re-inject with empty-on-read on every metric" 0 dm inject maps "$TMPD/maps-empty.json"
model_reset
send 7000:100 7001:200 7000:300 7003:400 7001:500 7000:600
check_read "empty-on-read, first read: the values"
model_reset
check_read "empty-on-read, second read right after: emptied (arrays zeroed)"
send 7001:10 7003:20 7001:30
check_read "empty-on-read, after 3 more: only those"
model_reset
check_read "empty-on-read, and read again: emptied"

assert_rc "del maps" 0 dm del maps
