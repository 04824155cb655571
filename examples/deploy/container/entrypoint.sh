#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# dynmon-entrypoint: dynmond in a container, where no systemd and no system bus run.
#   1. starts the container's own system bus (bus.conf) at /run/dbus/system_bus_socket, where
#      dynmond, dynmonctl and busctl look for it;
#   2. runs dynmond with the arguments given (the image's CMD, the DaemonSet's args) and stays
#      as PID 1: it passes SIGTERM/SIGINT on, reaps, and exits with dynmond's status;
#   3. every DYNMON_WATCH_CONFIG seconds (default 10; 0: never) looks at the monitors' files
#      (DYNMON_CONFIG_DIR, default /etc/dynmon/monitors.d) and reloads dynmond (SIGHUP) when
#      they changed, as `systemctl reload dynmond` does on a host. A ConfigMap's files change
#      under the pod when the ConfigMap does.
set -eu

config_dir=${DYNMON_CONFIG_DIR:-/etc/dynmon/monitors.d}
interval=${DYNMON_WATCH_CONFIG:-10}
bus_pid=
dynmond_pid=
watch_pid=

# shellcheck disable=SC2317 # run by the trap
stop() {
	[ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || true
	[ -z "$dynmond_pid" ] || kill -TERM "$dynmond_pid" 2>/dev/null || true
}
trap stop TERM INT

# The files' names and contents in one checksum (symbolic links followed: a ConfigMap's
# files are links into a directory the kubelet swaps).
config_sum() {
	find -L "$config_dir" -maxdepth 1 -name '*.json' -type f 2>/dev/null | sort |
		while read -r f; do printf '%s\n' "$f"; cat "$f"; done | cksum
}

mkdir -p /run/dbus
rm -f /run/dbus/system_bus_socket
dbus-daemon --config-file=/usr/local/share/dynmon/container/bus.conf --nofork --nopidfile &
bus_pid=$!
i=0
while [ ! -S /run/dbus/system_bus_socket ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$bus_pid" 2>/dev/null; then
		echo "dynmon-entrypoint: the container's bus did not start" >&2
		exit 1
	fi
	sleep 0.1
done

dynmond "$@" &
dynmond_pid=$!

if [ "$interval" != 0 ]; then
	(
		last=$(config_sum)
		while sleep "$interval"; do
			now=$(config_sum)
			if [ "$now" != "$last" ]; then
				echo "dynmon-entrypoint: $config_dir changed: reloading dynmond" >&2
				kill -HUP "$dynmond_pid" || exit 0
				last=$now
			fi
		done
	) &
	watch_pid=$!
fi

# wait returns early when a trapped signal arrives: wait again until dynmond is gone.
status=0
while kill -0 "$dynmond_pid" 2>/dev/null; do
	wait "$dynmond_pid" && status=0 || status=$?
done
[ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || true
kill -TERM "$bus_pid" 2>/dev/null || true
wait "$bus_pid" 2>/dev/null || true
exit "$status"
