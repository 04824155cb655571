#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A fleet of dynmond, scraped by real Prometheus servers (Debian's prometheus), to measure what a
# fleet costs (docs/SCALE.md). One command, as root, from a configured build directory:
#
#   bench/fleet/run.sh            (FLEET_N hosts, default 50; a few minutes)
#
# The world, all of it made here and removed on any exit (namespaces, processes by PID, the BPF
# file system, the temporary directory):
#   - a hub namespace, with one veth to each host: the traffic comes from there, and the
#     Prometheus servers run there and reach each host's dynmond on its veth address;
#   - FLEET_N host namespaces, each with its own private bus (dbus-daemon, dynmon's real
#     policy), its own dynmond (--bpf-stats, REST on VETH_IP:9100), and FLEET_MONITORS monitors:
#     a flow monitor on the veth (an LRU hash of FLEET_FLOWS entries, 5-tuple labels; traffic
#     fills it with FLEET_SOCKETS x FLEET_PORTS flows), the rest examples on idle veths;
#   - phase 1: one Prometheus scraping every host every FLEET_INTERVAL seconds for
#     FLEET_SECONDS (series, bytes and time per scrape, dynmond's CPU and RSS);
#   - phase 2: FLEET_AGENTS Prometheus servers in agent mode (--enable-feature=agent) sharing the
#     hosts, remote-writing into a central Prometheus (--web.enable-remote-write-receiver), for
#     FLEET_SECONDS: samples ingested per second at the centre and its memory.
# FLEET_BUDGET='{"top-k": 100}' (JSON) adds series-budget fields to the flow metric.
# Prints Markdown tables; FLEET_OUT=DIR keeps the raw figures there.
# shellcheck disable=SC2317 # cleanup runs through the trap
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${BUILD_DIR:-$SRC/build}" && pwd)
DYNMOND=$BUILD/service/dynmond
DYNMONCTL=$BUILD/cli/dynmonctl
PY=/usr/bin/python3
HERE=$SRC/bench/fleet
N=${FLEET_N:-50}
MONITORS=${FLEET_MONITORS:-4}
FLOWS=${FLEET_FLOWS:-4096}
SOCKETS=${FLEET_SOCKETS:-32}
PORTS=${FLEET_PORTS:-32}
RATE=${FLEET_RATE:-3000}
INTERVAL=${FLEET_INTERVAL:-10}
SECONDS_PER_PHASE=${FLEET_SECONDS:-60}
AGENTS=${FLEET_AGENTS:-5}
BUDGET=${FLEET_BUDGET:-}
MAX_SECONDS=${FLEET_MAX_SECONDS:-1200} # the whole run, whatever happens

ID=$$
PFX=fl$ID
HUB=$PFX-hub
TMPD=
PIDS=()     # every process started, stopped by PID on exit
NETNS=()    # every namespace made
DAEMONS=()  # dynmond's PID per host
BPFFS=

die() {
	echo "fleet: $*" >&2
	exit 1
}
say() { echo "fleet: $*" >&2; }

cleanup() {
	local rc=$? pid ns
	set +e
	trap - EXIT INT TERM
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill -TERM "${PIDS[i]}" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for ((t = 0; t < 50; t++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[[ -n $BPFFS ]] && umount "$BPFFS" 2>/dev/null
	if [[ -n $TMPD ]]; then
		[[ -n ${FLEET_OUT:-} ]] && mkdir -p "$FLEET_OUT" && cp "$TMPD"/*.tsv "$TMPD"/*.log "$FLEET_OUT"/ 2>/dev/null
		rm -rf "$TMPD"
	fi
	left=$(ip netns list | awk '{print $1}' | grep -c "^$PFX-" || true)
	((left == 0)) || echo "fleet: $left namespaces of this run are left" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

((EUID == 0)) || die "run as root (namespaces, BPF)"
for t in prometheus curl dbus-daemon ip; do
	command -v "$t" >/dev/null || die "missing $t (data/install-deps.sh)"
done
[[ -x $DYNMOND && -x $DYNMONCTL ]] || die "build first: ninja -C $BUILD"
# A watchdog: the run ends within MAX_SECONDS even if something hangs.
(sleep "$MAX_SECONDS" && kill -TERM $ID) 2>/dev/null &
PIDS+=($!)

TMPD=$(mktemp -d /tmp/dynmon-fleet.XXXXXX)
mkdir "$TMPD/bpffs"
mount -t bpf bpf "$TMPD/bpffs"
BPFFS=$TMPD/bpffs

host_ip() { echo "10.201.$(($1 / 64)).$(($1 % 64 * 4 + 2))"; }
hub_ip() { echo "10.201.$(($1 / 64)).$(($1 % 64 * 4 + 1))"; }

# --- the world ---------------------------------------------------------------------------------
ip netns add "$HUB"
NETNS+=("$HUB")
ip -n "$HUB" link set lo up
for ((i = 0; i < N; i++)); do
	ns=$PFX-h$i
	ip netns add "$ns"
	NETNS+=("$ns")
	ip -n "$ns" link set lo up
	ip link add "${PFX}h$i" netns "$HUB" type veth peer name eth0 netns "$ns"
	ip -n "$HUB" addr add "$(hub_ip "$i")/30" dev "${PFX}h$i"
	ip -n "$ns" addr add "$(host_ip "$i")/30" dev eth0
	ip -n "$HUB" link set "${PFX}h$i" up
	ip -n "$ns" link set eth0 up
	for ((d = 1; d < MONITORS; d++)); do
		# (no dummy driver on every kernel: a veth pair within the namespace)
		ip -n "$ns" link add "dummy$d" type veth peer name "peer$d"
		ip -n "$ns" link set "dummy$d" up
		ip -n "$ns" link set "peer$d" up
	done
done
say "$N host namespaces and the hub $HUB"

# --- a bus and a dynmond per host --------------------------------------------------------------
start_host() {
	local i=$1
	local dir=$TMPD/h$i ns=$PFX-h$i bus
	mkdir -p "$dir" "$BPFFS/h$i"
	bus=unix:path=$dir/bus
	sed -e "s|@LISTEN_ADDRESS@|$bus|" -e "s|@DYNMON_POLICY@|$SRC/dbus/org.polycube.Dynmon.conf|" \
		"$SRC/tests/dbus/system.conf" >"$dir/system.conf"
	dbus-daemon --config-file="$dir/system.conf" --nofork --nopidfile >"$dir/dbus.log" 2>&1 &
	PIDS+=($!)
	for ((t = 0; t < 100; t++)); do
		[[ -S $dir/bus ]] && break
		sleep 0.05
	done
	DBUS_SYSTEM_BUS_ADDRESS=$bus ip netns exec "$ns" "$DYNMOND" --bpf-stats \
		--bpf-include-dir "$SRC/bpf/include" --log-level warning \
		--rest-address "$(host_ip "$i"):9100" --state-dir "$dir/state" \
		--pin-dir "$BPFFS/h$i" >"$dir/dynmond.log" 2>&1 &
	DAEMONS[i]=$!
	PIDS+=($!)
}
ctl() { DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TMPD/h$1/bus "$DYNMONCTL" "${@:2}"; }
wait_host() {
	for ((t = 0; t < 200; t++)); do
		ctl "$1" -q list >/dev/null 2>&1 && return 0
		kill -0 "${DAEMONS[$1]}" 2>/dev/null || die "dynmond of host $1 exited: $(cat "$TMPD/h$1/dynmond.log")"
		sleep 0.1
	done
	die "dynmond of host $1 did not answer"
}
"$PY" "$HERE/mkconfig.py" "$FLOWS" ${BUDGET:+"$BUDGET"} >"$TMPD/flows.json"
# One path each (a compile each: the fleet's set-up is mostly clang), on the dummies.
EXTRA=("$SRC/examples/packet_counter.json" "$SRC/examples/top_talkers.json")
setup_monitors() {
	local i=$1 d
	ctl "$i" -q add flows -c "$TMPD/flows.json" >/dev/null
	ctl "$i" attach flows eth0
	for ((d = 1; d < MONITORS; d++)); do
		ctl "$i" -q add "m$d" -c "${EXTRA[(d - 1) % ${#EXTRA[@]}]}" >/dev/null
		ctl "$i" attach "m$d" "dummy$d"
	done
}
t0=$(date +%s)
for ((i = 0; i < N; i++)); do start_host "$i"; done
for ((i = 0; i < N; i++)); do wait_host "$i"; done
say "$N dynmond answer ($(($(date +%s) - t0)) s); injecting $MONITORS monitors each"
# Two hosts at a time: each inject runs clang, and the machine has few cores.
for ((i = 0; i < N; i += 2)); do
	setup_monitors "$i" &
	p1=$!
	p2=
	if ((i + 1 < N)); then
		setup_monitors $((i + 1)) &
		p2=$!
	fi
	wait "$p1" || die "monitors of host $i failed"
	[[ -z $p2 ]] || wait "$p2" || die "monitors of host $((i + 1)) failed"
done
say "$((N * MONITORS)) monitors injected ($(($(date +%s) - t0)) s)"

HOSTS=$(for ((i = 0; i < N; i++)); do host_ip "$i"; done | paste -sd,)
ip netns exec "$HUB" "$PY" "$HERE/traffic.py" --hosts "$HOSTS" --sockets "$SOCKETS" \
	--ports "$PORTS" --rate "$RATE" >"$TMPD/traffic.log" 2>&1 &
PIDS+=($!)
# Let the traffic fill the flow maps: every flow seen at least once.
sleep $(((SOCKETS * PORTS * N + RATE - 1) / RATE + 2))

# --- measuring -----------------------------------------------------------------------------------
# cpu_ticks PID: utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)

# prom_start NAME PORT CONFIG ARGS...: a Prometheus in the hub on 127.0.0.1:PORT.
prom_start() {
	local name=$1 port=$2 config=$3
	shift 3
	local storage=--storage.tsdb.path
	[[ " $* " == *" --enable-feature=agent "* ]] && storage=--storage.agent.path
	ip netns exec "$HUB" prometheus --config.file="$config" "$storage=$TMPD/$name" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn "$@" >"$TMPD/$name.log" 2>&1 &
	PIDS+=($!)
	PROM_PID=$!
	for ((t = 0; t < 300; t++)); do
		ip netns exec "$HUB" curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && return 0
		kill -0 "$PROM_PID" 2>/dev/null || die "Prometheus $name exited: $(tail -5 "$TMPD/$name.log")"
		sleep 0.1
	done
	die "Prometheus $name not ready"
}
prom_stop() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }
targets() { # FROM TO: the scrape targets of hosts FROM..TO-1, as YAML
	local i
	for ((i = $1; i < $2; i++)); do printf '"%s:9100",' "$(host_ip "$i")"; done | sed 's/,$//'
}
scrape_config() { # FROM TO [REMOTE_WRITE_URL]
	cat <<YAML
global:
  scrape_interval: ${INTERVAL}s
  scrape_timeout: $((INTERVAL > 10 ? 10 : INTERVAL))s
scrape_configs:
  - job_name: dynmon
    static_configs:
      - targets: [$(targets "$1" "$2")]
YAML
	[[ -z ${3:-} ]] || printf 'remote_write:\n  - url: %s\n' "$3"
}
query() { # PORT PROMQL: the API's result, as "labels value" lines
	ip netns exec "$HUB" curl -sfG "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" |
		"$PY" -c 'import json,sys
for r in json.load(sys.stdin)["data"]["result"]:
    print(r["metric"].get("instance", "-"), r["value"][1])'
}

cpu_start=()
for ((i = 0; i < N; i++)); do cpu_start[i]=$(cpu_ticks "${DAEMONS[i]}"); done
phase_t0=$(date +%s.%N)

# Phase 1: one Prometheus scrapes them all.
scrape_config 0 "$N" >"$TMPD/direct.yml"
prom_start direct 9290 "$TMPD/direct.yml" --enable-feature=extra-scrape-metrics
DIRECT_PID=$PROM_PID
say "phase 1: Prometheus (pid $DIRECT_PID) scrapes $N hosts every ${INTERVAL}s for ${SECONDS_PER_PHASE}s"
sleep "$SECONDS_PER_PHASE"
query 9290 'scrape_samples_scraped' | sort >"$TMPD/samples.tsv"
query 9290 'scrape_body_size_bytes' | sort >"$TMPD/bytes.tsv"
query 9290 'avg_over_time(scrape_duration_seconds[5m])' | sort >"$TMPD/duration.tsv"
query 9290 'up' | sort >"$TMPD/up.tsv"
DIRECT_RSS=$(rss_kib "$DIRECT_PID")
phase_t1=$(date +%s.%N)
: >"$TMPD/dynmond.tsv"
for ((i = 0; i < N; i++)); do
	echo "$(host_ip "$i"):9100 $(($(cpu_ticks "${DAEMONS[i]}") - cpu_start[i])) $(rss_kib "${DAEMONS[i]}")" >>"$TMPD/dynmond.tsv"
done
prom_stop "$DIRECT_PID"
# One scrape by hand per host: bytes and time as curl sees them (OpenMetrics).
: >"$TMPD/curl.tsv"
for ((i = 0; i < N; i++)); do
	ip netns exec "$HUB" curl -s -o /dev/null -w "$(host_ip "$i"):9100 %{size_download} %{time_total}\n" \
		-H 'Accept: application/openmetrics-text; version=1.0.0' "http://$(host_ip "$i"):9100/metrics" >>"$TMPD/curl.tsv"
done

# Phase 2: agents remote-write into a central Prometheus.
cat >"$TMPD/central.yml" <<YAML
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["127.0.0.1:9390"]
YAML
prom_start central 9390 "$TMPD/central.yml" --web.enable-remote-write-receiver
CENTRAL_PID=$PROM_PID
AGENT_PIDS=()
per=$(((N + AGENTS - 1) / AGENTS))
for ((a = 0; a < AGENTS && a * per < N; a++)); do
	to=$(((a + 1) * per))
	((to <= N)) || to=$N
	scrape_config $((a * per)) "$to" "http://127.0.0.1:9390/api/v1/write" >"$TMPD/agent$a.yml"
	prom_start "agent$a" $((9391 + a)) "$TMPD/agent$a.yml" --enable-feature=agent
	AGENT_PIDS+=("$PROM_PID")
done
say "phase 2: ${#AGENT_PIDS[@]} agents remote-write into the central Prometheus (pid $CENTRAL_PID) for ${SECONDS_PER_PHASE}s"
sleep "$SECONDS_PER_PHASE"
CENTRAL_RATE=$(query 9390 'rate(prometheus_tsdb_head_samples_appended_total[1m])' | awk '{s += $2} END {printf "%.0f", s}')
CENTRAL_SERIES=$(query 9390 'prometheus_tsdb_head_series' | awk '{print $2}')
CENTRAL_RSS=$(rss_kib "$CENTRAL_PID")
AGENT_RSS=$(for p in "${AGENT_PIDS[@]}"; do rss_kib "$p"; done | awk '{s += $1} END {print s}')
# (an agent has no query API: what it sent is read from its own /metrics)
REMOTE_SENT=$(for a in "${!AGENT_PIDS[@]}"; do
	ip netns exec "$HUB" curl -s "http://127.0.0.1:$((9391 + a))/metrics" |
		awk '/^prometheus_remote_storage_samples_total/ {print $2}'
done | awk -v s="$SECONDS_PER_PHASE" '{t += $1} END {printf "%.0f", t / s}')

# --- the tables ----------------------------------------------------------------------------------
"$PY" - "$TMPD" "$HZ" "$phase_t0" "$phase_t1" <<PYEOF
import sys, statistics as st
d, hz, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
def tsv(name):
    out = {}
    for line in open(f"{d}/{name}"):
        f = line.split()
        if len(f) >= 2:
            out[f[0]] = [float(x) for x in f[1:]]
    return out
samples, body, dur, up = tsv("samples.tsv"), tsv("bytes.tsv"), tsv("duration.tsv"), tsv("up.tsv")
curl, dm = tsv("curl.tsv"), tsv("dynmond.tsv")
def row(name, vals, fmt):
    vals = sorted(vals)
    if not vals:
        return f"| {name} | - | - | - | - |"
    return f"| {name} | {fmt(vals[0])} | {fmt(st.median(vals))} | {fmt(vals[-1])} | {fmt(sum(vals))} |"
print(f"$N hosts x $MONITORS monitors (flow map {int('$FLOWS')} entries, {int('$SOCKETS')*int('$PORTS')} flows per host), scrape every ${INTERVAL}s, {secs:.0f} s measured; budget: {'${BUDGET}' or 'none (the default)'}")
print()
print("| per host | min | median | max | fleet total |")
print("|---|---:|---:|---:|---:|")
print(row("targets up", [v[0] for v in up.values()], lambda x: f"{x:.0f}"))
print(row("samples per scrape (Prometheus)", [v[0] for v in samples.values()], lambda x: f"{x:,.0f}"))
print(row("scrape bytes (Prometheus, uncompressed)", [v[0] for v in body.values()], lambda x: f"{x:,.0f}"))
print(row("scrape bytes (curl, OpenMetrics)", [v[0] for v in curl.values()], lambda x: f"{x:,.0f}"))
print(row("scrape time ms (Prometheus, mean)", [v[0] * 1000 for v in dur.values()], lambda x: f"{x:.1f}"))
print(row("scrape time ms (curl)", [v[1] * 1000 for v in curl.values()], lambda x: f"{x:.1f}"))
print(row("dynmond CPU % (phase 1, traffic + scrapes)", [v[0] / hz / secs * 100 for v in dm.values()], lambda x: f"{x:.2f}"))
print(row("dynmond RSS MiB", [v[1] / 1024 for v in dm.values()], lambda x: f"{x:.1f}"))
print()
print("| centre (phase 2: agents -> remote write -> central Prometheus) | value |")
print("|---|---:|")
print(f"| agents | ${#AGENT_PIDS[@]} |")
print(f"| samples/s sent by the agents (all they sent / the phase) | {int('${REMOTE_SENT:-0}' or 0):,} |")
print(f"| samples/s ingested by the centre (head appends, its own included) | {int('${CENTRAL_RATE:-0}' or 0):,} |")
print(f"| series in the centre's head | {int(float('${CENTRAL_SERIES:-0}' or 0)):,} |")
print(f"| centre RSS MiB | {int('${CENTRAL_RSS:-0}')/1024:.0f} |")
print(f"| agents' RSS MiB, all | {int('${AGENT_RSS:-0}' or 0)/1024:.0f} |")
print(f"| direct Prometheus RSS MiB (phase 1) | {int('${DIRECT_RSS:-0}')/1024:.0f} |")
PYEOF
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); at the start of phase 1 see above"
