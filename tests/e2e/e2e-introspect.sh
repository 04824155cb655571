#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The objects on the bus are what dbus/*.xml says they are: busctl's introspection of the manager
# and of a monitor matches the contract member by member, and the manager is an ObjectManager
# that lists the monitors below it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup

# introspect_matches OBJECT INTERFACE: compares the live interface with dbus/INTERFACE.xml.
introspect_matches() {
	local live=$TMPD/live-$2.xml
	bus introspect --xml-interface org.polycube.Dynmon "$1" >"$live"
	check "$2 on $1 matches dbus/$2.xml" "$PY" "$E2E_DIR/introspect_compare.py" \
		"$DYNMON_SOURCE_DIR/dbus/$2.xml" "$live" "$2"
	say "$RUN_OUT"
}

# interfaces OBJECT: the interface names an object implements, one a line.
interfaces() {
	bus introspect --xml-interface org.polycube.Dynmon "$1" |
		"$PY" -c 'import sys, xml.etree.ElementTree as ET
for i in ET.fromstring(sys.stdin.read()).iter("interface"): print(i.get("name"))'
}

introspect_matches /org/polycube/Dynmon org.polycube.Dynmon.Manager
ROOT_IFACES=$(interfaces /org/polycube/Dynmon)
for iface in org.freedesktop.DBus.ObjectManager org.freedesktop.DBus.Properties \
	org.freedesktop.DBus.Introspectable org.freedesktop.DBus.Peer; do
	assert_match "the manager implements $iface" "^${iface//./\\.}$" "$ROOT_IFACES"
done

assert_eq "the Version property is dynmond's version" "$("$DYNMOND" --version | awk '{print $NF}')" \
	"$(bus --json=short get-property org.polycube.Dynmon /org/polycube/Dynmon \
		org.polycube.Dynmon.Manager Version | "$PY" "$E2E_DIR/jsonpick.py" busctl)"

managed() {
	bus --json=short call org.polycube.Dynmon /org/polycube/Dynmon \
		org.freedesktop.DBus.ObjectManager GetManagedObjects |
		"$PY" "$E2E_DIR/jsonpick.py" managed-objects
}
assert_eq "GetManagedObjects lists nothing before any monitor exists" "" "$(managed)"

must dm add mon0
MON0=$(monitor_path mon0)
introspect_matches "$MON0" org.polycube.Dynmon.Monitor
assert_eq "GetManagedObjects lists mon0 after add" "$MON0" "$(managed)"
bus --json=short call org.polycube.Dynmon /org/polycube/Dynmon \
	org.freedesktop.DBus.ObjectManager GetManagedObjects >"$TMPD/managed.json"
check "GetManagedObjects gives mon0's Monitor properties, Name included" "$PY" -c '
import json, sys
objects = json.load(open(sys.argv[1]))["data"][0]
props = objects[sys.argv[2]]["org.polycube.Dynmon.Monitor"]
assert props["Name"]["data"] == "mon0", props
' "$TMPD/managed.json" "$MON0"

# A name that needs escaping in an object path still round-trips through GetMonitor.
must dm add mon-1.x
MON1=$(monitor_path mon-1.x)
assert_match "mon-1.x has a valid object path" '^/org/polycube/Dynmon(/[A-Za-z0-9_]+)+$' "$MON1"
assert_eq "the Name property of $MON1 is mon-1.x" "mon-1.x" \
	"$(bus --json=short get-property org.polycube.Dynmon "$MON1" org.polycube.Dynmon.Monitor \
		Name | "$PY" "$E2E_DIR/jsonpick.py" busctl)"
assert_eq "GetManagedObjects lists both monitors" "$(sort <<<"$MON0"$'\n'"$MON1")" "$(managed)"
assert_eq "ListMonitors gives (name, path) pairs sorted by name" \
	'[["mon-1.x","'"$MON1"'"],["mon0","'"$MON0"'"]]' \
	"$(bus --json=short call org.polycube.Dynmon /org/polycube/Dynmon \
		org.polycube.Dynmon.Manager ListMonitors | "$PY" "$E2E_DIR/jsonpick.py" busctl)"

must dm del mon0
must dm del mon-1.x
assert_eq "GetManagedObjects lists nothing after del" "" "$(managed)"
