#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Monitors declared in files (monitors.d) and templates over interfaces, with real packets:
#   - a file creates its monitor on Reload, attached where it says, counting exactly; the API may
#     not change it (DeclaredInFile); a monitor made through the API is left alone by reloads;
#   - a changed file re-injects under dense traffic with zero loss, proved as e2e-reinject does:
#     datagrams to PASS_PORT are counted and passed, to DROP_PORT counted and dropped; every
#     pass-port datagram sent reaches the receiver and not one drop-port datagram does;
#   - a broken file is named in Reload's reply with its error and leaves its monitor as it was
#     (same configuration, still counting); a removed file deletes its monitor;
#   - SIGHUP reloads as Reload does;
#   - a template over a pattern of this test's own prefix runs one instance on each of three
#     veths that exist and on a fourth made afterwards, each counting exactly its own traffic
#     with an interface label in OpenMetrics; an instance goes with its veth;
#   - a restart keeps the file monitors (adopted, counts and all) and their source.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PASS_PORT=6000
DROP_PORT=6001

e2e_setup
mkdir -p "$CONFIG_DIR"

# reload: D-Bus Reload(); prints the problems it answers, one "FILE: MESSAGE" a line.
reload() {
	bus --json=short call org.polycube.Dynmon /org/polycube/Dynmon org.polycube.Dynmon.Manager \
		Reload | "$PY" -c '
import json, sys
for f, m in json.load(sys.stdin)["data"][0]:
    print(f + ": " + m)'
}

# wait_for DESC CMD...: up to 10 s for CMD to succeed.
wait_for() {
	local desc=$1 i
	shift
	for ((i = 0; i < 100; i++)); do
		"$@" >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ((i < 100)); then
		pass "$desc"
	else
		fail "$desc" "not within 10 s: $*" "$(dm list 2>&1)"
	fi
}

listed() { dm -q list | awk -v n="$1" -v s="$2" '$1 == n && $3 == s { ok = 1 } END { exit !ok }'; }
not_listed() { ! dm -q list | awk '{print $1}' | grep -qxF "$1"; }

# The probe: a filter that counts what passes (PASS_PORT) and what it drops (DROP_PORT). $1 is
# a comment that makes a different configuration of the same program.
probe() { pass_or_drop_config "$PASS_PORT" "$DROP_PORT" "$1"; }
probe "version 1" >"$CONFIG_DIR/probe-v1.conf"
probe "version 2" >"$CONFIG_DIR/probe-v2.conf"

# --- a file creates its monitor ------------------------------------------------------------------
cat >"$CONFIG_DIR/web.json" <<EOF
{"interface": "$VETH_A", "position": "last", "dataplane-file": "probe-v1.conf"}
EOF
echo "not a monitor" >"$CONFIG_DIR/README"
assert_eq "Reload creates web from web.json, no problem" "" "$(reload)"
assert_match "web is attached to $VETH_A, source file" "^web +$VETH_A +attached +TC +file$" \
	"$(dm -q list)"
assert_match "dynmonctl show: Source file" "Source: +file" "$(dm show web)"
assert_eq "D-Bus Source property: file" '"file"' \
	"$(bus get-property org.polycube.Dynmon "$(monitor_path web)" org.polycube.Dynmon.Monitor \
		Source | awk '{print $2}')"
send_udp "$NS_B" "$IP_A" $PASS_PORT 100
send_udp "$NS_B" "$IP_A" $DROP_PORT 50
assert_eq "web counts 100 passed" "[100]" "$(metric_value web passed_total)"
assert_eq "web counts 50 dropped" "[50]" "$(metric_value web dropped_total)"

assert_rc "the API may not detach a file's monitor (exit 7, a conflict)" 7 dm detach web
assert_match "... with DeclaredInFile naming the file" "DeclaredInFile|declared in web.json" \
	"$RUN_ERR$RUN_OUT"
assert_rc "nor delete it" 7 dm del web
must dm add rt
assert_eq "a reload leaves the API's monitor alone" "" "$(reload)"
assert_match "rt: source runtime" "^rt +- +detached +TC +runtime$" "$(dm -q list)"
assert_eq "an unchanged file changes nothing: web still counts from 100" "[100]" \
	"$(metric_value web passed_total)"
assert_match "REST's monitor JSON: source file (dynmon's addition)" '"source": *"file"' \
	"$(ip netns exec "$NS_A" curl -s http://127.0.0.1:9000/polycube/v1/dynmon/web)"
assert_match "... and runtime for the API's" '"source": *"runtime"' \
	"$(ip netns exec "$NS_A" curl -s http://127.0.0.1:9000/polycube/v1/dynmon/rt)"
echo '{"interface": "lo", "dataplane-file": "probe-v1.conf"}' >"$CONFIG_DIR/rt.json"
assert_match "a file naming the API's monitor is refused, by name" \
	'^rt.json: .*made through the API' "$(reload)"
assert_match "... and rt is left as it was: detached, runtime" "^rt +- +detached +TC +runtime$" \
	"$(dm -q list)"
rm "$CONFIG_DIR/rt.json"

# --- a changed file re-injects under traffic, losing nothing ------------------------------------
start_sink pass "$NS_A" "$IP_A" $PASS_PORT
start_sink drop "$NS_A" "$IP_A" $DROP_PORT
start_flood "$PASS_PORT,$DROP_PORT"
for ((i = 0; i < 100; i++)); do
	v=$(counter web passed_total)
	[[ $v =~ ^[0-9]+$ ]] && ((v > 1100)) && break
	sleep 0.05
done
sed -i 's/probe-v1.conf/probe-v2.conf/' "$CONFIG_DIR/web.json"
assert_eq "Reload re-injects web from the changed file, no problem" "" "$(reload)"
sleep 0.3
kill -TERM "$SENDER"
wait "$SENDER" || true
BG_PIDS=()
assert_match "web runs the new configuration" "version 2" "$(dm show web)"
read -r sent_pass sent_drop stopped_by < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["sent"][sys.argv[2]], r["sent"][sys.argv[3]], r["stopped_by"])
' "$TMPD/sender.json" $PASS_PORT $DROP_PORT)
say "sent $sent_pass + $sent_drop datagrams across the reload"
assert_eq "the traffic outlasted the reload" "signal" "$stopped_by"
stop_sink pass
assert_eq "no datagram to the pass port was lost across the reload" "$sent_pass" \
	"$((SINK_RECEIVED + SINK_DROPS))"
stop_sink drop
assert_eq "no datagram to the drop port got through: never a moment without a probe" 0 \
	"$((SINK_RECEIVED + SINK_DROPS))"
p0=$(counter web passed_total)
send_udp "$NS_B" "$IP_A" $PASS_PORT 1000
assert_eq "the new program counts a burst of 1000 exactly" "$((p0 + 1000))" \
	"$(counter web passed_total)"

# --- a broken file changes nothing of its monitor; the others apply ------------------------------
cat >"$CONFIG_DIR/web.json" <<EOF
{"interface": "$VETH_A", "colour": "blue", "dataplane-file": "probe-v1.conf"}
EOF
cat >"$CONFIG_DIR/other.json" <<EOF
{"name": "other", "interface": "$VETH_A", "position": "first", "dataplane-file": "probe-v1.conf"}
EOF
out=$(reload)
assert_match "Reload names the broken file and its unknown field" '^web.json: .*colour.*unknown' \
	"$out"
assert_eq "... and only that file" 1 "$(grep -c . <<<"$out")"
assert_match "dynmond's log names it too" 'monitors.d/web.json: .*colour' \
	"$(cat "$TMPD/dynmond.log")"
assert_match "web still runs version 2, attached" "version 2" "$(dm show web)"
assert_match "the other file applied: other is attached" "^other +$VETH_A +attached +TC +file$" \
	"$(dm -q list)"
p0=$(counter web passed_total)
send_udp "$NS_B" "$IP_A" $PASS_PORT 100
assert_eq "web still counts exactly" "$((p0 + 100))" "$(counter web passed_total)"
assert_eq "other counts the same 100" "[100]" "$(metric_value other passed_total)"
echo '{"interface": ' >"$CONFIG_DIR/web.json"
assert_match "invalid JSON is named with its place" '^web.json: invalid JSON' "$(reload)"
assert_match "web is still there" "^web +$VETH_A +attached" "$(dm -q list)"

# --- a removed file deletes its monitor (SIGHUP as the reload) ----------------------------------
rm "$CONFIG_DIR/web.json"
kill -HUP "$DAEMON_PID"
wait_for "SIGHUP: web is deleted with its file" not_listed web
assert_eq "only other's filter is left on $VETH_A" 1 \
	"$(tc_filters "$NS_A" "$VETH_A" ingress | grep -c ' handle ' || true)"
rm "$CONFIG_DIR/other.json"
assert_eq "other goes with its file" "" "$(reload)"
assert_match "rt (the API's) is still there" "^rt " "$(dm -q list)"
must dm del rt

# --- a template over this test's veths -----------------------------------------------------------
T=t${E2E_ID}x # the prefix of this test's template veths
declare -A SENT=()
add_veth() { # add_veth K: ${T}K in NS_A <-> ${T}Kp in NS_B, 10.77.K.1 <-> 10.77.K.2
	veth_pair "$T$1" "$T${1}p" "10.77.$1.1" "10.77.$1.2" "02:00:00:00:0$1:0a" "02:00:00:00:0$1:0b"
}
for k in 1 2 3; do add_veth $k; done
cat >"$CONFIG_DIR/tpl.json" <<EOF
{"interface": "$T*", "loglevel": "OFF", "dataplane-file": "probe-v1.conf"}
EOF
assert_eq "Reload makes the template, no problem" "" "$(reload)"
for k in 1 2 3; do
	assert_match "instance tpl:$T$k is attached to $T$k, source file:tpl" \
		"^tpl:$T$k +$T$k +attached +TC +file:tpl$" "$(dm -q list)"
done
assert_no_match "no instance on the other veth ($VETH_A)" "^tpl:$VETH_A" "$(dm -q list)"
add_veth 4
wait_for "an instance appears on $T""4, made afterwards" listed "tpl:${T}4" attached
for k in 1 2 3 4; do
	SENT[$k]=$((k * 10))
	send_udp "$NS_B" "10.77.$k.1" $PASS_PORT "${SENT[$k]}"
done
for k in 1 2 3 4; do
	assert_eq "tpl:$T$k counts exactly its ${SENT[$k]}" "[${SENT[$k]}]" \
		"$(metric_value "tpl:$T$k" passed_total)"
done
assert_match "OpenMetrics of an instance carries interface=\"$T""4\"" \
	"^passed_total(_total)?\\{.*interface=\"${T}4\".*\\} 40" "$(dm open-metrics "tpl:${T}4")"
assert_eq "D-Bus Template property of an instance: tpl" '"tpl"' \
	"$(bus get-property org.polycube.Dynmon "$(monitor_path "tpl:${T}2")" \
		org.polycube.Dynmon.Monitor Template | awk '{print $2}')"
ip -n "$NS_A" link del "${T}2"
wait_for "the instance on ${T}2 goes with its veth" not_listed "tpl:${T}2"
assert_match "the others stay" "^tpl:${T}3 +${T}3 +attached" "$(dm -q list)"
ip -n "$NS_A" link set "${T}3" down
ip -n "$NS_A" link set "${T}3" name "${T}r"
ip -n "$NS_A" link set "${T}r" up
wait_for "${T}3 renamed ${T}r: the instance of the new name is made" listed "tpl:${T}r" attached
wait_for "... and the old name's is gone" not_listed "tpl:${T}3"
send_udp "$NS_B" "10.77.3.1" $PASS_PORT 9
assert_eq "tpl:${T}r counts from 0: 9" "[9]" "$(metric_value "tpl:${T}r" passed_total)"

# --- a restart keeps them, counting on ----------------------------------------------------------
echo '{"interface": "'"$VETH_A"'", "dataplane-file": "probe-v1.conf"}' >"$CONFIG_DIR/keep.json"
assert_eq "keep.json applies" "" "$(reload)"
send_udp "$NS_B" "$IP_A" $PASS_PORT 7
e2e_daemon_restart term
assert_match "after a restart keep is back, from its file" "^keep +$VETH_A +attached +TC +file$" \
	"$(dm -q list)"
assert_eq "... its count kept: 7" "[7]" "$(metric_value keep passed_total)"
assert_rc "... and still refuses the API's changes" 7 dm detach keep
assert_match "after a restart the instances are back, from their file" \
	"^tpl:${T}1 +${T}1 +attached +TC +file:tpl$" "$(dm -q list)"
assert_eq "... with their counts: tpl:${T}1 still 10" "[10]" \
	"$(metric_value "tpl:${T}1" passed_total)"
send_udp "$NS_B" "10.77.1.1" $PASS_PORT 5
assert_eq "... counting on" "[15]" "$(metric_value "tpl:${T}1" passed_total)"
rm "$CONFIG_DIR/tpl.json" "$CONFIG_DIR/keep.json"
assert_eq "the files removed: Reload" "" "$(reload)"
assert_eq "every instance is gone, and keep" "" "$(dm -q list)"
