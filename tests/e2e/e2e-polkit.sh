#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# polkit decides for callers other than root, with Debian's real polkitd on the tests' bus.
#
# A polkitd of this test's own runs on the private bus, in a mount namespace of its own where
# dynmon's actions (data/org.polycube.dynmon.policy) are bind-mounted over
# /usr/share/polkit-1/actions and this test's rules over the rules directories (polkitd 122 reads
# fixed paths only): nothing is installed on the machine, nothing is left behind. Then:
#   - no rule: nobody is refused attach and inject (polkit's default is to ask an administrator's
#     password: InteractiveAuthorizationRequired without the interactive flag, PermissionDenied
#     with it, as no authentication agent runs), and so is the setuid race;
#   - a rule granting nobody org.polycube.dynmon.manage: nobody creates, attaches (and the
#     monitor counts), sets the log level, detaches and deletes, and is still refused inject, also
#     through CreateMonitor with a config and through the setuid race;
#   - polkitd gone: root still does everything; nobody is refused again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

POLKITD=/usr/lib/polkit-1/polkitd
[[ -x $POLKITD ]] || die "missing $POLKITD (Debian package polkitd; run data/install-deps.sh)"
e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

MANAGER=org.polycube.Dynmon.Manager
MONITOR=org.polycube.Dynmon.Monitor
ERR=org.polycube.Dynmon.Error
INTERACTIVE=org.freedesktop.DBus.Error.InteractiveAuthorizationRequired
# dynmond's PermissionDenied message, up to the action's words.
DENIED='Only root \(or a caller whose CAP_NET_ADMIN or CAP_BPF the bus vouches for\) may'
mkdir "$TMPD/nobody"
cp "$DYNMONCTL" "$EXAMPLES/packet_counter.json" "$E2E_DIR/setuid_race.py" "$TMPD/nobody/"
chmod -R a+rX "$TMPD/nobody"
CONFIG=$TMPD/nobody/packet_counter.json
ctl_nobody() { as_nobody "$TMPD/nobody/dynmonctl" "$@"; }
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups --"

# ---- polkitd ------------------------------------------------------------------------------------
POLKIT_PID=
# polkit_start [RULES-FILE]: polkitd on the private bus with dynmon's actions and only the given
# rules (none: polkit's defaults from the .policy file decide). It drops to user polkitd itself.
polkit_start() {
	local dir=$TMPD/polkit i
	rm -rf "$dir"
	mkdir -p "$dir/actions" "$dir/rules" "$dir/vendor-rules"
	cp "$DYNMON_SOURCE_DIR/data/org.polycube.dynmon.policy" "$dir/actions/"
	[[ -z ${1:-} ]] || cp "$1" "$dir/rules/"
	chmod -R a+rX "$dir"
	# shellcheck disable=SC2016 # expanded by the inner shell
	DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR unshare --mount --propagation private sh -c '
		mount --bind "$1/actions" /usr/share/polkit-1/actions &&
		mount --bind "$1/rules" /etc/polkit-1/rules.d &&
		mount --bind "$1/vendor-rules" /usr/share/polkit-1/rules.d &&
		exec "$2"' sh "$dir" "$POLKITD" >>"$TMPD/polkitd.log" 2>&1 &
	POLKIT_PID=$!
	BG_PIDS+=("$POLKIT_PID")
	for ((i = 0; i < 100; i++)); do
		[[ $(bus call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
			NameHasOwner s org.freedesktop.PolicyKit1 2>/dev/null) == "b true" ]] && break
		kill -0 "$POLKIT_PID" 2>/dev/null || die "polkitd exited: $(cat "$TMPD/polkitd.log")"
		sleep 0.1
	done
	((i < 100)) || die "polkitd did not take org.freedesktop.PolicyKit1 within 10 s"
	say "polkitd runs (pid $POLKIT_PID) with rules: ${1:-none}"
}
polkit_stop() {
	stop_pid "$POLKIT_PID"
	POLKIT_PID=
}

# as_nobody_bus DESC WANT OBJECT METHOD ARGS...: nobody calls METHOD with gdbus (which never
# allows interactive authorization); the answer is WANT (an error name or "<no error>").
as_nobody_bus() {
	DBUS_CALLER=$NOBODY dbus_error "${@:3}"
	assert_eq "$1" "$2" "$DBUS_ERROR_NAME"
}
# interactive DESC ERE OBJECT INTERFACE METHOD SIGNATURE ARGS...: the same with busctl, allowing
# interactive authorization; busctl prints the error's message, which must match ERE. No agent
# runs, so polkit cannot ask anyone: a plain no (PermissionDenied).
interactive() {
	run $NOBODY busctl --address="$BUS_ADDR" --allow-interactive-authorization=yes call \
		org.polycube.Dynmon "${@:3}"
	if ((RUN_RC == 0)); then
		assert_eq "$1" "$2" "<no error>"
	else
		assert_match "$1" "$2" "$RUN_ERR"
	fi
}
# race DESC [--config JSON]: the setuid race of e2e-privilege, through polkit this time.
race() {
	check "$1: set up (the bus names the exec'd setuid program as the caller)" \
		as_nobody "$PY" "$TMPD/nobody/setuid_race.py" "$SOCK" mon-race /usr/bin/passwd "${@:2}"
	assert_eq "$1: polkit was asked about uid nobody, not root: refused" "$INTERACTIVE" "$RUN_OUT"
	assert_rc "$1: mon-race was not created" 4 dm show mon-race
}

must dm add mon0
must dm inject mon0 "$EXAMPLES/packet_counter.json"
MON0=$(monitor_path mon0)

# ==== polkitd without a rule: the defaults (auth_admin_keep, auth_admin) refuse ================
polkit_start
as_nobody_bus "no rule: Attach needs an administrator" "$INTERACTIVE" \
	"$MON0" $MONITOR.Attach "'$VETH_A'"
as_nobody_bus "no rule: Inject needs an administrator" "$INTERACTIVE" \
	"$MON0" $MONITOR.Inject "$(gv_string <"$CONFIG")"
interactive "no rule, interactive: Attach refused (no agent to ask)" "$DENIED attach monitors" \
	"$MON0" $MONITOR Attach s "$VETH_A"
interactive "no rule, interactive: Inject refused (no agent to ask)" "$DENIED inject code" \
	"$MON0" $MONITOR Inject s "$(<"$CONFIG")"
assert_rc "no rule: dynmonctl attach as nobody exits 5" 5 ctl_nobody attach mon0 "$VETH_A"
assert_rc "no rule: dynmonctl add as nobody exits 5" 5 ctl_nobody add mon9
assert_match "no rule: dynmonctl without a terminal does not let polkit ask" \
	"would ask for authentication to create monitors" "$RUN_ERR"
# On a terminal dynmonctl allows interactive authorization: polkit then looks for an agent to
# ask (none runs here), and the answer is a plain no.
run as_nobody script -qec "$TMPD/nobody/dynmonctl add mon9" /dev/null
assert_match "no rule: dynmonctl on a terminal lets polkit ask (no agent: refused)" \
	"$DENIED create monitors\. polkit \(org.polycube.dynmon.manage\): authentication did not succeed" \
	"$RUN_OUT"
assert_eq "no rule: mon0 is still detached" "" \
	"$(bus --json=short get-property org.polycube.Dynmon "$MON0" $MONITOR Interface |
		"$PY" "$E2E_DIR/jsonpick.py" busctl)"
race "no rule: setuid race"
polkit_stop

# ==== a rule: nobody may manage monitors, not inject ============================================
cat >"$TMPD/50-dynmon-e2e.rules" <<'RULES'
polkit.addRule(function(action, subject) {
    if (action.id == "org.polycube.dynmon.manage" && subject.user == "nobody")
        return polkit.Result.YES;
});
RULES
polkit_start "$TMPD/50-dynmon-e2e.rules"
as_nobody_bus "rule: Attach by nobody is allowed" "<no error>" "$MON0" $MONITOR.Attach "'$VETH_A'"
assert_eq "rule: mon0 is attached to $VETH_A" "$VETH_A" \
	"$(bus --json=short get-property org.polycube.Dynmon "$MON0" $MONITOR Interface |
		"$PY" "$E2E_DIR/jsonpick.py" busctl)"
send_udp "$NS_B" "$IP_A" 5000 12
assert_eq "rule: mon0, attached by nobody, counts" "[12]" "$(metric_value mon0 packets_total)"
as_nobody_bus "rule: setting LogLevel is allowed" "<no error>" \
	"$MON0" org.freedesktop.DBus.Properties.Set "'$MONITOR'" "'LogLevel'" "<'INFO'>"
assert_eq "rule: LogLevel is INFO" "INFO" \
	"$(bus --json=short get-property org.polycube.Dynmon "$MON0" $MONITOR LogLevel |
		"$PY" "$E2E_DIR/jsonpick.py" busctl)"
as_nobody_bus "rule: Inject by nobody is refused" "$INTERACTIVE" \
	"$MON0" $MONITOR.Inject "$(gv_string <"$CONFIG")"
interactive "rule, interactive: Inject by nobody is refused" "$DENIED inject code" \
	"$MON0" $MONITOR Inject s "$(<"$CONFIG")"
as_nobody_bus "rule: CreateMonitor with a config (an inject) is refused" "$INTERACTIVE" \
	/org/polycube/Dynmon $MANAGER.CreateMonitor "'mon8'" "{'config': <$(gv_string <"$CONFIG")>}"
assert_rc "rule: dynmonctl inject as nobody exits 5" 5 ctl_nobody inject mon0 "$CONFIG"
race "rule: setuid race, CreateMonitor with a config" --config "$(<"$CONFIG")"
assert_rc "rule: dynmonctl detach as nobody works" 0 ctl_nobody detach mon0
assert_rc "rule: dynmonctl add as nobody works" 0 ctl_nobody add mon9
assert_rc "rule: dynmonctl del as nobody works" 0 ctl_nobody del mon9
assert_rc "rule: mon8 was not created" 4 dm show mon8
polkit_stop

# ==== no polkit: root needs none, nobody is refused again =========================================
as_nobody_bus "no polkit: Attach by nobody is refused" "$ERR.PermissionDenied" \
	"$MON0" $MONITOR.Attach "'$VETH_A'"
assert_match "no polkit: the daemon says polkit could not answer" "ServiceUnknown|NameHasNoOwner" \
	"$DBUS_ERROR_MESSAGE"
assert_rc "no polkit: root injects" 0 dm inject mon0 "$CONFIG"
assert_rc "no polkit: root attaches" 0 dm attach mon0 "$VETH_A"
send_udp "$NS_B" "$IP_A" 5000 3
assert_eq "no polkit: mon0 (injected again, counts from zero) counts" "[3]" \
	"$(metric_value mon0 packets_total)"
assert_rc "no polkit: root detaches" 0 dm detach mon0
assert_rc "no polkit: root deletes" 0 dm del mon0
stop_sink a
assert_eq "every packet reached the receiver" "15 0" "$SINK_RECEIVED $SINK_DROPS"
