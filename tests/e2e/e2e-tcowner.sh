#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dynmon never replaces or deletes a tc filter it did not put there (issue 10, F9): another
# owner's BPF filter at dynmon's usual place (priority 1, handle 0xd7) stays through attach,
# re-inject, detach, a restart and delete; dynmon's filter goes to a free place beside it, and a
# filter someone put at dynmon's place in its stead is left alone too.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

# The other owner: a filter that lets every packet go on to the next one.
cat >"$TMPD/foreign.bpf.c" <<'EOF2'
#include <linux/bpf.h>
__attribute__((section("tc"), used)) int foreign(struct __sk_buff *skb) { return -1; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
EOF2
clang -O2 -g -target bpf -idirafter /usr/include/x86_64-linux-gnu \
	-c "$TMPD/foreign.bpf.c" -o "$TMPD/foreign.bpf.o" || die "cannot build the foreign filter"
tcx() { ip netns exec "$NS_A" tc "$@"; }
tcx qdisc add dev "$VETH_A" clsact
tcx filter add dev "$VETH_A" ingress prio 1 handle 0xd7 bpf da obj "$TMPD/foreign.bpf.o" sec tc
# filter_id PRIO HANDLE: the id of the program of the filter there ("" if none).
filter_id() {
	tcx filter show dev "$VETH_A" ingress | grep -E "pref $1 .*handle $2 " |
		sed -n 's/.* id \([0-9]*\).*/\1/p' | head -n 1
}
FOREIGN_ID=$(filter_id 1 0xd7)
check "the foreign filter is at 1/0xd7" test -n "$FOREIGN_ID"
n_filters() { tcx filter show dev "$VETH_A" ingress | grep -c ' id '; }

must dm add mon0
must dm inject mon0 "$EXAMPLES/packet_counter.json"
must dm attach mon0 "$VETH_A"
assert_eq "attach: the foreign filter is still at 1/0xd7, running its program" "$FOREIGN_ID" \
	"$(filter_id 1 0xd7)"
assert_eq "attach: dynmon's filter is beside it" 2 "$(n_filters)"
send_udp "$NS_B" "$IP_A" 5000 10
assert_eq "attach: mon0 counts behind the foreign filter" "[10]" \
	"$(metric_value mon0 packets_total ingress)"

must dm inject mon0 "$EXAMPLES/packet_counter.json"
assert_eq "re-inject: the foreign filter stays" "$FOREIGN_ID" "$(filter_id 1 0xd7)"
assert_eq "re-inject: ours replaced in place, not added" 2 "$(n_filters)"

e2e_daemon_restart term
assert_eq "restart: the foreign filter stays" "$FOREIGN_ID" "$(filter_id 1 0xd7)"
assert_eq "restart: ours adopted in place, not added" 2 "$(n_filters)"
send_udp "$NS_B" "$IP_A" 5000 10
assert_eq "restart: mon0 counts on" "[10]" "$(metric_value mon0 packets_total ingress)"

must dm detach mon0
assert_eq "detach: the foreign filter stays" "$FOREIGN_ID" "$(filter_id 1 0xd7)"
assert_eq "detach: only ours went" 1 "$(n_filters)"

# Someone puts their filter at dynmon's place in its stead: detach leaves it.
must dm attach mon0 "$VETH_A"
OURS=$(tcx filter show dev "$VETH_A" ingress | grep ' id ' | grep -v "id $FOREIGN_ID " |
	sed -n 's/.*pref \([0-9]*\) .*handle \(0x[0-9a-f]*\) .*/\1 \2/p' | head -n 1)
check "dynmon's place is known ($OURS)" test -n "$OURS"
read -r PRIO HANDLE <<<"$OURS"
tcx filter replace dev "$VETH_A" ingress prio "$PRIO" handle "$HANDLE" bpf da \
	obj "$TMPD/foreign.bpf.o" sec tc
TAKEN_ID=$(filter_id "$PRIO" "$HANDLE")
must dm detach mon0
assert_eq "detach after a takeover: the new owner's filter stays" "$TAKEN_ID" \
	"$(filter_id "$PRIO" "$HANDLE")"
must dm attach mon0 "$VETH_A"
must dm del mon0
assert_eq "del: both foreign filters stay, ours is gone" 2 "$(n_filters)"
assert_eq "del: the first foreign filter is untouched" "$FOREIGN_ID" "$(filter_id 1 0xd7)"
stop_sink a
