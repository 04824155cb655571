#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A probe is transparent: it lets every packet go on to the next tc filter on the same hook, as if
# it were not there (its programs return DYNMON_PASS, TC_ACT_UNSPEC). The test puts a filter of its
# own after dynmon's, on ingress and on egress, sends exact traffic and shows that both saw every
# packet; then that detaching dynmon takes only dynmon's filters away, and keeps the clsact qdisc
# that dynmon created because a filter that is not dynmon's still lives in it.
#
# The test's own filter is a cls_bpf program in direct-action mode that counts packets in an array
# map and returns TC_ACT_OK (matchall and gact are not in every kernel; cls_bpf is, since dynmon
# needs it). It runs after dynmon's filter: dynmon's monitors take prefs 2..98 (the first one
# 50), ours is at pref 100.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

for tool in clang bpftool; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
e2e_setup
start_sink a "$NS_A" "$IP_A" 5000 # B -> A lands here
start_sink b "$NS_B" "$IP_B" 5001 # A -> B lands here

OUR_PREF=100
cat >"$TMPD/second.c" <<'EOF'
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* The filter after dynmon's: counts what reaches it, and accepts it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} SEEN SEC(".maps");

SEC("tc")
int second(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *seen = bpf_map_lookup_elem(&SEEN, &key);

	if (seen)
		__sync_fetch_and_add(seen, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
EOF
MULTIARCH=$(clang -print-multiarch 2>/dev/null || true)
must clang -O2 -g -target bpf ${MULTIARCH:+-idirafter "/usr/include/$MULTIARCH"} \
	-c "$TMPD/second.c" -o "$TMPD/second.o"

# add_ours DIRECTION: the test's own counting filter on VETH_A, after dynmon's.
add_ours() {
	must ip netns exec "$NS_A" tc filter add dev "$VETH_A" "$1" pref "$OUR_PREF" \
		bpf direct-action obj "$TMPD/second.o" sec tc
}

# filters DIRECTION: the filters on VETH_A, one line each: "pref kind handle".
filters() {
	ip netns exec "$NS_A" tc -j filter show dev "$VETH_A" "$1" | "$PY" -c '
import json, sys
for f in json.load(sys.stdin):
    if "options" in f:
        print(f["pref"], f["kind"], f["options"].get("handle", "-"))'
}

# seen DIRECTION: what the test's own filter on that hook counted, from its map.
seen() {
	local prog map
	prog=$(ip netns exec "$NS_A" tc -j filter show dev "$VETH_A" "$1" | "$PY" -c '
import json, sys
print(*[f["options"]["prog"]["id"] for f in json.load(sys.stdin)
        if f.get("pref") == int(sys.argv[1]) and "options" in f])' "$OUR_PREF") || true
	[[ $prog =~ ^[0-9]+$ ]] || {
		echo "<no filter of ours on $1>"
		return 0
	}
	map=$(bpftool -j prog show id "$prog" | "$PY" -c 'import json, sys
print(json.load(sys.stdin)["map_ids"][0])')
	bpftool -j map lookup id "$map" key 0 0 0 0 | "$PY" -c 'import json, sys
print(json.load(sys.stdin)["formatted"]["value"])'
}

has_clsact() {
	if tc_qdiscs "$NS_A" "$VETH_A" | grep -q '^qdisc clsact '; then echo yes; else echo no; fi
}

DYNMON_FILTER="50 bpf 0xd7"
OUR_FILTER="$OUR_PREF bpf 0x1"

# --- ingress: dynmon's probe, then ours -------------------------------------------------------
assert_eq "$VETH_A has no clsact qdisc before dynmon attaches" no "$(has_clsact)"
must dm add mon0
must dm inject mon0 "$EXAMPLES/packet_counter.json"
must dm attach mon0 "$VETH_A"
assert_eq "dynmon created the clsact qdisc of $VETH_A" yes "$(has_clsact)"
add_ours ingress
assert_eq "ingress: dynmon's filter at pref 50 (handle 0xd7), then ours at pref $OUR_PREF" \
	"$DYNMON_FILTER"$'\n'"$OUR_FILTER" "$(filters ingress)"
assert_eq "ingress: our filter has seen nothing yet" 0 "$(seen ingress)"

send_udp "$NS_B" "$IP_A" 5000 50
assert_eq "ingress: dynmon counted the 50 packets B->A" "[50]" \
	"$(metric_value mon0 packets_total ingress)"
assert_eq "ingress: the filter after dynmon's saw the same 50 packets" 50 "$(seen ingress)"

# --- egress too, with the ingress+egress counter ----------------------------------------------
must dm inject mon0 "$EXAMPLES/ingress_egress_counter.json"
add_ours egress
assert_eq "egress: dynmon's filter at pref 50 (handle 0xd7), then ours at pref $OUR_PREF" \
	"$DYNMON_FILTER"$'\n'"$OUR_FILTER" "$(filters egress)"
assert_eq "ingress: re-injecting left our filter in place, after dynmon's" \
	"$DYNMON_FILTER"$'\n'"$OUR_FILTER" "$(filters ingress)"

send_udp "$NS_A" "$IP_B" 5001 40
assert_eq "egress: dynmon counted the 40 packets A->B" "[40]" \
	"$(metric_value mon0 egress_packets_total egress)"
assert_eq "egress: the filter after dynmon's saw the same 40 packets" 40 "$(seen egress)"
send_udp "$NS_B" "$IP_A" 5000 30
assert_eq "ingress: the new dataplane counted the 30 packets B->A" "[30]" \
	"$(metric_value mon0 ingress_packets_total ingress)"
assert_eq "ingress: the filter after dynmon's saw them too (50 + 30)" 80 "$(seen ingress)"
assert_eq "egress: B->A traffic did not touch the egress filters" "[40] 40" \
	"$(metric_value mon0 egress_packets_total egress) $(seen egress)"

# --- detach: dynmon's filters go, ours and the clsact stay -------------------------------------
# dynmon created the clsact, but a filter that is not dynmon's lives in it now: it must stay.
must dm detach mon0
assert_eq "after detach: only our filter is left on ingress" "$OUR_FILTER" "$(filters ingress)"
assert_eq "after detach: only our filter is left on egress" "$OUR_FILTER" "$(filters egress)"
assert_eq "after detach: the clsact qdisc is still there (our filters live in it)" yes \
	"$(has_clsact)"

send_udp "$NS_B" "$IP_A" 5000 20
send_udp "$NS_A" "$IP_B" 5001 10
assert_eq "after detach: our ingress filter still counts (80 + 20)" 100 "$(seen ingress)"
assert_eq "after detach: our egress filter still counts (40 + 10)" 50 "$(seen egress)"
assert_eq "after detach: mon0 counts nothing more" "[30] [40]" \
	"$(metric_value mon0 ingress_packets_total ingress) $(metric_value mon0 egress_packets_total egress)"

# Deleting the monitor does not touch them either.
must dm del mon0
assert_eq "after del: our filters and the clsact are still there" \
	"$OUR_FILTER|$OUR_FILTER|yes" "$(filters ingress)|$(filters egress)|$(has_clsact)"

stop_sink a
assert_eq "B->A: the receiver got all 100 (50 + 30 + 20)" "100 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink b
assert_eq "A->B: the receiver got all 50 (40 + 10)" "50 0" "$SINK_RECEIVED $SINK_DROPS"
