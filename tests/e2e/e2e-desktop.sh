#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The desktop examples (examples/dbus/), run as an unprivileged user against dynmond on the
# tests' bus: dynmon-gdbus.sh (gdbus) and dynmon-watch.py (python3-dbus) list the monitors, read
# their metrics, and report the signals of monitors being created, injected, attached and
# deleted (InterfacesAdded, PropertiesChanged, InterfacesRemoved) as they come; the Python one
# reads the metrics of a monitor when it is attached.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
start_sink a "$NS_A" "$IP_A" 5000
mkdir "$TMPD/nobody"
cp "$EXAMPLES/dbus/dynmon-gdbus.sh" "$EXAMPLES/dbus/dynmon-watch.py" "$TMPD/nobody/"
chmod -R a+rX "$TMPD/nobody"
GDBUS_EX=$TMPD/nobody/dynmon-gdbus.sh
PY_EX=$TMPD/nobody/dynmon-watch.py

must dm add mon0
must dm inject mon0 "$EXAMPLES/packet_counter.json"
must dm attach mon0 "$VETH_A"
send_udp "$NS_B" "$IP_A" 5000 5

# ---- reading ------------------------------------------------------------------------------------
assert_rc "gdbus: list works as nobody" 0 as_nobody "$GDBUS_EX" list
assert_eq "gdbus: list shows mon0, its interface and state" "mon0	$VETH_A	attached" "$RUN_OUT"
assert_rc "gdbus: metrics mon0 works as nobody" 0 as_nobody "$GDBUS_EX" metrics mon0
assert_eq "gdbus: metrics mon0 reads packets_total" "[5]" \
	"$("$PY" "$E2E_DIR/jsonpick.py" metric ingress packets_total <<<"$RUN_OUT" 2>&1)"
assert_rc "gdbus: openmetrics mon0 works as nobody" 0 as_nobody "$GDBUS_EX" openmetrics mon0
check "gdbus: openmetrics mon0 reads packets_total 5" \
	"$PY" "$E2E_DIR/omcheck.py" packets_total 5 <<<"$RUN_OUT"
assert_rc "python: --list works as nobody" 0 as_nobody "$PY_EX" --list
assert_eq "python: --list shows mon0" "monitor mon0 interface=$VETH_A state=attached" "$RUN_OUT"

# ---- following the signals ----------------------------------------------------------------------
# Both watchers run as nobody in a session of their own (setsid), stopped by its id at the end.
setsid setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$GDBUS_EX" watch >"$TMPD/gdbus-watch.out" 2>&1 &
GDBUS_PID=$!
setsid setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$PY" "$PY_EX" --timeout 60 >"$TMPD/py-watch.out" 2>&1 &
PY_PID=$!
wait_for() { # FILE ERE: up to 10 s for a line matching ERE in FILE
	local i
	for ((i = 0; i < 100; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
check "python: the watcher listed mon0 and is watching" wait_for "$TMPD/py-watch.out" '^watching$'
# gdbus monitor says nothing once it listens: give it the time it takes to subscribe.
sleep 1

must dm detach mon0
must dm add mon1
must dm inject mon1 "$EXAMPLES/packet_counter.json"
must dm attach mon1 "$VETH_A"
must dm del mon1
check "python: saw everything up to mon1's removal" wait_for "$TMPD/py-watch.out" '^removed mon1$'
check "gdbus: saw everything up to mon1's removal" \
	wait_for "$TMPD/gdbus-watch.out" '^removed /org/polycube/Dynmon/monitor/mon1$'
kill -TERM -- "-$GDBUS_PID" "-$PY_PID" 2>/dev/null || true
wait "$GDBUS_PID" "$PY_PID" 2>/dev/null || true
PY_OUT=$(<"$TMPD/py-watch.out")
GDBUS_OUT=$(<"$TMPD/gdbus-watch.out")
say "python watcher: $PY_OUT"
say "gdbus watcher: $GDBUS_OUT"

assert_match "python: listed mon0 first" "^monitor mon0 interface=$VETH_A state=attached" "$PY_OUT"
assert_match "python: mon0 detached (PropertiesChanged)" "changed mon0 .*State=detached" "$PY_OUT"
assert_match "python: mon1 created (InterfacesAdded)" "added mon1" "$PY_OUT"
assert_match "python: mon1 injected (Config changed)" "changed mon1 Config=\{" "$PY_OUT"
assert_match "python: mon1 attached" "changed mon1 .*Interface=$VETH_A.*State=attached|changed mon1 .*State=attached" "$PY_OUT"
assert_match "python: read mon1's metrics when it was attached" \
	'metrics mon1 \{"packets_total": \[[0-9]+\]\}' "$PY_OUT"
assert_match "python: mon1 deleted (InterfacesRemoved)" "removed mon1" "$PY_OUT"
M1=/org/polycube/Dynmon/monitor/mon1
assert_match "gdbus: mon1 created" "^added $M1$" "$GDBUS_OUT"
assert_match "gdbus: mon0 detached" "^changed /org/polycube/Dynmon/monitor/mon0 .*State=detached" "$GDBUS_OUT"
assert_match "gdbus: mon1 attached" "^changed $M1 .*State=attached" "$GDBUS_OUT"
assert_match "gdbus: mon1 deleted" "^removed $M1$" "$GDBUS_OUT"
stop_sink a
assert_eq "every packet reached the receiver" "5 0" "$SINK_RECEIVED $SINK_DROPS"
