#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The container image recipe (examples/deploy/container) and the Kubernetes manifests
# (examples/deploy/kubernetes), run for real without a container runtime or a cluster:
#   - tests/check-deploy.py checks the manifests and the Containerfile (schema, the DaemonSet's
#     mounts, capabilities, ports and arguments against `dynmond --help`);
#   - the image's install step (install.sh, what the Containerfile's RUN does) runs in a Debian 12
#     root made by debootstrap (lib.sh's debian12_root), with dynmon's package built from this
#     tree (lib.sh's dynmon_deb, shared with e2e-deb);
#   - the image's entrypoint then runs there as a pod would: its own PID namespace, the network
#     namespace of the "node" (namespace A), the BPF file system mounted at /sys/fs/bpf, and the
#     ConfigMap's files at /etc/dynmon/monitors.d. It starts the container's bus and dynmond;
#     dynmonctl answers inside; the ConfigMap's template counts exactly on the node's veth, seen
#     in /metrics from the REST port; a file added to the directory is applied by the entrypoint's
#     watcher (a reload); SIGTERM stops it all with status 0.
# About 30 s once the package and the root exist (each about 1.5 min the first time).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

for tool in unshare chroot curl flock; do
	command -v "$tool" >/dev/null || die "missing tool: $tool (run data/install-deps.sh)"
done
e2e_require
e2e_tmpdir
# The pod interfaces the ConfigMap's template takes are veth*: so is the node's end here.
VETH_A=veth${E2E_ID}a
VETH_B=veth${E2E_ID}b
e2e_network

# ---- the manifests --------------------------------------------------------------------------------
MONITORS=$TMPD/monitors.d # the ConfigMap's volume
check "check-deploy.py: the manifests and the Containerfile" \
	"$PY" "$DYNMON_SOURCE_DIR/tests/check-deploy.py" "$DYNMOND" "$DYNMON_SOURCE_DIR" \
	--extract-monitors "$MONITORS"
((RUN_RC == 0)) || say "$RUN_OUT"
[[ -e $MONITORS/pod-packets.json ]] || die "the ConfigMap has no pod-packets.json"

# ---- the image's install step in a Debian 12 root -------------------------------------------------
dynmon_deb
debian12_root
ROOT=$TMPD/root
mkdir -p "$TMPD/ctr/upper/tmp/dynmon" "$TMPD/ctr/work" "$TMPD/run" "$ROOT"
cp "$DEB" "$DYNMON_SOURCE_DIR"/examples/deploy/container/{install.sh,entrypoint.sh,bus.conf} \
	"$TMPD/ctr/upper/tmp/dynmon/"

# in_container CMD: runs the shell command CMD in the image (an overlay of the root), as its
# container would: in namespace A (the node's network), a PID namespace whose PID 1 it is, a
# mount namespace of its own with /proc, /sys (namespace A's), /dev, this run's BPF file system
# at /sys/fs/bpf, /run shared by every call (the container's bus socket is there) and the
# monitors' directory, mounted read-only as a ConfigMap is. Nothing stays mounted after it.
in_container() {
	ip netns exec "$NS_A" unshare --mount --pid --fork --kill-child --propagation private sh -c '
		set -e
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/ctr/upper,workdir=$2/ctr/work" "$3"
		mount -t proc proc "$3/proc"
		mount -t sysfs sysfs "$3/sys"
		mount --bind "$4" "$3/sys/fs/bpf"
		mount --rbind /dev "$3/dev"
		mount --bind "$2/run" "$3/run"
		mkdir -p "$3/etc/dynmon/monitors.d"
		mount --bind -o ro "$5" "$3/etc/dynmon/monitors.d"
		exec chroot "$3" /usr/bin/env -i PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c "$6"' \
		sh "$DEBIAN12_ROOT" "$TMPD" "$ROOT" "$BPFFS" "$MONITORS" "$1"
}

check "the image's install step: install.sh installs the package into the root (offline)" \
	in_container "sh /tmp/dynmon/install.sh /tmp/dynmon --offline"
check "the entrypoint is installed" in_container "test -x /usr/local/sbin/dynmon-entrypoint"
check "the image keeps no apt lists and no package file" \
	in_container 'test -z "$(ls /var/lib/apt/lists | grep -v -x -e lock -e partial)" && test ! -e /tmp/dynmon'

# ---- the entrypoint, as the pod runs it -----------------------------------------------------------
REST=127.0.0.1:9000
# The DaemonSet's arguments, the address aside (the node's address is the test's loopback).
in_container "DYNMON_WATCH_CONFIG=1 exec dynmon-entrypoint --rest-address=$REST \
	--config-dir=/etc/dynmon/monitors.d --state-dir=/var/lib/dynmon --pin-dir=/sys/fs/bpf/dynmon \
	--log-level=debug" >>"$TMPD/dynmond.log" 2>&1 &
CTR_PID=$!
BG_PIDS+=("$CTR_PID")

# ctl ARGS...: dynmonctl inside the container (kubectl exec), over the container's bus.
ctl() { in_container "dynmonctl $*"; }
# instance_of IFACE: the name of the monitor that runs on IFACE, from `dynmonctl list --json`.
instance_of() {
	in_container "dynmonctl list --json" | "$PY" -c '
import json, sys
for m in json.load(sys.stdin):
    if m.get("interface") == sys.argv[1] and m.get("state") in ("attached", "running"):
        print(m["name"]); break' "$1"
}

for ((i = 0; i < 200; i++)); do
	INSTANCE=$(instance_of "$VETH_A" 2>/dev/null || true)
	[[ -n $INSTANCE ]] && break
	kill -0 "$CTR_PID" 2>/dev/null || break
	sleep 0.1
done
check "the container runs: dynmonctl answers over the container's bus" ctl list
# The DaemonSet's probes: readiness is GET /polycube/v1/version, liveness `dynmonctl list`.
assert_eq "the readiness probe's GET /polycube/v1/version answers 200" 200 \
	"$(ip netns exec "$NS_A" curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		"http://$REST/polycube/v1/version")"
if [[ -z $INSTANCE ]]; then
	fail "the ConfigMap's template runs on $VETH_A" "$RUN_OUT"
	exit 1
fi
pass "the ConfigMap's template runs on the node's $VETH_A: $INSTANCE"

N=25
start_sink s "$NS_A" "$IP_A" 4000
send_udp "$NS_B" "$IP_A" 4000 "$N"
stop_sink s
assert_eq "the sink got the $N datagrams" "$N" "$SINK_RECEIVED"
run ip netns exec "$NS_A" curl -sS --max-time 10 "http://$REST/metrics"
assert_match "/metrics on the REST port: $INSTANCE counted exactly $N packets on $VETH_A" \
	"^packets_total\{[^}]*interface=\"$VETH_A\"[^}]*\} $N\$" "$RUN_OUT"

# A file added to the ConfigMap's directory: the entrypoint sees it and reloads dynmond.
"$PY" - "$MONITORS/pod-packets.json" "$MONITORS/node-extra.json" "$VETH_A" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["interface"] = sys.argv[3]
json.dump(m, open(sys.argv[2], "w"))
EOF
for ((i = 0; i < 100; i++)); do
	in_container "dynmonctl show node-extra" >/dev/null 2>&1 && break
	sleep 0.1
done
check "a file added to monitors.d is applied: the entrypoint reloaded dynmond" ctl show node-extra
check "the entrypoint said it reloaded" grep -q "changed: reloading dynmond" "$TMPD/dynmond.log"

# ---- the pod stops ----------------------------------------------------------------------------------
# SIGTERM to the entrypoint, PID 1 of the container: the child of unshare, itself the child of
# the subshell that runs in_container in the background.
child_of() { awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null; }
UNSHARE_PID=$(child_of "$CTR_PID")
ENTRY_PID=${UNSHARE_PID:+$(child_of "$UNSHARE_PID")}
if [[ -z $ENTRY_PID ]]; then
	fail "the entrypoint still runs"
else
	kill -TERM "$ENTRY_PID"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$CTR_PID" 2>/dev/null || break
		sleep 0.1
	done
	status=0
	if kill -0 "$CTR_PID" 2>/dev/null; then
		status="still running 10 s after SIGTERM"
	else
		wait "$CTR_PID" || status=$?
		BG_PIDS=()
	fi
	assert_eq "SIGTERM: the entrypoint stops dynmond and its bus and exits with status 0" 0 "$status"
fi
