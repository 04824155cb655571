#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Only root changes anything; anyone may look. An unprivileged caller (uid nobody, gid nogroup, no
# supplementary groups) is refused every mutating call — by the production bus policy, through
# the CLI and on the bus itself — can list, show and read metrics, and leaves no trace.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

must dm add mon0
must dm inject mon0 "$EXAMPLES/packet_counter.json"
must dm attach mon0 "$VETH_A"
must dm add mon1
MON0=$(monitor_path mon0)
MON1=$(monitor_path mon1)
send_udp "$NS_B" "$IP_A" 5000 25

# nobody runs its own copies: the build tree may sit where nobody cannot reach it.
mkdir "$TMPD/nobody"
cp "$DYNMONCTL" "$EXAMPLES/packet_counter.json" "$TMPD/nobody/"
chmod -R a+rX "$TMPD/nobody"
ctl_nobody() { as_nobody "$TMPD/nobody/dynmonctl" "$@"; }
CONFIG=$TMPD/nobody/packet_counter.json

prop() {
	bus --json=short get-property org.polycube.Dynmon "$1" org.polycube.Dynmon.Monitor "$2" |
		"$PY" "$E2E_DIR/jsonpick.py" busctl
}
state() {
	dm list
	prop "$MON0" Interface
	prop "$MON0" Config
	prop "$MON1" Interface
	tc_filters "$NS_A" "$VETH_A" ingress
}
STATE_BEFORE=$(state)

# --- the CLI as nobody ------------------------------------------------------------------------
assert_rc "nobody: add is refused (exit 5)" 5 ctl_nobody add mon9
assert_rc "nobody: del is refused (exit 5)" 5 ctl_nobody del mon1
assert_rc "nobody: inject is refused (exit 5)" 5 ctl_nobody inject mon0 "$CONFIG"
assert_rc "nobody: inject from stdin is refused (exit 5)" 5 ctl_nobody inject mon0 - <"$CONFIG"
assert_rc "nobody: attach is refused (exit 5)" 5 ctl_nobody attach mon1 "$VETH_A"
assert_rc "nobody: detach is refused (exit 5)" 5 ctl_nobody detach mon0

assert_rc "nobody: list works" 0 ctl_nobody list
assert_match "nobody: list shows mon0" "mon0" "$RUN_OUT"
assert_match "nobody: list shows mon1" "mon1" "$RUN_OUT"
assert_rc "nobody: show mon0 works" 0 ctl_nobody show mon0
assert_match "nobody: show mon0 names $VETH_A" "$VETH_A" "$RUN_OUT"
assert_rc "nobody: metrics works" 0 ctl_nobody metrics mon0
assert_eq "nobody: metrics reads packets_total" "[25]" \
	"$("$PY" "$E2E_DIR/jsonpick.py" metric ingress packets_total <<<"$RUN_OUT")"
assert_rc "nobody: open-metrics works" 0 ctl_nobody open-metrics mon0
check "nobody: open-metrics reads packets_total 25" \
	"$PY" "$E2E_DIR/omcheck.py" packets_total 25 <<<"$RUN_OUT"

# --- the bus as nobody: the policy refuses before the daemon sees the call ---------------------
DBUS_CALLER="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
MANAGER=org.polycube.Dynmon.Manager
MONITOR=org.polycube.Dynmon.Monitor
# refused|allowed DESC OBJECT METHOD ARGS... (arguments in GVariant text, as gdbus takes them)
refused() {
	dbus_error "${@:2}"
	assert_eq "nobody on the bus: $1 is refused" org.freedesktop.DBus.Error.AccessDenied \
		"$DBUS_ERROR_NAME"
}
allowed() {
	dbus_error "${@:2}"
	assert_eq "nobody on the bus: $1 is allowed" "<no error>" "$DBUS_ERROR_NAME"
}
refused CreateMonitor /org/polycube/Dynmon $MANAGER.CreateMonitor "'mon9'" "{}"
refused DeleteMonitor /org/polycube/Dynmon $MANAGER.DeleteMonitor "'mon1'"
refused Inject "$MON0" $MONITOR.Inject "$(gv_string <"$CONFIG")"
refused Attach "$MON1" $MONITOR.Attach "'$VETH_A'"
refused Detach "$MON0" $MONITOR.Detach
refused Properties.Set "$MON0" org.freedesktop.DBus.Properties.Set "'$MONITOR'" "'Interface'" "<'x'>"

allowed ListMonitors /org/polycube/Dynmon $MANAGER.ListMonitors
allowed GetMonitor /org/polycube/Dynmon $MANAGER.GetMonitor "'mon0'"
allowed GetManagedObjects /org/polycube/Dynmon org.freedesktop.DBus.ObjectManager.GetManagedObjects
allowed Introspect "$MON0" org.freedesktop.DBus.Introspectable.Introspect
allowed Peer.Ping /org/polycube/Dynmon org.freedesktop.DBus.Peer.Ping
allowed "Properties.Get Metrics" "$MON0" org.freedesktop.DBus.Properties.Get "'$MONITOR'" "'Metrics'"
allowed Properties.GetAll "$MON0" org.freedesktop.DBus.Properties.GetAll "'$MONITOR'"
unset DBUS_CALLER

# --- nothing changed --------------------------------------------------------------------------
assert_eq "the refused calls changed nothing (list, interfaces, config, tc filters)" \
	"$STATE_BEFORE" "$(state)"
send_udp "$NS_B" "$IP_A" 5000 15
assert_eq "mon0 kept counting across the refused calls (25 + 15)" "[40]" \
	"$(metric_value mon0 packets_total ingress)"
assert_rc "mon9 was not created" 4 dm show mon9
stop_sink a
assert_eq "every packet reached the receiver" "40 0" "$SINK_RECEIVED $SINK_DROPS"
