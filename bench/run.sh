#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs dynmon's benchmarks and prints their tables (Markdown), as docs/PERFORMANCE.md records
# them. Benchmarks, not tests: nothing passes or fails here but the run itself.
#
#   sudo bench/run.sh [wrapper|phases|daemon|manual|all]     (default: all, about a minute)
#
#   wrapper  per-packet cost of the Polycube wrapper (build/bench/bench-wrapper)
#   phases   an inject phase by phase, on the daemon's code paths (build/bench/bench-inject-phases)
#   daemon   `dynmonctl inject` against a real dynmond on a private bus, cold and warm
#   manual   what a user would do by hand instead: clang, then `tc filter replace ... bpf`
#
# BUILD_DIR (default: build) is a configured meson build directory; the targets needed are built
# first. Everything this script makes (a network namespace with veth pairs, a private bus, the
# daemon, a temporary directory) has a name of its own and is removed on any exit. "Cold" runs
# drop the page cache first (echo 3 > /proc/sys/vm/drop_caches: it empties caches only).
# shellcheck disable=SC2317 # functions run through the trap and timed_ms look unreachable
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${BUILD_DIR:-$SRC/build}" && pwd)
WARM=${WARM:-20}
PY=/usr/bin/python3
LIBBPF_EXAMPLE=$SRC/examples/packet_counter.json
POLYCUBE_EXAMPLE=$SRC/tests/data/polycube/v1.1/packet_counter.json

ID=$$
NS=dm-bench-$ID-$RANDOM
TMPD=
DBUS_PID=
DAEMON_PID=

die() {
	echo "bench/run.sh: $*" >&2
	exit 1
}

# stop_pid PID: SIGTERM, up to 5 s of grace, then SIGKILL; only processes this script started.
stop_pid() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	set +e
	stop_pid "$DAEMON_PID"
	stop_pid "$DBUS_PID"
	ip netns del "$NS" 2>/dev/null
	[[ -n $TMPD ]] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Helpers

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# timed_ms CMD...: runs CMD (its output to $TMPD/last.out), prints the time it took in ms, read
# from bash's own clock in microseconds (no fork around the command).
timed_ms() {
	local t0 t1
	t0=${EPOCHREALTIME/[.,]/}
	"$@" >"$TMPD/last.out" 2>&1 || {
		cat "$TMPD/last.out" >&2
		die "failed: $*"
	}
	t1=${EPOCHREALTIME/[.,]/}
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1000 }'
}

# summary < numbers: "median | min - max" of one number per line.
summary() {
	sort -n | awk '{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f | %.1f - %.1f", m, v[1], v[NR]
		}'
}

# warm_runs FILE CMD...: runs CMD $WARM times, one time in ms per line in FILE.
warm_runs() {
	local file=$1 i
	shift
	: >"$file"
	for ((i = 0; i < WARM; i++)); do
		timed_ms "$@" >>"$file"
	done
}

# veth NAME: a veth pair, both ends in our namespace, up.
veth() {
	ip -n "$NS" link add "$1" type veth peer name "${1}p"
	ip -n "$NS" link set "$1" up
	ip -n "$NS" link set "${1}p" up
}

setup() {
	[[ $(id -u) == 0 ]] || die "must run as root (namespaces, BPF, drop_caches)"
	[[ -f $BUILD/build.ninja ]] || die "no meson build in $BUILD (meson setup build first)"
	ninja -C "$BUILD" bench service/dynmond cli/dynmonctl >/dev/null ||
		die "the build in $BUILD failed"
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/dynmon-bench.XXXXXX")
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	echo "# kernel $(uname -r), $(nproc) CPUs, $(clang --version | head -n 1), $(tc -V)"
}

# ---------------------------------------------------------------------------------------------
# phases: bench-inject-phases, one fresh process per configuration, the page cache dropped first

table_phases() {
	local cfg
	veth "db${ID}ph"
	for cfg in "$LIBBPF_EXAMPLE" "$POLYCUBE_EXAMPLE"; do
		echo
		drop_caches
		ip netns exec "$NS" "$BUILD/bench/bench-inject-phases" --source-dir "$SRC" \
			--ifname "db${ID}ph" --rounds "$WARM" "$cfg"
	done
}

# ---------------------------------------------------------------------------------------------
# daemon: a private bus and dynmond in our namespace, as tests/e2e/lib.sh sets them up

start_bus() {
	local i
	sed -e "s|@LISTEN_ADDRESS@|unix:path=$TMPD/bus|" \
		-e "s|@DYNMON_POLICY@|$SRC/dbus/org.polycube.Dynmon.conf|" \
		"$SRC/tests/dbus/system.conf" >"$TMPD/system.conf"
	dbus-daemon --config-file="$TMPD/system.conf" --nofork --nopidfile \
		>>"$TMPD/dbus-daemon.log" 2>&1 &
	DBUS_PID=$!
	export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMPD/bus
	for ((i = 0; i < 100; i++)); do
		busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
			GetId >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "the private bus did not come up"
}

start_daemon() {
	local i
	ip netns exec "$NS" "$BUILD/service/dynmond" --bpf-include-dir "$SRC/bpf/include" \
		>>"$TMPD/dynmond.log" 2>&1 &
	DAEMON_PID=$!
	for ((i = 0; i < 100; i++)); do
		"$BUILD/cli/dynmonctl" list >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || die "dynmond exited: $(cat "$TMPD/dynmond.log")"
		sleep 0.1
	done
	die "dynmond did not answer within 10 s"
}

dm() { "$BUILD/cli/dynmonctl" "$@"; }

# daemon_row LABEL CONFIG IFNAME: a fresh daemon, a monitor attached to IFNAME, then the cold
# inject (page cache dropped; the CLI itself re-read first, so that the cold time is the
# daemon's) and $WARM warm ones.
daemon_row() {
	local label=$1 cfg=$2 ifname=$3 cold
	start_daemon
	dm add bench >/dev/null
	dm attach bench "$ifname" >/dev/null
	drop_caches
	dm list >/dev/null
	cold=$(timed_ms dm inject bench "$cfg")
	warm_runs "$TMPD/warm" dm inject bench "$cfg"
	echo "| $label | $cold | $(summary <"$TMPD/warm") |"
	dm del bench >/dev/null
	stop_pid "$DAEMON_PID"
	DAEMON_PID=
}

table_daemon() {
	veth "db${ID}dm"
	start_bus
	echo
	echo "dynmonctl inject on a monitor attached to a veth; cold = the first inject of a fresh"
	echo "daemon after the page cache was dropped, warm = $WARM later injects (each one replaces"
	echo "the running program)"
	echo
	echo "| what | cold, ms | warm median, ms | warm min - max, ms |"
	echo "|---|---:|---:|---:|"
	daemon_row "inject examples/packet_counter.json (libbpf dialect)" \
		"$LIBBPF_EXAMPLE" "db${ID}dm"
	daemon_row "inject upstream v1.1 packet_counter.json (Polycube dialect)" \
		"$POLYCUBE_EXAMPLE" "db${ID}dm"
	start_daemon
	warm_runs "$TMPD/warm" dm list
	echo "| dynmonctl list (the CLI and the bus alone, no inject) | - | $(summary <"$TMPD/warm") |"
	stop_pid "$DAEMON_PID"
	DAEMON_PID=
}

# ---------------------------------------------------------------------------------------------
# manual: the libbpf example's code compiled with the daemon's flags and put on the hook by tc

manual_compile() {
	clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I "$SRC/bpf/include" \
		-idirafter "/usr/include/$(cc -print-multiarch)" \
		-c "$TMPD/counter.bpf.c" -o "$TMPD/counter.bpf.o"
}

manual_attach() {
	ip netns exec "$NS" tc filter replace dev "db${ID}mn" ingress pref 1 handle 1 \
		bpf direct-action obj "$TMPD/counter.bpf.o" sec tc
}

manual_both() {
	manual_compile
	manual_attach
}

table_manual() {
	local cold
	veth "db${ID}mn"
	ip netns exec "$NS" tc qdisc add dev "db${ID}mn" clsact
	"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["ingress-path"]["code"])' \
		"$LIBBPF_EXAMPLE" >"$TMPD/counter.bpf.c"
	echo
	echo "By hand: examples/packet_counter.json's code, clang with the daemon's flags, then"
	echo "tc filter replace ... bpf direct-action obj (iproute2 with libbpf); cold = page cache"
	echo "dropped first, warm = $WARM later runs"
	echo
	echo "| what | cold, ms | warm median, ms | warm min - max, ms |"
	echo "|---|---:|---:|---:|"
	drop_caches
	cold=$(timed_ms manual_both)
	warm_runs "$TMPD/warm" manual_both
	echo "| clang + tc filter replace | $cold | $(summary <"$TMPD/warm") |"
	warm_runs "$TMPD/warm" manual_compile
	echo "| of which clang | - | $(summary <"$TMPD/warm") |"
	warm_runs "$TMPD/warm" manual_attach
	echo "| of which tc filter replace | - | $(summary <"$TMPD/warm") |"
}

# ---------------------------------------------------------------------------------------------

table_wrapper() {
	echo
	"$BUILD/bench/bench-wrapper" --source-dir "$SRC"
}

what=${1:-all}
case $what in
wrapper | phases | daemon | manual | all) ;;
*) die "unknown table '$what' (wrapper, phases, daemon, manual or all)" ;;
esac
setup
[[ $what == wrapper || $what == all ]] && table_wrapper
[[ $what == phases || $what == all ]] && table_phases
[[ $what == daemon || $what == all ]] && table_daemon
[[ $what == manual || $what == all ]] && table_manual
exit 0
