#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every failure has a name and a reason, the CLI maps it to its exit code, and a failed injection
# changes nothing: the dataplane that was running keeps counting every packet, exactly.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

must dm add mon0
must dm inject mon0 "$EXAMPLES/packet_counter.json"
must dm attach mon0 "$VETH_A"
MON0=$(monitor_path mon0)
FILTERS_BEFORE=$(tc_filters "$NS_A" "$VETH_A" ingress)

# Sends 10 packets B->A and checks that mon0's original counter saw exactly them.
SENT=0
still_counting() {
	send_udp "$NS_B" "$IP_A" 5000 10
	SENT=$((SENT + 10))
	assert_eq "$1: the running dataplane still counts ($SENT)" "[$SENT]" \
		"$(metric_value mon0 packets_total ingress)"
}
still_counting "before any failure"

# --- rejected injections ----------------------------------------------------------------------
# Probes of our own, written as C and wrapped into configurations.
cat >"$TMPD/syntax-error.c" <<'EOF'
#include <dynmon.h>

SEC("tc")
int broken(struct __sk_buff *skb)
{
	int x = ;
	return DYNMON_PASS;
}

char LICENSE[] SEC("license") = "GPL";
EOF
# Compiles cleanly, but reads a map value without checking the lookup for NULL. (A hash map: the
# verifier of recent kernels knows that an array lookup with a constant key cannot fail.)
cat >"$TMPD/null-deref.c" <<'EOF'
#include <dynmon.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} COUNTER SEC(".maps");

SEC("tc")
int unchecked(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *counter = bpf_map_lookup_elem(&COUNTER, &key);

	*counter += 1;
	return DYNMON_PASS;
}

char LICENSE[] SEC("license") = "GPL";
EOF
# Compiles cleanly, but reads the packet without checking it is long enough.
cat >"$TMPD/packet-overread.c" <<'EOF'
#include <dynmon.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} COUNTER SEC(".maps");

SEC("tc")
int overread(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;
	__u32 key = 0;
	__u64 *counter;

	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return DYNMON_PASS;
	counter = bpf_map_lookup_elem(&COUNTER, &key);
	if (counter)
		__sync_fetch_and_add(counter, 1);
	return DYNMON_PASS;
}

char LICENSE[] SEC("license") = "GPL";
EOF
"$PY" "$E2E_DIR/mkconfig.py" --ingress "$TMPD/packet-overread.c" \
	--metric ingress:packets_total:COUNTER >"$TMPD/packet-overread.json"
"$PY" "$E2E_DIR/mkconfig.py" --ingress "$TMPD/syntax-error.c" \
	--metric ingress:packets_total:COUNTER >"$TMPD/syntax-error.json"
"$PY" "$E2E_DIR/mkconfig.py" --ingress "$TMPD/null-deref.c" \
	--metric ingress:packets_total:COUNTER >"$TMPD/null-deref.json"
printf '{"ingress-path": {"name": "cut short", "code": ' >"$TMPD/truncated.json"
"$PY" - "$EXAMPLES/packet_counter.json" >"$TMPD/unknown-top.json" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))
config["bogus-field"] = True
print(json.dumps(config))
EOF
"$PY" - "$EXAMPLES/packet_counter.json" >"$TMPD/unknown-metric.json" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))
config["ingress-path"]["metric-configs"][0]["colour"] = "blue"
print(json.dumps(config))
EOF
: >"$TMPD/empty.json"

# case: description | file | error name | what the message must say (ERE)
CASES=(
	"invalid JSON|truncated.json|InvalidConfig|JSON.*line [0-9]+"
	"an empty configuration|empty.json|InvalidConfig|JSON"
	"an unknown top-level field|unknown-top.json|InvalidConfig|bogus-field"
	"an unknown metric field|unknown-metric.json|InvalidConfig|colour"
	"a C syntax error|syntax-error.json|CompileFailed|expected expression"
	"an unchecked map lookup|null-deref.json|VerifierRejected|invalid mem access"
	"a packet read past its end|packet-overread.json|VerifierRejected|invalid access to packet"
)
for case in "${CASES[@]}"; do
	IFS='|' read -r desc file name reason <<<"$case"
	assert_rc "inject $desc: dynmonctl exits 3" 3 dm inject mon0 "$TMPD/$file"
	assert_match "inject $desc: dynmonctl says why" "$reason" "$RUN_OUT$RUN_ERR"
	assert_rc "inject $desc from stdin: dynmonctl exits 3" 3 dm inject mon0 - <"$TMPD/$file"
	dbus_error "$MON0" org.polycube.Dynmon.Monitor.Inject "$(gv_string <"$TMPD/$file")"
	assert_eq "inject $desc over D-Bus: the error name" "org.polycube.Dynmon.Error.$name" \
		"$DBUS_ERROR_NAME"
	assert_match "inject $desc over D-Bus: the message says why" "$reason" "$DBUS_ERROR_MESSAGE"
	still_counting "after $desc"
done
assert_eq "failed injections left the tc filters as they were" "$FILTERS_BEFORE" \
	"$(tc_filters "$NS_A" "$VETH_A" ingress)"

# --- the other named errors -------------------------------------------------------------------
must dm add mon1
must dm inject mon1 "$EXAMPLES/packet_counter.json"
MON1=$(monitor_path mon1)

assert_rc "attach to an interface that does not exist: exit 4" 4 dm attach mon1 nosuchif0
assert_match "attach to an interface that does not exist: the message names it" nosuchif0 "$RUN_ERR"
dbus_error "$MON1" org.polycube.Dynmon.Monitor.Attach nosuchif0
assert_eq "attach to an interface that does not exist: NoSuchInterface" \
	org.polycube.Dynmon.Error.NoSuchInterface "$DBUS_ERROR_NAME"

assert_rc "detach a monitor that is not attached: exit 7" 7 dm detach mon1
dbus_error "$MON1" org.polycube.Dynmon.Monitor.Detach
assert_eq "detach a monitor that is not attached: NotAttached" \
	org.polycube.Dynmon.Error.NotAttached "$DBUS_ERROR_NAME"

assert_rc "del a monitor that does not exist: exit 4" 4 dm del nosuchmon
assert_match "del a monitor that does not exist: the message names it" nosuchmon "$RUN_ERR"
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.DeleteMonitor nosuchmon
assert_eq "del a monitor that does not exist: NoSuchMonitor" \
	org.polycube.Dynmon.Error.NoSuchMonitor "$DBUS_ERROR_NAME"
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.GetMonitor nosuchmon
assert_eq "GetMonitor of a monitor that does not exist: NoSuchMonitor" \
	org.polycube.Dynmon.Error.NoSuchMonitor "$DBUS_ERROR_NAME"
assert_rc "inject into a monitor that does not exist: exit 4" 4 \
	dm inject nosuchmon "$EXAMPLES/packet_counter.json"
assert_rc "metrics of a monitor that does not exist: exit 4" 4 dm metrics nosuchmon

assert_rc "add a monitor twice: exit 7" 7 dm add mon0
assert_match "add a monitor twice: the message names it" mon0 "$RUN_ERR"
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.CreateMonitor mon0 '{}'
assert_eq "add a monitor twice: MonitorExists" org.polycube.Dynmon.Error.MonitorExists \
	"$DBUS_ERROR_NAME"
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.CreateMonitor mon2 \
	"{'no-such-option': <'x'>}"
assert_eq "CreateMonitor with an unknown option: InvalidArgument" \
	org.polycube.Dynmon.Error.InvalidArgument "$DBUS_ERROR_NAME"

assert_rc "an unknown verb: usage error, exit 2" 2 dm frobnicate
assert_rc "no daemon on the bus address: exit 6" 6 \
	env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$TMPD/no-such-bus" "$DYNMONCTL" list

still_counting "after all the errors"
stop_sink a
assert_eq "every packet reached the receiver ($SENT)" "$SENT 0" "$SINK_RECEIVED $SINK_DROPS"
