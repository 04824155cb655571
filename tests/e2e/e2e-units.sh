#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units and the D-Bus activation file, as meson installs them, where no systemd runs:
#   - where they go, and that they name the installed dynmond;
#   - `systemd-analyze verify` finds nothing to say about them, and does about broken copies
#     (the proof that the silence of e2e-systemd's verify means something);
#   - the D-Bus activation file's keys, and a bus without systemd that has only that file starts
#     dynmond (its Exec= line).
# What the units do under systemd as PID 1 (activation by D-Bus and by socket, Type=notify, the
# sandbox, restarts, kill, reboot, the minimal bounding set) is tests/e2e/e2e-systemd.sh's.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

for tool in systemd-analyze meson; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
e2e_require
e2e_tmpdir
e2e_network

# ---------------------------------------------------------------------------------------------
# Where meson installs them

# installed NAME: "BUILD-OR-SOURCE-PATH INSTALLED-PATH" of the installed file whose path ends in
# /NAME (meson introspect --installed), or nothing.
INSTALLED=$(meson introspect "$DYNMON_BUILD_DIR" --installed)
installed() {
	"$PY" -c '
import json, sys
for src, dst in json.loads(sys.argv[1]).items():
    if dst.endswith("/" + sys.argv[2]):
        print(src, dst)' "$INSTALLED" "$1"
}
read -r UNIT UNIT_DST <<<"$(installed dynmond.service)"
read -r SOCKET_UNIT SOCKET_DST <<<"$(installed dynmond.socket)"
read -r ACTIVATION ACTIVATION_DST <<<"$(installed dbus-1/system-services/org.polycube.Dynmon.service)"
read -r _ DYNMOND_DST <<<"$(installed sbin/dynmond)"
for f in UNIT SOCKET_UNIT ACTIVATION DYNMOND_DST; do
	[[ -n ${!f} ]] || die "meson installs no $f"
done
say "installed: $UNIT_DST $SOCKET_DST $ACTIVATION_DST $DYNMOND_DST"

assert_eq "the socket unit goes beside the service" "$(dirname "$UNIT_DST")" \
	"$(dirname "$SOCKET_DST")"
assert_match "the units go where systemd looks for them (systemd-analyze unit-paths)" \
	"^$(dirname "$UNIT_DST")\$" "$(systemd-analyze unit-paths)"
assert_match "the activation file goes where the system bus looks for it" \
	"^(/usr/local/share|/usr/share|/lib)/dbus-1/system-services/org\.polycube\.Dynmon\.service$" \
	"$ACTIVATION_DST"

# key FILE KEY: the value of the last KEY= line of FILE.
key() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

assert_eq "ExecStart is the installed dynmond" "$DYNMOND_DST" "$(key "$UNIT" ExecStart)"
assert_eq "Type=notify: dynmond tells when it is ready" notify "$(key "$UNIT" Type)"
assert_eq "BusName is dynmond's bus name" org.polycube.Dynmon "$(key "$UNIT" BusName)"
assert_eq "the socket unit listens on the REST default, 127.0.0.1:9000" 127.0.0.1:9000 \
	"$(key "$SOCKET_UNIT" ListenStream)"

# ---------------------------------------------------------------------------------------------
# systemd-analyze verify: silent on the units, not on broken ones

# verify DIR: systemd-analyze verify on DIR's dynmond.service and dynmond.socket (whichever is
# there). Sets VERIFY_RC and VERIFY_OUT (stdout and stderr: any word from it is a complaint).
verify() {
	local units=()
	[[ -e $1/dynmond.service ]] && units+=("$1/dynmond.service")
	[[ -e $1/dynmond.socket ]] && units+=("$1/dynmond.socket")
	VERIFY_RC=0
	# Only DIR and the distribution's own units: not a dynmon installed on this machine
	# (examples/demo.sh installs one under /usr/local), which would stand in for a missing unit.
	VERIFY_OUT=$(SYSTEMD_UNIT_PATH="$1:/usr/lib/systemd/system:/lib/systemd/system" \
		systemd-analyze verify --man=no "${units[@]}" 2>&1) || VERIFY_RC=$?
}

# units_copy DIR: the installed units, but ExecStart runs the build's dynmond (verify wants an
# executable there).
units_copy() {
	mkdir -p "$1"
	sed "s|^ExecStart=$DYNMOND_DST\$|ExecStart=$DYNMOND|" "$UNIT" >"$1/dynmond.service"
	cp "$SOCKET_UNIT" "$1/dynmond.socket"
}

units_copy "$TMPD/units"
verify "$TMPD/units"
assert_eq "systemd-analyze verify: the units as installed pass, without a word" "0 " \
	"$VERIFY_RC $VERIFY_OUT"

# Broken copies: which file % the sed script that breaks it % what verify must say. (An unknown
# capability name is not among them: systemd ignores it without a word; e2e-systemd's bounding
# set checks catch it.)
BROKEN=(
	"dynmond.service%s/^ProtectSystem=strict/ProtectSystem=stric/%Failed to parse protect system value"
	"dynmond.service%/^\\[Service\\]/a ProtectSystm=strict%Unknown key 'ProtectSystm'"
	"dynmond.service%s|^ExecStart=.*|ExecStart=$TMPD/no-such-dynmond|%is not executable"
	"dynmond.service%/^\\[Service\\]/,\$d%no ExecStart"
	"dynmond.service%s/^Type=notify/Type=notifying/%Failed to parse service type"
	"dynmond.socket%s/^ListenStream=.*/ListenStream=127.0.0.1:99999/%Failed to parse address value"
	"dynmond.socket%s/^\\[Socket\\]/[Sockets]/%Unknown section 'Sockets'"
)
n=0
for entry in "${BROKEN[@]}"; do
	IFS='%' read -r file script expected <<<"$entry"
	dir=$TMPD/broken-$((++n))
	units_copy "$dir"
	sed -i "$script" "$dir/$file"
	if cmp -s "$dir/$file" "$TMPD/units/$file"; then
		fail "broken copy $n ($file: $script) is not broken: the sed script matched nothing"
		continue
	fi
	verify "$dir"
	if [[ $VERIFY_RC == 0 && -z $VERIFY_OUT ]]; then
		fail "systemd-analyze verify: $file broken by '$script' passes"
	else
		assert_match "systemd-analyze verify: $file broken by '$script' says so" \
			"$expected" "$VERIFY_OUT"
	fi
done
# A socket unit alone: the service it would start is missing.
mkdir "$TMPD/socket-alone"
cp "$SOCKET_UNIT" "$TMPD/socket-alone/"
verify "$TMPD/socket-alone"
assert_match "systemd-analyze verify: the socket unit without dynmond.service is refused" \
	"dynmond.service" "rc=$VERIFY_RC $VERIFY_OUT"
((VERIFY_RC != 0)) || fail "systemd-analyze verify: the lone socket unit exits 0"

# ---------------------------------------------------------------------------------------------
# The D-Bus activation file

activation_key() {
	"$PY" -c '
import configparser, sys
c = configparser.ConfigParser(interpolation=None)
c.optionxform = str
c.read(sys.argv[1])
print(c.get("D-BUS Service", sys.argv[2], fallback="<missing>"))' "$ACTIVATION" "$1"
}
assert_eq "activation file: Name is the bus name" org.polycube.Dynmon "$(activation_key Name)"
assert_eq "activation file: named after its Name, as the system bus requires" \
	"$(activation_key Name).service" "$(basename "$ACTIVATION_DST")"
assert_eq "activation file: SystemdService is the installed unit" "$(basename "$UNIT_DST")" \
	"$(activation_key SystemdService)"
assert_eq "activation file: Exec is the installed dynmond (buses without systemd)" \
	"$DYNMOND_DST" "$(activation_key Exec)"
assert_eq "activation file: User=root (the system bus's helper requires a User)" root \
	"$(activation_key User)"

# A private bus whose only way to reach dynmond is the activation file (Exec pointed at
# the build's dynmond): the first call starts it.
ACT_SOCK=$TMPD/act-bus
ACT_ADDR=unix:path=$ACT_SOCK
mkdir "$TMPD/act-services" "$TMPD/act-state"
sed -e "s|^Exec=$DYNMOND_DST\$|Exec=$DYNMOND --bpf-include-dir $DYNMON_SOURCE_DIR/bpf/include --state-dir $TMPD/act-state --pin-dir $BPFFS/act --rest-address=none|" \
	"$ACTIVATION" >"$TMPD/act-services/org.polycube.Dynmon.service"
sed -e "s|@LISTEN_ADDRESS@|$ACT_ADDR|" \
	-e "s|@DYNMON_POLICY@|$DYNMON_SOURCE_DIR/dbus/org.polycube.Dynmon.conf|" \
	-e "s|</busconfig>|<servicedir>$TMPD/act-services</servicedir></busconfig>|" \
	"$DYNMON_SOURCE_DIR/tests/dbus/system.conf" >"$TMPD/act-system.conf"
# In namespace A, so that the dynmond it starts sees our veths only.
DBUS_SYSTEM_BUS_ADDRESS=$ACT_ADDR ip netns exec "$NS_A" dbus-daemon \
	--config-file="$TMPD/act-system.conf" --nofork --nopidfile >>"$TMPD/act-bus.log" 2>&1 &
ACT_BUS_PID=$!
BG_PIDS+=("$ACT_BUS_PID")
for ((i = 0; i < 100; i++)); do
	[[ -S $ACT_SOCK ]] && break
	sleep 0.1
done
act_bus() { busctl --address="$ACT_ADDR" "$@"; }
assert_rc "activation: nobody owns org.polycube.Dynmon before the first call" 1 \
	act_bus call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
	GetNameOwner s org.polycube.Dynmon
assert_rc "activation: the first call (ListMonitors) starts dynmond and is answered" 0 \
	act_bus call org.polycube.Dynmon /org/polycube/Dynmon org.polycube.Dynmon.Manager ListMonitors
ACT_PID=$(act_bus call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
	GetConnectionUnixProcessID s org.polycube.Dynmon | awk '{print $2}')
BG_PIDS+=("$ACT_PID")
assert_eq "activation: the process that owns the name is the build's dynmond" "$DYNMOND" \
	"$(readlink "/proc/$ACT_PID/exe" 2>/dev/null)"
assert_match "activation: the bus says it activated org.polycube.Dynmon" \
	"Successfully activated service 'org.polycube.Dynmon'" "$(cat "$TMPD/act-bus.log")"
stop_pid "$ACT_PID"
stop_pid "$ACT_BUS_PID"
BG_PIDS=()
