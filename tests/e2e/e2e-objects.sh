#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Compile once, run everywhere (docs/OBJECTS.md). This test is the build host: `dynmonctl compile`
# turns configurations into configurations carrying their objects, signed with a key. dynmond
# runs where clang cannot be found — in a mount namespace of its own, an empty file system lies
# over the directory of the compiler's binary, and the wrapper checks that neither `clang` on
# PATH nor the build's /usr/bin/clang resolves — and with --trusted-keys. It injects the compiled
# configurations and counts exactly (libbpf dialect; the Polycube dialect with a map shared
# between the paths; a v1.0 document), refuses an unsigned object, plain source, a damaged
# object, a re-hashed damaged object, a signed object paired with other metrics, an object signed
# by a key it does not trust, and an object of other code, each with its named error and without
# touching the running dataplane (it keeps counting exactly). A restart brings the monitors back,
# still without clang. Then, with clang and no keys: the compile cache — an unchanged re-inject
# and a restart with saved monitors run no compiler (dynmon_compile_duration_seconds_count).
# Costs about 15 s.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

e2e_require
e2e_tmpdir
e2e_network
e2e_bus

INCLUDE=$DYNMON_SOURCE_DIR/bpf/include
SHARED=$DYNMON_SOURCE_DIR/tests/data/polycube-extra/shared_ingress_egress.json
V10=$DYNMON_SOURCE_DIR/tests/data/polycube/v1.0/packet_counter.json
CLANG_REAL=$(readlink -f "$(command -v clang)")
REAL_DYNMOND=$DYNMOND

# --- the build host: keys and compiled configurations -----------------------------------------
mkdir -p "$TMPD/keys"
must openssl genpkey -algorithm ed25519 -out "$TMPD/trusted.pem"
must openssl pkey -in "$TMPD/trusted.pem" -pubout -out "$TMPD/keys/trusted.pem"
must openssl genpkey -algorithm ed25519 -out "$TMPD/stranger.pem"

compile() { dm compile --bpf-include-dir "$INCLUDE" "$@"; }
assert_rc "compile the packet counter, signed" 0 \
	compile "$EXAMPLES/packet_counter.json" --sign "$TMPD/trusted.pem" -o "$TMPD/pc.json"
assert_rc "compile the packet counter, unsigned" 0 \
	compile "$EXAMPLES/packet_counter.json" -o "$TMPD/pc-unsigned.json"
assert_rc "compile the packet counter, signed by a key dynmond does not trust" 0 \
	compile "$EXAMPLES/packet_counter.json" --sign "$TMPD/stranger.pem" -o "$TMPD/pc-stranger.json"
assert_rc "compile both Polycube-dialect paths (a shared map), signed" 0 \
	compile "$SHARED" --sign "$TMPD/trusted.pem" -o "$TMPD/shared.json"
"$PY" - "$TMPD/swap-src.json" <<'PYEOF'
import json, sys
code = r"""
BPF_ARRAY(PKT_COUNTER, uint64_t, 1);
BPF_PERCPU_ARRAY(PCPU_COUNTER, uint64_t, 1);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    uint64_t *c = PKT_COUNTER.lookup(&key);
    if (c)
        __sync_fetch_and_add(c, 1);
    uint64_t *p = PCPU_COUNTER.lookup(&key);
    if (p)
        *p += 1;
    return RX_OK;
}
"""
swap = {"swap-on-read": True}
doc = {"ingress-path": {"name": "swap", "code": code, "metric-configs": [
    {"name": "packets_total", "map-name": "PKT_COUNTER", "extraction-options": swap},
    {"name": "pcpu_packets_total", "map-name": "PCPU_COUNTER", "extraction-options": swap}]},
    "egress-path": {}}
json.dump(doc, open(sys.argv[1], "w"))
PYEOF
assert_rc "compile a swap-on-read configuration, signed" 0 \
	compile "$TMPD/swap-src.json" --sign "$TMPD/trusted.pem" -o "$TMPD/swap.json"
assert_rc "compile a v1.0 document, signed" 0 compile "$V10" --sign "$TMPD/trusted.pem"
printf '%s\n' "$RUN_OUT" >"$TMPD/v10.json"
assert_eq "the v1.0 document stays v1.0, its object beside its code" \
	"code metrics name object" \
	"$("$PY" -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))' <"$TMPD/v10.json")"
assert_eq "each object names its compiler, its headers and its key" \
	"$(clang --version | head -n 1) sha256: True" \
	"$("$PY" -c 'import json,sys; o=json.load(sys.stdin)["ingress-path"]["object"]
print(o["compiler"], o["headers"][:7], len(o["signature"]["key-id"]) == 16)' <"$TMPD/pc.json")"

# Damaged copies, made with Python's json so that only the named part changes.
edit() { # edit IN OUT PYTHON: d is the document, o the ingress object
	"$PY" -c '
import base64, hashlib, json, sys
d = json.load(open(sys.argv[1])); o = d["ingress-path"]["object"]
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))' "$1" "$2" "$3"
}
FLIP='elf = bytearray(base64.b64decode(o["elf-base64"])); elf[len(elf) // 2] ^= 1
o["elf-base64"] = base64.b64encode(bytes(elf)).decode()'
edit "$TMPD/pc.json" "$TMPD/damaged.json" "$FLIP"
edit "$TMPD/pc.json" "$TMPD/rehashed.json" "$FLIP
o[\"sha256\"] = hashlib.sha256(bytes(elf)).hexdigest()"
edit "$TMPD/pc.json" "$TMPD/other-metrics.json" \
	'd["ingress-path"]["metric-configs"][0]["name"] = "renamed_packets"'
edit "$TMPD/pc.json" "$TMPD/other-code.json" 'd["ingress-path"]["code"] += "/* changed */\n"'

# --- dynmond where clang cannot be found, with trusted keys -------------------------------------
cat >"$TMPD/dynmond-noclang" <<EOF
#!/bin/bash
exec unshare --mount --propagation private /bin/bash -c '
mount -t tmpfs -o size=64k,mode=0755 noclang "\$0" || exit 98
if command -v clang >/dev/null || [[ -e /usr/bin/clang || -e $CLANG_REAL ]]; then
	echo "clang can still be found" >&2
	exit 99
fi
exec "\$@"' "$(dirname "$CLANG_REAL")" "$REAL_DYNMOND" "\$@"
EOF
chmod +x "$TMPD/dynmond-noclang"
DYNMOND=$TMPD/dynmond-noclang
E2E_DAEMON_ARGS=(--trusted-keys "$TMPD/keys")
e2e_daemon
assert_match "dynmond requires signatures by the one trusted key" "signed by one of 1 trusted" \
	"$(cat "$TMPD/dynmond.log")"

start_sink a "$NS_A" "$IP_A" 5000
start_sink b "$NS_B" "$IP_B" 5001
assert_rc "add mon0" 0 dm add mon0
MON0=$(monitor_path mon0)
inject_error() { # inject_error FILE: DBUS_ERROR_NAME of injecting FILE into mon0
	dbus_error "$MON0" org.polycube.Dynmon.Monitor.Inject "$(gv_string <"$1")"
	echo "$DBUS_ERROR_NAME"
}
E=org.polycube.Dynmon.Error
assert_eq "plain source is refused (keys configured, no --allow-source)" "$E.ObjectUnsigned" \
	"$(inject_error "$EXAMPLES/packet_counter.json")"
assert_eq "an unsigned object is refused" "$E.ObjectUnsigned" \
	"$(inject_error "$TMPD/pc-unsigned.json")"

assert_rc "inject the signed, compiled packet counter" 0 dm inject mon0 "$TMPD/pc.json"
assert_rc "attach mon0 to $VETH_A" 0 dm attach mon0 "$VETH_A"
send_udp "$NS_B" "$IP_A" 5000 100
assert_eq "100 packets B->A counted exactly, with no compiler on the host" "[100]" \
	"$(metric_value mon0 packets_total ingress)"

refused() { # refused DESC ERROR FILE: refused by name; the running dataplane counts 10 more
	local before
	before=$(counter mon0 packets_total)
	assert_eq "$1 is refused" "$E.$2" "$(inject_error "$3")"
	send_udp "$NS_B" "$IP_A" 5000 10
	assert_eq "after refusing $1, the running dataplane still counts exactly" \
		"$((before + 10))" "$(counter mon0 packets_total)"
}
refused "a damaged object" ObjectMismatch "$TMPD/damaged.json"
refused "a damaged object with its sha256 made to match" SignatureRejected "$TMPD/rehashed.json"
refused "a signed object paired with other metrics" SignatureRejected "$TMPD/other-metrics.json"
refused "an object signed by an untrusted key" SignatureRejected "$TMPD/pc-stranger.json"
refused "an object beside code it was not compiled from" ObjectMismatch "$TMPD/other-code.json"
refused "plain source into a running monitor" ObjectUnsigned "$EXAMPLES/packet_counter.json"
assert_match "the message names what differs" "source-sha256" \
	"$(dbus_error "$MON0" org.polycube.Dynmon.Monitor.Inject "$(gv_string <"$TMPD/other-code.json")"
	echo "$DBUS_ERROR_MESSAGE")"
assert_rc "dynmonctl inject of a damaged object exits 3 (input rejected)" 3 \
	dm inject mon0 "$TMPD/damaged.json"
assert_rc "del mon0" 0 dm del mon0

# The Polycube dialect: the rewrite's facts (the shared and extern maps) come from the code,
# re-derived without clang; the object is clang's.
assert_rc "add shm" 0 dm add shm
assert_rc "inject both compiled Polycube paths" 0 dm inject shm "$TMPD/shared.json"
assert_rc "attach shm to $VETH_A" 0 dm attach shm "$VETH_A"
send_udp "$NS_B" "$IP_A" 5000 37
send_udp "$NS_A" "$IP_B" 5001 21
SHAPE="ingress-metrics: ingress_packets_total=[37] shared_packets_total=[58] | egress-metrics: egress_packets_total=[21] shared_packets_seen_from_egress_total=[58]"
assert_eq "37 in, 21 out: each path its own count, the shared map their sum" "$SHAPE" \
	"$(metrics_shape shm)"
assert_rc "add v10 and inject the compiled v1.0 document" 0 dm add v10 --config "$TMPD/v10.json"

# A restart brings the monitors back from their saved objects, still without clang.
e2e_daemon_restart term
assert_eq "after a restart without clang, both monitors are back" "shm v10" \
	"$(dm -q list | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//')"
send_udp "$NS_B" "$IP_A" 5000 5
assert_eq "shm counts on where it stopped: 5 more in" \
	"ingress-metrics: ingress_packets_total=[42] shared_packets_total=[63] | egress-metrics: egress_packets_total=[21] shared_packets_seen_from_egress_total=[63]" \
	"$(metrics_shape shm)"
assert_rc "del shm" 0 dm del shm
assert_rc "del v10" 0 dm del v10

# swap-on-read from a compiled object: copy B and the pivot are made from the same ELF.
assert_rc "add swp and inject a compiled swap-on-read configuration" 0 \
	dm add swp --config "$TMPD/swap.json"
assert_rc "attach swp to $VETH_A" 0 dm attach swp "$VETH_A"
send_udp "$NS_B" "$IP_A" 5000 30
assert_eq "swap-on-read: a read returns the 30 packets so far" "[30]" \
	"$(metric_value swp packets_total)"
assert_eq "swap-on-read: the next read, what came since: nothing" "[0]" \
	"$(metric_value swp packets_total)"
send_udp "$NS_B" "$IP_A" 5000 7
assert_eq "swap-on-read: then 7" "[7]" "$(metric_value swp packets_total)"
assert_rc "del swp" 0 dm del swp
stop_sink a
assert_eq "the receiver in A got every datagram" "$((100 + 60 + 37 + 5 + 37)) 0" \
	"$SINK_RECEIVED $SINK_DROPS"
stop_sink b
assert_eq "the receiver in B got every datagram" "21 0" "$SINK_RECEIVED $SINK_DROPS"

# --- the compile cache: with clang, without keys ------------------------------------------------
compiles() {
	bus --json=short get-property org.polycube.Dynmon /org/polycube/Dynmon \
		org.polycube.Dynmon.Manager SelfMetrics | "$PY" "$E2E_DIR/jsonpick.py" busctl |
		awk '/^dynmon_compile_duration_seconds_count/ {print $2}'
}
DYNMOND=$REAL_DYNMOND
E2E_DAEMON_ARGS=()
e2e_daemon_restart term
assert_rc "add c1 with the packet counter's source" 0 dm add c1 --config "$EXAMPLES/packet_counter.json"
first=$(compiles)
assert_eq "adding c1 ran clang once (its one path)" "1" "$first"
assert_rc "re-inject the very same configuration" 0 dm inject c1 "$EXAMPLES/packet_counter.json"
assert_eq "an unchanged re-inject runs no compiler" "$first" "$(compiles)"
assert_match "the cache keeps its objects in the state directory" "^[0-9a-f]{64}\.o$" \
	"$(ls "$STATE_DIR/objects" | head -n 1)"
e2e_daemon_restart term
assert_eq "c1 is back after a restart" "c1" "$(dm -q list | awk '{print $1}')"
assert_eq "the restart compiled nothing: the objects came from the state directory" "0" \
	"$(compiles)"
assert_rc "del c1" 0 dm del c1
e2e_stop_daemon "the end"
