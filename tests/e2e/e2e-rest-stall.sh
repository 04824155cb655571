#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Stalled readers (issue 10, row F5): clients that GET a big map's metrics and never read the
# answer. At most rest.c's LARGE_READS large reads are answered at once (until their answer is
# sent or their connection goes); the others get 503 TooManyReads with Retry-After, nothing read
# for them: dynmond's memory stays bounded and another client is answered at once. When the
# stalled clients go, a large read is answered again. About 10 s.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9104
M=/polycube/v1/dynmon
# rest.c's LARGE_READS.
LARGE_READS=4
STALLED=24

command -v curl >/dev/null || die "missing tool: curl (run data/install-deps.sh)"
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT")
e2e_setup

# An array of 131072 entries of 32 bytes (4.5 MiB of keys and values: a large read); arrays are
# always full, so its JSON (about 5 MB) needs no traffic.
cat >"$TMPD/big.c" <<'EOF2'
struct wide {
    uint64_t a, b, c, d;
};

BPF_ARRAY(BIG, struct wide, 131072);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {
    unsigned int key = 0;
    struct wide *w = BIG.lookup(&key);
    if (w)
        __sync_fetch_and_add(&w->a, 1);
    return RX_OK;
}
EOF2
"$PY" "$E2E_DIR/mkconfig.py" --ingress "$TMPD/big.c" --metric ingress:big:BIG >"$TMPD/big.json" ||
	die "mkconfig"
must dm add big
must dm inject big "$TMPD/big.json"
must dm add small

in_ns() { ip netns exec "$NS_A" "$@"; }
size=$(in_ns curl -s --max-time 30 "http://127.0.0.1:$PORT$M/big/metrics" | wc -c)
say "one answer of the big map's metrics: $size bytes"
((size > 3000000)) || fail "the big map's metrics are only $size bytes"

run in_ns "$PY" "$E2E_DIR/stall.py" "$PORT" "$DAEMON_PID" "$M/big/metrics" "$STALLED" "$M/small"
[[ $RUN_RC == 0 ]] || die "stall.py failed: $RUN_OUT"
read -r grew status ms ok busy retry <<<"$RUN_OUT"
say "$STALLED stalled readers: RSS +$grew KiB; another client: $status in $ms ms;" \
	"stalled ones: $ok answered, $busy refused (Retry-After $retry)"
# Without the bound every stalled reader holds its answer: $STALLED x 5 MB, 120 MB and more.
check "RSS grew by less than 48 MiB while $STALLED readers stalled ($grew KiB)" \
	test "$grew" -lt $((48 * 1024))
assert_eq "another client is answered" 200 "$status"
check "another client is answered within 2 s ($ms ms)" test "$ms" -lt 2000
assert_eq "$LARGE_READS large reads answered, the others refused with Retry-After 1" \
	"$LARGE_READS $((STALLED - LARGE_READS)) 1" "$ok $busy $retry"
body=$(in_ns curl -s --max-time 30 "http://127.0.0.1:$PORT$M/big/metrics" -o /dev/null \
	-w '%{http_code}')
assert_eq "the stalled readers gone, a large read is answered again" 200 "$body"

# The refusal names its error, as every error of the REST door does.
run in_ns "$PY" - "$PORT" "$M/big/metrics" <<'EOF2'
import socket, sys, json
port, path = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(4):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    held.append(s)
import time
time.sleep(1)
o = socket.create_connection(("127.0.0.1", port), timeout=30)
o.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
data = b""
while True:
    c = o.recv(65536)
    if not c:
        break
    data += c
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b" ")[1].decode(), json.loads(body)["error"])
EOF2
assert_eq "the fifth large read: 503 org.polycube.Dynmon.Error.TooManyReads" \
	"0 503 org.polycube.Dynmon.Error.TooManyReads" "$RUN_RC $RUN_OUT"

