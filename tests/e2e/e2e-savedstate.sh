#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The saved state is never lost (issue 10, F4 F10): a state file that cannot be read is set
# aside, said so, and never overwritten; a monitor that cannot come back stays saved until it is
# deleted; what a save interrupted by kill -9 left is removed at start.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
STATE=$STATE_DIR/monitors.json
must dm add keep
must dm inject keep "$EXAMPLES/packet_counter.json"
must dm add lost
must dm inject lost "$EXAMPLES/packet_counter.json"

# --- a monitor that cannot come back stays saved ---------------------------------------------------
# lost's code no longer compiles (as after a change of include directory).
break_lost() {
	"$PY" - "$STATE" <<'EOF2'
import json, sys
state = json.load(open(sys.argv[1]))
for m in state["monitors"]:
    if m["name"] == "lost":
        m["dataplane-config"]["ingress-path"]["code"] = "int broken = ;"
json.dump(state, open(sys.argv[1], "w"))
EOF2
}
e2e_daemon_restart term break_lost
assert_eq "lost did not come back, keep did" "keep" "$(dm -q list | awk '{print $1}' | xargs)"
must dm add other
assert_match "lost is still in the state file after another change" '"name": "lost"' \
	"$(cat "$STATE")"
assert_rc "a monitor cannot be created over it" 7 dm add lost
must dm del lost
assert_no_match "deleted, lost leaves the state file" '"name": "lost"' "$(cat "$STATE")"

# --- a state file that cannot be read is set aside ------------------------------------------------
truncate_state() { head -c 100 "$STATE" >"$TMPD/cut" && cp "$TMPD/cut" "$STATE"; }
e2e_daemon_restart term truncate_state
ASIDE=$(find "$STATE_DIR" -name 'monitors.json.broken-*')
check "the unreadable file is set aside" test -n "$ASIDE"
assert_eq "set aside as it was" "$(cat "$TMPD/cut")" "$(cat "$ASIDE" 2>/dev/null)"
assert_match "the log says so" "set aside as .*monitors.json.broken-" "$(cat "$TMPD/dynmond.log")"
must dm add after
assert_eq "the next save leaves it alone" "$(cat "$TMPD/cut")" "$(cat "$ASIDE" 2>/dev/null)"

# --- a change that cannot be saved is not made --------------------------------------------------
# The state directory read-only, in the daemon's mount namespace (`ip netns exec` gave it one).
in_daemon_ns() { nsenter -t "$DAEMON_PID" -m -- "$@"; }
must dm inject after "$EXAMPLES/packet_counter.json" # a dataplane to keep
CONFIG_BEFORE=$(dm show after 2>/dev/null | md5sum)
must in_daemon_ns mount --bind "$STATE_DIR" "$STATE_DIR"
must in_daemon_ns mount -o remount,ro,bind "$STATE_DIR"
ERR=org.polycube.Dynmon.Error.StateNotSaved
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.CreateMonitor ro '{}'
assert_eq "read-only state: create fails with StateNotSaved" "$ERR" "$DBUS_ERROR_NAME"
assert_match "... saying why" "cannot be saved .*Read-only file system" "$DBUS_ERROR_MESSAGE"
assert_eq "... and the monitor is not there" "after" "$(dm -q list | awk '{print $1}' | xargs)"
AFTER=$(monitor_path after)
dbus_error "$AFTER" org.polycube.Dynmon.Monitor.Attach "$VETH_A"
assert_eq "read-only state: attach fails with StateNotSaved" "$ERR" "$DBUS_ERROR_NAME"
assert_eq "... and nothing is attached" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
dbus_error "$AFTER" org.polycube.Dynmon.Monitor.Inject "$(gv_string <"$EXAMPLES/protocol_counter.json")"
assert_eq "read-only state: inject fails with StateNotSaved" "$ERR" "$DBUS_ERROR_NAME"
assert_eq "... and the dataplane is the one before" "$CONFIG_BEFORE" "$(dm show after 2>/dev/null | md5sum)"
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.DeleteMonitor after
assert_eq "read-only state: delete fails with StateNotSaved" "$ERR" "$DBUS_ERROR_NAME"
assert_eq "... and the monitor stays" "after" "$(dm -q list | awk '{print $1}' | xargs)"
must in_daemon_ns umount "$STATE_DIR"
must dm attach after "$VETH_A"
must in_daemon_ns mount --bind "$STATE_DIR" "$STATE_DIR"
must in_daemon_ns mount -o remount,ro,bind "$STATE_DIR"
dbus_error "$AFTER" org.polycube.Dynmon.Monitor.Detach
assert_eq "read-only state: detach fails with StateNotSaved" "$ERR" "$DBUS_ERROR_NAME"
assert_match "... and the filter stays" "bpf" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
must in_daemon_ns umount "$STATE_DIR"
must dm detach after

# --- F10: a save interrupted by kill -9 ----------------------------------------------------------
leave_temporary() { echo '{"version": 1, "monitors": [' >"$STATE_DIR/.monitors.json.Xy12Zw"; }
e2e_daemon_restart kill leave_temporary
assert_eq "no temporary file of a save is left after the restart" "" \
	"$(find "$STATE_DIR" -name '.monitors.json.*')"
assert_eq "the monitor saved since is back" "after" "$(dm -q list | awk '{print $1}' | sort | xargs)"
