#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs dynmon's benchmarks and prints their tables (Markdown), as docs/PERFORMANCE.md records
# them. Benchmarks, not tests: nothing passes or fails here but the run itself.
#
#   sudo bench/run.sh [wrapper|phases|daemon|manual|swap|export|scrape|read|objects|all]
#                                                                  (default: all, ≈ 8 min)
#   sudo bench/run.sh reliability [--minutes N] [--kills N] [--slowloris SEC]
#
#   wrapper  per-packet cost of the Polycube wrapper and of swap-on-read's pivot
#            (build/bench/bench-wrapper)
#   phases   an inject phase by phase, on the daemon's code paths (build/bench/bench-inject-phases)
#   daemon   `dynmonctl inject` against a real dynmond on a private bus, cold and warm
#   manual   what a user would do by hand instead: clang, then `tc filter replace ... bpf`
#   swap     swap-on-read: the pivot's per-packet cost (the wrapper table), then reads of a real
#            dynmond's metrics in a tight loop under traffic, timed, with the zero-loss check
#            beside them; plain and empty-on-read reads, and bpftool dump + zero, compared
#   export   a 1,000,000-entry hash map (5-tuple key, packets and bytes) exported to JSON and
#            OpenMetrics, against its raw batch read and `bpftool map dump -j`, with the peak
#            memory of each (build/bench/bench-export; EXPORT_N entries, EXPORT_ROUNDS rounds)
#   scrape   Prometheus's GET /metrics of 1, 10 and 100 monitors under wrk, and one monitor's
#            JSON: this build's dynmond beside the one of commit SCRAPE_BEFORE (fc012fa; none:
#            this build alone), requests/s and the daemon's CPU time per request
#            (SCRAPE_SECONDS a run, SCRAPE_ROUNDS runs per daemon and row; needs wrk)
#   read     the read path's figures of issue 15 in one run: export, then scrape
#   objects  the compile cache: an unchanged re-inject, and a restart with OBJECTS_N (100)
#            saved monitors until ListMonitors shows them all, then counting; this build beside
#            the one of commit OBJECTS_BEFORE (a4ab317; none: this build alone). Not in all.
#
#   reliability  the load and fault bench (bench/reliability.py, docs/RELIABILITY.md): D-Bus and
#            REST clients doing every operation for N minutes (default 3) under traffic, an audit
#            (API, tc, bpftool, pins, state file, fds, RSS), kill -9 during inject, swap-on-read
#            read and save (9 rounds), slowloris and stalled readers (30 s), every monitor
#            deleted; not in `all`; exits 1 when an audit finds an inconsistency or a leak
#
# BUILD_DIR (default: build) is a configured meson build directory; the targets needed are built
# first. Everything this script makes (network namespaces with veth pairs, a private bus, the
# daemon with its state and a BPF file system in a temporary directory, the processes started)
# has a name of its own and is removed on any exit. "Cold" runs drop the page cache first
# (echo 3 > /proc/sys/vm/drop_caches: it empties caches only). For swap: SWAP_N datagrams per
# phase (200000), SWAP_IDLE seconds per phase without traffic (1.5), SWAP_SAMPLES=DIR keeps
# every timed call.
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
NS_B=$NS-b # swap: the traffic's sender
TMPD=
DBUS_PID=
DAEMON_PID=
BG_PIDS=() # swap: sink, bus clients, sender
declare -A LOOPS # swap: the timed loops running, by name

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
	local i fs mounted=0
	set +e
	# The last started first: scrape's daemons before their buses.
	for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${BG_PIDS[i]}"
	done
	stop_pid "$DAEMON_PID"
	# reliability: the daemon the bench started last, if it is still ours
	[[ -n $TMPD && -s $TMPD/dynmond.pid ]] && stop_pid "$(<"$TMPD/dynmond.pid")"
	stop_pid "$DBUS_PID"
	ip netns del "$NS_B" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[[ -n $TMPD ]] || return
	for fs in "$TMPD/bpffs" "$TMPD/before/bpffs" "$TMPD/after/bpffs"; do
		mountpoint -q "$fs" && umount "$fs"
		mountpoint -q "$fs" && mounted=1
	done
	((mounted)) || rm -rf "$TMPD"
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
	[[ -z $DBUS_PID ]] || return 0 # `all`: the daemon table's bus
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

# daemon_state_options: where dynmond saves its monitors and pins their maps, in our temporary
# directory (a BPF file system mounted there), never the system's; nothing for a dynmond that
# saves nothing.
daemon_state_options() {
	"$BUILD/service/dynmond" --help | grep -q -- --pin-dir || return 0
	if ! mountpoint -q "$TMPD/bpffs"; then
		mkdir -p "$TMPD/bpffs"
		mount -t bpf bpf "$TMPD/bpffs" || die "cannot mount a BPF file system on $TMPD/bpffs"
	fi
	echo "--state-dir=$TMPD/state --pin-dir=$TMPD/bpffs/dynmon"
}

start_daemon() {
	local i options
	options=$(daemon_state_options)
	# shellcheck disable=SC2086 # two options or none
	ip netns exec "$NS" "$BUILD/service/dynmond" --bpf-include-dir "$SRC/bpf/include" \
		$options >>"$TMPD/dynmond.log" 2>&1 &
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
# swap: a real dynmond in $NS reads the upstream packet counter attached to a veth whose other
# end, in $NS_B, sends exactly $SWAP_N datagrams as fast as udp.py can, to a bound sink (no ICMP
# in return). Meanwhile bench-bus-client reads the Metrics property in a tight loop and times
# each read, and a second client times the Manager's ListMonitors: the event loop's latency.

SWAP_N=${SWAP_N:-200000}
SWAP_IDLE=${SWAP_IDLE:-1.5}
SWAP_PORT=7000
IP_A=192.0.2.1
IP_B=192.0.2.2
CLIENT=

# bench_ns_b: the namespace $NS_B beside $NS, both with lo up and IPv6 off, so that the
# sender's datagrams are the only packets that cross the veths made between them.
bench_ns_b() {
	local ns
	ip netns add "$NS_B"
	for ns in "$NS" "$NS_B"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
}

# bench_veth IF IF_B MAC MAC_B IP IP_B: IF in $NS and IF_B in $NS_B, both up, /24 addresses,
# static neighbours both ways (no ARP crosses).
bench_veth() {
	ip link add "$1" netns "$NS" address "$3" type veth peer name "$2" netns "$NS_B" address "$4"
	ip -n "$NS" addr add "$5/24" dev "$1"
	ip -n "$NS_B" addr add "$6/24" dev "$2"
	ip -n "$NS" neigh add "$6" lladdr "$4" dev "$1" nud permanent
	ip -n "$NS_B" neigh add "$5" lladdr "$3" dev "$2" nud permanent
	ip -n "$NS" link set "$1" up
	ip -n "$NS_B" link set "$2" up
}

# swap_network: a veth pair from $NS (the monitored end) to $NS_B, static neighbours and no
# IPv6, so that the sender's datagrams are the only packets that cross.
swap_network() {
	bench_ns_b
	bench_veth "db${ID}sw" "db${ID}swp" 02:00:00:00:00:0a 02:00:00:00:00:0b "$IP_A" "$IP_B"
}

# swap_configs: the upstream v1.1 packet counter, unchanged but for its extraction option.
swap_configs() {
	"$PY" - "$POLYCUBE_EXAMPLE" "$TMPD" <<'PYEOF'
import json, sys
for name, options in (("plain", None), ("empty", {"empty-on-read": True}),
                      ("swap", {"swap-on-read": True})):
    doc = json.load(open(sys.argv[1]))
    if options:
        doc["ingress-path"]["metric-configs"][0]["extraction-options"] = options
    json.dump(doc, open(f"{sys.argv[2]}/counter-{name}.json", "w"))
PYEOF
}

# spawn CMD...: runs CMD (a program, not a function) in the background, stopped on any exit;
# its pid in $SPAWNED.
spawn() {
	"$@" &
	SPAWNED=$!
	BG_PIDS+=("$SPAWNED")
}

# reap PID: waits for it; its exit status must be 0.
reap() {
	local pid=$1 rc=0 p left=()
	wait "$pid" || rc=$?
	for p in "${BG_PIDS[@]}"; do
		[[ $p == "$pid" ]] || left+=("$p")
	done
	BG_PIDS=("${left[@]}")
	((rc == 0)) || die "a helper failed (pid $pid, status $rc)"
}

# wait_file FILE PID: until FILE exists, as long as PID lives.
wait_file() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -e $1 ]] && return 0
		kill -0 "$2" 2>/dev/null || die "a helper exited at start (waiting for $1)"
		sleep 0.05
	done
	die "$1 did not appear"
}

# finish PID: SIGTERM, then its exit status must be 0.
finish() {
	kill -TERM "$1"
	reap "$1"
}

# sender_start: exactly $SWAP_N datagrams from $NS_B (udp.py fails when it could not send them
# all), in the background; its pid in $SPAWNED.
sender_start() {
	spawn ip netns exec "$NS_B" "$PY" "$SRC/tests/e2e/udp.py" send --dst "$IP_A" \
		--ports "$SWAP_PORT" --count "$SWAP_N" >"$TMPD/sent.json"
}

# sender_finish PID: waits for the sender, lets the last datagrams through the softirq before
# anyone reads again, and sets RATE, what it sent per second.
sender_finish() {
	reap "$1"
	sleep 0.2
	RATE=$("$PY" -c 'import json, sys; r = json.load(open(sys.argv[1]))
print(round(r["total"] / r["seconds"]))' "$TMPD/sent.json")
}

# quantiles < numbers: "N | median | p99 | max", interpolated as bench/stats.c does.
quantiles() {
	sort -n | awk '
		function q(p,   pos, lo) {
			pos = p * (NR - 1) + 1
			lo = int(pos)
			return lo < NR ? v[lo] + (pos - lo) * (v[lo + 1] - v[lo]) : v[lo]
		}
		{ v[NR] = $1 }
		END { printf "%d | %.3f | %.3f | %.3f", NR, q(0.5), q(0.99), v[NR] }'
}

# loop_start NAME CMD...: one of the timed loops (bench-bus-client, bench-grace), writing every
# call's time to $TMPD/NAME.samples and its summary line to $TMPD/NAME.out; returns once its
# first call has answered.
loop_start() {
	local name=$1
	shift
	rm -f "$TMPD/$name.ready"
	spawn "$@" --ready "$TMPD/$name.ready" --samples "$TMPD/$name.samples" >"$TMPD/$name.out"
	LOOPS[$name]=$SPAWNED
	wait_file "$TMPD/$name.ready" "$SPAWNED"
}

# loop_stop NAME LABEL: stops the loop, keeps its samples (SWAP_SAMPLES=DIR), sets LOOP_ROW to
# "| LABEL | calls | median | p99 | max" and LOOP_REST to what follows on its summary line.
loop_stop() {
	local name=$1 label=$2 n med p99 max
	finish "${LOOPS[$name]}"
	unset "LOOPS[$name]"
	read -r n med p99 max LOOP_REST <"$TMPD/$name.out"
	LOOP_ROW="| $label | $n | $med | $p99 | $max"
	[[ -z ${SWAP_SAMPLES:-} ]] ||
		cp "$TMPD/$name.samples" "$SWAP_SAMPLES/${label//[^a-zA-Z0-9]/}.$name"
}

# swap_phase LABEL CONFIG WHAT...: a fresh inject of CONFIG (its counter at 0), the loops WHAT
# names (read: Metrics reads; list: ListMonitors calls; grace: dm_grace_wait alone), then the
# traffic, or $SWAP_IDLE seconds without any when WHAT holds `idle`; one row per loop in its
# table. The check: with swap-on-read or empty-on-read the reads plus the final read must sum to
# what was sent; with plain reads (cumulative) the final read alone must.
swap_phase() {
	local label=$1 cfg=$2 what=" ${*:3} " sent=0 sum final total
	dm inject bench "$cfg" >/dev/null
	[[ $what != *" list "* ]] || loop_start list "$CLIENT" list
	[[ $what != *" read "* ]] || loop_start read "$CLIENT" metrics bench packets_total
	[[ $what != *" grace "* ]] || loop_start grace "$BUILD/bench/bench-grace"
	if [[ $what == *" idle "* ]]; then
		sleep "$SWAP_IDLE"
		RATE="no traffic"
	else
		sender_start
		sender_finish "$SPAWNED"
		sent=$SWAP_N
		SENT_TOTAL=$((SENT_TOTAL + SWAP_N))
	fi
	if [[ $what == *" read "* ]]; then
		loop_stop read "$label"
		read -r sum final <<<"$LOOP_REST"
		[[ -n ${final:-} ]] || die "the reader gave no final read"
		total=$((sum + final))
		[[ ${cfg##*/} != counter-plain.json ]] || total=$final
		echo "$LOOP_ROW | $total | $(exactness "$total" "$sent") | $RATE |" >>"$TMPD/reads.md"
	fi
	if [[ $what == *" list "* ]]; then
		loop_stop list "$label"
		echo "$LOOP_ROW | $RATE |" >>"$TMPD/list.md"
	fi
	if [[ $what == *" grace "* ]]; then
		loop_stop grace "$label"
		echo "$LOOP_ROW | $RATE |" >>"$TMPD/grace.md"
	fi
}

# exactness TOTAL SENT: how TOTAL compares with what was sent.
exactness() {
	if (($1 == $2)); then
		echo "exact ($2)"
	else
		printf "**off by %+d**" $(($1 - $2))
	fi
}

# counter_map_id: the id of PKT_COUNTER, found through the program on our veth (other maps on
# the machine have that name too).
counter_map_id() {
	local prog
	prog=$(ip netns exec "$NS" tc filter show dev "db${ID}sw" ingress |
		grep -o ' id [0-9]*' | head -n 1) || die "no program on db${ID}sw"
	bpftool -j prog show id "${prog# id }" | "$PY" -c '
import json, subprocess, sys
for m in json.load(sys.stdin)["map_ids"]:
    info = json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(m)],
                                     check=True, capture_output=True).stdout)
    if info["name"] == "PKT_COUNTER":
        print(m)
        break
else:
    sys.exit("no PKT_COUNTER on the program")'
}

# dump_sum FILE...: the sum of the counter's values in `bpftool -j map dump` outputs.
dump_sum() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
total = 0
for path in sys.argv[1:]:
    for entry in json.load(open(path)):
        value = entry.get("formatted", entry)["value"]
        total += value if isinstance(value, int) else int.from_bytes(
            bytes(int(b, 16) for b in value), "little")
print(total)
PYEOF
}

# bpftool_cycle MAP I: one read as a user would do it by hand: dump, then zero.
bpftool_cycle() {
	bpftool -j map dump id "$1" >"$TMPD/dumps/$2.json"
	bpftool map update id "$1" key 0 0 0 0 value 0 0 0 0 0 0 0 0
}

# swap_bpftool: plain counter, bpftool dump + zero in a loop under the same traffic.
swap_bpftool() {
	local map i=0 sender t0 total
	dm inject bench "$TMPD/counter-plain.json" >/dev/null
	map=$(counter_map_id)
	mkdir -p "$TMPD/dumps"
	: >"$TMPD/cycles"
	sender_start
	sender=$SPAWNED
	while kill -0 "$sender" 2>/dev/null; do
		t0=${EPOCHREALTIME/[.,]/}
		bpftool_cycle "$map" $((i++))
		echo $((${EPOCHREALTIME/[.,]/} - t0)) >>"$TMPD/cycles"
	done
	sender_finish "$sender"
	SENT_TOTAL=$((SENT_TOTAL + SWAP_N))
	bpftool -j map dump id "$map" >"$TMPD/dumps/final.json"
	total=$(dump_sum "$TMPD"/dumps/*.json)
	echo "| bpftool map dump, then map update to zero |" \
		"$(awk '{ print $1 / 1000 }' "$TMPD/cycles" | quantiles) | $total |" \
		"$(exactness "$total" "$SWAP_N") | $RATE |" >>"$TMPD/reads.md"
}

table_swap() {
	local received drops sink
	local plain=$TMPD/counter-plain.json empty=$TMPD/counter-empty.json
	local swap=$TMPD/counter-swap.json
	CLIENT=$BUILD/bench/bench-bus-client
	SENT_TOTAL=0
	swap_network
	swap_configs
	start_bus
	start_daemon
	dm add bench >/dev/null
	dm attach bench "db${ID}sw" >/dev/null
	rm -f "$TMPD/sink.ready" "$TMPD/sink.result"
	spawn ip netns exec "$NS" "$PY" "$SRC/tests/e2e/udp.py" sink --bind "$IP_A" \
		--port "$SWAP_PORT" --ready "$TMPD/sink.ready" --result "$TMPD/sink.result"
	sink=$SPAWNED
	wait_file "$TMPD/sink.ready" "$sink"
	: >"$TMPD/reads.md"
	: >"$TMPD/list.md"
	: >"$TMPD/grace.md"
	echo
	echo "# load before: $(uptime)"
	swap_phase "plain reads" "$plain" read
	swap_phase "empty-on-read" "$empty" read
	swap_phase "swap-on-read" "$swap" read
	swap_phase "swap-on-read, no traffic" "$swap" read idle
	swap_phase "no reads (swap-on-read monitor)" "$swap" list
	swap_phase "swap-on-read, with a ListMonitors caller" "$swap" read list
	swap_bpftool
	swap_phase "grace period alone" "$plain" grace
	swap_phase "grace period alone, no traffic" "$plain" grace idle
	swap_phase "grace period alone, with a ListMonitors caller" "$plain" grace list
	finish "$sink"
	read -r received drops <"$TMPD/sink.result"
	dm del bench >/dev/null
	stop_pid "$DAEMON_PID"
	DAEMON_PID=
	echo "# load after: $(uptime)"
	echo
	echo "The upstream v1.1 packet counter on a veth; $SWAP_N datagrams sent at full speed from"
	echo "the other end while a client reads the Metrics property in a tight loop. Total = the"
	echo "reads' values summed plus a final read after the traffic (plain reads: the final read)."
	echo
	echo "| reader | reads | median, ms | p99, ms | max, ms | total | vs sent | sender, packets/s |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|"
	cat "$TMPD/reads.md"
	echo
	echo "A second client calling the Manager's ListMonitors in a loop, under the same traffic:"
	echo
	echo "| meanwhile | calls | median, ms | p99, ms | max, ms | sender, packets/s |"
	echo "|---|---:|---:|---:|---:|---:|"
	cat "$TMPD/list.md"
	echo
	echo "The kernel's part of a swap read: the grace period alone, the daemon's dm_grace_wait()"
	echo "(an ARRAY_OF_MAPS update) back to back, without any swap:"
	echo
	echo "| grace period | waits | median, ms | p99, ms | max, ms | sender, packets/s |"
	echo "|---|---:|---:|---:|---:|---:|"
	cat "$TMPD/grace.md"
	echo
	echo "The sink received $received datagrams of $SENT_TOTAL sent (its own socket dropped $drops)."
}

# ---------------------------------------------------------------------------------------------
# scrape: Prometheus's /metrics under wrk, this build's dynmond beside the one of $SCRAPE_BEFORE
# (built from `git archive` in our temporary directory), each daemon on a private bus of its
# own, both in $NS, serving on its loopback. Their monitors carry
# examples/packet_size_histogram.json (a histogram on each path, one family) and are attached
# nowhere: what is timed is the read and the text, not traffic.

SCRAPE_BEFORE=${SCRAPE_BEFORE-fc012fa}
SCRAPE_SECONDS=${SCRAPE_SECONDS:-4}
SCRAPE_ROUNDS=${SCRAPE_ROUNDS:-3}
SCRAPE_EXAMPLE=$SRC/examples/packet_size_histogram.json
# What Prometheus 2.42 sends when it scrapes, as tests/e2e/e2e-prometheus.sh has it.
PROMETHEUS_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
declare -A SCRAPE_BUILD SCRAPE_BUS SCRAPE_PORT SCRAPE_PID

# scrape_build_before: dynmond and dynmonctl of $SCRAPE_BEFORE, in $TMPD/before.
scrape_build_before() {
	local rev
	rev=$(git -C "$SRC" rev-parse --short "$SCRAPE_BEFORE^{commit}") ||
		die "SCRAPE_BEFORE=$SCRAPE_BEFORE is no commit of $SRC"
	mkdir -p "$TMPD/before/src"
	git -C "$SRC" archive "$rev" | tar -x -C "$TMPD/before/src"
	meson setup "$TMPD/before/build" "$TMPD/before/src" -Dtests=false >"$TMPD/before.log" 2>&1 &&
		ninja -C "$TMPD/before/build" service/dynmond cli/dynmonctl >>"$TMPD/before.log" 2>&1 ||
		die "building $rev failed: $(tail -n 20 "$TMPD/before.log")"
	SCRAPE_BUILD[before]=$TMPD/before/build
	SCRAPE_BEFORE_REV=$rev
}

# scrape_daemon WHICH PORT SOURCE: a bus and a dynmond (of build SCRAPE_BUILD[WHICH], with its
# state and pinned maps under $TMPD/WHICH) listening on 127.0.0.1:PORT in $NS.
scrape_daemon() {
	local which=$1 port=$2 src=$3 dir=$TMPD/$1 build=${SCRAPE_BUILD[$1]} i
	mkdir -p "$dir/bpffs"
	mount -t bpf bpf "$dir/bpffs" || die "cannot mount a BPF file system on $dir/bpffs"
	sed -e "s|@LISTEN_ADDRESS@|unix:path=$dir/bus|" \
		-e "s|@DYNMON_POLICY@|$SRC/dbus/org.polycube.Dynmon.conf|" \
		"$SRC/tests/dbus/system.conf" >"$dir/system.conf"
	spawn dbus-daemon --config-file="$dir/system.conf" --nofork --nopidfile \
		>>"$dir/dbus-daemon.log" 2>&1
	SCRAPE_BUS[$which]=unix:path=$dir/bus
	for ((i = 0; i < 100; i++)); do
		DBUS_SYSTEM_BUS_ADDRESS=${SCRAPE_BUS[$which]} busctl call org.freedesktop.DBus \
			/org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null 2>&1 && break
		sleep 0.1
	done
	SCRAPE_PORT[$which]=$port
	scrape_dynmond "$which" "$src"
	for ((i = 0; i < 100; i++)); do
		scrape_dm "$which" list >/dev/null 2>&1 && return 0
		kill -0 "$SPAWNED" 2>/dev/null || die "dynmond ($which) exited: $(cat "$dir/dynmond.log")"
		sleep 0.1
	done
	die "dynmond ($which) did not answer within 10 s"
}

# scrape_dynmond WHICH SOURCE: starts that dynmond (its bus and port set up by scrape_daemon),
# without waiting for it.
scrape_dynmond() {
	local which=$1 src=$2 dir=$TMPD/$1
	spawn env DBUS_SYSTEM_BUS_ADDRESS="${SCRAPE_BUS[$which]}" \
		ip netns exec "$NS" "${SCRAPE_BUILD[$which]}/service/dynmond" \
		--bpf-include-dir "$src/bpf/include" \
		--state-dir="$dir/state" --pin-dir="$dir/bpffs/dynmon" \
		--rest-address="127.0.0.1:${SCRAPE_PORT[$which]}" >>"$dir/dynmond.log" 2>&1
	SCRAPE_PID[$which]=$SPAWNED
}

scrape_dm() {
	DBUS_SYSTEM_BUS_ADDRESS=${SCRAPE_BUS[$1]} "${SCRAPE_BUILD[$1]}/cli/dynmonctl" "${@:2}"
}

# scrape_monitors WHICH N: monitors m0 ... m(N-1), each with the histogram example injected.
scrape_monitors() {
	local i=0
	while scrape_dm "$1" show "m$i" >/dev/null 2>&1; do
		i=$((i + 1))
	done
	for (( ; i < $2; i++)); do
		scrape_dm "$1" add --config="$SCRAPE_EXAMPLE" "m$i" >/dev/null
	done
}

# cpu_ticks PID: the user and system time of a process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# scrape_wrk WHICH PATH ACCEPT: wrk, 2 threads and 4 connections for $SCRAPE_SECONDS against
# http://127.0.0.1:PORT/PATH; prints "requests/s latency-avg cpu-ms-per-request", the last
# being the daemon's own CPU time (user + system) per answer: what a request costs it,
# whatever else the machine runs. Every answer must be a 200.
scrape_wrk() {
	local out rps lat n t0 t1 hz
	hz=$(getconf CLK_TCK)
	t0=$(cpu_ticks "${SCRAPE_PID[$1]}")
	out=$(ip netns exec "$NS" wrk -t 2 -c 4 -d "${SCRAPE_SECONDS}s" ${3:+-H "Accept: $3"} \
		"http://127.0.0.1:${SCRAPE_PORT[$1]}$2") || die "wrk failed: $out"
	t1=$(cpu_ticks "${SCRAPE_PID[$1]}")
	! grep -q -e 'Non-2xx' -e 'Socket errors' <<<"$out" || die "wrk saw errors: $out"
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	lat=$(awk '$1 == "Latency" { print $2 }' <<<"$out")
	n=$(awk '/requests in/ { print $1 }' <<<"$out")
	echo "$rps $lat $(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$n" \
		'BEGIN { printf "%.3f", t * 1000 / hz / n }')"
}

# scrape_size WHICH PATH ACCEPT: the bytes of one answer.
scrape_size() {
	ip netns exec "$NS" curl -sS --max-time 30 ${3:+-H "Accept: $3"} -o /dev/null \
		-w '%{size_download}' "http://127.0.0.1:${SCRAPE_PORT[$1]}$2"
}

# scrape_row LABEL PATH ACCEPT: $SCRAPE_ROUNDS rounds, each daemon once per round, the order
# turning; one table row with the median requests/s of each, and the ratio.
scrape_row() {
	local label=$1 path=$2 accept=$3 which r rps lat cpu cells="" ratio
	local -A all
	for ((r = 0; r < SCRAPE_ROUNDS; r++)); do
		for which in $(scrape_order "$r"); do
			read -r rps lat cpu < <(scrape_wrk "$which" "$path" "$accept")
			all[$which]+="$rps"$'\n'
			all[$which.lat]+="$lat "
			all[$which.cpu]+="$cpu"$'\n'
		done
	done
	for which in "${SCRAPE_WHICH[@]}"; do
		cells+=" $(printf '%s' "${all[$which]}" | summary | sed 's/\.[0-9]\b//g') |"
		cells+=" ${all[$which.lat]% } |"
		cells+=" $(printf '%s' "${all[$which.cpu]}" | sort -n | awk '{ v[NR] = $1 }
			END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }') |"
		cells+=" $(scrape_size "$which" "$path" "$accept") |"
	done
	ratio=""
	if ((${#SCRAPE_WHICH[@]} == 2)); then
		ratio=$(awk -v a="$(printf '%s' "${all[before]}" | summary | cut -d' ' -f1)" \
			-v b="$(printf '%s' "${all[after]}" | summary | cut -d' ' -f1)" \
			'BEGIN { printf " %.1f× |", b / a }')
	fi
	echo "| $label |$cells$ratio"
}

# scrape_order ROUND: the daemons in the order of that round.
scrape_order() {
	if ((${#SCRAPE_WHICH[@]} == 2 && $1 % 2 == 1)); then
		echo "${SCRAPE_WHICH[1]} ${SCRAPE_WHICH[0]}"
	else
		echo "${SCRAPE_WHICH[*]}"
	fi
}

table_scrape() {
	local n which head sep
	command -v wrk >/dev/null || die "no wrk (apt-get install wrk)"
	SCRAPE_BUILD[after]=$BUILD
	SCRAPE_WHICH=(after)
	if [[ $SCRAPE_BEFORE != none ]]; then
		scrape_build_before
		SCRAPE_WHICH=(before after)
	fi
	[[ -z ${SCRAPE_BUILD[before]:-} ]] || scrape_daemon before 9101 "$TMPD/before/src"
	scrape_daemon after 9102 "$SRC"
	echo
	echo "# load before: $(uptime)"
	echo
	echo "wrk (2 threads, 4 connections, ${SCRAPE_SECONDS} s a run) on the daemon's loopback;"
	echo "$SCRAPE_ROUNDS runs per daemon and row, alternating. Each monitor carries"
	echo "examples/packet_size_histogram.json, attached nowhere. Prometheus text = no Accept"
	echo "header; OpenMetrics = the Accept header Prometheus sends. Daemon CPU = its user +"
	echo "system time during the runs divided by the answers (the load other processes put on"
	echo "the machine moves requests/s; it moves this much less)."
	[[ -z ${SCRAPE_BEFORE_REV:-} ]] || echo "before = $SCRAPE_BEFORE_REV, after = this build"
	echo
	head="| what |"
	sep="|---|"
	for which in "${SCRAPE_WHICH[@]}"; do
		head+=" $which, req/s median | min - max | latency avg per run |"
		head+=" daemon CPU ms/request, median | bytes |"
		sep+="---:|---:|---:|---:|---:|"
	done
	((${#SCRAPE_WHICH[@]} < 2)) || {
		head+=" after ÷ before |"
		sep+="---:|"
	}
	echo "$head"
	echo "$sep"
	for n in 1 10 100; do
		for which in "${SCRAPE_WHICH[@]}"; do
			scrape_monitors "$which" "$n"
		done
		[[ $n != 1 ]] || scrape_row "one monitor's JSON (GET .../dynmon/m0/metrics)" \
			/polycube/v1/dynmon/m0/metrics ""
		scrape_row "/metrics, $n monitor$( ((n == 1)) || echo s), Prometheus text" /metrics ""
		scrape_row "/metrics, $n monitor$( ((n == 1)) || echo s), OpenMetrics" /metrics "$PROMETHEUS_ACCEPT"
	done
	echo
	echo "# load after: $(uptime)"
}

# ---------------------------------------------------------------------------------------------
# objects: the compile cache (docs/OBJECTS.md), this build's dynmond beside the one of
# $OBJECTS_BEFORE (a4ab317, main before the cache; built and run as scrape does). Each daemon
# gets $OBJECTS_N monitors, each with examples/packet_counter.json made distinct by a comment
# (so that each is an object of its own, not one shared cache entry), each attached to a veth
# of its own. Timed: an unchanged re-inject of m0 (dynmonctl inject, the CLI's own start
# included), $WARM times; and a restart (SIGTERM, then a new dynmond on the same state) until
# ListMonitors answers with all $OBJECTS_N, then a check that they count: 10 frames into the
# first and into the last veth, +10 on their monitors.

OBJECTS_BEFORE=${OBJECTS_BEFORE-a4ab317}
OBJECTS_N=${OBJECTS_N:-100}

objects_configs() {
	mkdir -p "$TMPD/objects"
	"$PY" - "$LIBBPF_EXAMPLE" "$TMPD/objects" "$OBJECTS_N" <<'PYEOF'
import json, sys
for i in range(int(sys.argv[3])):
    doc = json.load(open(sys.argv[1]))
    for path in doc.values():
        if path.get("code"):
            path["code"] += f"\n/* monitor m{i} */\n"
    json.dump(doc, open(f"{sys.argv[2]}/m{i}.json", "w"))
PYEOF
}

# objects_frames PEER N: N Ethernet frames sent on a veth's peer: they arrive on its ingress.
objects_frames() {
	ip netns exec "$NS" "$PY" - "$1" "$2" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + b"\x00" * 50
for _ in range(int(sys.argv[2])):
    s.send(frame)
PYEOF
}

objects_count() { # WHICH MONITOR: its packets_total on ingress
	scrape_dm "$1" --json metrics "$2" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print([m["value"] for m in d["ingress-metrics"] if m["name"] == "packets_total"][0][0])'
}

# objects_inject_stats WHICH: "SUM COUNT" of the daemon's own dynmon_inject_duration_seconds.
objects_inject_stats() {
	DBUS_SYSTEM_BUS_ADDRESS=${SCRAPE_BUS[$1]} busctl --json=short get-property \
		org.polycube.Dynmon /org/polycube/Dynmon org.polycube.Dynmon.Manager SelfMetrics |
		"$PY" -c 'import json, sys
v = {}
for line in json.load(sys.stdin)["data"].splitlines():
    f = line.split()
    if len(f) >= 2 and f[0] in ("dynmon_inject_duration_seconds_sum", "dynmon_inject_duration_seconds_count"):
        v[f[0]] = float(f[1])
print(v["dynmon_inject_duration_seconds_sum"], v["dynmon_inject_duration_seconds_count"])'
}

# objects_restart WHICH SOURCE: prints the ms from the new dynmond's start to a ListMonitors
# with all $OBJECTS_N monitors.
objects_restart() {
	local which=$1 t0 t1 n=0
	stop_pid "${SCRAPE_PID[$which]}"
	t0=${EPOCHREALTIME/[.,]/}
	scrape_dynmond "$which" "$2"
	while :; do
		n=$(DBUS_SYSTEM_BUS_ADDRESS=${SCRAPE_BUS[$which]} busctl --json=short call \
			org.polycube.Dynmon /org/polycube/Dynmon org.polycube.Dynmon.Manager \
			ListMonitors 2>/dev/null | "$PY" -c 'import json, sys
print(len(json.load(sys.stdin)["data"][0]))' 2>/dev/null) || n=0
		[[ $n == "$OBJECTS_N" ]] && break
		kill -0 "${SCRAPE_PID[$which]}" 2>/dev/null || die "dynmond ($which) exited"
		sleep 0.01
	done
	t1=${EPOCHREALTIME/[.,]/}
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", (b - a) / 1000 }'
}

table_objects() {
	local which src i before0 beforeN port=9110 sum0 count0 sum1 count1
	local -A reinject=() restart_ms=() counting=() daemon_ms=() list_ms=()
	SCRAPE_BUILD[after]=$BUILD
	SCRAPE_WHICH=(after)
	if [[ $OBJECTS_BEFORE != none ]]; then
		SCRAPE_BEFORE=$OBJECTS_BEFORE
		scrape_build_before
		SCRAPE_WHICH=(before after)
	fi
	# A veth each (a TC chain holds a few monitors, not 100). Only the frames sent here cross
	# them: no IPv6 (router solicitations, MLD) on either end.
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	for ((i = 0; i < OBJECTS_N; i++)); do
		veth "db${ID}o$i"
	done
	objects_configs
	for which in "${SCRAPE_WHICH[@]}"; do
		src=$SRC
		[[ $which == after ]] || src=$TMPD/before/src
		scrape_daemon "$which" $((port++)) "$src"
		for ((i = 0; i < OBJECTS_N; i++)); do
			scrape_dm "$which" add --config="$TMPD/objects/m$i.json" "m$i" >/dev/null
			scrape_dm "$which" attach "m$i" "db${ID}o$i" >/dev/null
		done
		read -r sum0 count0 < <(objects_inject_stats "$which")
		warm_runs "$TMPD/reinject" scrape_dm "$which" inject m0 "$TMPD/objects/m0.json"
		reinject[$which]=$(summary <"$TMPD/reinject" | sed 's/ | / (/; s/$/)/')
		read -r sum1 count1 < <(objects_inject_stats "$which")
		daemon_ms[$which]=$(awk -v a="$sum0" -v b="$sum1" -v n=$((${count1%.*} - ${count0%.*})) \
			'BEGIN { printf "%.1f", (b - a) * 1000 / n }')
		warm_runs "$TMPD/list" scrape_dm "$which" list
		list_ms[$which]=$(summary <"$TMPD/list" | cut -d' ' -f1)
		before0=$(objects_count "$which" m0)
		beforeN=$(objects_count "$which" "m$((OBJECTS_N - 1))")
		restart_ms[$which]=$(objects_restart "$which" "$src")
		objects_frames "db${ID}o0p" 10
		objects_frames "db${ID}o$((OBJECTS_N - 1))p" 10
		counting[$which]="m0 +$(($(objects_count "$which" m0) - before0)),"
		counting[$which]+=" m$((OBJECTS_N - 1)) +$(($(objects_count "$which" "m$((OBJECTS_N - 1))") - beforeN))"
		# The monitors go, or the next daemon's chain would sit behind these filters.
		for ((i = 0; i < OBJECTS_N; i++)); do
			scrape_dm "$which" del "m$i" >/dev/null
		done
		stop_pid "${SCRAPE_PID[$which]}"
	done
	echo
	echo "# load: $(uptime)"
	echo
	[[ -z ${SCRAPE_BEFORE_REV:-} ]] || echo "before = $SCRAPE_BEFORE_REV, after = this build"
	echo
	echo "| what | before | after | goal |"
	echo "|---|---:|---:|---:|"
	echo "| unchanged re-inject (dynmonctl inject), ms: median (min - max) of $WARM |" \
		"${reinject[before]:--} | ${reinject[after]} | ≤ 20 |"
	echo "| the same re-injects, the daemon's own time (dynmon_inject_duration_seconds), ms mean |" \
		"${daemon_ms[before]:--} | ${daemon_ms[after]} | ≤ 20 |"
	echo "| for scale: dynmonctl list (the CLI and the bus alone), ms median |" \
		"${list_ms[before]:--} | ${list_ms[after]} | |"
	echo "| restart with $OBJECTS_N saved monitors until ListMonitors shows all, ms |" \
		"${restart_ms[before]:--} | ${restart_ms[after]} | ≤ 2000 |"
	echo "| then 10 frames into the veth: counted by |" \
		"${counting[before]:--} | ${counting[after]} | +10, +10 |"
}

# ---------------------------------------------------------------------------------------------

table_wrapper() {
	echo
	"$BUILD/bench/bench-wrapper" --source-dir "$SRC"
}

# export: bench-export fills its own map (no network, no daemon) and prints both tables.
table_export() {
	echo
	"$BUILD/bench/bench-export" --entries "${EXPORT_N:-1000000}" --rounds "${EXPORT_ROUNDS:-5}"
}

# ---------------------------------------------------------------------------------------------
# reliability: the load and fault bench (bench/reliability.py; docs/RELIABILITY.md). dynmond runs
# in $NS, started, killed (-9) and restarted by the bench itself (its pid in $TMPD/dynmond.pid for
# our clean-up); three veths from $NS to $NS_B, where the traffic's sender runs.

RELIABILITY_PORT=9190

reliability_network() {
	local i
	bench_ns_b
	for i in 0 1 2; do
		bench_veth "rl${ID}$i" "rl${ID}${i}p" "02:00:00:00:0$i:0a" "02:00:00:00:0$i:0b" \
			"198.18.$i.1" "198.18.$i.2"
	done
}

table_reliability() {
	local options rc=0
	reliability_network
	swap_configs
	start_bus
	options=$(daemon_state_options)
	# shellcheck disable=SC2086 # two options or none
	"$PY" - "$TMPD/reliability.json" <<PYEOF
import json, sys
json.dump({
    "daemon": ["$BUILD/service/dynmond", "--bpf-include-dir", "$SRC/bpf/include",
               "--rest-address=127.0.0.1:$RELIABILITY_PORT", "--rest-allow-writes",
               *"$options".split()],
    "pidfile": "$TMPD/dynmond.pid", "log": "$TMPD/dynmond.log", "bus": "$DBUS_SYSTEM_BUS_ADDRESS",
    "port": $RELIABILITY_PORT, "ifaces": ["rl${ID}0", "rl${ID}1", "rl${ID}2"],
    "state_dir": "$TMPD/state", "pin_dir": "$TMPD/bpffs/dynmon", "src": "$SRC",
    "configs": {k: "$TMPD/counter-%s.json" % k for k in ("plain", "empty", "swap")},
    "seconds": ${RELIABILITY_SECONDS:-180}, "kills": ${RELIABILITY_KILLS:-9},
    "slowloris_seconds": ${RELIABILITY_LORIS:-30},
    "sender": ["ip", "netns", "exec", "$NS_B"], "dsts": ["198.18.0.1"],
}, open(sys.argv[1], "w"))
PYEOF
	ip netns exec "$NS" "$PY" "$SRC/bench/reliability.py" run "$TMPD/reliability.json" || rc=$?
	if ((rc)); then
		echo "--- dynmond's log (last 30 lines)"
		tail -n 30 "$TMPD/dynmond.log"
	fi
	return $rc
}

what=${1:-all}
case $what in
wrapper | phases | daemon | manual | swap | export | scrape | read | objects | all) ;;
reliability)
	shift
	while (($#)); do
		case $1 in
		--minutes) RELIABILITY_SECONDS=$(awk -v m="$2" 'BEGIN { printf "%d", m * 60 }') && shift ;;
		--seconds) RELIABILITY_SECONDS=$2 && shift ;;
		--kills) RELIABILITY_KILLS=$2 && shift ;;
		--slowloris) RELIABILITY_LORIS=$2 && shift ;;
		*) die "reliability: unknown option '$1' (--minutes N, --seconds N, --kills N, --slowloris SEC)" ;;
		esac
		shift
	done
	;;
*) die "unknown table '$what' (wrapper, phases, daemon, manual, swap, export, scrape, read, objects, all or reliability)" ;;
esac
setup
# The wrapper table holds the pivot's per-packet cost: swap's first part.
[[ $what == wrapper || $what == swap || $what == all ]] && table_wrapper
[[ $what == phases || $what == all ]] && table_phases
[[ $what == daemon || $what == all ]] && table_daemon
[[ $what == manual || $what == all ]] && table_manual
[[ $what == swap || $what == all ]] && table_swap
[[ $what == export || $what == read || $what == all ]] && table_export
[[ $what == scrape || $what == read || $what == all ]] && table_scrape
# Not in `all`: it builds and runs a daemon of its own on scrape's directories.
[[ $what == objects ]] && table_objects
# Not in `all`: minutes of load, and its exit status is the audit's.
[[ $what == reliability ]] && { table_reliability || exit 1; }
exit 0
