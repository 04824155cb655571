# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # the globals set here are read by the tests
# Sourced by every end-to-end test. It builds a small world of our own and tears it down on any
# exit: two network namespaces A and B joined by a veth pair, a private system bus running the
# production policy, and dynmond inside namespace A (D-Bus is a unix socket: it crosses
# namespaces, and the daemon sees the veth end that lives in A).
#
# Traffic is made exact: IPv6 is off on both ends (no router/neighbour solicitations, no MLD) and
# the neighbours are static (no ARP), so the only packets crossing the veth are the ones a test
# sends. Ingress of the A end counts packets coming from B; egress counts packets leaving A.
# Datagrams always go to a bound sink so that no ICMP port-unreachable comes back the other way.
#
# Nothing is skipped: a missing tool or a non-root caller is a failure.

set -euo pipefail

E2E_NAME=$(basename "$0" .sh)
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
: "${DYNMON_BUILD_DIR:?DYNMON_BUILD_DIR must name the meson build directory}"
: "${DYNMON_SOURCE_DIR:?DYNMON_SOURCE_DIR must name the source tree}"
DYNMOND=$DYNMON_BUILD_DIR/service/dynmond
DYNMONCTL=$DYNMON_BUILD_DIR/cli/dynmonctl
EXAMPLES=$DYNMON_SOURCE_DIR/examples

E2E_PASSED=0
E2E_FAILED=0

say() { printf '%s: %s\n' "$E2E_NAME" "$*"; }
die() {
	printf '%s: FATAL: %s\n' "$E2E_NAME" "$*" >&2
	exit 1
}

pass() {
	E2E_PASSED=$((E2E_PASSED + 1))
	printf 'ok   %s\n' "$1"
}

fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	printf 'FAIL %s\n' "$1"
	shift
	local line
	for line in "$@"; do
		printf '     %s\n' "$line"
	done
}

# ---------------------------------------------------------------------------------------------
# Preconditions

e2e_require() {
	local tool
	[[ $(id -u) == 0 ]] || die "must run as root (the tests create namespaces and load BPF)"
	for tool in ip tc sysctl dbus-daemon busctl gdbus setpriv mktemp "$PY"; do
		command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
	done
	[[ -x $DYNMOND ]] || die "missing daemon: $DYNMOND (build first)"
	[[ -x $DYNMONCTL ]] || die "missing CLI: $DYNMONCTL (build first)"
	getent passwd nobody >/dev/null || die "no user 'nobody'"
	getent group nogroup >/dev/null || die "no group 'nogroup'"
}

# ---------------------------------------------------------------------------------------------
# Names of this run: unique, and short enough for interface names (15 characters at most).

E2E_ID=$$
NS_A=dm-e2e-$E2E_ID-$RANDOM-a
NS_B=dm-e2e-$E2E_ID-$RANDOM-b
VETH_A=dm${E2E_ID}a
VETH_B=dm${E2E_ID}b
MAC_A=02:00:00:00:00:0a
MAC_B=02:00:00:00:00:0b
IP_A=192.0.2.1
IP_B=192.0.2.2
TMPD=
SOCK=
BPFFS=     # a BPF file system of this run's own: `ip netns exec` hides the host's /sys/fs/bpf
STATE_DIR= # dynmond's --state-dir and --pin-dir: kept across e2e_daemon_restart
PIN_DIR=
CONFIG_DIR= # dynmond's --config-dir (monitors.d): none of the host's; absent until a test makes it
BUS_ADDR=
DBUS_PID=
DAEMON_PID=
declare -A SINK_PIDS=()
declare -a BG_PIDS=()
# More options for dynmond, as a test wants them (e.g. --rest-address=127.0.0.1:PORT); set before
# e2e_setup or e2e_daemon.
declare -a E2E_DAEMON_ARGS=()
E2E_NETNS=()
E2E_BUSES=0

# ---------------------------------------------------------------------------------------------
# Clean-up: on every exit, also on failure. It checks its own work (nothing of ours is left) and
# prints the summary; the exit status is 0 only if every check passed and nothing aborted.

# stop_pid PID: SIGTERM, up to 5 s of grace, then SIGKILL. Sets STOP_STATUS (the exit status,
# 137 when it had to be killed; empty if there was nothing to stop).
stop_pid() {
	local pid=$1 i
	STOP_STATUS=
	[[ -n $pid ]] || return 0
	if kill -TERM "$pid" 2>/dev/null; then
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true # usually gone already: not an error
	fi
	STOP_STATUS=0
	wait "$pid" 2>/dev/null || STOP_STATUS=$?
}

# e2e_stop_daemon WHEN: stops dynmond, checking that it still ran and that SIGTERM ends it
# with status 0.
e2e_stop_daemon() {
	[[ -n $DAEMON_PID ]] || return 0
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		pass "dynmond still runs at $1"
	else
		fail "dynmond died before $1"
	fi
	stop_pid "$DAEMON_PID"
	assert_eq "dynmond exits with status 0 on SIGTERM" 0 "$STOP_STATUS"
	DAEMON_PID=
}

e2e_cleanup() {
	local rc=$? pid ns left
	set +e
	trap - EXIT INT TERM
	if ((rc != 0)); then
		fail "the test aborted (exit status $rc)"
	fi
	if ((E2E_FAILED > 0)) && [[ -n $TMPD && -s $TMPD/dynmond.log ]]; then
		echo "---- last lines of the daemon's log ----"
		tail -n 60 "$TMPD/dynmond.log"
		echo "----"
	fi
	for pid in "${BG_PIDS[@]}" "${SINK_PIDS[@]}"; do
		stop_pid "$pid"
	done
	e2e_stop_daemon "the end of the test"
	stop_pid "$DBUS_PID"
	for ns in "${E2E_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if ((${#E2E_NETNS[@]} > 0)); then
		left=$(ip netns list | awk '{print $1}' | grep -Fx -f <(printf '%s\n' "${E2E_NETNS[@]}"))
		if [[ -z $left ]]; then
			pass "clean-up: our network namespaces are gone"
		else
			fail "clean-up: network namespaces left behind" "$left"
		fi
	fi
	for pid in $DAEMON_PID $DBUS_PID; do
		if kill -0 "$pid" 2>/dev/null; then
			fail "clean-up: process $pid still runs"
		fi
	done
	if [[ -n $BPFFS ]] && mountpoint -q "$BPFFS"; then
		umount "$BPFFS"
		if mountpoint -q "$BPFFS"; then
			fail "clean-up: the BPF file system $BPFFS is still mounted"
		fi
	fi
	[[ -n $TMPD ]] && ! mountpoint -q "$TMPD/bpffs" && rm -rf "$TMPD"
	echo "$E2E_NAME: $E2E_PASSED passed, $E2E_FAILED failed"
	((E2E_FAILED == 0)) && exit 0
	exit 1
}

trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# The world

e2e_tmpdir() {
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/dynmon-e2e.XXXXXX")
	# The unprivileged caller of e2e-privilege must reach the bus socket in here.
	chmod 755 "$TMPD"
	SOCK=$TMPD/bus
	BUS_ADDR=unix:path=$SOCK
	mkdir "$TMPD/bpffs"
	mount -t bpf bpf "$TMPD/bpffs" || die "cannot mount a BPF file system on $TMPD/bpffs"
	BPFFS=$TMPD/bpffs
	STATE_DIR=$TMPD/state
	PIN_DIR=$BPFFS/dynmon
	CONFIG_DIR=$TMPD/monitors.d
}

# netns_add NAME: a namespace with lo up and IPv6 off for every interface made in it later.
netns_add() {
	local ns=$1
	ip netns add "$ns"
	E2E_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# veth_pair IF_A IF_B IP_A IP_B MAC_A MAC_B: IF_A in NS_A, IF_B in NS_B, both up, /24 addresses,
# static neighbours both ways so that no ARP ever crosses.
veth_pair() {
	local if_a=$1 if_b=$2 ip_a=$3 ip_b=$4 mac_a=$5 mac_b=$6
	ip link add "$if_a" netns "$NS_A" address "$mac_a" type veth \
		peer name "$if_b" netns "$NS_B" address "$mac_b"
	ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$if_a.disable_ipv6=1"
	ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$if_b.disable_ipv6=1"
	ip -n "$NS_A" addr add "$ip_a/24" dev "$if_a"
	ip -n "$NS_B" addr add "$ip_b/24" dev "$if_b"
	ip -n "$NS_A" neigh add "$ip_b" lladdr "$mac_b" dev "$if_a" nud permanent
	ip -n "$NS_B" neigh add "$ip_a" lladdr "$mac_a" dev "$if_b" nud permanent
	ip -n "$NS_A" link set "$if_a" up
	ip -n "$NS_B" link set "$if_b" up
}

e2e_network() {
	netns_add "$NS_A"
	netns_add "$NS_B"
	veth_pair "$VETH_A" "$VETH_B" "$IP_A" "$IP_B" "$MAC_A" "$MAC_B"
	say "namespaces $NS_A ($VETH_A $IP_A) <-> $NS_B ($VETH_B $IP_B)"
}

# e2e_bus [POLICY]: the private system bus, tests/dbus/system.conf with this run's socket and
# dynmon's policy: the real one, dbus/org.polycube.Dynmon.conf, unless POLICY names another.
e2e_bus() {
	local policy=${1:-$DYNMON_SOURCE_DIR/dbus/org.polycube.Dynmon.conf} i
	sed -e "s|@LISTEN_ADDRESS@|$BUS_ADDR|" -e "s|@DYNMON_POLICY@|$policy|" \
		"$DYNMON_SOURCE_DIR/tests/dbus/system.conf" >"$TMPD/system.conf"
	dbus-daemon --config-file="$TMPD/system.conf" --nofork --nopidfile \
		>>"$TMPD/dbus-daemon.log" 2>&1 &
	DBUS_PID=$!
	for ((i = 0; i < 100; i++)); do
		busctl --address="$BUS_ADDR" call org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus GetId >/dev/null 2>&1 && break
		kill -0 "$DBUS_PID" 2>/dev/null || die "dbus-daemon exited: $(cat "$TMPD/dbus-daemon.log")"
		sleep 0.1
	done
	((i < 100)) || die "the private bus did not come up on $SOCK"
	export DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR
}

e2e_daemon() {
	local i
	DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR ip netns exec "$NS_A" "$DYNMOND" \
		--bpf-include-dir "$DYNMON_SOURCE_DIR/bpf/include" --log-level debug \
		"${E2E_DAEMON_ARGS[@]}" \
		--state-dir "$STATE_DIR" --pin-dir "$PIN_DIR" --config-dir "$CONFIG_DIR" \
		>>"$TMPD/dynmond.log" 2>&1 &
	DAEMON_PID=$!
	for ((i = 0; i < 100; i++)); do
		bus call org.polycube.Dynmon /org/polycube/Dynmon org.polycube.Dynmon.Manager \
			ListMonitors >/dev/null 2>&1 && break
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			cat "$TMPD/dynmond.log" >&2
			die "dynmond exited before it was ready"
		fi
		sleep 0.1
	done
	if ((i == 100)); then
		cat "$TMPD/dynmond.log" >&2
		die "dynmond did not answer ListMonitors within 10 s"
	fi
	say "dynmond runs (pid $DAEMON_PID) in $NS_A on $BUS_ADDR"
}

# e2e_restart POLICY: a new bus whose dynmon policy is POLICY (a file), on a new socket, and a
# new daemon on it; the old daemon is stopped first (and checked, see e2e_stop_daemon), then the
# old bus. The network stays; monitors do not survive (they are deleted before the stop, or the
# new daemon would bring them back): the caller makes them again.
e2e_restart() {
	local policy=$1 name
	[[ -r $policy ]] || die "no policy file $policy"
	for name in $(dm -q list | awk '{print $1}'); do
		dm del "$name" || die "could not delete monitor $name before the restart"
	done
	e2e_stop_daemon "the restart"
	stop_pid "$DBUS_PID"
	DBUS_PID=
	SOCK=$TMPD/bus-$((++E2E_BUSES))
	BUS_ADDR=unix:path=$SOCK
	e2e_bus "$policy"
	e2e_daemon
	say "restarted on a bus with the dynmon policy $policy"
}

# e2e_daemon_restart term|kill [CMD...]: stops dynmond with SIGTERM (checked as e2e_stop_daemon
# does) or with SIGKILL (a crash), runs CMD while no daemon runs, and starts dynmond again on the
# same bus, network, state and pin directories: the new daemon finds what the old one saved and
# pinned.
e2e_daemon_restart() {
	local how=$1
	shift
	case $how in
	term) e2e_stop_daemon "the restart" ;;
	kill)
		kill -KILL "$DAEMON_PID" || die "dynmond (pid $DAEMON_PID) was not running"
		wait "$DAEMON_PID" 2>/dev/null || true
		DAEMON_PID=
		;;
	*) die "e2e_daemon_restart: term or kill, not $how" ;;
	esac
	(($# == 0)) || "$@"
	e2e_daemon
}

# ---------------------------------------------------------------------------------------------
# A Debian 12 root made by debootstrap, for the tests that install dynmon into a Debian of its
# own (e2e-systemd boots it, e2e-deb installs the package into it). Made once into the build
# directory (about 1.5 min on an idle machine, 730 MB) and shared; each run puts an overlay of
# its own over it, so that it stays clean.
#
# What it holds besides the minimal base: systemd and the bus; the libraries of dynmond,
# dynmonctl and dynmon-injector (as `ldd` lists them; e2e-systemd checks); clang and the headers
# injected code includes. With them, apt installs the package without downloading anything.
DEBIAN12_PACKAGES=systemd,systemd-sysv,dbus,iproute2,libbpf1,libsystemd0,libnl-3-200,libnl-route-3-200,libjansson4,libmicrohttpd12,libcurl4,clang,libbpf-dev,linux-libc-dev
DEBIAN12_CACHE=$DYNMON_BUILD_DIR/debian12-root
DEBIAN12_ROOT=$DEBIAN12_CACHE/debian12

# apt_mirror: the Debian archive this machine's apt uses for bookworm (deb822 .sources or
# one-line sources.list), so that the test reaches no other host.
apt_mirror() {
	"$PY" - <<'EOF'
import glob, re
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in re.split(r"\n\s*\n", open(path).read()):
        fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if "deb" in fields.get("Types", "").split() and "bookworm" in fields.get("Suites", "").split():
            print(fields["URIs"].split()[0])
            raise SystemExit
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        m = re.match(r"deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", line)
        if m:
            print(m.group(1))
            raise SystemExit
EOF
}

# debian12_root: debootstrap into DEBIAN12_ROOT unless a complete root with these packages is
# there. A lock keeps two runs from building it at once; a failure says why and stops the test.
debian12_root() {
	local mirror log=$DEBIAN12_CACHE/debootstrap.log start lock
	for tool in debootstrap flock; do
		command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
	done
	mkdir -p "$DEBIAN12_CACHE"
	exec {lock}>"$DEBIAN12_CACHE/lock"
	flock "$lock"
	if [[ $(cat "$DEBIAN12_ROOT/.dynmon-packages" 2>/dev/null) == "$DEBIAN12_PACKAGES" ]]; then
		exec {lock}>&-
		return 0
	fi
	mirror=$(apt_mirror)
	[[ -n $mirror ]] || die "no Debian 12 (bookworm) mirror in /etc/apt/sources.list*: cannot build the root"
	say "building the Debian 12 root in $DEBIAN12_ROOT from $mirror (once; log: $log)"
	rm -rf "$DEBIAN12_ROOT" "$DEBIAN12_ROOT.new"
	start=$SECONDS
	if ! debootstrap --variant=minbase --include="$DEBIAN12_PACKAGES" bookworm \
		"$DEBIAN12_ROOT.new" "$mirror" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -rf "$DEBIAN12_ROOT.new"
		die "debootstrap could not build the Debian 12 root from $mirror (see $log)"
	fi
	echo "$DEBIAN12_PACKAGES" >"$DEBIAN12_ROOT.new/.dynmon-packages"
	mv "$DEBIAN12_ROOT.new" "$DEBIAN12_ROOT"
	say "the root took $((SECONDS - start)) s"
	exec {lock}>&-
}

# dynmon_deb: dynmon's Debian package built from this source tree (`dpkg-buildpackage -b`, from
# a copy: it writes beside the tree), once per content of the tree into the build directory, so
# that e2e-deb and e2e-container share one build (about 70 s). Sets DEB to the .deb, DEB_DIR to
# the directory of the build's results (.changes included). Locked as debian12_root is.
DEB_CACHE=$DYNMON_BUILD_DIR/deb-cache
dynmon_deb() {
	local lock key dir start list
	command -v dpkg-buildpackage >/dev/null || die "missing tool: dpkg-buildpackage (run data/install-deps.sh)"
	mkdir -p "$DEB_CACHE"
	exec {lock}>"$DEB_CACHE/lock"
	flock "$lock"
	list=$DEB_CACHE/files.$$
	if git -C "$DYNMON_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$DYNMON_SOURCE_DIR" ls-files -co --exclude-standard -z >"$list"
	else
		(cd "$DYNMON_SOURCE_DIR" && find . -path './build*' -prune -o -type f -print0) >"$list"
	fi
	# The key: every file's name and content (the tree as dpkg-buildpackage sees it).
	key=$(cd "$DYNMON_SOURCE_DIR" && xargs -0 sha256sum <"$list" | sha256sum | cut -c1-16)
	dir=$DEB_CACHE/$key
	if [[ ! -e $dir/done ]]; then
		rm -rf "$DEB_CACHE"/*/ 2>/dev/null || true
		mkdir -p "$dir/dynmon"
		tar -C "$DYNMON_SOURCE_DIR" --null -T "$list" -cf - | tar -C "$dir/dynmon" -xf -
		start=$SECONDS
		if ! (cd "$dir/dynmon" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
			dpkg-buildpackage -b -us -uc >"$dir/dpkg-buildpackage.log" 2>&1); then
			rm -f "$list"
			die "dpkg-buildpackage failed: $(tail -n 30 "$dir/dpkg-buildpackage.log")"
		fi
		rm -rf "$dir/dynmon"
		touch "$dir/done"
		say "dpkg-buildpackage took $((SECONDS - start)) s"
	fi
	rm -f "$list"
	exec {lock}>&-
	DEB_DIR=$dir
	DEB=$(echo "$dir"/dynmon_*_amd64.deb)
}

# Everything a test needs: namespaces and veth, the bus, the daemon.
e2e_setup() {
	e2e_require
	e2e_tmpdir
	e2e_network
	e2e_bus
	e2e_daemon
}

# ---------------------------------------------------------------------------------------------
# Talking to the daemon

dm() { "$DYNMONCTL" "$@"; }
bus() { busctl --address="$BUS_ADDR" "$@"; }

# dbus_error OBJECT INTERFACE.METHOD ARGS...: calls the method with gdbus and sets DBUS_ERROR_NAME
# (e.g. org.polycube.Dynmon.Error.InvalidConfig; "<no error>" if the call succeeded) and
# DBUS_ERROR_MESSAGE. Prefix with as_nobody-style wrappers through DBUS_CALLER if needed.
dbus_error() {
	run ${DBUS_CALLER:-} gdbus call -a "$BUS_ADDR" -d org.polycube.Dynmon -o "$1" -m "$2" "${@:3}"
	if ((RUN_RC == 0)); then
		DBUS_ERROR_NAME="<no error>"
		DBUS_ERROR_MESSAGE=$RUN_OUT
		return 0
	fi
	DBUS_ERROR_NAME=$(sed -n '1s/^Error: GDBus\.Error:\([^:]*\):.*/\1/p' <<<"$RUN_ERR")
	DBUS_ERROR_MESSAGE=$(sed '1s/^Error: GDBus\.Error:[^:]*: //' <<<"$RUN_ERR")
	[[ -n $DBUS_ERROR_NAME ]] || DBUS_ERROR_NAME="<unparsed: $(head -n 1 <<<"$RUN_ERR")>"
}

# gv_string < FILE: the file's text as a GVariant string literal, for gdbus arguments (gdbus's
# own fallback quoting does not escape backslashes, which breaks JSON).
gv_string() {
	"$PY" -c 'import sys, json; print(json.dumps(sys.stdin.read(), ensure_ascii=False))'
}

# as_nobody CMD...: run a command as an unprivileged user (uid nobody, gid nogroup, no groups).
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

# run CMD...: runs the command, never aborting; sets RUN_RC, RUN_OUT and RUN_ERR.
run() {
	local out=$TMPD/run.out err=$TMPD/run.err
	RUN_RC=0
	"$@" >"$out" 2>"$err" || RUN_RC=$?
	RUN_OUT=$(<"$out")
	RUN_ERR=$(<"$err")
}

# must CMD...: a step the rest of the test depends on; stops the test when it fails.
must() {
	run "$@"
	if ((RUN_RC != 0)); then
		fail "must succeed: $*" "exit status $RUN_RC" "stdout: $RUN_OUT" "stderr: $RUN_ERR"
		exit 1
	fi
}

# monitor_path NAME: the monitor's object path, as the manager says (GetMonitor).
monitor_path() {
	bus --json=short call org.polycube.Dynmon /org/polycube/Dynmon \
		org.polycube.Dynmon.Manager GetMonitor s "$1" | "$PY" "$E2E_DIR/jsonpick.py" busctl
}

# metric_value NAME METRIC [ingress|egress]: the metric's value from `dynmonctl metrics`, as
# compact JSON ("[100]"), or "<missing>".
metric_value() {
	local json
	json=$(dm metrics "$1") || {
		echo "<dynmonctl metrics failed>"
		return 0
	}
	"$PY" "$E2E_DIR/jsonpick.py" metric "${3:-ingress}" "$2" <<<"$json" || true
}

# counter NAME METRIC [DIRECTION]: the first element of an array metric, as a plain number.
counter() {
	local v
	v=$(metric_value "$@")
	v=${v#[}
	echo "${v%%[],]*}"
}

# ---------------------------------------------------------------------------------------------
# Checks: each prints one line and counts; none aborts the test.

assert_eq() {
	local desc=$1 expected=$2 actual=$3
	if [[ $expected == "$actual" ]]; then
		pass "$desc"
	else
		fail "$desc" "expected: $expected" "actual:   $actual"
	fi
}

# assert_rc DESC RC CMD...: the command exits with RC (its output is left in RUN_OUT/RUN_ERR).
assert_rc() {
	local desc=$1 expected=$2
	shift 2
	run "$@"
	if [[ $RUN_RC == "$expected" ]]; then
		pass "$desc"
	else
		fail "$desc" "expected exit status $expected, got $RUN_RC" "stdout: $RUN_OUT" \
			"stderr: $RUN_ERR"
	fi
}

# assert_match DESC ERE TEXT
assert_match() {
	if grep -Eq -- "$2" <<<"$3"; then
		pass "$1"
	else
		fail "$1" "expected to match: $2" "text: $(head -c 2000 <<<"$3")"
	fi
}

assert_no_match() {
	if grep -Eq -- "$2" <<<"$3"; then
		fail "$1" "expected not to match: $2" "text: $(head -c 2000 <<<"$3")"
	else
		pass "$1"
	fi
}

# check DESC CMD...: the command succeeds.
check() {
	local desc=$1
	shift
	run "$@"
	if ((RUN_RC == 0)); then
		pass "$desc"
	else
		fail "$desc" "command: $*" "exit status $RUN_RC" "stdout: $RUN_OUT" "stderr: $RUN_ERR"
	fi
}

# ---------------------------------------------------------------------------------------------
# Traffic

# pass_or_drop_config PASS_PORT DROP_PORT [NOTE]: prints a configuration whose ingress program
# counts and passes UDP datagrams to PASS_PORT (metric passed_total) and counts and drops those
# to DROP_PORT (dropped_total): a filter whose effect shows at the receiver, so that a moment
# without it shows too. NOTE (a comment in the code) makes another configuration of the same
# program.
pass_or_drop_config() {
	local src
	src=$(mktemp --suffix=.c "$TMPD/pass-or-drop.XXXXXX")
	cat >"$src" <<EOF
#include <dynmon.h>

/* Passes and counts UDP datagrams to port $1, drops and counts those to $2. ${3:-} */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} PASSED SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} DROPPED SEC(".maps");

static __always_inline void count(void *map)
{
	__u32 key = 0;
	__u64 *counter = bpf_map_lookup_elem(map, &key);

	if (counter)
		__sync_fetch_and_add(counter, 1);
}

SEC("tc")
int pass_or_drop(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return DYNMON_PASS;
	if (udp->dest == bpf_htons($1)) {
		count(&PASSED);
		return DYNMON_PASS;
	}
	if (udp->dest == bpf_htons($2)) {
		count(&DROPPED);
		return DYNMON_DROP;
	}
	return DYNMON_PASS;
}

char LICENSE[] SEC("license") = "GPL";
EOF
	"$PY" "$E2E_DIR/mkconfig.py" --ingress "$src" \
		--metric ingress:passed_total:PASSED --metric ingress:dropped_total:DROPPED
	rm -f "$src"
}

# send_udp NS DST_IP PORT COUNT: sends exactly COUNT datagrams from namespace NS.
send_udp() {
	local out
	out=$(ip netns exec "$1" "$PY" "$E2E_DIR/udp.py" send --dst "$2" --ports "$3" --count "$4") ||
		die "could not send $4 datagrams from $1 to $2:$3: $out"
}

# start_flood PORT[,PORT...]: datagrams from B to A's address, to each port in turn, as fast as
# the sender goes, until it is signalled (at most 120 s); its tally goes to $TMPD/sender.json.
# Sets SENDER (also in BG_PIDS, for the clean-up). Not in a subshell.
start_flood() {
	ip netns exec "$NS_B" "$PY" "$E2E_DIR/udp.py" send --dst "$IP_A" --ports "$1" \
		--count 50000000 --until-signal --max-seconds 120 >"$TMPD/sender.json" &
	SENDER=$!
	BG_PIDS+=("$SENDER")
}

# start_sink KEY NS IP PORT: a UDP receiver bound in NS that counts what arrives.
start_sink() {
	local key=$1 ns=$2 ip=$3 port=$4 i
	rm -f "$TMPD/sink-$key.ready" "$TMPD/sink-$key.result"
	ip netns exec "$ns" "$PY" "$E2E_DIR/udp.py" sink --bind "$ip" --port "$port" \
		--ready "$TMPD/sink-$key.ready" --result "$TMPD/sink-$key.result" &
	SINK_PIDS[$key]=$!
	for ((i = 0; i < 100; i++)); do
		[[ -e $TMPD/sink-$key.ready ]] && return 0
		kill -0 "${SINK_PIDS[$key]}" 2>/dev/null || die "the UDP sink $key exited at start"
		sleep 0.05
	done
	die "the UDP sink $key did not start"
}

# stop_sink KEY: stops the receiver; sets SINK_RECEIVED and SINK_DROPS (datagrams the sink's own
# socket lost to a full buffer: the receiver's fault, never the probe's). Not in a subshell.
stop_sink() {
	local key=$1 pid=${SINK_PIDS[$1]} result
	sleep 0.2 # let the last datagrams through the softirq
	kill -TERM "$pid"
	wait "$pid" || true
	unset "SINK_PIDS[$key]"
	result=$(cat "$TMPD/sink-$key.result") || die "the UDP sink $key left no result"
	read -r SINK_RECEIVED SINK_DROPS <<<"$result"
}

# tc_qdiscs NS DEV, tc_filters NS DEV ingress|egress: what tc shows inside a namespace.
tc_qdiscs() { ip netns exec "$1" tc qdisc show dev "$2"; }
tc_filters() { ip netns exec "$1" tc filter show dev "$2" "$3"; }

# send_ntp NS DST_IP NTP.PY-OPTIONS...: sends exactly the mix ntp.py's options describe (NTP of
# given modes and ports, other UDP, TCP) from namespace NS to DST_IP.
send_ntp() {
	local ns=$1 dst=$2 out
	shift 2
	out=$(ip netns exec "$ns" "$PY" "$E2E_DIR/ntp.py" send --dst "$dst" "$@") ||
		die "could not send the mix $* from $ns to $dst: $out"
}

# metrics_shape NAME: `dynmonctl metrics NAME` checked for upstream's JSON shape and printed on
# one line ("ingress-metrics: a=[1] | egress-metrics: b=[2]"), or the reason it is wrong.
metrics_shape() {
	local json
	json=$(dm metrics "$1") || {
		echo "<dynmonctl metrics failed>"
		return 0
	}
	"$PY" "$E2E_DIR/metricshape.py" <<<"$json" || true
}

# xdp_show NS DEV: the XDP part of `ip link show`: "xdpgeneric", "xdp", "xdpoffload" or "none",
# then the attached program's name when there is one ("xdpgeneric dynmon_ingress").
xdp_show() {
	ip -n "$1" -d link show dev "$2" | awk '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^xdp/) mode = $i }
		/prog\/xdp/ { for (i = 1; i <= NF; i++) if ($i == "name") name = $(i + 1) }
		END { print (mode ? mode : "none") (name ? " " name : "") }'
}

# ---------------------------------------------------------------------------------------------
# Traffic of chosen sizes and sources (udpmix.py), and what a probe sees of it

# frame_len PAYLOAD: the bytes a probe counts for a UDP datagram over IPv4 (skb->len at tc: the
# Ethernet frame without its FCS): 14 + 20 + 8 + payload.
frame_len() { echo $((14 + 20 + 8 + $1)); }

# send_udp_mix NS DST PORTS SIZES COUNT [SRC]: exactly COUNT datagrams, in order, datagram i to
# port PORTS[i % n] with SIZES[i % m] bytes of payload (comma-separated lists), from address SRC
# if given.
send_udp_mix() {
	local out
	out=$(ip netns exec "$1" "$PY" "$E2E_DIR/udpmix.py" udp --dst "$2" --ports "$3" \
		--sizes "$4" --count "$5" ${6:+--src "$6"}) ||
		die "could not send $5 datagrams ($4 bytes) from $1 to $2:$3: $out"
}

# add_address NS DEV IP PEER_NS PEER_DEV MAC: one more /24 address on DEV (whose MAC is MAC),
# that the peer reaches without ARP.
add_address() {
	ip -n "$1" addr add "$3/24" dev "$2"
	ip -n "$4" neigh add "$3" lladdr "$6" dev "$5" nud permanent
}

# ip_number A.B.C.D: the address as dynmon decodes a __be32 field: one number, in host order.
ip_number() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	echo $(((a << 24) | (b << 16) | (c << 8) | d))
}

# metric_canon METRICS-JSON DIRECTION NAME [SHAPE]: one metric of a saved `dynmonctl metrics`
# output, made comparable (see metriccanon.py for the shapes), or "<missing>". Save the output
# once and pick from it when a read has effects (empty-on-read).
metric_canon() {
	"$PY" "$E2E_DIR/metriccanon.py" "${@:2}" <<<"$1" || true
}
