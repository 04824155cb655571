#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The REST port under abuse (issue 10, rows F2, F6, F12): HEAD on every GET resource; aborted
# connections that do not reach the log above debug; dynmonctl refusing an endless input; a
# slowloris of 300 connections that trickle header lines while a legitimate client keeps getting
# its answers; a per-address connection limit; a port that a second dynmond cannot share, and
# that a restarted dynmond gets back at once. About 45 s, 30 of them the slowloris.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9102
M=/polycube/v1/dynmon
UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
# rest.c's REQUEST_DEADLINE_SEC and CONNECTION_LIMIT_PER_ADDRESS.
DEADLINE=10
PER_ADDRESS=64

command -v curl >/dev/null || die "missing tool: curl (run data/install-deps.sh)"
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT")
e2e_setup
must dm add mon0
must dm inject mon0 "$UPSTREAM/v1.1/packet_counter.json"

in_ns() { ip netns exec "$NS_A" "$@"; }
# status PATH [CURL-ARGS...]: the HTTP status of one request ("000": no answer).
status() {
	local path=$1
	shift
	in_ns curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@" "http://127.0.0.1:$PORT$path" ||
		true
}

# --- F12: HEAD is GET without the content -----------------------------------------------------
get_paths=("$M" "$M/mon0" "$M/mon0/dataplane-config" "$M/mon0/dataplane" "$M/mon0/metrics"
	"$M/mon0/metrics/ingress-metrics" "$M/mon0/metrics/egress-metrics"
	"$M/mon0/metrics/ingress-metrics/packets_total"
	"$M/mon0/metrics/ingress-metrics/packets_total/value" "$M/mon0/open-metrics" /metrics)
run in_ns "$PY" "$E2E_DIR/headcheck.py" "$PORT" "${get_paths[@]}"
assert_eq "headcheck.py compared all ${#get_paths[@]} paths" "0 ${#get_paths[@]}" \
	"$RUN_RC $(grep -c . <<<"$RUN_OUT")"
while read -r path get head same_type has_length extra; do
	assert_eq "HEAD $path answers as GET does, without content" \
		"$get $get yes yes 0" "$get $head $same_type $has_length $extra"
done <<<"$RUN_OUT"
assert_eq "HEAD of a missing monitor: 404, as GET" 404 "$(status "$M/nosuch" -I)"
allow=$(in_ns curl -s --max-time 10 -o /dev/null -D - -X PUT "http://127.0.0.1:$PORT/metrics" |
	tr -d '\r' | sed -n 's/^Allow: //Ip')
assert_eq "a 405 names HEAD with GET in its Allow header" "GET, HEAD" "$allow"

# --- F12: aborted connections are not worth the log above debug -------------------------------
lines=$(wc -l <"$TMPD/dynmond.log")
must in_ns "$PY" "$E2E_DIR/headcheck.py" abort "$PORT" 40
sleep 0.5
assert_eq "dynmond still answers after 40 aborted connections" 200 "$(status /metrics)"
assert_eq "40 aborted connections log nothing above debug" "" \
	"$(tail -n +"$((lines + 1))" "$TMPD/dynmond.log" | grep -v '^<7>' || true)"

# --- F12: dynmonctl inject reads a bounded input ----------------------------------------------
assert_rc "dynmonctl inject of /dev/zero stops at the bound: rejected (3)" 3 \
	timeout 20 "$DYNMONCTL" inject mon0 /dev/zero
assert_match "... saying why" "larger than 1048576 bytes" "$RUN_ERR"
assert_rc "dynmonctl inject of an endless pipe (-) stops at the bound too" 3 \
	timeout 20 bash -c "yes '{\"ingress-path\": {}}' | '$DYNMONCTL' inject mon0 -"
assert_match "... saying why" "standard input is larger than 1048576 bytes" "$RUN_ERR"
assert_match "mon0 still runs its configuration" "Packets counter probe" \
	"$(in_ns curl -s --max-time 10 "http://127.0.0.1:$PORT$M/mon0/dataplane-config")"

# --- F6: slowloris ----------------------------------------------------------------------------
# A request whose headers take 3 s (a line a second) is still answered: the deadline is not
# the idle timeout of a byte.
slow=$(in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT
	printf 'GET /metrics HTTP/1.1\r\n' >&3; sleep 1
	printf 'Host: x\r\n' >&3; sleep 1
	printf 'Accept: text/plain\r\n' >&3; sleep 1
	printf 'Connection: close\r\n\r\n' >&3
	head -n 1 <&3" | tr -d '\r')
assert_eq "a request whose header lines come a second apart is answered" "HTTP/1.1 200 OK" "$slow"

# 300 connections from 127.0.0.2, a header line every 2 s each, reopened when closed, for 30 s;
# a client on 127.0.0.1 asks every half second meanwhile.
say "slowloris: 300 connections for 30 s"
must in_ns "$PY" "$E2E_DIR/slowloris.py" 127.0.0.1 "$PORT" 127.0.0.2 127.0.0.1 300 30 2
report=$RUN_OUT
say "slowloris: $report"
read -r opened longest ok failed slowest < <("$PY" -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["opened"], r["longest_s"], r["legit_ok"], r["legit_failed"], r["legit_max_s"])' "$report")
assert_eq "during the slowloris every legitimate request was answered" 0 "$failed"
check "... about two a second ($ok)" test "$ok" -ge 40
check "... each within 2 s (the slowest: $slowest s)" test "${slowest%.*}" -lt 2
check "no slow connection lived past the deadline of $DEADLINE s, though it kept sending" \
	test "${longest%.*}" -le $((DEADLINE + 2))
check "the attacker had to reconnect (it opened $opened connections)" test "$opened" -gt 300
assert_eq "one address keeps at most $PER_ADDRESS connections open" "$PER_ADDRESS" \
	"$(in_ns "$PY" "$E2E_DIR/slowloris.py" count 127.0.0.1 "$PORT" 127.0.0.3 100)"
assert_eq "after it, REST answers" 200 "$(status /metrics)"

# --- F2: the port is ours alone ---------------------------------------------------------------
# A second dynmond, on a bus of its own (the bus name alone would stop it on ours), asks for the
# same REST address: it must fail to start and say why, and never take requests.
BUS2=unix:path=$TMPD/bus2
sed -e "s|@LISTEN_ADDRESS@|$BUS2|" -e "s|@DYNMON_POLICY@|$DYNMON_SOURCE_DIR/dbus/org.polycube.Dynmon.conf|" \
	"$DYNMON_SOURCE_DIR/tests/dbus/system.conf" >"$TMPD/system2.conf"
dbus-daemon --config-file="$TMPD/system2.conf" --nofork --nopidfile >>"$TMPD/dbus2.log" 2>&1 &
BG_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
	busctl --address="$BUS2" call org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus GetId >/dev/null 2>&1 && break
	sleep 0.1
done
mkdir -p "$TMPD/state2"
DBUS_SYSTEM_BUS_ADDRESS=$BUS2 ip netns exec "$NS_A" "$DYNMOND" \
	--bpf-include-dir "$DYNMON_SOURCE_DIR/bpf/include" --state-dir "$TMPD/state2" \
	--pin-dir "$BPFFS/dynmon2" --rest-address="127.0.0.1:$PORT" >"$TMPD/second.log" 2>&1 &
second=$!
BG_PIDS+=("$second")
for ((i = 0; i < 50; i++)); do
	kill -0 "$second" 2>/dev/null || break
	sleep 0.1
done
# Asked while the second one runs, if it does: each answer must come from the first.
answers=$(for ((i = 0; i < 60; i++)); do
	in_ns curl -s --max-time 10 "http://127.0.0.1:$PORT$M"
	echo
done | grep -c mon0 || true)
assert_eq "60 requests out of 60 answered by the first dynmond" 60 "$answers"
second_rc=0
if kill -0 "$second" 2>/dev/null; then
	second_rc=running
	stop_pid "$second"
else
	wait "$second" || second_rc=$?
fi
check "a second dynmond on the same REST port fails to start (status $second_rc)" \
	test "$second_rc" != running -a "$second_rc" != 0
assert_match "... saying the address is in use" "127.0.0.1:$PORT: the address is in use" \
	"$(cat "$TMPD/second.log")"

# A restart gets the port back at once, though the old daemon's connections are in TIME_WAIT.
for ((i = 0; i < 5; i++)); do
	status /metrics -H 'Connection: close' >/dev/null
done
e2e_stop_daemon "the quick restart"
timewait=$(in_ns ss -Htan state time-wait "sport = :$PORT" | wc -l)
check "the old daemon left connections in TIME_WAIT ($timewait)" test "$timewait" -gt 0
e2e_daemon
assert_eq "the restarted dynmond serves REST at once" 200 "$(status /metrics)"
assert_match "... without complaint" "REST API on 127.0.0.1:$PORT" "$(tail -n 20 "$TMPD/dynmond.log")"

