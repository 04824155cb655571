#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units and the D-Bus activation file, as meson installs them:
#   - where they go, and that they name the installed dynmond;
#   - `systemd-analyze verify` finds nothing to say about them, and does about broken copies;
#   - the D-Bus activation file's keys, and a bus that has only that file starts dynmond;
#   - dynmond run the way dynmond.service runs it (tests/e2e/unit_sandbox.py: the unit's
#     capability bounding set, NoNewPrivileges, MemoryDenyWriteExecute, RestrictAddressFamilies,
#     read-only system, private /tmp, no /home, its state directory; started on the first
#     connection to dynmond.socket's address, by systemd-socket-activate, and telling READY=1):
#     a monitor's whole life and a restart work in it;
#   - the bounding set is minimal: without each of its capabilities, something breaks.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

for tool in systemd-analyze systemd-socket-activate meson; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
# The sandbox's private /tmp would hide a test directory under /tmp (the bus socket, the state
# directory, the BPF file system): this test's lives in /run, as the system bus's socket does.
export TMPDIR=/run
e2e_require
e2e_tmpdir
e2e_network
e2e_bus

SANDBOX=$E2E_DIR/unit_sandbox.py
UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube/v1.1
VETH_C=dm${E2E_ID}c
VETH_D=dm${E2E_ID}d
IP_C=198.51.100.1
IP_D=198.51.100.2
veth_pair "$VETH_C" "$VETH_D" "$IP_C" "$IP_D" 02:00:00:00:00:0c 02:00:00:00:00:0d

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
# capability name is not among them: systemd ignores it without a word; unit_sandbox.py refuses
# it.)
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

# A second private bus whose only way to reach dynmond is the activation file (Exec pointed at
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

# ---------------------------------------------------------------------------------------------
# dynmond as dynmond.service runs it

LISTEN=$(key "$SOCKET_UNIT" ListenStream)
NOTIFY=$TMPD/notify
mkdir -p "$STATE_DIR"

# The service manager's side of Type=notify: every datagram dynmond sends, one per line.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    with open(sys.argv[2], "a") as log:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")' "$NOTIFY" "$TMPD/notify.log" &
BG_PIDS+=($!)

# http_get PATH: GET from the socket unit's address in namespace A, retrying while nothing
# listens yet; prints "STATUS BODY" ("ERR why" when no answer came).
http_get() {
	ip netns exec "$NS_A" "$PY" - "$LISTEN" "$1" <<'PYEOF'
import sys, time, urllib.error, urllib.request
listen, path = sys.argv[1:3]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for _ in range(100):
    try:
        with opener.open(f"http://{listen}{path}", timeout=30) as r:
            print(r.status, r.read().decode())
        break
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode())
        break
    except urllib.error.URLError as e:
        if not isinstance(e.reason, ConnectionRefusedError):
            print("ERR", e)
            break
        time.sleep(0.1)
    except Exception as e:
        print("ERR", e)
        break
else:
    print("ERR nothing listens")
PYEOF
}

# unit_daemon [--without CAP_X]...: dynmond in namespace A, in the unit's sandbox (less the
# capabilities named), started as dynmond.socket starts it: systemd-socket-activate listens on
# the socket unit's address and execs it on the first connection, which this makes (GET
# /polycube/v1/dynmon); UNIT_HTTP is what came back. DAEMON_PID is dynmond's (every step execs).
unit_daemon() {
	: >"$TMPD/notify.log"
	ip netns exec "$NS_A" systemd-socket-activate -l "$LISTEN" \
		-E DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDR" -E NOTIFY_SOCKET="$NOTIFY" -- \
		"$PY" "$SANDBOX" "$UNIT" "$@" --bind "$BPFFS:/sys/fs/bpf" \
		--bind-ro "$(dirname "$DYNMOND")" --bind-ro "$DYNMON_SOURCE_DIR/bpf/include" \
		--state-directory "$STATE_DIR" --env DBUS_SYSTEM_BUS_ADDRESS -- \
		"$DYNMOND" --bpf-include-dir "$DYNMON_SOURCE_DIR/bpf/include" --log-level debug \
		>>"$TMPD/dynmond.log" 2>&1 &
	DAEMON_PID=$!
	UNIT_HTTP=$(http_get /polycube/v1/dynmon)
}

# ready: waits up to 10 s for READY=1; prints what dynmond notified.
ready() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^READY=1' "$TMPD/notify.log" && break
		sleep 0.1
	done
	paste -sd '|' "$TMPD/notify.log"
}

# gone PID: waits up to 10 s for the process (a child) to end; sets GONE to its exit status,
# or "running".
gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	GONE=running
	if ! kill -0 "$1" 2>/dev/null; then
		GONE=0
		wait "$1" || GONE=$?
	fi
}

# cap_names HEX: the capabilities of a /proc/PID/status mask, as the unit spells them, sorted.
cap_names() {
	"$PY" -c '
import sys
sys.path.insert(0, sys.argv[1])
from unit_sandbox import CAPS
mask = int(sys.argv[2], 16)
print(" ".join(sorted("CAP_" + c for i, c in enumerate(CAPS) if mask >> i & 1)))' "$E2E_DIR" "$1"
}
UNIT_CAPS=$(key "$UNIT" CapabilityBoundingSet | tr ' ' '\n' | sort | xargs)
say "the unit's bounding set: $UNIT_CAPS"

start_sink ntp "$NS_A" "$IP_A" 123
start_sink other "$NS_A" "$IP_A" 5000
start_sink c "$NS_A" "$IP_C" 5002

unit_daemon
assert_eq "socket activation: the first connection to $LISTEN starts dynmond and is answered" \
	"200 []" "$UNIT_HTTP"
assert_match "Type=notify: dynmond notifies READY=1" "(^|\|)READY=1" "$(ready)"
assert_eq "BusName: once READY=1, dynmond owns org.polycube.Dynmon" "$DAEMON_PID" \
	"$(bus call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
		GetConnectionUnixProcessID s org.polycube.Dynmon | awk '{print $2}')"

status=$(cat "/proc/$DAEMON_PID/status")
assert_eq "sandbox: dynmond's bounding set is the unit's" "$UNIT_CAPS" \
	"$(cap_names "$(awk '/^CapBnd:/ {print $2}' <<<"$status")")"
assert_eq "sandbox: and so are its effective capabilities" "$UNIT_CAPS" \
	"$(cap_names "$(awk '/^CapEff:/ {print $2}' <<<"$status")")"
assert_match "sandbox: NoNewPrivileges" "^NoNewPrivs:[[:space:]]+1$" "$status"
assert_match "sandbox: a seccomp filter (RestrictAddressFamilies)" "^Seccomp:[[:space:]]+2$" \
	"$status"
# Empty but for the way to the build tree, when the checkout lives under /tmp: the sandbox binds
# it back in read-only, as the installed binary under /usr would be there anyway.
TMP_EXPECTED=
for d in "$(dirname "$DYNMOND")" "$DYNMON_SOURCE_DIR/bpf/include"; do
	[[ $d == /tmp/* ]] && TMP_EXPECTED+="$(cut -d/ -f3 <<<"$d")"$'\n'
done
assert_eq "sandbox: dynmond's /tmp is its own (PrivateTmp)" \
	"$(sort -u <<<"$TMP_EXPECTED" | sed '/^$/d')" "$(ls -A "/proc/$DAEMON_PID/root/tmp")"
assert_eq "sandbox: /root is empty for dynmond (ProtectHome)" "" \
	"$(ls -A "/proc/$DAEMON_PID/root/root")"
assert_rc "sandbox: /usr is read-only for dynmond (ProtectSystem=strict)" 1 \
	touch "/proc/$DAEMON_PID/root/usr/dynmon-e2e-$E2E_ID"
assert_match "sandbox: ... because the file system is read-only" "Read-only file system" "$RUN_ERR"
# What seccomp and PR_SET_MDWE refuse cannot be seen from outside: the same sandbox, a probe.
run ip netns exec "$NS_A" "$PY" "$SANDBOX" "$UNIT" --state-directory "$STATE_DIR" -- "$PY" -c '
import mmap, socket
for what, f in (("AF_PACKET", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)),
                ("W+X", lambda: mmap.mmap(-1, 4096, prot=7)),
                ("AF_NETLINK", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
                ("AF_INET", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))):
    try:
        f()
        print(what, "allowed")
    except OSError as e:
        print(what, "refused")'
assert_eq "sandbox: no AF_PACKET socket, no writable+executable memory; netlink and IP yes" \
	"AF_PACKET refused|W+X refused|AF_NETLINK allowed|AF_INET allowed" \
	"$(paste -sd '|' <<<"$RUN_OUT")"

# --- a monitor's life in the sandbox, and a restart -------------------------------------------
# Upstream's NTP counter: its packet pointer arithmetic is what needs CAP_PERFMON.
assert_rc "sandbox: add mon0" 0 dm add mon0
assert_rc "sandbox: inject upstream's NTP counter into mon0" 0 \
	dm inject mon0 "$UPSTREAM/ntp_packets_counter.json"
assert_rc "sandbox: attach mon0 to $VETH_A" 0 dm attach mon0 "$VETH_A"
assert_rc "sandbox: add mon1 in XDP_SKB mode" 0 dm add mon1 --type XDP_SKB
assert_rc "sandbox: inject upstream's packet counter into mon1" 0 \
	dm inject mon1 "$UPSTREAM/packet_counter.json"
assert_rc "sandbox: attach mon1 to $VETH_C" 0 dm attach mon1 "$VETH_C"
send_ntp "$NS_B" "$IP_A" --ntp 3:0:123:20 --udp 0:5000:7
send_udp "$NS_B" "$IP_C" 5002 11
assert_eq "sandbox: mon0 counts the 20 NTP datagrams of 27" "[20]" \
	"$(metric_value mon0 ntp_packets_total ingress)"
assert_eq "sandbox: mon1 counts the 11 datagrams on XDP" "[11]" \
	"$(metric_value mon1 packets_total ingress)"
check "sandbox: OpenMetrics of mon0" "$PY" "$E2E_DIR/omcheck.py" ntp_packets_total 20 \
	<<<"$(dm open-metrics mon0)"

# A restart as systemd does it: SIGTERM, then the next connection starts dynmond again. The
# state directory and the pinned maps under /sys/fs/bpf (ReadWritePaths) bring everything back.
e2e_stop_daemon "the restart in the sandbox"
send_ntp "$NS_B" "$IP_A" --ntp 3:0:123:4
unit_daemon
assert_match "restart: the monitors are back" '"name": *"mon0".*"name": *"mon1"|"name": *"mon1".*"name": *"mon0"' \
	"$UNIT_HTTP"
send_ntp "$NS_B" "$IP_A" --ntp 3:0:123:6 --udp 0:5000:2
send_udp "$NS_B" "$IP_C" 5002 3
assert_eq "restart: mon0 counted on: 20 + 4 while down + 6" "[30]" \
	"$(metric_value mon0 ntp_packets_total ingress)"
assert_eq "restart: mon1 (XDP) counted on: 11 + 3" "[14]" \
	"$(metric_value mon1 packets_total ingress)"
# Re-adopting the XDP program the last dynmond left must work with the unit's capabilities.
assert_eq "restart: mon1 (XDP) is attached again to $VETH_C" "attached $VETH_C" \
	"$(dm --json show mon1 | "$PY" -c 'import json, sys; m = json.load(sys.stdin); print(m.get("state"), m["interface"])')"
assert_rc "sandbox: detach mon0" 0 dm detach mon0
assert_eq "sandbox: no filter left on $VETH_A" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
assert_rc "sandbox: del mon0" 0 dm del mon0
assert_rc "sandbox: del mon1 (attached)" 0 dm del mon1
assert_eq "sandbox: no XDP program left on $VETH_C" none "$(xdp_show "$NS_A" "$VETH_C")"
e2e_stop_daemon "the end of the sandbox's life"

# --- the bounding set is minimal: each capability is needed -----------------------------------
for cap in $UNIT_CAPS; do
	unit_daemon --without "$cap"
	case $cap in
	CAP_BPF)
		gone "$DAEMON_PID"
		assert_eq "without CAP_BPF: dynmond fails at start" 1 "$GONE"
		if [[ $GONE == running ]]; then
			e2e_stop_daemon "the run without CAP_BPF"
		else
			DAEMON_PID=
		fi
		assert_match "without CAP_BPF: because BPF is not permitted" \
			"Operation not permitted" "$(tail -n 5 "$TMPD/dynmond.log")"
		;;
	CAP_NET_ADMIN)
		assert_rc "without CAP_NET_ADMIN: add mon0" 0 dm add mon0
		# Loading a tc program takes CAP_NET_ADMIN, and so does attaching one.
		assert_rc "without CAP_NET_ADMIN: a tc program cannot be loaded (exit 5)" 5 \
			dm inject mon0 "$EXAMPLES/packet_counter.json"
		assert_rc "without CAP_NET_ADMIN: nor attached (exit 5)" 5 dm attach mon0 "$VETH_A"
		assert_eq "without CAP_NET_ADMIN: nothing on $VETH_A" "" \
			"$(tc_filters "$NS_A" "$VETH_A" ingress)"
		assert_rc "without CAP_NET_ADMIN: del mon0" 0 dm del mon0
		e2e_stop_daemon "the run without CAP_NET_ADMIN"
		;;
	CAP_PERFMON)
		assert_rc "without CAP_PERFMON: add mon0" 0 dm add mon0
		assert_rc "without CAP_PERFMON: a program without pointer arithmetic loads" 0 \
			dm inject mon0 "$EXAMPLES/packet_counter.json"
		assert_rc "without CAP_PERFMON: upstream's NTP counter is refused (exit 3)" 3 \
			dm inject mon0 "$UPSTREAM/ntp_packets_counter.json"
		assert_match "without CAP_PERFMON: the verifier allows its pointer arithmetic only to the privileged" \
			"pointer arithmetic .*prohibited" "$RUN_ERR"
		assert_rc "without CAP_PERFMON: del mon0" 0 dm del mon0
		e2e_stop_daemon "the run without CAP_PERFMON"
		;;
	*)
		fail "no test shows that dynmond needs $cap: prove it here or drop it from the unit"
		e2e_stop_daemon "the run without $cap"
		;;
	esac
done
stop_sink ntp
assert_eq "every NTP datagram arrived" "$((20 + 4 + 6)) 0" "$SINK_RECEIVED $SINK_DROPS"
stop_sink other
stop_sink c
assert_eq "every datagram to $VETH_C arrived" "$((11 + 3)) 0" "$SINK_RECEIVED $SINK_DROPS"
