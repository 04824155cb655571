#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The installed units under a real systemd as PID 1: Debian 12's systemd 252 booted in
# systemd-nspawn over a Debian 12 root made by debootstrap, dynmon installed into it by
# `DESTDIR=... meson install`, nothing emulated:
#   - systemd-analyze verify has nothing to say about the installed units;
#   - the first D-Bus call starts dynmond.service, which becomes active only on READY=1
#     (Type=notify) and owns the bus name;
#   - the sandbox is the unit's: its bounding set, NoNewPrivileges, the system call filter, /sys
#     read-only but /sys/fs/bpf, /proc without /proc/sys; systemd-analyze security scores it no
#     worse than MAX_EXPOSURE;
#   - the first connection to the REST port starts the service (socket activation);
#   - a monitor injected (clang runs under the same sandbox), attached to a veth inside the
#     container, counts exactly; a non-root caller is refused;
#   - the counters are kept across `systemctl restart`, `systemctl kill -s KILL` (restarted by
#     Restart=on-failure) and a reboot of the container, after which the monitor waits for its
#     interface and attaches when it appears;
#   - without each capability of the bounding set, something breaks (drop-ins).
#
# The root is made once and kept in the build directory (lib.sh's debian12_root, shared with
# e2e-deb): about 1.5 min and 730 MB; every run puts an overlay of its own over it.
# nspawn runs as the issue found it must on a host whose PID 1 is not systemd: --keep-unit
# --register=no (no machined), bpf and perf_event_open allowed (nspawn's own seccomp list leaves
# them out), all capabilities, a network of its own, and this test's BPF file system at
# /sys/fs/bpf. Commands run inside with nsenter into the container's PID 1.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# systemd-analyze security's overall exposure of dynmond.service, as measured when the unit was
# last tightened (2.4 with systemd 252; 2.1 until clang's child dropped to nobody, which takes
# CAP_SETUID, CAP_SETGID and three @privileged calls): the test fails if a change makes it worse.
MAX_EXPOSURE=2.4
EXAMPLE=/usr/local/share/dynmon/examples/packet_counter.json

for tool in systemd-nspawn debootstrap nsenter meson curl flock; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
e2e_require

# ---------------------------------------------------------------------------------------------
# The Debian 12 root, made once (lib.sh's debian12_root, shared with e2e-deb)

debian12_root
ROOT_BASE=$DEBIAN12_ROOT

# ---------------------------------------------------------------------------------------------
# This run's root (an overlay), dynmon installed into it, and the container

e2e_tmpdir
ROOT=$TMPD/root
mkdir "$TMPD/upper" "$TMPD/work" "$ROOT"
mount -t overlay overlay -o "lowerdir=$ROOT_BASE,upperdir=$TMPD/upper,workdir=$TMPD/work" "$ROOT" ||
	die "cannot mount an overlay over $ROOT_BASE"
MACHINE=dm-e2e-$E2E_ID
NSPAWN_PID=
CT_PID=

# stop_container: powers the container off (nspawn turns SIGTERM into SIGRTMIN+3 for its
# PID 1), killing it after 30 s; then the overlay goes.
stop_container() {
	local i
	if [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$NSPAWN_PID"
		for ((i = 0; i < 300; i++)); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$NSPAWN_PID" 2>/dev/null; then
			fail "clean-up: the container did not power off within 30 s: killed"
			[[ -n $CT_PID ]] && kill -KILL "$CT_PID" 2>/dev/null
			kill -KILL "$NSPAWN_PID" 2>/dev/null
		fi
		wait "$NSPAWN_PID" 2>/dev/null
	fi
	NSPAWN_PID=
	CT_PID=
}

systemd_cleanup() {
	set +e
	if ((E2E_FAILED > 0)) && [[ -n $CT_PID ]]; then
		echo "---- the container's journal of dynmond ----"
		ct journalctl --no-pager -u dynmond.service -u dynmond.socket | tail -n 40
		echo "----"
	fi
	if [[ -n $NSPAWN_PID ]]; then
		stop_container
		pass "clean-up: the container is powered off"
	fi
	if mountpoint -q "$ROOT"; then
		umount "$ROOT" || umount -l "$ROOT"
		if mountpoint -q "$ROOT"; then
			fail "clean-up: the overlay $ROOT is still mounted"
			TMPD= # e2e_cleanup must not remove what is under it
		else
			pass "clean-up: the overlay is unmounted"
		fi
	fi
}
on_exit() {
	local rc=$?
	systemd_cleanup
	(exit "$rc")
	e2e_cleanup
}
trap on_exit EXIT

# boot: starts the container and waits for its systemd to finish booting (up to 60 s).
boot() {
	local i state pid children
	: >"$TMPD/console.log"
	systemd-nspawn --quiet --directory="$ROOT" --machine="$MACHINE" --boot \
		--keep-unit --register=no --system-call-filter='bpf perf_event_open' \
		--capability=all --private-network --bind="$BPFFS:/sys/fs/bpf" --console=pipe \
		</dev/null >>"$TMPD/console.log" 2>&1 &
	NSPAWN_PID=$!
	CT_PID=
	for ((i = 0; i < 100; i++)); do
		children=$(cat /proc/"$NSPAWN_PID"/task/*/children 2>/dev/null) || true
		for pid in $children; do
			grep -Eq '^NSpid:\s+[0-9]+\s+1$' "/proc/$pid/status" 2>/dev/null && CT_PID=$pid
		done
		[[ -n $CT_PID ]] && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	[[ -n $CT_PID ]] || die "systemd-nspawn started no container: $(cat "$TMPD/console.log")"
	# PID 1 answers on its bus only once it has set itself up: until then systemctl says
	# "offline" or that it cannot connect.
	for ((i = 0; i < 600; i++)); do
		state=$(ct timeout 60 systemctl is-system-running --wait 2>&1) || true
		[[ $state == offline || $state == *"Failed to connect to bus"* ]] || break
		sleep 0.1
	done
	if [[ $state != running ]]; then
		fail "the container boots: systemd says '$state'" \
			"$(ct systemctl --failed --no-legend 2>&1)"
		exit 1
	fi
}

# ct CMD...: runs CMD inside the container (all its namespaces), with a clean environment.
ct() {
	nsenter -t "$CT_PID" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		"$@"
}
dm() { ct dynmonctl "$@"; }
# unit_show PROPERTY...: the values of the properties of dynmond.service, one line, as "A=x B=y".
unit_show() {
	local args=() p
	for p in "$@"; do
		args+=(-p "$p")
	done
	ct systemctl show "${args[@]}" dynmond.service | sort | paste -sd ' '
}
main_pid() { ct systemctl show -P MainPID dynmond.service; }

# host_pid CTPID: the host's PID of the container's process CTPID.
host_pid() {
	local ns status
	ns=$(readlink "/proc/$CT_PID/ns/pid")
	for status in /proc/[0-9]*/status; do
		grep -Eq "^NSpid:\s+[0-9]+\s+$1\$" "$status" 2>/dev/null || continue
		status=${status%/status}
		[[ $(readlink "$status/ns/pid") == "$ns" ]] && echo "${status#/proc/}" && return 0
	done
}

# in_daemon CMD...: CMD in dynmond's mount and PID namespaces (the unit's mounts, the
# container's tools; /proc/self must resolve in the unit's own /proc).
in_daemon() { nsenter -t "$(host_pid "$(main_pid)")" -m -p "$@"; }

# wait_restarted OLD-PID: waits up to 15 s for dynmond.service to be active with another main
# PID; prints "ActiveState=... MainPID-changed=yes|no".
wait_restarted() {
	local i pid
	for ((i = 0; i < 150; i++)); do
		pid=$(main_pid)
		[[ $pid != 0 && $pid != "$1" && $(ct systemctl is-active dynmond.service) == active ]] && break
		sleep 0.1
	done
	echo "ActiveState=$(ct systemctl is-active dynmond.service) MainPID-changed=$([[ $pid != 0 && $pid != "$1" ]] && echo yes || echo no)"
}

# wait_state NAME STATE: the monitor's state once it is STATE, or after 10 s what it is then.
wait_state() {
	local i s
	for ((i = 0; i < 100; i++)); do
		s=$(dm --json show "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["state"])')
		[[ $s == "$2" ]] && break
		sleep 0.1
	done
	echo "$s"
}

# container_network: names the container's network namespace NS_A, so that lib.sh's veth_pair,
# sinks and senders work with it; NS_B is ours.
container_network() {
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns attach "$NS_A" "$CT_PID" || die "cannot name the container's network namespace"
	[[ " ${E2E_NETNS[*]} " == *" $NS_A "* ]] || E2E_NETNS+=("$NS_A")
	ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# Installed as a user installs it (the build's prefix, /usr/local unless configured otherwise).
must env DESTDIR="$ROOT" meson install -C "$DYNMON_BUILD_DIR" --no-rebuild --quiet
# Upstream's NTP counter: its packet pointer arithmetic is what needs CAP_PERFMON.
cp "$DYNMON_SOURCE_DIR/tests/data/polycube/v1.1/ntp_packets_counter.json" "$ROOT/root/"
boot
say "the container runs (nspawn $NSPAWN_PID, PID 1 = $CT_PID)"
netns_add "$NS_B"
container_network

# ---------------------------------------------------------------------------------------------
# The units as installed

assert_eq "the root has every library dynmond and dynmonctl need (ldd)" "" \
	"$(ct ldd /usr/local/sbin/dynmond /usr/local/bin/dynmonctl | grep 'not found')"
run ct systemd-analyze verify dynmond.service dynmond.socket
assert_eq "systemd-analyze verify: the installed units pass, without a word" "0  " \
	"$RUN_RC $RUN_OUT $RUN_ERR"
assert_eq "nothing runs dynmond before the first call" "inactive inactive" \
	"$(ct systemctl is-active dynmond.service dynmond.socket | paste -sd ' ')"

# --- D-Bus activation, Type=notify ------------------------------------------------------------
start=$SECONDS
assert_eq "D-Bus activation: the first call (ListMonitors) starts dynmond and is answered" \
	"a(so) 0" "$(ct timeout 30 busctl call org.polycube.Dynmon /org/polycube/Dynmon \
		org.polycube.Dynmon.Manager ListMonitors 2>&1)"
((SECONDS - start < 10)) || fail "D-Bus activation took $((SECONDS - start)) s"
# Type=notify: systemd makes the unit active only once READY=1 came.
assert_eq "Type=notify: dynmond.service is active, running, after READY=1" \
	"ActiveState=active NRestarts=0 SubState=running Type=notify" \
	"$(unit_show ActiveState SubState Type NRestarts)"
if [[ $(ct systemctl is-active dynmond.service) != active ]]; then
	fail "dynmond.service did not start: nothing more can be tested"
	exit 1
fi
assert_eq "BusName: the bus name's owner is the unit's main process" "$(main_pid)" \
	"$(ct busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
		GetConnectionUnixProcessID s org.polycube.Dynmon | awk '{print $2}')"

# --- the sandbox, as systemd made it ----------------------------------------------------------
status=$(ct cat "/proc/$(main_pid)/status")
assert_match "sandbox: the bounding set is CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_SETUID CAP_SETGID" \
	"^CapBnd:[[:space:]]+000000c0000010c0$" "$status"
assert_match "sandbox: NoNewPrivileges" "^NoNewPrivs:[[:space:]]+1$" "$status"
assert_match "sandbox: a seccomp filter" "^Seccomp:[[:space:]]+2$" "$status"
assert_match "sandbox: the system call filter has bpf but not chown" "^bpf$" \
	"$(unit_show SystemCallFilter | sed 's/[ =]/\n/g')"
assert_no_match "sandbox: ... nor chown (@privileged is out)" "^chown$" \
	"$(unit_show SystemCallFilter | sed 's/[ =]/\n/g')"
assert_match "sandbox: /sys is read-only for dynmond" "^ro" "$(in_daemon findmnt -no OPTIONS /sys)"
assert_match "sandbox: but /sys/fs/bpf is writable" "^rw" \
	"$(in_daemon findmnt -no OPTIONS /sys/fs/bpf)"
assert_eq "sandbox: dynmond made its pin directory on the BPF file system" yes \
	"$([[ -d $BPFFS/dynmon ]] && echo yes || echo no)"
assert_eq "sandbox: no /proc/sys, no /proc/kallsyms in dynmond's /proc" "no no" \
	"$(in_daemon sh -c 'test -e /proc/sys && echo yes || echo no
		test -e /proc/kallsyms && echo yes || echo no' | paste -sd ' ')"
assert_match "sandbox: ... which shows processes only, and of those only dynmond's own" \
	"(^|,)subset=pid(,|$).*|(^|,)hidepid=invisible(,|$)" "$(in_daemon findmnt -no OPTIONS /proc)"
assert_match "sandbox: ... both" "hidepid=invisible" "$(in_daemon findmnt -no OPTIONS /proc)"
assert_match "sandbox: /usr is read-only (ProtectSystem=strict)" "^ro," \
	"$(in_daemon findmnt -no OPTIONS -T /usr)"
ct touch "/tmp/dm-e2e-$E2E_ID"
assert_eq "sandbox: dynmond's /tmp is its own (PrivateTmp): the container's files are not there" \
	"container: yes dynmond: no" \
	"container: $(ct sh -c "test -e /tmp/dm-e2e-$E2E_ID && echo yes || echo no") dynmond: $(
		in_daemon sh -c "test -e /tmp/dm-e2e-$E2E_ID && echo yes || echo no")"
exposure=$(ct systemd-analyze security --no-pager dynmond.service |
	sed -n 's/^.*Overall exposure level for dynmond.service: \([0-9.]*\).*$/\1/p')
say "systemd-analyze security: dynmond.service exposure $exposure (recorded: $MAX_EXPOSURE)"
assert_eq "systemd-analyze security: no worse than the recorded $MAX_EXPOSURE" yes \
	"$(awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { print (e != "" && e <= m) ? "yes" : "no (" e ")" }')"

# --- socket activation of the REST port -------------------------------------------------------
must ct systemctl stop dynmond.service dynmond.socket
must ct systemctl start dynmond.socket
assert_eq "socket activation: only the socket runs" "inactive active" \
	"$(ct systemctl is-active dynmond.service dynmond.socket | paste -sd ' ')"
assert_eq "socket activation: the first connection to 127.0.0.1:9000 is answered" "[] 200" \
	"$(ip netns exec "$NS_A" curl -s --noproxy '*' -m 30 -w ' %{http_code}' \
		http://127.0.0.1:9000/polycube/v1/dynmon/)"
assert_eq "socket activation: ... by dynmond.service, started for it" \
	"ActiveState=active SubState=running" "$(unit_show ActiveState SubState)"
assert_match "socket activation: dynmond took systemd's socket" \
	"REST API on the socket passed by systemd" "$(ct journalctl --no-pager -u dynmond.service)"

# --- a monitor counting on a veth inside the container ----------------------------------------
veth_pair "$VETH_A" "$VETH_B" "$IP_A" "$IP_B" "$MAC_A" "$MAC_B"
start_sink s "$NS_A" "$IP_A" 5000
must dm add mon0
must dm inject mon0 "$EXAMPLE"
must dm attach mon0 "$VETH_A"
send_udp "$NS_B" "$IP_A" 5000 20
assert_eq "mon0 counts the 20 datagrams on $VETH_A" "[20]" "$(metric_value mon0 packets_total)"

# --- a non-root caller ------------------------------------------------------------------------
nobody() { ct setpriv --reuid=nobody --regid=nogroup --clear-groups -- dynmonctl "$@"; }
assert_rc "nobody: add is refused (exit 5)" 5 nobody add intruder
assert_rc "nobody: detach is refused (exit 5)" 5 nobody detach mon0
assert_rc "nobody: del is refused (exit 5)" 5 nobody del mon0
assert_match "nobody: mon0 is still attached, and alone" "^mon0 +$VETH_A +attached +TC +runtime$" \
	"$(dm -q list)"

# --- systemctl reload: the monitors declared in /etc/dynmon/monitors.d -----------------------
ct mkdir -p /etc/dynmon/monitors.d
printf '{"interface": "%s", "dataplane-file": "%s"}\n' "$VETH_A" "$EXAMPLE" |
	ct tee /etc/dynmon/monitors.d/f.json >/dev/null
must ct systemctl reload dynmond.service
assert_match "systemctl reload: f of monitors.d is attached, from its file" \
	"^f +$VETH_A +attached +TC +file$" "$(dm -q list)"
send_udp "$NS_B" "$IP_A" 5000 3
assert_eq "f counts 3 datagrams" "[3]" "$(metric_value f packets_total)"
ct rm /etc/dynmon/monitors.d/f.json
must ct systemctl reload dynmond.service
assert_eq "systemctl reload: f goes with its file; mon0 stays" "mon0" "$(dm -q list | awk '{print $1}')"
send_udp "$NS_B" "$IP_A" 5000 3

# --- restart, kill, reboot: the counters are kept ---------------------------------------------
send_udp "$NS_B" "$IP_A" 5000 4
pid=$(main_pid)
must ct systemctl restart dynmond.service
assert_eq "systemctl restart: dynmond runs again" "ActiveState=active MainPID-changed=yes" \
	"$(wait_restarted "$pid")"
send_udp "$NS_B" "$IP_A" 5000 6
assert_eq "systemctl restart: mon0 counted on: 20 + 3 + 3 + 4 + 6" "[36]" "$(metric_value mon0 packets_total)"

pid=$(main_pid)
# The main process only: a crash. (All of the unit's processes would be the same here, but
# systemd cannot kill a control group of the container's hybrid hierarchy on every host.)
must ct systemctl kill --kill-who=main -s KILL dynmond.service
assert_eq "kill -s KILL: Restart=on-failure starts dynmond again" \
	"ActiveState=active MainPID-changed=yes" "$(wait_restarted "$pid")"
assert_eq "kill -s KILL: ... counted as the unit's first restart" "NRestarts=1" \
	"$(unit_show NRestarts)"
send_udp "$NS_B" "$IP_A" 5000 5
assert_eq "kill -s KILL: mon0 counted on: 36 + 5" "[41]" "$(metric_value mon0 packets_total)"

# A reboot: dynmond enabled, so that it starts at boot. The sink and the name of the container's
# namespace go first (either would keep the old namespace, and the veth, alive).
stop_sink s
assert_eq "every datagram arrived" "41 0" "$SINK_RECEIVED $SINK_DROPS"
# The fleet recipe (examples/deploy/systemd), installed as docs/DEPLOY.md says: from the boot
# on, dynmon-monitors.path runs with dynmond and a change of /etc/dynmon/monitors.d reloads it.
RECIPE=$DYNMON_SOURCE_DIR/examples/deploy/systemd
install -D -m 0644 "$RECIPE/dynmond.service.d/fleet.conf" \
	"$ROOT/etc/systemd/system/dynmond.service.d/fleet.conf"
install -m 0644 "$RECIPE/dynmon-monitors.path" "$RECIPE/dynmon-monitors-reload.service" \
	"$ROOT/etc/systemd/system/"
must ct systemctl daemon-reload
run ct systemd-analyze verify dynmond.service dynmon-monitors.path dynmon-monitors-reload.service
assert_eq "systemd-analyze verify: the fleet recipe's units and drop-in pass, without a word" \
	"0  " "$RUN_RC $RUN_OUT $RUN_ERR"
must ct systemctl enable dynmond.service
ip netns del "$NS_A"
must ct systemctl reboot
for ((i = 0; i < 300; i++)); do
	kill -0 "$NSPAWN_PID" 2>/dev/null || break
	sleep 0.1
done
rc=0
wait "$NSPAWN_PID" || rc=$?
assert_eq "reboot: systemd-nspawn ends with 133 (the container rebooted)" 133 "$rc"
NSPAWN_PID=
boot
container_network
assert_eq "reboot: dynmond.service started at boot (enabled)" "active" \
	"$(ct systemctl is-active dynmond.service)"
assert_eq "reboot: mon0 waits for $VETH_A, which is not there yet" waiting "$(wait_state mon0 waiting)"
veth_pair "$VETH_A" "$VETH_B" "$IP_A" "$IP_B" "$MAC_A" "$MAC_B"
start_sink s "$NS_A" "$IP_A" 5000
assert_eq "reboot: $VETH_A appears: mon0 attaches to it" attached "$(wait_state mon0 attached)"
send_udp "$NS_B" "$IP_A" 5000 7
assert_eq "reboot: mon0 counted on: 41 + 7" "[48]" "$(metric_value mon0 packets_total)"
stop_sink s
assert_eq "every datagram after the reboot arrived" "7 0" "$SINK_RECEIVED $SINK_DROPS"

# --- the fleet recipe: configuration management only writes files ----------------------------
assert_eq "fleet.conf: dynmon-monitors.path runs with dynmond (Wants=)" active \
	"$(ct systemctl is-active dynmon-monitors.path)"
# wait_listed PATTERN: waits up to 20 s for `dynmonctl list` to match (or not, with !).
wait_listed() {
	local i out
	for ((i = 0; i < 200; i++)); do
		out=$(dm -q list)
		if [[ $1 == ! ]]; then
			grep -Eq "$2" <<<"$out" || break
		else
			grep -Eq "$1" <<<"$out" && break
		fi
		sleep 0.1
	done
	echo "$out"
}
start_sink s "$NS_A" "$IP_A" 5000
ct sh -c "printf '{\"interface\": \"%s\", \"dataplane-file\": \"%s\"}\\n' $VETH_A $EXAMPLE \
	>/etc/dynmon/monitors.d/g.json"
assert_match "a file written into monitors.d: the path unit reloads dynmond, g is attached" \
	"^g +$VETH_A +attached +TC +file$" "$(wait_listed "^g +$VETH_A +attached")"
send_udp "$NS_B" "$IP_A" 5000 4
assert_eq "g counts 4 datagrams" "[4]" "$(metric_value g packets_total)"
ct rm /etc/dynmon/monitors.d/g.json
assert_no_match "the file removed: g is deleted, by the path unit's reload" "^g " \
	"$(wait_listed ! "^g ")"
assert_match "... mon0 stays, counting" "^mon0 +$VETH_A +attached" "$(dm -q list)"
stop_sink s
assert_eq "every datagram of the recipe's part arrived" "4 0" "$SINK_RECEIVED $SINK_DROPS"

# ---------------------------------------------------------------------------------------------
# The bounding set is minimal: without each of its capabilities (a drop-in), something breaks

must dm del mon0
assert_eq "del mon0: no filter left on $VETH_A" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
DROPIN=/run/systemd/system/dynmond.service.d
UNIT_CAPS=$(ct sed -n 's/^CapabilityBoundingSet=//p' /usr/local/lib/systemd/system/dynmond.service)
say "the unit's bounding set: $UNIT_CAPS"
# without CAP: dynmond.service restarted with the unit's bounding set less CAP.
without() {
	ct mkdir -p "$DROPIN"
	ct sh -c "printf '[Service]\nCapabilityBoundingSet=\nCapabilityBoundingSet=%s\n' \
		'$(tr ' ' '\n' <<<"$UNIT_CAPS" | grep -vx "$1" | xargs)' >$DROPIN/without.conf"
	ct systemctl daemon-reload
	ct systemctl restart dynmond.service 2>/dev/null || true
}
for cap in $UNIT_CAPS; do
	without "$cap"
	case $cap in
	CAP_BPF)
		# Restart=on-failure tries again until the start limit.
		for ((i = 0; i < 150; i++)); do
			[[ $(ct systemctl is-failed dynmond.service) == failed ]] && break
			sleep 0.1
		done
		assert_eq "without CAP_BPF: dynmond fails at start" failed \
			"$(ct systemctl is-failed dynmond.service)"
		assert_match "without CAP_BPF: because BPF is not permitted" "Operation not permitted" \
			"$(ct journalctl --no-pager -n 20 -u dynmond.service)"
		;;
	CAP_NET_ADMIN)
		assert_rc "without CAP_NET_ADMIN: add mon1" 0 dm add mon1
		# Loading a tc program takes CAP_NET_ADMIN, and so does attaching one.
		assert_rc "without CAP_NET_ADMIN: a tc program cannot be loaded (exit 5)" 5 \
			dm inject mon1 "$EXAMPLE"
		assert_rc "without CAP_NET_ADMIN: nor attached (exit 5)" 5 dm attach mon1 "$VETH_A"
		assert_eq "without CAP_NET_ADMIN: nothing on $VETH_A" "" \
			"$(tc_filters "$NS_A" "$VETH_A" ingress)"
		assert_rc "without CAP_NET_ADMIN: del mon1" 0 dm del mon1
		;;
	CAP_PERFMON)
		assert_rc "without CAP_PERFMON: add mon1" 0 dm add mon1
		assert_rc "without CAP_PERFMON: a program without pointer arithmetic loads" 0 \
			dm inject mon1 "$EXAMPLE"
		assert_rc "without CAP_PERFMON: upstream's NTP counter is refused (exit 3)" 3 \
			dm inject mon1 /root/ntp_packets_counter.json
		assert_match "without CAP_PERFMON: the verifier allows its pointer arithmetic only to the privileged" \
			"pointer arithmetic .*prohibited" "$RUN_ERR"
		assert_rc "without CAP_PERFMON: del mon1" 0 dm del mon1
		;;
	CAP_SETUID | CAP_SETGID)
		# clang's child drops to nobody first: without, nothing compiles (as root, never).
		# Code no daemon compiled before: the compile cache (docs/OBJECTS.md) would load the
		# example's object without clang.
		"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["ingress-path"]["code"] += "\n/* " + sys.argv[2] + " */\n"
json.dump(d, sys.stdout)' "$ROOT$EXAMPLE" "$cap" >"$ROOT/root/uncached-$cap.json"
		assert_rc "without $cap: add mon1" 0 dm add mon1
		assert_rc "without $cap: nothing compiles (exit 1)" 1 \
			dm inject mon1 "/root/uncached-$cap.json"
		assert_match "without $cap: because the compiler cannot drop to nobody" \
			"cannot run the compiler: set(groups|resgid|resuid): Operation not permitted" \
			"$RUN_ERR"
		assert_rc "without $cap: del mon1" 0 dm del mon1
		;;
	*)
		fail "no test shows that dynmond needs $cap: prove it here or drop it from the unit"
		;;
	esac
done
ct rm -r "$DROPIN"
ct systemctl daemon-reload
ct systemctl reset-failed dynmond.service
must ct systemctl restart dynmond.service
assert_rc "with the whole bounding set again: upstream's NTP counter loads" 0 \
	dm add mon1
assert_rc "... injected" 0 dm inject mon1 /root/ntp_packets_counter.json
