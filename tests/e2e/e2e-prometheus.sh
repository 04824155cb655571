#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Proof by the real tools: every example (examples/*.json), every upstream dataplane
# (tests/data/polycube, with their static labels) and two examples given open-metrics-metadata
# (struct values as one family per field, keys as decoded labels) run in turn on a veth, count
# exact traffic, and then
#   - their OpenMetrics (dynmonctl open-metrics, and /metrics asked for OpenMetrics) passes the
#     strict parser of python3-prometheus-client;
#   - /metrics asked for the Prometheus text format passes `promtool check metrics`;
#   - a real Prometheus server (Debian's, on namespace A's loopback, scraping /metrics every
#     second with tests/prometheus/prometheus.yml) holds every sample dynmond exported, with the
#     same value, and the values the dataplane counted, as its HTTP API answers them: packets,
#     bytes, buckets of a histogram (cumulative, le="+Inf", _count, _sum), per protocol, per
#     source address, NTP packets.
# And Prometheus's scrape is OpenMetrics: it asks for it, dynmond answers it, and the target is up
# without error.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9100      # dynmond's REST, in namespace A
PROM_PORT=9090 # Prometheus, in namespace A
PROM=http://127.0.0.1:$PROM_PORT
PROM_PID=
UPSTREAM=$DYNMON_SOURCE_DIR/tests/data/polycube
OPENMETRICS='application/openmetrics-text; version=1.0.0; charset=utf-8'
PROMETHEUS_TEXT='text/plain; version=0.0.4; charset=utf-8'
# What Prometheus 2.42 sends when it scrapes (scrape/scrape.go, scrapeAcceptHeader).
PROMETHEUS_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

for tool in curl promtool prometheus; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT")
e2e_setup

# --- Prometheus ------------------------------------------------------------------------------
# promcheck ARGS...: promcheck.py against our Prometheus, from inside namespace A.
promcheck() { ip netns exec "$NS_A" "$PY" "$E2E_DIR/promcheck.py" "$PROM" "$@"; }

prometheus_start() {
	sed "s|@DYNMOND@|127.0.0.1:$PORT|" "$DYNMON_SOURCE_DIR/tests/prometheus/prometheus.yml" \
		>"$TMPD/prometheus.yml"
	ip netns exec "$NS_A" prometheus --config.file="$TMPD/prometheus.yml" \
		--storage.tsdb.path="$TMPD/prometheus" --web.listen-address="127.0.0.1:$PROM_PORT" \
		--log.level=warn >>"$TMPD/prometheus.log" 2>&1 &
	PROM_PID=$!
	BG_PIDS+=("$PROM_PID") # the clean-up stops it whatever happens
	run promcheck --timeout 30 ready
	if ((RUN_RC != 0)); then
		cat "$TMPD/prometheus.log" >&2
		die "Prometheus did not get ready: $RUN_OUT"
	fi
	say "Prometheus runs (pid $PROM_PID) on $PROM, scraping 127.0.0.1:$PORT/metrics"
}

prometheus_stop() {
	stop_pid "$PROM_PID"
	assert_eq "Prometheus exits with status 0 on SIGTERM" 0 "$STOP_STATUS"
	BG_PIDS=()
	if ((E2E_FAILED > 0)); then
		echo "---- Prometheus's log ----"
		tail -n 30 "$TMPD/prometheus.log"
		echo "----"
	fi
}

prometheus_start

# --- dynmond's /metrics, as the test reads it -------------------------------------------------
# scrape ACCEPT: GET /metrics from inside namespace A; sets HTTP_STATUS, HTTP_TYPE, HTTP_BODY.
scrape() {
	local out
	out=$(ip netns exec "$NS_A" curl -sS --max-time 30 -o "$TMPD/http.body" \
		-w '%{http_code} %{content_type}' -H "Accept: $1" "http://127.0.0.1:$PORT/metrics" \
		2>"$TMPD/http.err") || true
	HTTP_STATUS=${out%% *}
	HTTP_TYPE=${out#* }
	HTTP_BODY=$(cat "$TMPD/http.body" 2>/dev/null || true)
	rm -f "$TMPD/http.body"
}

# without_self: OpenMetrics text without dynmon's own families (dynmon_*, e2e-selfmetrics checks
# them), which change from one scrape to the next.
without_self() { awk '/^# TYPE / { skip = ($3 ~ /^dynmon_/) } /^# EOF/ { skip = 0 } !skip'; }

# without_monitor MON: omsamples.py's lines without the label monitor="MON".
without_monitor() {
	sed -E -e "s/monitor=\"$1\"//" -e 's/\{,/{/' -e 's/,,/,/' -e 's/,\}/}/'
}

# --- traffic ---------------------------------------------------------------------------------
start_sink a "$NS_A" "$IP_A" 5000 # B -> A
start_sink b "$NS_B" "$IP_B" 5001 # A -> B
start_sink ntp "$NS_A" "$IP_A" 123
start_sink reply "$NS_A" "$IP_A" 5123
TO_A=0 # datagrams sent to each sink, checked at the end
TO_B=0
TO_NTP=0
TO_REPLY=0

# send_frames DIRECTION PAYLOAD:COUNT...: UDP datagrams of these payloads, B -> A for ingress,
# A -> B for egress. Sets FRAMES ("LEN:COUNT,...", the frame lengths a probe sees), PACKETS and
# BYTES of the direction (reset by new_traffic).
declare -A FRAMES=() PACKETS=() BYTES=()
new_traffic() {
	FRAMES=([ingress]="" [egress]="")
	PACKETS=([ingress]=0 [egress]=0)
	BYTES=([ingress]=0 [egress]=0)
}
send_frames() {
	local dir=$1 spec payload count len
	shift
	for spec in "$@"; do
		payload=${spec%:*} count=${spec#*:}
		len=$(frame_len "$payload")
		if [[ $dir == ingress ]]; then
			send_udp_mix "$NS_B" "$IP_A" 5000 "$payload" "$count"
			TO_A=$((TO_A + count))
		else
			send_udp_mix "$NS_A" "$IP_B" 5001 "$payload" "$count"
			TO_B=$((TO_B + count))
		fi
		FRAMES[$dir]+="${FRAMES[$dir]:+,}$len:$count"
		PACKETS[$dir]=$((PACKETS[$dir] + count))
		BYTES[$dir]=$((BYTES[$dir] + len * count))
	done
}

# The traffic of every dynmon example: frames on both sides of the sizes where buckets of
# powers of two and of the example's packet_sizes.json change (63/64, 127/128, 1499/1500 bytes),
# and a full-size one (1514).
example_traffic() {
	new_traffic
	send_frames ingress 21:1 22:2 85:1 86:3 300:2 1000:1 1457:1 1458:1 1472:2
	send_frames egress 30:3 600:2 1472:1
}

# The upstream probes' mix (as e2e-polycube.sh sends it): NTP of several modes and ports, other
# UDP and TCP, from B to A: 98 packets, 59 of them NTP, 17 NTP of mode 7.
NTP_MIX=(--ntp 3:0:123:20 --ntp 4:123:5123:15 --ntp 7:0:123:12 --ntp 7:123:123:5 --ntp 6:0:123:4
	--ntp 7:0:123:3:10 --ntp 7:0:5000:6 --udp 0:5000:25 --tcp 123:8)
NTP_ALL=98
NTP_NTP=59
NTP_MODE7=17
ntp_traffic() {
	send_ntp "$NS_B" "$IP_A" "${NTP_MIX[@]}"
	TO_NTP=$((TO_NTP + 44))
	TO_REPLY=$((TO_REPLY + 15))
	TO_A=$((TO_A + 31))
}

# --- one dataplane, proven -------------------------------------------------------------------
# run_dataplane MON FILE: a new monitor MON running FILE on VETH_A.
run_dataplane() {
	must dm add "$1"
	must dm inject "$1" "$2"
	must dm attach "$1" "$VETH_A"
}

# prove MON SINCE: after the traffic, MON's metrics pass the strict parser (dynmonctl
# open-metrics and /metrics in OpenMetrics, which agree) and promtool (/metrics as Prometheus
# text), and Prometheus scraped them after SINCE (a Unix time), healthy, holding every series
# /metrics has, at the same value. Leaves /metrics' OpenMetrics in SCRAPE.
prove() {
	local mon=$1 since=$2 om samples
	om=$(dm open-metrics "$mon")
	run "$PY" "$E2E_DIR/omsamples.py" <<<"$om"
	samples=$RUN_OUT
	assert_eq "$mon: dynmonctl open-metrics passes the strict OpenMetrics parser" "0 " \
		"$RUN_RC $(grep '^not valid' <<<"$RUN_OUT")"
	assert_eq "$mon: ... and ends with # EOF" "# EOF" "$(tail -n 1 <<<"$om")"

	scrape "$PROMETHEUS_ACCEPT"
	assert_eq "$mon: /metrics answers Prometheus's Accept in OpenMetrics" "200 $OPENMETRICS" \
		"$HTTP_STATUS $HTTP_TYPE"
	SCRAPE=$(without_self <<<"$HTTP_BODY")
	run "$PY" "$E2E_DIR/omsamples.py" <<<"$SCRAPE"
	assert_eq "$mon: /metrics passes the strict parser; its samples are open-metrics', labelled" \
		"$samples" "$(without_monitor "$mon" <<<"$RUN_OUT")"

	scrape 'text/plain'
	assert_eq "$mon: /metrics for text/plain is Prometheus text" "200 $PROMETHEUS_TEXT" \
		"$HTTP_STATUS $HTTP_TYPE"
	printf '%s\n' "$HTTP_BODY" >"$TMPD/scrape.txt"
	check "$mon: promtool check metrics accepts it" promtool check metrics <"$TMPD/scrape.txt"

	run promcheck scraped-after "$since"
	assert_eq "$mon: Prometheus scraped dynmond after the traffic: target up, no error" \
		'0 up ""' "$RUN_RC $RUN_OUT"
	run promcheck mirror "$mon" <<<"$SCRAPE"
	assert_eq "$mon: Prometheus holds every series of the scrape, at dynmond's values" \
		"0 $(grep -c . <<<"$samples" || true) series" "$RUN_RC $RUN_OUT"
}

# prom_expect DESC SELECTOR=VALUE...: Prometheus's API finds each series at that value.
prom_expect() {
	local desc=$1
	shift
	run promcheck expect "$@"
	if ((RUN_RC == 0)); then
		pass "$desc"
	else
		fail "$desc" "$RUN_OUT"
	fi
}

# now: the Unix time, for promcheck scraped-after.
now() { date +%s.%N; }

# --- OpenMetrics negotiation -----------------------------------------------------------------
# Prometheus names a family by what it parsed: in OpenMetrics a counter's family is "packets"
# (samples packets_total), in the text format it is "packets_total". The target's metadata thus
# tells which format Prometheus received.
mon=ex-negotiation
run_dataplane "$mon" "$EXAMPLES/packet_counter.json"
new_traffic
send_frames ingress 100:7
since=$(now)
run promcheck scraped-after "$since"
assert_eq "Prometheus's scrape of dynmond: target up, no error" '0 up ""' "$RUN_RC $RUN_OUT"
prom_expect "Prometheus has packets_total{monitor=\"$mon\"} = 7" "packets_total{monitor=\"$mon\"}=7"
run promcheck metadata packets
assert_eq "Prometheus parsed OpenMetrics: the counter's family is \"packets\"" "0 counter" \
	"$RUN_RC $RUN_OUT"
run promcheck metadata packets_total
assert_eq "... and not the text format's \"packets_total\"" "0 <none>" "$RUN_RC $RUN_OUT"
must dm del "$mon"

# --- dynmon's examples -----------------------------------------------------------------------
# Known values for each example, from the traffic example_traffic sends; the examples this
# table does not know get the checks of prove() alone.
example_expect() {
	local mon=$1 file=$2 sel="{monitor=\"$1\"}" dir buckets
	case $file in
	packet_counter.json)
		prom_expect "$file: packets counted" "packets_total$sel=${PACKETS[ingress]}"
		;;
	ingress_egress_counter.json)
		prom_expect "$file: packets counted each way" \
			"ingress_packets_total$sel=${PACKETS[ingress]}" \
			"egress_packets_total$sel=${PACKETS[egress]}"
		;;
	ingress_egress_bytes.json)
		prom_expect "$file: bytes counted each way, and their sum" \
			"ingress_bytes_total$sel=${BYTES[ingress]}" \
			"egress_bytes_total$sel=${BYTES[egress]}" \
			"bytes_total$sel=$((BYTES[ingress] + BYTES[egress]))"
		;;
	packet_sizes.json)
		for dir in ingress egress; do
			mapfile -t buckets < <(index_buckets "${dir}_packet_sizes_total" "$mon" \
				"${FRAMES[$dir]}")
			prom_expect "$file: ${dir}_packet_sizes_total, per bucket index" "${buckets[@]}"
		done
		;;
	packet_size_histogram.json)
		# Both paths make the family frame_size_bytes: their samples have a path label.
		for dir in ingress egress; do
			run promcheck histogram frame_size_bytes "monitor=\"$mon\",path=\"$dir\"" \
				"${FRAMES[$dir]}"
			assert_eq "$file: frame_size_bytes{path=\"$dir\"}, a histogram of frame sizes" \
				"0 ${PACKETS[$dir]} observations" "$RUN_RC $RUN_OUT"
		done
		;;
	protocol_counter.json | top_talkers.json)
		say "$file: JSON only, no samples; with open-metrics-metadata further down"
		;;
	*)
		say "$file: no known values here; checked against dynmond's own scrape only"
		;;
	esac
}

# index_buckets SAMPLE MON LEN:COUNT,...: SAMPLE{index="i",monitor="MON"}=N for packet_sizes'
# seven buckets (< 64, < 128, < 256, < 512, < 1024, < 1500, the rest).
index_buckets() {
	local spec len count i limit specs
	local -a n=(0 0 0 0 0 0 0)
	IFS=, read -ra specs <<<"$3"
	for spec in "${specs[@]}"; do
		len=${spec%:*} count=${spec#*:} i=0
		for limit in 64 128 256 512 1024 1500; do
			((len < limit)) && break
			i=$((i + 1))
		done
		n[i]=$((n[i] + count))
	done
	for i in 0 1 2 3 4 5 6; do
		printf '%s{index="%s",monitor="%s"}=%s\n' "$1" "$i" "$2" "${n[i]}"
	done
}

for file in "$EXAMPLES"/*.json; do
	name=$(basename "$file")
	mon=ex-${name%.json}
	run_dataplane "$mon" "$file"
	example_traffic
	since=$(now)
	prove "$mon" "$since"
	example_expect "$mon" "$name"
	must dm del "$mon"
done

# --- struct values, labels from keys ----------------------------------------------------------
# The protocol counter and the top talkers are JSON-only examples. Given open-metrics-metadata
# (docs/OPENMETRICS.md), each struct value is one family per field and each key a label,
# decoded: the IP protocol's name, the IPv4 source address.
"$PY" - "$EXAMPLES" "$TMPD" <<'PYEOF'
import json, sys
examples, out = sys.argv[1], sys.argv[2]
for example, label, decoder in (("protocol_counter", "protocol", "ip-protocol"),
                                ("top_talkers", "source", "ipv4")):
    doc = json.load(open(f"{examples}/{example}.json"))
    for path in doc.values():
        for m in path.get("metric-configs", []):
            m["open-metrics-metadata"] = {"help": "Packets and bytes.", "type": "counter",
                                          "labels": [],
                                          "key-labels": [{"label": label, "decoder": decoder}]}
    json.dump(doc, open(f"{out}/{example}.om.json", "w"))
PYEOF

mon=st-protocols
run_dataplane "$mon" "$TMPD/protocol_counter.om.json"
example_traffic
prove "$mon" "$(now)"
sel="{monitor=\"$mon\",protocol=\"udp\"}"
prom_expect "protocol_counter with OpenMetrics: packets and bytes per protocol, each a family" \
	"ingress_protocols_packets_total$sel=${PACKETS[ingress]}" \
	"ingress_protocols_bytes_total$sel=${BYTES[ingress]}" \
	"egress_protocols_packets_total$sel=${PACKETS[egress]}" \
	"egress_protocols_bytes_total$sel=${BYTES[egress]}"
must dm del "$mon"

mon=st-talkers
run_dataplane "$mon" "$TMPD/top_talkers.om.json"
example_traffic
prove "$mon" "$(now)"
sel="{monitor=\"$mon\",source=\"$IP_B\"}"
prom_expect "top_talkers with OpenMetrics: packets and bytes per source address" \
	"talkers_packets_total$sel=${PACKETS[ingress]}" "talkers_bytes_total$sel=${BYTES[ingress]}"
must dm del "$mon"

# --- Polycube's own dataplanes ---------------------------------------------------------------
# Their labels are static (IP_PROTO="UDP", L4="NTP"), as upstream configured them.
for version in v1.0 v1.1; do
	for file in packet_counter.json ntp_packets_counter.json \
		ntp_packets_ntp_mode_private_counters.json; do
		mon=up-$version-${file%.json}
		run_dataplane "$mon" "$UPSTREAM/$version/$file"
		ntp_traffic
		since=$(now)
		prove "$mon" "$since"
		ntp="{IP_PROTO=\"UDP\",L4=\"NTP\",monitor=\"$mon\"}"
		case $file in
		packet_counter.json)
			prom_expect "$version/$file: every packet of the mix" \
				"packets_total{monitor=\"$mon\"}=$NTP_ALL"
			;;
		ntp_packets_counter.json)
			prom_expect "$version/$file: the NTP packets, with upstream's labels" \
				"ntp_packets_total$ntp=$NTP_NTP"
			;;
		ntp_packets_ntp_mode_private_counters.json)
			prom_expect "$version/$file: NTP packets and those of mode 7, with upstream's labels" \
				"ntp_packets_total$ntp=$NTP_NTP" "ntp_mode_private_packets_total$ntp=$NTP_MODE7"
			;;
		esac
		must dm del "$mon"
	done
done

# --- the end ---------------------------------------------------------------------------------
run promcheck target
assert_eq "after every dataplane came and went, the target is still up without error" \
	'0 up ""' "$RUN_RC $RUN_OUT"
prometheus_stop

for key in a b ntp reply; do
	stop_sink "$key"
	case $key in
	a) want=$TO_A ;;
	b) want=$TO_B ;;
	ntp) want=$TO_NTP ;;
	reply) want=$TO_REPLY ;;
	esac
	assert_eq "sink $key received all $want datagrams the test sent it" "$want 0" \
		"$SINK_RECEIVED $SINK_DROPS"
done
