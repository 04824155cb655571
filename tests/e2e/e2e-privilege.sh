#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Only root changes anything unless polkit says otherwise; anyone may look. The bus policy lets
# every call through (as systemd's hostnamed does): dynmond decides. An unprivileged caller (uid
# nobody, gid nogroup, no supplementary groups) can list, show and read metrics, and every
# mutating call of it reaches the daemon, which refuses it itself (PermissionDenied: no polkit
# runs on the tests' bus, and without polkit only root passes; e2e-polkit runs a real polkitd)
# and changes nothing. The daemon trusts only what the bus vouches for: dbus-daemon vouches for
# the uid it recorded at connect time and for no capability, so on it only root passes. A nobody
# holding CAP_NET_ADMIN or CAP_BPF in its effective set is refused like any other, and so is a
# nobody that exec'd a setuid-root program after connecting (the race that reading /proc for
# credentials loses).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

# A second pair: where the callers of part two holding capabilities try to attach a monitor (the
# refusal must leave it without even a clsact qdisc).
VETH_C=dm${E2E_ID}c
VETH_D=dm${E2E_ID}d
IP_C=198.51.100.1
IP_D=198.51.100.2
veth_pair "$VETH_C" "$VETH_D" "$IP_C" "$IP_D" 02:00:00:00:00:0c 02:00:00:00:00:0d

# nobody runs its own copies: the build tree may sit where nobody cannot reach it.
mkdir "$TMPD/nobody"
cp "$DYNMONCTL" "$EXAMPLES/packet_counter.json" "$E2E_DIR/setuid_race.py" "$TMPD/nobody/"
chmod -R a+rX "$TMPD/nobody"
ctl_nobody() { as_nobody "$TMPD/nobody/dynmonctl" "$@"; }
CONFIG=$TMPD/nobody/packet_counter.json
MANAGER=org.polycube.Dynmon.Manager
MONITOR=org.polycube.Dynmon.Monitor
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups --"

# The world every part starts from: mon0 counts on VETH_A and has seen 25 packets, mon1 is idle.
monitors() {
	must dm add mon0
	must dm inject mon0 "$EXAMPLES/packet_counter.json"
	must dm attach mon0 "$VETH_A"
	must dm add mon1
	MON0=$(monitor_path mon0)
	MON1=$(monitor_path mon1)
	send_udp "$NS_B" "$IP_A" 5000 25
}

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
	tc_filters "$NS_A" "$VETH_A" egress
	tc_qdiscs "$NS_A" "$VETH_C"
}

# unchanged PART: what the refused calls of the part must have left as it was.
unchanged() {
	assert_eq "$1: the refused calls changed nothing (list, interfaces, config, tc)" \
		"$STATE_BEFORE" "$(state)"
	send_udp "$NS_B" "$IP_A" 5000 15
	assert_eq "$1: mon0 kept counting across the refused calls (25 + 15)" "[40]" \
		"$(metric_value mon0 packets_total ingress)"
	assert_rc "$1: mon9 was not created" 4 dm show mon9
	stop_sink a
	assert_eq "$1: every packet reached the receiver" "40 0" "$SINK_RECEIVED $SINK_DROPS"
}

monitors
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

# --- the bus as nobody: reading is open ------------------------------------------------------
DBUS_CALLER=$NOBODY
# allowed DESC OBJECT METHOD ARGS... (arguments in GVariant text, as gdbus takes them)
allowed() {
	dbus_error "${@:2}"
	assert_eq "nobody on the bus: $1 is allowed" "<no error>" "$DBUS_ERROR_NAME"
}
allowed ListMonitors /org/polycube/Dynmon $MANAGER.ListMonitors
allowed GetMonitor /org/polycube/Dynmon $MANAGER.GetMonitor "'mon0'"
allowed GetManagedObjects /org/polycube/Dynmon org.freedesktop.DBus.ObjectManager.GetManagedObjects
allowed Introspect "$MON0" org.freedesktop.DBus.Introspectable.Introspect
allowed Peer.Ping /org/polycube/Dynmon org.freedesktop.DBus.Peer.Ping
allowed "Properties.Get Metrics" "$MON0" org.freedesktop.DBus.Properties.Get "'$MONITOR'" "'Metrics'"
allowed Properties.GetAll "$MON0" org.freedesktop.DBus.Properties.GetAll "'$MONITOR'"
allowed ReadMetrics "$MON0" $MONITOR.ReadMetrics "'ingress'" "'packets_total'" "'json'"
unset DBUS_CALLER

# --- the CLI as nobody: the daemon's own refusal, not the bus's --------------------------------
# denied DESC VERB CMD...: dynmonctl exits 5 with the daemon's reason for VERB, and the bus had no
# part in it (no AccessDenied).
WHY='Only root \(or a caller whose CAP_NET_ADMIN or CAP_BPF the bus vouches for\) may'
denied() {
	assert_rc "nobody: $1 is refused by dynmond (exit 5)" 5 "${@:3}"
	assert_match "nobody: $1: the daemon says why" "$WHY $2\\." "$RUN_ERR"
	assert_no_match "nobody: $1: the bus did not refuse" "AccessDenied" "$RUN_ERR"
}
denied add "create monitors" ctl_nobody add mon9
denied "add --config" "create monitors" ctl_nobody add --config "$CONFIG" mon9
denied del "delete monitors" ctl_nobody del mon1
denied inject "inject code" ctl_nobody inject mon0 "$CONFIG"
denied attach "attach monitors" ctl_nobody attach mon1 "$VETH_A"
denied detach "detach monitors" ctl_nobody detach mon0

# --- the bus as nobody: every mutating call reaches dynmond, which refuses it ------------------
DBUS_CALLER=$NOBODY
# denied_bus DESC OBJECT METHOD ARGS...
denied_bus() {
	dbus_error "${@:2}"
	assert_eq "nobody on the bus: $1 is refused by dynmond" \
		org.polycube.Dynmon.Error.PermissionDenied "$DBUS_ERROR_NAME"
}
denied_bus CreateMonitor /org/polycube/Dynmon $MANAGER.CreateMonitor "'mon9'" "{}"
denied_bus "CreateMonitor with a config" /org/polycube/Dynmon $MANAGER.CreateMonitor "'mon9'" \
	"{'config': <$(gv_string <"$CONFIG")>}"
denied_bus DeleteMonitor /org/polycube/Dynmon $MANAGER.DeleteMonitor "'mon1'"
denied_bus Inject "$MON0" $MONITOR.Inject "$(gv_string <"$CONFIG")"
denied_bus Attach "$MON1" $MONITOR.Attach "'$VETH_A'"
denied_bus Detach "$MON0" $MONITOR.Detach
# The privilege comes first: nobody learns nothing about names, configs or interfaces.
denied_bus "DeleteMonitor of a monitor that does not exist" /org/polycube/Dynmon \
	$MANAGER.DeleteMonitor "'ghost'"
denied_bus "Inject of a broken config" "$MON1" $MONITOR.Inject "'{not json'"
denied_bus "Attach to an interface that does not exist" "$MON1" $MONITOR.Attach "'nosuchif0'"
denied_bus "Detach of a monitor that is not attached" "$MON1" $MONITOR.Detach
# Properties.Set reaches sd-bus too: LogLevel is dynmond's to refuse, the rest is read-only.
dbus_error "$MON0" org.freedesktop.DBus.Properties.Set "'$MONITOR'" "'Interface'" "<'x'>"
assert_eq "nobody on the bus: Properties.Set Interface is refused (read-only)" \
	org.freedesktop.DBus.Error.PropertyReadOnly "$DBUS_ERROR_NAME"
denied_bus "Properties.Set LogLevel" "$MON0" org.freedesktop.DBus.Properties.Set "'$MONITOR'" \
	"'LogLevel'" "<'TRACE'>"
unset DBUS_CALLER

# --- capabilities the bus does not vouch for count for nothing ----------------------------------
# dbus-daemon tells the daemon a caller's uid (recorded when it connected) and pid, never its
# capabilities. The only other place to read them is /proc/<pid>, and that is racy: the process
# behind the pid may have exec'd something else since it sent the call (see the setuid race
# below). So the daemon honours a capability only when the bus vouches for it, as systemd's own
# services do (sd_bus_query_sender_privilege), and on dbus-daemon only root passes: a nobody that
# really holds CAP_NET_ADMIN or CAP_BPF is refused like any other, and changes nothing.
#
# as_cap CAP CMD...: as nobody, with CAP (e.g. net_admin) in its effective set through the
# ambient set, so that it survives exec of an unprivileged binary.
as_cap() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps="+$1" \
		--ambient-caps="+$1" -- "${@:2}"
}
# cap_refused CAP CAPEFF: nobody with CAP (whose CapEff mask in /proc is CAPEFF, checked first:
# the refusals below would prove nothing if the capability were not really there) tries what
# root could do with it, through the CLI and on the bus; dynmond refuses every call.
cap_refused() {
	local cap=$1 ctl=(as_cap "$1" "$TMPD/nobody/dynmonctl")
	check "as_cap $cap really runs as nobody with only that capability effective" \
		grep -Eqz "Uid:	65534	65534.*CapEff:	$2" <(as_cap "$cap" cat /proc/self/status)
	denied "add with CAP_${cap^^}" "create monitors" "${ctl[@]}" add mon9
	denied "add --config with CAP_${cap^^}" "create monitors" \
		"${ctl[@]}" add --config "$CONFIG" mon9
	denied "inject with CAP_${cap^^}" "inject code" "${ctl[@]}" inject mon1 "$CONFIG"
	denied "attach to $VETH_C with CAP_${cap^^}" "attach monitors" \
		"${ctl[@]}" attach mon1 "$VETH_C"
	denied "detach with CAP_${cap^^}" "detach monitors" "${ctl[@]}" detach mon0
	denied "del with CAP_${cap^^}" "delete monitors" "${ctl[@]}" del mon1

	DBUS_CALLER="as_cap $cap"
	denied_bus "CreateMonitor with CAP_${cap^^}" /org/polycube/Dynmon $MANAGER.CreateMonitor \
		"'mon9'" "{}"
	denied_bus "DeleteMonitor with CAP_${cap^^}" /org/polycube/Dynmon \
		$MANAGER.DeleteMonitor "'mon1'"
	denied_bus "Inject with CAP_${cap^^}" "$MON1" $MONITOR.Inject "$(gv_string <"$CONFIG")"
	denied_bus "Attach to $VETH_C with CAP_${cap^^}" "$MON1" $MONITOR.Attach "'$VETH_C'"
	denied_bus "Detach with CAP_${cap^^}" "$MON0" $MONITOR.Detach
	unset DBUS_CALLER
}
cap_refused net_admin 0000000000001000
cap_refused bpf 0000008000000000
# and a capability that would not be the right one anyway
cap_refused net_raw 0000000000002000

# --- the setuid race: a caller that is root only by the time the daemon looks -------------------
# setuid_race.py, as nobody, connects through a child that then execs a setuid-root program
# (passwd, blocked reading a password from a pipe the script holds), and calls CreateMonitor on
# that connection once /proc/<the connection's pid> says euid 0. A daemon that took the caller's
# euid or capabilities from /proc (sd-bus's augmented credentials, as dynmond once did) lets it
# through and mon-race exists; the bus only ever vouched for uid nobody, so it must be refused.
# The program must be there: without it this check fails, it never skips.
SETUID_PROG=/usr/bin/passwd
assert_match "setuid race: $SETUID_PROG exists, owned by root and setuid (package passwd)" \
	'^0 4[0-7]{3}$' "$(stat -c '%u %a' "$SETUID_PROG" 2>&1)"
check "setuid race: set up (the bus names the exec'd program as the caller, /proc says euid 0)" \
	as_nobody "$PY" "$TMPD/nobody/setuid_race.py" "$SOCK" mon-race "$SETUID_PROG"
assert_eq "setuid race: CreateMonitor from a caller turned setuid root is refused by dynmond" \
	org.polycube.Dynmon.Error.PermissionDenied "$RUN_OUT"
assert_rc "setuid race: mon-race was not created" 4 dm show mon-race

unchanged "every refusal"
