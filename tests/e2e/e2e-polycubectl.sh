#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A Polycube user switches with nothing changed: the exact HTTP requests polycubectl sends
# (pcctl.py makes them as polycubectl makes them of its arguments) for the seed's "How to use"
# and upstream's test1.sh — cube-name paths redirected, leaves read and set, help (`?`) and tab
# completion at every level, polycubed's own endpoints — with the answers' shapes and values;
# upstream's dynmon_extractor.py and dynmon_injector.py requests; the JSON byte order of
# upstream's map-extraction test with real packets; and the data model checked against
# dynmon.yang node by node (yangcheck.py).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9110
BASE=http://127.0.0.1:$PORT/polycube/v1
UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
N=41

command -v curl >/dev/null || die "missing tool: curl (run data/install-deps.sh)"
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT" --rest-allow-writes)
e2e_setup
start_sink a "$NS_A" "$IP_A" 5000

# pc ARGS...: `polycubectl ARGS...`'s requests from namespace A. Sets PC_RC (0, or 2 for an
# answer that is no 2xx, as polycubectl exits), PC_BODY (the last answer) and PC_REQ (each
# request sent: "METHOD URL BODY", then the status).
pc() {
	PC_RC=0
	PC_BODY=$(ip netns exec "$NS_A" "$PY" "$E2E_DIR/pcctl.py" "$BASE/" "$@" 2>"$TMPD/pc.err") ||
		PC_RC=$?
	PC_REQ=$(cat "$TMPD/pc.err")
}
# complete LINE: the candidates the bash completion offers on LINE, one line, space-separated.
complete() {
	ip netns exec "$NS_A" "$PY" "$E2E_DIR/pcctl.py" --complete "$BASE/" "$1" 2>/dev/null |
		tr '\n' ' ' | sed 's/ $//'
}
pick() { "$PY" "$E2E_DIR/restpick.py" "$@" <<<"$PC_BODY" || true; }
# curl_a ARGS...: curl from namespace A; prints the body, then " STATUS".
curl_a() { ip netns exec "$NS_A" curl -sS --max-time 30 -w ' %{http_code}' "$@"; }

# --- the seed's "How to use" and test1.sh --------------------------------------------------
pc dynmon add dm type=TC
assert_eq "polycubectl dynmon add dm type=TC: POST .../dynmon/dm/ {\"type\": \"TC\"}" \
	"0 POST $BASE/dynmon/dm/ {\"type\": \"TC\"}" "$PC_RC $(head -1 <<<"$PC_REQ")"
pc dm show
assert_eq "polycubectl dm show: GET .../dm/ is redirected (308) to .../dynmon/dm/" \
	"GET $BASE/dm/ |GET $BASE/dynmon/dm/ |200" "$(paste -sd'|' <<<"$PC_REQ")"
assert_eq "... the cube: name, service-name, type, loglevel, parent (none yet)" \
	"dm dynmon TC OFF " "$(pick name) $(pick service-name) $(pick type) $(pick loglevel) $(pick parent)"
assert_match "... a UUID as polycubed gives one" \
	'^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$(pick uuid)"
assert_eq "... with polycubed's _links: self first, then a child" \
	"self //127.0.0.1:$PORT/polycube/v1/dynmon/dm/ loglevel //127.0.0.1:$PORT/polycube/v1/dynmon/dm/loglevel/" \
	"$(pick _links/0/rel) $(pick _links/0/href) $(pick _links/5/rel) $(pick _links/5/href)"

pc attach dm "$VETH_A"
assert_eq "polycubectl attach dm $VETH_A: POST .../attach/ {cube, port}" \
	"0 POST $BASE/attach/ {\"cube\": \"dm\", \"port\": \"$VETH_A\"}" \
	"$PC_RC $(head -1 <<<"$PC_REQ")"
out=$(curl_a -H "Content-Type: application/json" "127.0.0.1:$PORT/polycube/v1/dynmon/dm/dataplane-config" \
	--upload-file "$UPSTREAM/v1.1/packet_counter.json" -o /dev/null)
assert_eq "test1.sh's curl --upload-file of the dataplane" " 200" "$out"
send_udp "$NS_B" "$IP_A" 5000 $N

pc dm metrics show
assert_eq "polycubectl dm metrics show: packets_total is [$N]" "packets_total [$N]" \
	"$(pick ingress-metrics/0/name) $(pick ingress-metrics/0/value)"
assert_eq "... with _links to self and both lists" "self ingress-metrics egress-metrics" \
	"$(pick _links/0/rel) $(pick _links/1/rel) $(pick _links/2/rel)"
pc dm open-metrics show
assert_match "polycubectl dm open-metrics show: the OpenMetrics text, as a JSON string" \
	"^# TYPE packets counter" "$(pick '')"
out=$(curl_a -H 'Accept: application/openmetrics-text' "$BASE/dynmon/dm/open-metrics")
assert_match "... and the text itself to a client that asks for OpenMetrics" \
	"^# TYPE packets counter" "$out"
pc dm metrics ingress-metrics packets_total show
assert_eq "polycubectl dm metrics ingress-metrics packets_total show" "packets_total [$N]" \
	"$(pick name) $(pick value)"
pc dm metrics ingress-metrics packets_total value show
assert_eq "... value show: the bare value test1.sh reads, [$N]" "0 [$N]" "$PC_RC $PC_BODY"
pc dm metrics ingress-metrics packets_total timestamp show
assert_match "... timestamp show: an integer" '^[0-9]{13}$' "$PC_BODY"

# dynmonctl --json and polycubectl -json show the same values.
pc dm metrics ingress-metrics packets_total value show -json
assert_eq "polycubectl -json and dynmonctl --json read the same value" \
	"$(dm --json metrics dm packets_total)" "$PC_BODY"

# --- leaves, and PATCH --------------------------------------------------------------------
pc dm set loglevel=TRACE
assert_eq "polycubectl dm set loglevel=TRACE: PATCH .../loglevel/ with the bare value" \
	"0 PATCH $BASE/dynmon/dm/loglevel/ \"TRACE\"" "$PC_RC $(sed -n 2p <<<"$PC_REQ")"
pc dm loglevel show
assert_eq "polycubectl dm loglevel show: the bare JSON value" '"TRACE"' "$PC_BODY"
assert_match "dynmonctl show, over D-Bus, sees the same log level" "TRACE" "$(dm show dm)"
pc dm type show
assert_eq "polycubectl dm type show" '"TC"' "$PC_BODY"
pc dm dataplane-config ingress-path show
assert_eq "polycubectl dm dataplane-config ingress-path show" "Packets counter probe" \
	"$(pick name)"
pc dm dataplane-config ingress-path metric-configs packets_total map-name show
assert_eq "... down to a leaf of a list element" '"PKT_COUNTER"' "$PC_BODY"
pc dm set type=XDP_SKB
assert_eq "polycubectl dm set type=X: type is init-only, 405 as polycubed" 2 "$PC_RC"
out=$(curl_a -X PATCH "$BASE/dynmon/dm" -d '{"loglevel": "INFO"}')
assert_eq "PATCH of the cube with an object" "INFO 200" \
	"$("$PY" "$E2E_DIR/restpick.py" loglevel <<<"${out% *}") ${out##* }"
out=$(curl_a -X PATCH "$BASE/dynmon/dm/dataplane-config/ingress-path/name" -d '"renamed"')
assert_eq "PATCH of a writable leaf inside the configuration re-injects it" "renamed 200" \
	"$("$PY" "$E2E_DIR/restpick.py" dataplane-config/ingress-path/name <<<"${out% *}") ${out##* }"
out=$(curl_a -X PATCH "$BASE/dynmon/dm/loglevel" -d '"LOUD"')
assert_match "a value outside the enumeration is refused, with the known ones" \
	'^.*Unknown log level.* 400$' "$out"

# --- help (?) and completion at every level ------------------------------------------------
pc ?
assert_eq "polycubectl ?: OPTIONS .../?help=NONE, the dynmon service" \
	"OPTIONS $BASE/?help=NONE  service Dynamic Traffic Monitor transparent service" \
	"$(head -1 <<<"$PC_REQ") $(pick params/dynmon/simpletype) $(pick params/dynmon/description)"
pc dynmon ?
assert_eq "polycubectl dynmon ?: commands, the key, the cubes" \
	'["add","del","show"] key string ["dm"]' \
	"$(pick commands) $(pick params/name/type) $(pick params/name/simpletype) $("$PY" -c 'import json,sys; print(json.dumps([e["name"] for e in json.load(sys.stdin)["elements"]],separators=(",",":")))' <<<"$PC_BODY")"
pc dynmon add ?
assert_eq "polycubectl dynmon add ?: the optional parameters" "loglevel service-name type" \
	"$(pick keys optional-params)"
assert_eq "... each with type, simpletype, description and example" \
	"leaf string INFO Logging level of a cube, from none (OFF) to the most verbose (TRACE)" \
	"$(pick optional-params/loglevel/type) $(pick optional-params/loglevel/simpletype) $(pick optional-params/loglevel/example) $(pick optional-params/loglevel/description)"
pc dm ?
assert_eq "polycubectl dm ?: redirected; commands and the containers" \
	'["set","show"] dataplane-config metrics complex' \
	"$(pick commands) $(pick keys params) $(pick params/metrics/type)"
pc dm show ?
assert_eq "polycubectl dm show ?: what show shows" \
	"dataplane-config loglevel metrics open-metrics parent service-name state type uuid" \
	"$(pick keys params)"
pc dm set ?
assert_eq "polycubectl dm set ?: what set sets" "loglevel" "$(pick keys params)"
pc dm metrics ingress-metrics ?
assert_eq "polycubectl dm metrics ingress-metrics ?: its elements by key" \
	'packets_total ["add","del","show"]' "$(pick elements/0/name) $(pick commands)"
pc dm metrics ingress-metrics packets_total value ?
assert_eq "help on a leaf: 400 (polycubed has none), no help to show" 2 "$PC_RC"

assert_eq "completion: polycubectl <TAB>" \
	"attach detach services cubes topology netdevs dynmon dm" "$(complete "polycubectl ")"
assert_eq "completion: polycubectl dynmon <TAB>" "dm add del show" \
	"$(complete "polycubectl dynmon ")"
assert_eq "completion: polycubectl dynmon add <TAB>" "<name>" \
	"$(complete "polycubectl dynmon add ")"
assert_eq "completion: polycubectl dynmon del <TAB>" "dm" "$(complete "polycubectl dynmon del ")"
assert_eq "completion: polycubectl dm <TAB> (a cube-name path)" \
	"dataplane-config metrics set show" "$(complete "polycubectl dm ")"
assert_eq "completion: polycubectl dm show <TAB>" \
	"uuid type service-name loglevel dataplane-config metrics open-metrics parent state" \
	"$(complete "polycubectl dm show ")"
assert_eq "completion: polycubectl dm set <TAB>" "loglevel=" "$(complete "polycubectl dm set ")"
assert_eq "completion: polycubectl dm set loglevel=<TAB>" \
	"TRACE DEBUG INFO WARN ERR CRITICAL OFF" "$(complete "polycubectl dm set loglevel=")"
assert_eq "completion: polycubectl dm metrics <TAB>" "ingress-metrics egress-metrics set show" \
	"$(complete "polycubectl dm metrics ")"
assert_eq "completion: polycubectl dm metrics ingress-metrics <TAB>" "packets_total show" \
	"$(complete "polycubectl dm metrics ingress-metrics ")"
assert_eq "completion: polycubectl dm dataplane-config ingress-path <TAB>" \
	"metric-configs set show" "$(complete "polycubectl dm dataplane-config ingress-path ")"
assert_eq "completion: polycubectl cubes <TAB>" "dm show" "$(complete "polycubectl cubes ")"

# --- polycubed's own endpoints ------------------------------------------------------------
pc cubes
assert_eq "polycubectl cubes: GET .../cubes/, our cube under our service" \
	"dm dynmon TC $VETH_A" \
	"$(pick dynmon/0/name) $(pick dynmon/0/service-name) $(pick dynmon/0/type) $(pick dynmon/0/parent)"
pc topology
assert_eq "polycubectl topology: every cube" "dm $VETH_A" "$(pick 0/name) $(pick 0/parent)"
pc services show
assert_eq "polycubectl services show: the one service" "dynmon 1.1" "$(pick 0/name) $(pick 0/version)"
pc services show dynmon
assert_match "polycubectl services show dynmon: its data model" "^module dynmon \\{" \
	"$(pick 0/datamodel)"
pc version
assert_eq "polycubectl version: dynmond's" "$("$DYNMOND" --version | grep -o '[0-9][0-9.]*' | head -1)" \
	"$(pick polycubed/version)"
pc netdevs
assert_match "polycubectl netdevs: the daemon's interfaces, with addresses" \
	"\"name\":\"$VETH_A\",\"addresses\":\\[\"$IP_A/" "$PC_BODY"
pc netdevs show "$VETH_A"
assert_eq "polycubectl netdevs show $VETH_A" "$VETH_A" "$(pick 0/name)"
out=$(curl_a -o /dev/null "$BASE/")
assert_eq "GET /polycube/v1/: the root's _links" " 200" "$out"

# Cube-name paths: the query kept; polycubed's own names are never cubes.
run ip netns exec "$NS_A" curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -X OPTIONS \
	"$BASE/dm/metrics?help=SHOW&completion"
assert_eq "a cube-name path: 308 to the service path, query kept" \
	"308 $BASE/dynmon/dm/metrics?help=SHOW&completion" "$RUN_OUT"
curl_a -o /dev/null -X POST "$BASE/dynmon/cubes" >/dev/null
out=$(curl_a -o /dev/null "$BASE/cubes/dm")
assert_eq "a monitor named cubes does not hide polycubed's /cubes" " 200" "$out"
curl_a -o /dev/null -X DELETE "$BASE/dynmon/cubes" >/dev/null

# --- upstream's tools' requests -------------------------------------------------------------
send_udp "$NS_B" "$IP_A" 5000 $N # the PATCH above re-injected: counting starts again
# dynmon_extractor.py MONITOR: GET .../metrics// and deletes the answer's "_links".
out=$(curl_a "$BASE/dynmon/dm/metrics//")
assert_eq "dynmon_extractor.py's default call: 200 with _links to delete" "200 [$N]" \
	"${out##* } $("$PY" -c 'import json,sys; r=json.loads(sys.stdin.read()); del r["_links"]; print(json.dumps(r["ingress-metrics"][0]["value"]))' <<<"${out% *}")"
out=$(curl_a "$BASE/dynmon/dm/metrics/ingress-metrics/packets_total/value")
assert_eq "dynmon_extractor.py -t ingress -n packets_total: res[0] is the count" "$N" \
	"$("$PY" -c 'import json,sys; print(json.loads(sys.stdin.read())[0])' <<<"${out% *}")"
out=$(curl_a "$BASE/dynmon/dm/metrics/ingress-metrics/")
assert_eq "dynmon_extractor.py -t ingress: the list" "packets_total 200" \
	"$("$PY" "$E2E_DIR/restpick.py" names <<<"${out% *}") ${out##* }"
# dynmon_injector.py: GET the cube (its parent), detach, attach (position last), PUT the
# dataplane; a new cube: POST with dataplane-config, type and loglevel 'debug'.
out=$(curl_a "$BASE/dynmon/dm")
assert_eq "dynmon_injector.py reads the cube's parent" "$VETH_A" \
	"$("$PY" "$E2E_DIR/restpick.py" parent <<<"${out% *}")"
out=$(curl_a -X POST "$BASE/detach" -d "{\"cube\": \"dm\", \"port\": \"$VETH_A\"}" -o /dev/null)
assert_eq "dynmon_injector.py's detach" " 200" "$out"
out=$(curl_a -X POST "$BASE/attach" -d "{\"cube\": \"dm\", \"port\": \"$VETH_A\", \"position\": \"last\"}" -o /dev/null)
assert_eq "dynmon_injector.py's attach with position last" " 200" "$out"
out=$(curl_a -X PUT "$BASE/dynmon/dm/dataplane-config" --data-binary @"$UPSTREAM/v1.1/packet_counter.json" -o /dev/null)
assert_eq "dynmon_injector.py's PUT of the dataplane" " 200" "$out"
"$PY" -c 'import json,sys; print(json.dumps({"dataplane-config": json.load(open(sys.argv[1])), "type": "TC", "loglevel": "debug"}))' \
	"$UPSTREAM/v1.1/packet_counter.json" >"$TMPD/inj.json"
out=$(curl_a -X POST "$BASE/dynmon/inj" --data-binary @"$TMPD/inj.json" -o /dev/null)
assert_eq "dynmon_injector.py's POST of a new cube (loglevel 'debug')" " 200" "$out"
curl_a -o /dev/null -X DELETE "$BASE/dynmon/inj" >/dev/null

# --- the JSON byte order of upstream's map-extraction test, with real packets ----------------
# A hash keyed by {__be32 saddr, __be32 daddr, __be16 sport, __be16 dport}, the key written as
# {1, 2, 11, 22} by the program: Polycube's JSON reads 1, 2, 11, 22, and so does dynmon's.
# With dynmon's "network-byte-order" the fields are decoded as network-order numbers.
extraction_config() {
	"$PY" - "$1" <<'EOF'
import json, sys
code = r"""
struct flow { __be32 saddr; __be32 daddr; __be16 sport; __be16 dport; };
BPF_TABLE("hash", struct flow, u64, FLOWS, 16);
static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
	struct flow k = {.saddr = 1, .daddr = 2, .sport = 11, .dport = 22};
	u64 zero = 0, *v = FLOWS.lookup_or_try_init(&k, &zero);
	if (v)
		__sync_fetch_and_add(v, 1);
	return RX_OK;
}
"""
metric = {"name": "flows", "map-name": "FLOWS"}
if sys.argv[1] == "decoded":
    metric["extraction-options"] = {"network-byte-order": True}
print(json.dumps({"ingress-path": {"name": "map extraction", "code": code,
                                   "metric-configs": [metric]}}))
EOF
}
for mode in upstream decoded; do
	extraction_config $mode >"$TMPD/extraction-$mode.json"
	out=$(curl_a -X PUT "$BASE/dynmon/dm/dataplane-config" --data-binary @"$TMPD/extraction-$mode.json" -o /dev/null)
	assert_eq "map extraction ($mode): injected" " 200" "$out"
	send_udp "$NS_B" "$IP_A" 5000 3
	pc dm metrics ingress-metrics flows value show
	case $mode in
	upstream) want='[{"key":{"saddr":1,"daddr":2,"sport":11,"dport":22},"value":3}]' ;;
	decoded) want='[{"key":{"saddr":16777216,"daddr":33554432,"sport":2816,"dport":5632},"value":3}]' ;;
	esac
	assert_eq "map extraction ($mode): the key as $mode JSON reads it, 3 packets" "$want" "$PC_BODY"
	assert_eq "map extraction ($mode): dynmonctl --json reads the same" "$want" \
		"$(dm --json metrics dm flows)"
done

# --- the data model against dynmon.yang -----------------------------------------------------
"$PY" - >"$TMPD/yc.json" <<'EOF'
import json
code = "BPF_ARRAY(C, u64, 1);\nstatic __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) { return RX_OK; }\n"
metric = {"name": "x", "map-name": "C",
          "open-metrics-metadata": {"help": "h", "type": "counter",
                                    "labels": [{"name": "l", "value": "v"}]}}
path = {"name": "p", "code": code, "metric-configs": [metric]}
print(json.dumps({"ingress-path": path, "egress-path": path}))
EOF
curl_a -o /dev/null -X POST "$BASE/dynmon/yc" >/dev/null
out=$(curl_a -o /dev/null -X PUT "$BASE/dynmon/yc/dataplane-config" --data-binary @"$TMPD/yc.json")
assert_eq "a monitor with every node of the model" " 200" "$out"
check "every node of dynmon.yang is served as the YANG says, and nothing else" \
	ip netns exec "$NS_A" "$PY" "$E2E_DIR/yangcheck.py" "$DYNMON_SOURCE_DIR/data/polycube" \
	"$BASE" yc
