#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# data/dynmon-nm-dispatcher, run as NetworkManager runs a dispatcher script (as root, $1 the
# interface, $2 the action, CONNECTION_ID, DEVICE_IFACE, ... in the environment), against
# dynmond on the tests' bus:
#   - `up` of an interface with a declaration creates the monitor with its dataplane and
#     attaches it; the monitor counts;
#   - again: nothing changes (the same monitor, still attached, still counting);
#   - `down`, and `up` of an interface without a declaration: nothing happens;
#   - a declaration by connection (CONNECTION_ID) moves an existing monitor to the interface;
#   - a broken declaration (unreadable config) fails the script but not the others.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
start_sink a "$NS_A" "$IP_A" 5000
SCRIPT=$DYNMON_SOURCE_DIR/data/dynmon-nm-dispatcher
CONF=$TMPD/nm-monitors.d
mkdir "$CONF"

# dispatch IFACE ACTION [CONNECTION]: the script with NetworkManager's arguments and environment.
dispatch() {
	run env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDR" \
		DYNMON_NM_CONF_DIR="$CONF" NM_DISPATCHER_ACTION="$2" DEVICE_IFACE="$1" \
		DEVICE_IP_IFACE="$1" CONNECTION_ID="${3:-dm-e2e}" \
		CONNECTION_UUID=6f1c6e43-5d0f-4a3b-9a3e-1c8e2f6d0001 \
		CONNECTION_FILENAME="/etc/NetworkManager/system-connections/${3:-dm-e2e}.nmconnection" \
		"$SCRIPT" "$1" "$2"
}
iface_of() {
	bus --json=short get-property org.polycube.Dynmon "$(monitor_path "$1")" \
		org.polycube.Dynmon.Monitor Interface | "$PY" "$E2E_DIR/jsonpick.py" busctl
}

cat >"$CONF/nm-mon.conf" <<CONFEOF
# counts what $VETH_A receives
interface = $VETH_A
config=$EXAMPLES/packet_counter.json
type=TC
CONFEOF

assert_rc "up of $VETH_A: the script succeeds" 0 dispatch "$VETH_A" up
assert_match "it says what it did" "nm-mon: created.*nm-mon: attached to $VETH_A" "$(tr '\n' ' ' <<<"$RUN_ERR")"
assert_eq "nm-mon is attached to $VETH_A" "$VETH_A" "$(iface_of nm-mon)"
send_udp "$NS_B" "$IP_A" 5000 7
assert_eq "nm-mon counts (the dataplane of its declaration)" "[7]" "$(metric_value nm-mon packets_total)"

assert_rc "up of $VETH_A again: the script succeeds" 0 dispatch "$VETH_A" up
assert_eq "... and says nothing (nothing to do)" "" "$RUN_ERR"
send_udp "$NS_B" "$IP_A" 5000 3
assert_eq "nm-mon is the same monitor, still counting" "[10]" "$(metric_value nm-mon packets_total)"

assert_rc "down of $VETH_A: nothing to do" 0 dispatch "$VETH_A" down
assert_eq "nm-mon stays attached" "$VETH_A" "$(iface_of nm-mon)"
assert_rc "up of another interface: nothing to do" 0 dispatch lo up
assert_eq "... no monitor made or moved" "nm-mon $VETH_A" "$(dm -q list | awk '{print $1, $2}')"

# By connection: the monitor moves to the interface the connection came up on.
must dm detach nm-mon
rm "$CONF/nm-mon.conf"
printf 'connection=Office\n' >"$CONF/nm-mon.conf"
assert_rc "up of $VETH_A for another connection: nothing to do" 0 dispatch "$VETH_A" up Home
assert_eq "nm-mon stays detached" "" "$(iface_of nm-mon)"
assert_rc "up of $VETH_A for connection Office: the script succeeds" 0 dispatch "$VETH_A" up Office
assert_eq "nm-mon is attached to $VETH_A again" "$VETH_A" "$(iface_of nm-mon)"

printf 'interface=%s\nconfig=%s\n' "$VETH_A" "$TMPD/missing.json" >"$CONF/broken.conf"
printf 'interface=%s\n' "$VETH_A" >"$CONF/other.conf"
must dm detach nm-mon
rm "$CONF/nm-mon.conf"
assert_rc "a broken declaration fails the script (exit 1)" 1 dispatch "$VETH_A" up
assert_match "... saying why" "broken: cannot read $TMPD/missing.json" "$RUN_ERR"
assert_rc "... the other declarations were applied: monitor other exists" 0 dm show other
assert_eq "... and is attached to $VETH_A" "$VETH_A" "$(iface_of other)"
stop_sink a
assert_eq "every packet reached the receiver" "10 0" "$SINK_RECEIVED $SINK_DROPS"
