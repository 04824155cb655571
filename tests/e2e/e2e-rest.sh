#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The REST API, through curl as Polycube's users drive it: the upstream test's flow (create a
# monitor, attach it, PUT the upstream packet counter, send exact traffic, read the counter's
# /value and the OpenMetrics text), errors as HTTP statuses with D-Bus's messages, the Prometheus
# scrape endpoint in both formats, swap-on-read reads that sum exactly, a daemon that refuses
# REST writes unless told otherwise, and a daemon started by systemd-socket-activate.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9100
PORT_SA=9101
N=137
UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
OPENMETRICS='application/openmetrics-text; version=1.0.0; charset=utf-8'
PROMETHEUS_TEXT='text/plain; version=0.0.4; charset=utf-8'
M=/polycube/v1/dynmon

for tool in curl promtool systemd-socket-activate; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT" --rest-allow-writes)
e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

# http METHOD PATH [CURL-ARGS...]: one request from inside namespace A (where the daemon listens
# on its loopback). Sets HTTP_STATUS ("000" when nothing answered), HTTP_TYPE and HTTP_BODY.
http_port() {
	local port=$1 method=$2 path=$3 out
	shift 3
	out=$(ip netns exec "$NS_A" curl -sS --max-time 30 -o "$TMPD/http.body" \
		-w '%{http_code} %{content_type}' -X "$method" "$@" "http://127.0.0.1:$port$path" \
		2>"$TMPD/http.err") || true
	HTTP_STATUS=${out%% *}
	HTTP_TYPE=${out#* }
	[[ $out == *' '* ]] || HTTP_TYPE=
	HTTP_BODY=$(cat "$TMPD/http.body" 2>/dev/null || true)
	rm -f "$TMPD/http.body"
}
http() { http_port "$PORT" "$@"; }

# pick PATH: a member of the last answer's JSON (restpick.py).
pick() { "$PY" "$E2E_DIR/restpick.py" "$@" <<<"$HTTP_BODY" || true; }

# assert_http DESC STATUS CONTENT-TYPE: the last answer's status and Content-Type.
assert_http() {
	assert_eq "$1" "$2 $3" "$HTTP_STATUS $HTTP_TYPE"
}

# assert_rest_error DESC STATUS NAME: the last answer is the named error, as JSON.
assert_rest_error() {
	assert_eq "$1: status $2, error $3" "$2 application/json org.polycube.Dynmon.Error.$3" \
		"$HTTP_STATUS $HTTP_TYPE $(pick error)"
}

# --- the upstream flow ----------------------------------------------------------------------
http POST "$M/mon0"
assert_http "POST $M/mon0 (no body) creates the monitor" 200 application/json
assert_eq "the answer is the monitor: mon0, TC, not attached" "mon0 TC " \
	"$(pick name) $(pick type) $(pick parent)"
assert_match "dynmonctl lists the monitor REST created" "^mon0" "$(dm -q list 2>&1 || true)"

http POST /polycube/v1/attach -d "{\"cube\": \"mon0\", \"port\": \"$VETH_A\"}"
assert_http "POST /polycube/v1/attach" 200 application/json
assert_eq "the answer names the interface as parent" "$VETH_A" "$(pick parent)"

http PUT "$M/mon0/dataplane-config" -H 'Content-Type: application/json' \
	--upload-file "$UPSTREAM/v1.1/packet_counter.json"
assert_http "PUT dataplane-config with the upstream v1.1 packet counter, as upstream does" \
	200 application/json
assert_eq "the answer is the configuration that runs" "Packets counter probe" \
	"$(pick ingress-path/name)"
assert_match "tc shows a BPF filter on $VETH_A ingress" "bpf" "$(tc_filters "$NS_A" "$VETH_A" ingress)"

send_udp "$NS_B" "$IP_A" 5000 $N
http GET "$M/mon0/metrics/ingress-metrics/packets_total/value"
assert_http "GET .../packets_total/value" 200 application/json
# Upstream's /value is the metric's JSON value as is: an array map gives a list.
assert_eq "packets_total/value is [$N] after $N packets" "[$N]" "$HTTP_BODY"
assert_eq "dynmonctl, over D-Bus, reads the same" "[$N]" "$(metric_value mon0 packets_total)"

http GET "$M/mon0/metrics/ingress-metrics/packets_total"
assert_eq "GET .../packets_total: the metric with its name and value" "packets_total [$N]" \
	"$(pick name) $(pick value)"
assert_match "it has a timestamp in milliseconds" '^[0-9]{13}$' "$(pick timestamp)"
http GET "$M/mon0/metrics/ingress-metrics/"
assert_eq "GET .../ingress-metrics (trailing slash, as polycubectl sends): its metrics" \
	"packets_total" "$(pick names)"
http GET "$M/mon0/metrics/egress-metrics"
assert_eq "GET .../egress-metrics: none" "[]" "$HTTP_BODY"
http GET "$M/mon0/metrics"
assert_eq "GET .../metrics: both lists, and polycubed's _links" \
	"_links egress-metrics ingress-metrics" "$(pick keys '')"
assert_eq "GET .../metrics: packets_total" "[$N]" "$(pick ingress-metrics/0/value)"

http GET "$M/mon0/open-metrics" -H 'Accept: application/openmetrics-text'
assert_http "GET .../open-metrics, Accept naming OpenMetrics: OpenMetrics' Content-Type" 200 \
	"$OPENMETRICS"
check "open-metrics passes the strict parser with packets_total $N" \
	"$PY" "$E2E_DIR/omcheck.py" packets_total $N <<<"$HTTP_BODY"

http GET "$M/mon0"
assert_http "GET $M/mon0" 200 application/json
assert_eq "the monitor: name, type, loglevel, parent, state" "mon0 TC OFF $VETH_A attached" \
	"$(pick name) $(pick type) $(pick loglevel) $(pick parent) $(pick state)"
assert_eq "... its dataplane-config" "Packets counter probe" \
	"$(pick dataplane-config/ingress-path/name)"
assert_eq "... and its metrics" "[$N]" "$(pick metrics/ingress-metrics/0/value)"
http GET "$M"
assert_eq "GET $M lists the monitors" "mon0" "$(pick names)"
assert_eq "... without their metrics (reading them has effects)" "<missing: KeyError('metrics')>" \
	"$(pick 0/metrics)"
http GET "$M/mon0/dataplane-config"
assert_eq "GET .../dataplane-config" "PKT_COUNTER" \
	"$(pick ingress-path/metric-configs/0/map-name)"

# The seed's endpoint and format: PUT .../dataplane with the v1.0 file. A new dataplane starts
# from zero.
http PUT "$M/mon0/dataplane" --upload-file "$UPSTREAM/v1.0/packet_counter.json"
assert_http "PUT .../dataplane with the upstream v1.0 packet counter" 200 application/json
send_udp "$NS_B" "$IP_A" 5000 5
http GET "$M/mon0/metrics/ingress-metrics/packets_total/value"
assert_eq "the new dataplane counts from zero: [5]" "[5]" "$HTTP_BODY"
http GET "$M/mon0/dataplane"
assert_eq "GET .../dataplane: the configuration, in its normalized (v1.1) shape" \
	"PKT_COUNTER" "$(pick ingress-path/metric-configs/0/map-name)"

# --- errors: statuses, names, and D-Bus's messages --------------------------------------------
http GET "$M/nope"
assert_rest_error "GET an unknown monitor" 404 NoSuchMonitor
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.GetMonitor nope
assert_eq "the message is D-Bus's" "$DBUS_ERROR_MESSAGE" "$(pick message)"
http GET "$M/nope/metrics/ingress-metrics/packets_total/value"
assert_rest_error "GET a metric of an unknown monitor" 404 NoSuchMonitor
http DELETE "$M/nope"
assert_rest_error "DELETE an unknown monitor" 404 NoSuchMonitor

http POST "$M/mon0"
assert_rest_error "POST an existing monitor" 409 MonitorExists
dbus_error /org/polycube/Dynmon org.polycube.Dynmon.Manager.CreateMonitor mon0 '{}'
assert_eq "the message is D-Bus's" "$DBUS_ERROR_MESSAGE" "$(pick message)"

http POST "$M/mon1" -d '{"type": "TC", "colour": "red"}'
assert_rest_error "POST with an unknown field" 400 InvalidConfig
assert_match "the message names the field" '"colour"' "$(pick message)"
http POST "$M/mon1" -d '{"type": "TC",'
assert_rest_error "POST with a body that is not JSON" 400 InvalidConfig
http POST "$M/mon1" -d '["TC"]'
assert_rest_error "POST with a body that is no object" 400 InvalidConfig
http POST "$M/mon1" -d '{"type": "TURBO"}'
assert_rest_error "POST with an unknown type" 400 InvalidArgument
http POST "$M/mon1" -d '{"name": "other"}'
assert_rest_error "POST whose body names another monitor" 400 InvalidArgument
http GET "$M/mon1"
assert_rest_error "none of them created mon1" 404 NoSuchMonitor

line=$("$PY" "$E2E_DIR/breakcode.py" "$UPSTREAM/v1.1/packet_counter.json" ingress \
	"*pkt_counter+=1;" "$TMPD/broken.json")
http PUT "$M/mon0/dataplane-config" --upload-file "$TMPD/broken.json"
assert_rest_error "PUT a dataplane that does not compile" 422 CompileFailed
assert_match "the message is clang's, at the user's line $line" \
	"ingress\.bpf\.c:$line:[0-9]+: error: .*this_identifier_is_not_declared" "$(pick message)"
dbus_error "$(monitor_path mon0)" org.polycube.Dynmon.Monitor.Inject "$(gv_string <"$TMPD/broken.json")"
assert_eq "the message is D-Bus's" "$DBUS_ERROR_MESSAGE" "$(pick message)"
send_udp "$NS_B" "$IP_A" 5000 3
http GET "$M/mon0/metrics/ingress-metrics/packets_total/value"
assert_eq "the failed PUT changed nothing: the dataplane still counts ([5] + 3)" "[8]" "$HTTP_BODY"

http PUT "$M/mon0/dataplane-config" -d '{"ingress-path": {"name": "x", "colour": 1}}'
assert_rest_error "PUT a configuration with an unknown field" 400 InvalidConfig

# Bodies over 1 MiB: refused from the announced length, and when streamed without one.
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TMPD/big.json"
http PUT "$M/mon0/dataplane-config" --upload-file "$TMPD/big.json"
assert_rest_error "a 2 MiB body" 413 InvalidArgument
http PUT "$M/mon0/dataplane-config" -H 'Transfer-Encoding: chunked' --data-binary @"$TMPD/big.json"
assert_rest_error "a 2 MiB body, chunked (no length given)" 413 InvalidArgument
# limit_body SIZE: a configuration with an unknown field, padded to exactly SIZE bytes.
limit_body() {
	"$PY" -c 'import sys; b = "{\"x\": 1}"; sys.stdout.write(b + " " * (int(sys.argv[1]) - len(b)))' \
		"$1" >"$TMPD/limit.json"
}
limit_body $((1024 * 1024 + 1))
http PUT "$M/mon0/dataplane-config" -H 'Transfer-Encoding: chunked' --data-binary @"$TMPD/limit.json"
assert_rest_error "one byte over the limit" 413 InvalidArgument
limit_body $((1024 * 1024))
http PUT "$M/mon0/dataplane-config" -H 'Transfer-Encoding: chunked' --data-binary @"$TMPD/limit.json"
assert_rest_error "exactly 1 MiB is read, and judged as a configuration" 400 InvalidConfig
assert_match "... whose unknown field is named" '^x: unknown field' "$(pick message)"

http GET "$M/mon0/nothing"
assert_rest_error "an unknown path" 404 InvalidArgument
http GET /polycube/v1/nothing
assert_rest_error "a first name that is no endpoint is a cube's, and there is none" 404 \
	NoSuchMonitor
http PATCH "$M/mon0/type"
assert_rest_error "a method the path does not take (type is init-only)" 405 InvalidArgument
run ip netns exec "$NS_A" curl -sS -i -X PATCH "http://127.0.0.1:$PORT$M/mon0/type"
assert_match "405 says what the path takes (Allow)" $'Allow: GET, HEAD, OPTIONS\r' "$RUN_OUT"
http GET "$M/a%zz"
assert_rest_error "a malformed percent-escape" 400 InvalidArgument
http GET "$M/m%6Fn0/metrics/ingress-metrics/packets_total/value"
assert_eq "percent-escapes are decoded: m%6Fn0 is mon0" "200 [8]" "$HTTP_STATUS $HTTP_BODY"
http GET "$M/mon0/metrics/ingress-metrics/nometric/value"
assert_rest_error "an unknown metric" 404 InvalidArgument

# --- attach and detach -----------------------------------------------------------------------
http POST /polycube/v1/attach -d "{\"cube\": \"mon0\", \"port\": \"$VETH_A\"}"
assert_rest_error "attach what is attached already" 409 Busy
http POST /polycube/v1/detach -d '{"cube": "mon0", "port": "eth99"}'
assert_rest_error "detach from an interface it is not attached to" 409 NotAttached
http POST /polycube/v1/detach -d "{\"cube\": \"mon0\", \"port\": \"$VETH_A\", \"x\": 1}"
assert_rest_error "detach with an unknown field" 400 InvalidArgument
http POST /polycube/v1/detach -d '{"cube": "mon0"}'
assert_rest_error "detach without a port" 400 InvalidArgument
http POST /polycube/v1/detach -d "{\"cube\": \"mon0\", \"port\": \"$VETH_A\"}"
assert_http "POST /polycube/v1/detach" 200 application/json
assert_eq "detached: no parent, state detached" " detached" "$(pick parent) $(pick state)"
assert_eq "no filter left on $VETH_A ingress" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
http POST /polycube/v1/attach -d "{\"cube\": \"mon0\", \"port\": \"$VETH_A\", \"position\": \"middle\"}"
assert_rest_error "attach at an unknown position" 400 InvalidArgument
http POST /polycube/v1/attach -d "{\"cube\": \"mon0\", \"port\": \"$VETH_A\", \"before\": \"x\"}"
assert_rest_error "attach before a monitor that does not exist" 404 NoSuchMonitor
http POST /polycube/v1/attach -d '{"cube": "mon0", "port": "nosuchif0"}'
assert_rest_error "attach to an unknown interface" 404 NoSuchInterface
assert_eq "nothing attached by the failures" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
http POST /polycube/v1/attach -d "{\"cube\": \"mon0\", \"port\": \"$VETH_A\", \"position\": \"auto\"}"
assert_http "attach with position auto" 200 application/json
send_udp "$NS_B" "$IP_A" 5000 4
http GET "$M/mon0/metrics/ingress-metrics/packets_total/value"
assert_eq "attached again, it counts on ([8] + 4)" "[12]" "$HTTP_BODY"

# PUT on an existing monitor applies its body; on a new one it creates it.
http PUT "$M/mon0" -d '{"loglevel": "TRACE"}'
assert_eq "PUT $M/mon0 {loglevel: TRACE}" "200 TRACE" "$HTTP_STATUS $(pick loglevel)"
http PUT "$M/mon0" -d '{"type": "XDP_SKB"}'
assert_rest_error "PUT another type on an existing monitor" 409 Busy
http PUT "$M/mon1" -d "$(cat "$UPSTREAM/v1.1/packet_counter.json" |
	"$PY" -c 'import json,sys; print(json.dumps({"type": "TC", "dataplane-config": json.load(sys.stdin)}))')"
assert_eq "PUT $M/mon1 creates it with its dataplane" "200 mon1 Packets counter probe" \
	"$HTTP_STATUS $(pick name) $(pick dataplane-config/ingress-path/name)"

# --- /metrics: every monitor, each family once ------------------------------------------------
# mon0 and mon1 run the same dataplane: the family "packets" comes from both.
http GET /metrics -H 'Accept: application/openmetrics-text; version=1.0.0'
assert_http "GET /metrics, Accept OpenMetrics: its Content-Type" 200 "$OPENMETRICS"
SCRAPE=$HTTP_BODY
assert_eq "the family is written once though two monitors export it" 1 \
	"$(grep -c '^# TYPE packets counter$' <<<"$SCRAPE")"
run "$PY" "$E2E_DIR/omsamples.py" packets <<<"$SCRAPE"
assert_eq "the strict parser reads each monitor's sample, labelled with its name" \
	"packets_total{monitor=\"mon0\"} 12 counter
packets_total{monitor=\"mon1\"} 0 counter" "$RUN_OUT"
check "the scrape ends with # EOF" test "$(tail -n 1 <<<"$SCRAPE")" = "# EOF"
http GET /metrics -H 'Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
assert_http "GET /metrics with Prometheus' own Accept header: OpenMetrics" 200 "$OPENMETRICS"

http GET /metrics -H 'Accept: text/plain'
assert_http "GET /metrics, Accept text/plain: Prometheus text" 200 "$PROMETHEUS_TEXT"
printf '%s\n' "$HTTP_BODY" >"$TMPD/scrape.txt"
check "promtool check metrics accepts it" promtool check metrics <"$TMPD/scrape.txt"
assert_eq "its counter family is packets_total, once" 1 \
	"$(grep -c '^# TYPE packets_total counter$' "$TMPD/scrape.txt")"
assert_match "it has mon1's sample" '^packets_total\{monitor="mon1"\} 0$' "$HTTP_BODY"
assert_no_match "no # EOF in Prometheus text" '^# EOF' "$HTTP_BODY"
http GET /metrics
assert_http "GET /metrics without Accept: Prometheus text" 200 "$PROMETHEUS_TEXT"
# The check must be able to fail: promtool refuses the family written twice.
printf '%s\n%s\n' "$(grep -v '^# EOF' "$TMPD/scrape.txt")" \
	"$(grep -v '^# EOF' "$TMPD/scrape.txt")" >"$TMPD/twice.txt"
assert_rc "promtool refuses a family written twice" 1 promtool check metrics <"$TMPD/twice.txt"

http DELETE "$M/mon1"
assert_eq "DELETE $M/mon1" "200 " "$HTTP_STATUS $HTTP_BODY"
http GET "$M/mon1"
assert_rest_error "mon1 is gone" 404 NoSuchMonitor
http DELETE "$M/mon0"
assert_eq "DELETE $M/mon0 (attached)" "200" "$HTTP_STATUS"
assert_eq "after DELETE: no filter on $VETH_A ingress" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
assert_no_match "after DELETE: no clsact qdisc on $VETH_A" "clsact" "$(tc_qdiscs "$NS_A" "$VETH_A")"
http GET "$M"
assert_eq "no monitor left" "[]" "$HTTP_BODY"
stop_sink a
assert_eq "every datagram arrived ($N + 12)" "$((N + 12)) 0" "$SINK_RECEIVED $SINK_DROPS"

# --- swap-on-read over REST: reads that never block the loop, and sum exactly ----------------
N_SWAP=100000
start_sink s "$NS_A" "$IP_A" 5001
"$PY" - "$TMPD/swap.json" <<'PYEOF'
import json, sys
code = r"""
BPF_ARRAY(PKT_COUNTER, uint64_t, 1);
static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *c = PKT_COUNTER.lookup(&key);
    if (c)
        __sync_fetch_and_add(c, 1);
    return RX_OK;
}
"""
doc = {"dataplane-config": {"ingress-path": {"name": "swap", "code": code, "metric-configs": [
    {"name": "packets_total", "map-name": "PKT_COUNTER",
     "extraction-options": {"swap-on-read": True},
     "open-metrics-metadata": {"help": "Packets.", "type": "counter", "labels": []}}]}}}
json.dump(doc, open(sys.argv[1], "w"))
PYEOF
http POST "$M/swap0" --data-binary @"$TMPD/swap.json"
assert_http "POST a swap-on-read monitor" 200 application/json
http POST /polycube/v1/attach -d "{\"cube\": \"swap0\", \"port\": \"$VETH_A\"}"
assert_http "attach it" 200 application/json
send_udp "$NS_B" "$IP_A" 5001 10
http GET "$M/swap0/metrics/ingress-metrics/packets_total/value"
assert_eq "a swap-on-read /value returns the 10 packets so far" "[10]" "$HTTP_BODY"
http GET "$M/swap0/metrics/ingress-metrics/packets_total/value"
assert_eq "the next one what came since: nothing" "[0]" "$HTTP_BODY"
send_udp "$NS_B" "$IP_A" 5001 6
http GET "$M/swap0/open-metrics" -H 'Accept: text/plain'
check "open-metrics swaps too: packets_total 6" "$PY" "$E2E_DIR/omcheck.py" packets_total 6 \
	<<<"$HTTP_BODY"
send_udp "$NS_B" "$IP_A" 5001 7
http GET "$M/swap0"
assert_eq "GET of the monitor reads (and swaps) its metrics: [7]" "[7]" \
	"$(pick metrics/ingress-metrics/0/value)"

rm -f "$TMPD/stop" "$TMPD/ready"
ip netns exec "$NS_A" "$PY" "$E2E_DIR/restswap.py" "http://127.0.0.1:$PORT" swap0 packets_total \
	packets --ready "$TMPD/ready" --stop "$TMPD/stop" --max-seconds 120 >"$TMPD/restswap.json" &
READER=$!
BG_PIDS+=("$READER")
for ((i = 0; i < 100; i++)); do
	[[ -e $TMPD/ready ]] && break
	sleep 0.1
done
start=$(date +%s%N)
send_udp "$NS_B" "$IP_A" 5001 $N_SWAP
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
touch "$TMPD/stop"
wait "$READER" && pass "the REST reader's reads all succeeded" ||
	fail "the REST reader's reads all succeeded" "$(cat "$TMPD/restswap.json")"
BG_PIDS=()
read -r reads value_reads scrape_reads sum < <("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["reads"], r["value_reads"], r["scrape_reads"], r["sum"])' "$TMPD/restswap.json")
say "sent $N_SWAP datagrams in $elapsed_ms ms; the reader read $reads times ($value_reads /value," \
	"$scrape_reads /metrics) meanwhile"
if ((value_reads >= 5 && scrape_reads >= 5)); then
	pass "both kinds of reads ran during the traffic"
else
	fail "both kinds of reads ran during the traffic" "$value_reads /value, $scrape_reads /metrics"
fi
http GET "$M/swap0/metrics/ingress-metrics/packets_total/value"
final=$(pick 0)
assert_eq "the reads during the traffic plus a final read sum to exactly $N_SWAP" \
	"$N_SWAP" "$((sum + final))"
http DELETE "$M/swap0"
assert_eq "DELETE the swap-on-read monitor" 200 "$HTTP_STATUS"
stop_sink s
assert_eq "every datagram arrived" "$((N_SWAP + 23)) 0" "$SINK_RECEIVED $SINK_DROPS"

# --- writes off: the default -----------------------------------------------------------------
e2e_stop_daemon "the restart without --rest-allow-writes"
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT")
e2e_daemon
must dm add ro0
must dm inject ro0 "$UPSTREAM/v1.1/packet_counter.json"
http GET "$M/ro0/dataplane-config"
CONFIG_BEFORE=$HTTP_BODY
http GET "$M"
assert_eq "writes off: GET still lists (ro0, made over D-Bus)" "200 ro0" \
	"$HTTP_STATUS $(pick names | tr ' ' '\n' | grep -x ro0)"
http GET /metrics
assert_http "writes off: GET /metrics still answers" 200 "$PROMETHEUS_TEXT"
http POST "$M/rw0"
assert_rest_error "writes off: POST refused" 403 PermissionDenied
assert_match "the message says how to enable writes" "--rest-allow-writes" "$(pick message)"
http PUT "$M/rw0"
assert_rest_error "writes off: PUT of a new monitor refused" 403 PermissionDenied
assert_rc "... and nothing was created" 4 dm show rw0
http PUT "$M/ro0/dataplane-config" --upload-file "$UPSTREAM/v1.0/packet_counter.json"
assert_rest_error "writes off: PUT dataplane-config refused" 403 PermissionDenied
http GET "$M/ro0/dataplane-config"
assert_eq "... and the configuration is unchanged" "$CONFIG_BEFORE" "$HTTP_BODY"
http POST /polycube/v1/attach -d "{\"cube\": \"ro0\", \"port\": \"$VETH_A\"}"
assert_rest_error "writes off: attach refused" 403 PermissionDenied
assert_eq "... and nothing is attached" "" "$(tc_filters "$NS_A" "$VETH_A" ingress)"
http PATCH "$M/ro0/loglevel" -d '"TRACE"'
assert_rest_error "writes off: PATCH of a leaf refused" 403 PermissionDenied
http PATCH /polycube/v1/ro0/loglevel -d '"TRACE"'
assert_rest_error "writes off: PATCH through the cube-name path refused" 403 PermissionDenied
http GET "$M/ro0/loglevel"
assert_eq "... and the log level is unchanged" '"OFF"' "$HTTP_BODY"
http OPTIONS "$M/ro0?help=NONE"
assert_eq "writes off: help (OPTIONS) still answers" "200 [\"set\",\"show\"]" \
	"$HTTP_STATUS $(pick commands)"
http DELETE "$M/ro0"
assert_rest_error "writes off: DELETE refused" 403 PermissionDenied
assert_rc "... and ro0 is still there" 0 dm show ro0
http PUT "$M/ro0/dataplane-config" --upload-file "$TMPD/big.json"
assert_rest_error "writes off: refused before any body is read (403, not 413)" 403 PermissionDenied
must dm del ro0

# --- socket activation -----------------------------------------------------------------------
# systemd-socket-activate listens on PORT_SA and starts dynmond at the first connection, passing
# the socket: the daemon serves it rather than binding its --rest-address (PORT).
e2e_stop_daemon "the socket-activated start"
DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR ip netns exec "$NS_A" systemd-socket-activate \
	-l "127.0.0.1:$PORT_SA" -E DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDR" \
	"$DYNMOND" --bpf-include-dir "$DYNMON_SOURCE_DIR/bpf/include" --log-level debug \
	${STATE_DIR:+--state-dir "$STATE_DIR"} ${PIN_DIR:+--pin-dir "$PIN_DIR"} \
	--rest-address="127.0.0.1:$PORT" >>"$TMPD/dynmond.log" 2>&1 &
DAEMON_PID=$!
for ((i = 0; i < 50; i++)); do
	ip netns exec "$NS_A" ss -Htln "sport = :$PORT_SA" | grep -q . && break
	sleep 0.1
done
http_port "$PORT_SA" GET "$M"
assert_eq "socket activation: the first request starts dynmond, which answers it" "200 []" \
	"$HTTP_STATUS $HTTP_BODY"
assert_eq "the process is dynmond now" "dynmond" "$(ps -o comm= -p "$DAEMON_PID")"
http_port "$PORT_SA" GET /metrics -H 'Accept: application/openmetrics-text'
assert_eq "it serves /metrics on the passed socket: no monitor, dynmon's own families" \
	"200 # TYPE dynmon_build_info gauge # EOF" \
	"$HTTP_STATUS $(head -n 1 <<<"$HTTP_BODY") $(tail -n 1 <<<"$HTTP_BODY")"
http GET "$M"
assert_eq "it did not bind its --rest-address" "000" "$HTTP_STATUS"
