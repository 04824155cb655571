#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pcn_log(), Polycube's logging from the dataplane, end to end. Upstream's NTP probe logs every
# NTP packet at LOG_TRACE as "%I:%P\t-> %I:%P"; with the monitor's LogLevel at TRACE (the
# CreateMonitor option "loglevel", or the LogLevel property) each packet becomes one line of
# dynmond's log, "<6>MONITOR: 192.0.2.2:PORT\t-> 192.0.2.1:123", with the packet's real addresses
# and ports. At OFF, the default, the calls are compiled away: nothing is logged and the program
# has no "dynmon_log" map. Unknown levels are refused, and only a privileged caller may change
# the level: the production bus policy refuses Properties.Set, and dynmond itself refuses it on
# a bus that lets anyone through.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_setup
command -v bpftool >/dev/null || die "missing tool: bpftool"

UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
MANAGER=/org/polycube/Dynmon
MONITOR_IF=org.polycube.Dynmon.Monitor
ERR=org.polycube.Dynmon.Error
LOG=$TMPD/dynmond.log
TAB=$'\t'

start_sink ntp "$NS_A" "$IP_A" 123
start_sink reply "$NS_A" "$IP_A" 5123
start_sink other "$NS_A" "$IP_A" 5000

log_level() { bus --json=short get-property org.polycube.Dynmon "$1" $MONITOR_IF LogLevel |
	"$PY" "$E2E_DIR/jsonpick.py" busctl; }

# log_count LINE: how many lines of dynmond's log are exactly LINE.
log_count() { grep -cxF -- "$1" "$LOG" || true; }

# log_mentions MONITOR PORT: how many of the monitor's log lines mention PORT, however written.
log_mentions() { grep -cE -- "^<[0-9]>$1: .*:$2([^0-9]|\$)" "$LOG" || true; }

# wait_log LINE COUNT: waits (5 s at most) until dynmond's log holds COUNT lines LINE, and a
# little longer for any extra one; prints how many there are. The records travel through a ring
# buffer that the daemon's event loop reads, so they land a moment after the packets.
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		(($(log_count "$1") >= $2)) && break
		sleep 0.05
	done
	sleep 0.3
	log_count "$1"
}

# ntp_line MONITOR SPORT DPORT: the line upstream's probe logs for one packet from B to A.
ntp_line() { echo "<6>$1: $IP_B:$2$TAB-> $IP_A:$3"; }

# prog_maps DEV: the names of the maps the program on DEV's tc ingress uses, sorted, one line
# (the kernel keeps 15 characters of a map's name). libbpf's own maps for the object's sections
# (".rodata.str1.1" holds pcn_log's formats) are left out.
prog_maps() {
	local id
	id=$(tc_filters "$NS_A" "$1" ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -n 1)
	[[ -n $id ]] || {
		echo "<no program on $1 ingress>"
		return 0
	}
	bpftool -j prog show id "$id" | "$PY" -c '
import json, subprocess, sys
ids = json.load(sys.stdin).get("map_ids", [])
names = [json.loads(subprocess.check_output(["bpftool", "-j", "map", "show", "id", str(i)]))["name"]
         for i in ids]
print(" ".join(sorted(n for n in names if not n.startswith("."))))'
}

# set_level PATH LEVEL: sets the LogLevel property as root, with busctl.
set_level() { must bus set-property org.polycube.Dynmon "$1" $MONITOR_IF LogLevel s "$2"; }

# --- CreateMonitor with the option loglevel=TRACE ---------------------------------------------
assert_rc "CreateMonitor pcn with loglevel TRACE" 0 \
	bus call org.polycube.Dynmon $MANAGER org.polycube.Dynmon.Manager CreateMonitor \
	'sa{sv}' pcn 1 loglevel s TRACE
PCN=$(monitor_path pcn)
assert_eq "pcn: LogLevel is TRACE" "TRACE" "$(log_level "$PCN")"
assert_rc "pcn: inject upstream's NTP counter unchanged" 0 \
	dm inject pcn "$UPSTREAM/v1.1/ntp_packets_counter.json"
assert_rc "pcn: attach to $VETH_A" 0 dm attach pcn "$VETH_A"
assert_eq "pcn: the program has its counter and the dynmon_log ring buffer" \
	"NTP_PACKETS_COU dynmon_log" "$(prog_maps "$VETH_A")"

send_ntp "$NS_B" "$IP_A" --ntp 3:40123:123:3 --ntp 4:123:5123:2 --udp 40124:5000:4
assert_eq "pcn: 3 lines for the client packets 40123 -> 123, real addresses and ports" 3 \
	"$(wait_log "$(ntp_line pcn 40123 123)" 3)"
assert_eq "pcn: 2 lines for the server packets 123 -> 5123" 2 \
	"$(wait_log "$(ntp_line pcn 123 5123)" 2)"
assert_eq "pcn: nothing else logged for the monitor (the 4 non-NTP datagrams are not NTP)" 5 \
	"$(grep -c "^<[0-9]>pcn: " "$LOG" || true)"
assert_eq "pcn: logging does not change the counting" "[5]" \
	"$(metric_value pcn ntp_packets_total ingress)"

# Upstream's mode-private probe logs more: "%hhu" and a message without arguments.
assert_rc "pcn: inject upstream's v1.0 NTP mode-private counter" 0 \
	dm inject pcn "$UPSTREAM/v1.0/ntp_packets_ntp_mode_private_counters.json"
send_ntp "$NS_B" "$IP_A" --ntp 7:40125:123:2 --ntp 3:40126:123:1
assert_eq "pcn: 'NTP mode: 7' twice" 2 "$(wait_log "<6>pcn: NTP mode: 7" 2)"
assert_eq "pcn: 'NTP mode: 3' once" 1 "$(wait_log "<6>pcn: NTP mode: 3" 1)"
assert_eq "pcn: 'RECEIVED NTP MODE 7' twice" 2 "$(wait_log "<6>pcn: RECEIVED NTP MODE 7" 2)"
assert_eq "pcn: and the address line for each" "2 1" \
	"$(wait_log "$(ntp_line pcn 40125 123)" 2) $(wait_log "$(ntp_line pcn 40126 123)" 1)"
assert_rc "pcn: del" 0 dm del pcn

# --- OFF by default: nothing logged, no ring buffer -------------------------------------------
assert_rc "quiet: add (no loglevel option)" 0 dm add quiet
QUIET=$(monitor_path quiet)
assert_eq "quiet: LogLevel is OFF by default" "OFF" "$(log_level "$QUIET")"
assert_rc "quiet: inject upstream's NTP counter" 0 \
	dm inject quiet "$UPSTREAM/v1.1/ntp_packets_counter.json"
assert_rc "quiet: attach to $VETH_A" 0 dm attach quiet "$VETH_A"
assert_eq "quiet: the program has its counter and no dynmon_log map" "NTP_PACKETS_COU" \
	"$(prog_maps "$VETH_A")"
send_ntp "$NS_B" "$IP_A" --ntp 3:40200:123:4
assert_eq "quiet: the 4 packets are counted" "[4]" "$(metric_value quiet ntp_packets_total ingress)"

# The level set at run time rebuilds the program. A marker logged after it proves that the log
# path works and that anything the 4 packets had logged would be there by now.
set_level "$QUIET" TRACE
assert_eq "quiet: LogLevel TRACE once set" "TRACE" "$(log_level "$QUIET")"
assert_eq "quiet: at TRACE the program has the dynmon_log map" "NTP_PACKETS_COU dynmon_log" \
	"$(prog_maps "$VETH_A")"
send_ntp "$NS_B" "$IP_A" --ntp 3:40201:123:2
assert_eq "quiet: at TRACE, 2 packets from 40201 logged" 2 \
	"$(wait_log "$(ntp_line quiet 40201 123)" 2)"
assert_eq "quiet: at OFF, the 4 packets from 40200 were not logged" 0 \
	"$(log_mentions quiet 40200)"
assert_eq "quiet: the rebuild kept the counter: 4 + 2" "[6]" \
	"$(metric_value quiet ntp_packets_total ingress)"

set_level "$QUIET" OFF
assert_eq "quiet: LogLevel OFF again" "OFF" "$(log_level "$QUIET")"
assert_eq "quiet: OFF again: no dynmon_log map" "NTP_PACKETS_COU" "$(prog_maps "$VETH_A")"
send_ntp "$NS_B" "$IP_A" --ntp 3:40202:123:3
assert_eq "quiet: back at OFF, the counter still goes on: 6 + 3" "[9]" \
	"$(metric_value quiet ntp_packets_total ingress)"
# ERR keeps the ring buffer but compiles the TRACE calls away.
set_level "$QUIET" error
assert_eq "quiet: 'error' is ERR" "ERR" "$(log_level "$QUIET")"
assert_eq "quiet: at ERR the ring buffer is there" "NTP_PACKETS_COU dynmon_log" \
	"$(prog_maps "$VETH_A")"
send_ntp "$NS_B" "$IP_A" --ntp 3:40203:123:3
set_level "$QUIET" trace
assert_eq "quiet: 'trace' is TRACE" "TRACE" "$(log_level "$QUIET")"
send_ntp "$NS_B" "$IP_A" --ntp 3:40204:123:1
assert_eq "quiet: the marker from 40204 is logged" 1 "$(wait_log "$(ntp_line quiet 40204 123)" 1)"
assert_eq "quiet: nothing was logged at OFF (40202) nor at ERR (40203)" "0 0" \
	"$(log_mentions quiet 40202) $(log_mentions quiet 40203)"

# --- unknown levels ----------------------------------------------------------------------------
dbus_error "$QUIET" org.freedesktop.DBus.Properties.Set $MONITOR_IF LogLevel "<'LOUD'>"
assert_eq "Properties.Set LogLevel LOUD: InvalidArgument" "$ERR.InvalidArgument" "$DBUS_ERROR_NAME"
assert_match "... and the message names the known levels" "LOUD.*OFF.*TRACE" "$DBUS_ERROR_MESSAGE"
assert_eq "the level is unchanged" "TRACE" "$(log_level "$QUIET")"
dbus_error $MANAGER org.polycube.Dynmon.Manager.CreateMonitor loud "{'loglevel': <'LOUD'>}"
assert_eq "CreateMonitor with loglevel LOUD: InvalidArgument" "$ERR.InvalidArgument" \
	"$DBUS_ERROR_NAME"
assert_rc "... and no monitor was made (exit 4)" 4 dm show loud
dbus_error $MANAGER org.polycube.Dynmon.Manager.CreateMonitor loud "{'loglevel': <3>}"
assert_eq "CreateMonitor with loglevel of type int: InvalidArgument" "$ERR.InvalidArgument" \
	"$DBUS_ERROR_NAME"

# --- only the privileged may change it ---------------------------------------------------------
# The bus lets the write through (the policy opens every call); dynmond refuses it itself: no
# polkit runs on the tests' bus, so only root passes (e2e-polkit: a polkit that says yes).
set_level "$QUIET" OFF
DBUS_CALLER=as_nobody dbus_error "$QUIET" org.freedesktop.DBus.Properties.Set $MONITOR_IF \
	LogLevel "<'TRACE'>"
assert_eq "nobody: Properties.Set LogLevel is refused by dynmond" "$ERR.PermissionDenied" \
	"$DBUS_ERROR_NAME"
assert_rc "nobody: busctl set-property fails" 1 \
	as_nobody busctl --address="$BUS_ADDR" set-property org.polycube.Dynmon "$QUIET" \
	$MONITOR_IF LogLevel s TRACE
assert_match "nobody: busctl says why" "may change the log level" "$RUN_ERR"
assert_eq "nobody: the level is unchanged" "OFF" "$(log_level "$QUIET")"
assert_eq "nobody may read it" "OFF" \
	"$(as_nobody busctl --address="$BUS_ADDR" --json=short get-property org.polycube.Dynmon \
		"$QUIET" $MONITOR_IF LogLevel | "$PY" "$E2E_DIR/jsonpick.py" busctl)"
assert_eq "nobody: still no dynmon_log map" "NTP_PACKETS_COU" "$(prog_maps "$VETH_A")"

for sink in ntp reply other; do
	stop_sink "$sink"
	case $sink in
	ntp) want=$((3 + 2 + 1 + 4 + 2 + 3 + 3 + 1)) ;;
	reply) want=2 ;;
	other) want=4 ;;
	esac
	assert_eq "the receiver $sink got every datagram" "$want 0" "$SINK_RECEIVED $SINK_DROPS"
done
