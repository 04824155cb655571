#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The main job, end to end, on a fresh Debian 12 machine (as root):
#   installs what is missing, builds and installs dynmon, starts dynmond on the system bus
#   (starting a system bus where none runs), creates a monitor on a veth pair between two
#   network namespaces this script creates, injects the packet counter example, sends traffic
#   and prints the metrics as JSON and as OpenMetrics.
# Everything it creates for the demo (namespaces, veths, the daemon) is removed on exit; the
# installed files and the system bus stay.
set -euo pipefail

cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it loads eBPF code and creates namespaces)" >&2; exit 1; }

data/install-deps.sh
[ -d build ] || meson setup build --prefix=/usr/local >/dev/null
ninja -C build >/dev/null
meson install -C build --quiet >/dev/null

# A system bus, where none runs (containers, machines without systemd).
if ! busctl --system status >/dev/null 2>&1; then
	echo "==> No system bus here: starting one."
	mkdir -p /run/dbus
	# A pid file left by a bus that is gone (an earlier demo's, say) stops dbus-daemon.
	if [ -e /run/dbus/pid ] && ! kill -0 "$(cat /run/dbus/pid)" 2>/dev/null; then
		rm -f /run/dbus/pid
	fi
	dbus-daemon --system --fork
fi
# dbus-daemon reads new policy files by itself; ask it anyway, for older daemons.
busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null 2>&1 || true

ns_a=dmdemo-a-$$
ns_b=dmdemo-b-$$
# The demo's daemon keeps its state and pinned maps apart from a real installation's: a state
# directory and a BPF file system of its own (`ip netns exec` remounts /sys, so /sys/fs/bpf is
# not one inside the namespace).
demo_dir=$(mktemp -d /run/dynmon-demo.XXXXXX)
daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	# dynmond leaves its probes attached when it stops (so that a restart loses nothing): the
	# namespaces go, and the probes with them.
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_b" 2>/dev/null || true
	umount "$demo_dir/bpffs" 2>/dev/null || true
	rm -rf "$demo_dir"
}
trap cleanup EXIT
mkdir "$demo_dir/bpffs" "$demo_dir/state"
mount -t bpf bpf "$demo_dir/bpffs"

echo "==> Creating namespaces $ns_a and $ns_b joined by veth pair dmdemo0 <-> dmdemo1"
ip netns add "$ns_a"
ip netns add "$ns_b"
ip -n "$ns_a" link add dmdemo0 type veth peer name dmdemo1 netns "$ns_b"
ip -n "$ns_a" addr add 192.0.2.1/24 dev dmdemo0
ip -n "$ns_b" addr add 192.0.2.2/24 dev dmdemo1
ip -n "$ns_a" link set dmdemo0 up
ip -n "$ns_b" link set dmdemo1 up

# dynmond attaches to interfaces of its own network namespace: run it in the demo's.
echo "==> Starting dynmond"
ip netns exec "$ns_a" /usr/local/sbin/dynmond --state-dir "$demo_dir/state" \
	--pin-dir "$demo_dir/bpffs/dynmon" --rest-address=none &
daemon_pid=$!
# Wait for our daemon to own the name (a call before that could start another one by bus
# activation, outside the demo's namespace).
for _ in $(seq 100); do
	kill -0 "$daemon_pid" 2>/dev/null || { echo "demo.sh: dynmond did not start" >&2; exit 1; }
	busctl --system status org.polycube.Dynmon 2>/dev/null | grep -q "^PID=$daemon_pid$" && break
	sleep 0.1
done

set -x
dynmonctl add mon0
dynmonctl inject mon0 examples/packet_counter.json
dynmonctl attach mon0 dmdemo0
ip netns exec "$ns_b" ping -c 5 -i 0.2 -q 192.0.2.1
dynmonctl show mon0
dynmonctl metrics mon0
dynmonctl open-metrics mon0
busctl --system get-property org.polycube.Dynmon "$(busctl --system call org.polycube.Dynmon \
	/org/polycube/Dynmon org.polycube.Dynmon.Manager GetMonitor s mon0 | cut -d'"' -f2)" \
	org.polycube.Dynmon.Monitor Metrics
dynmonctl del mon0
