#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dynmond from a desktop session's tools: gdbus (Debian package libglib2.0-bin), as any user.
#
#   dynmon-gdbus.sh list            every monitor: name, interface, state
#   dynmon-gdbus.sh metrics NAME    a monitor's metrics (JSON; openmetrics for the text form)
#   dynmon-gdbus.sh openmetrics NAME
#   dynmon-gdbus.sh watch           one line per monitor created, deleted or changed, as the
#                                   signals arrive (InterfacesAdded, InterfacesRemoved,
#                                   PropertiesChanged), until interrupted
#
# gdbus --system honours DBUS_SYSTEM_BUS_ADDRESS.
set -euo pipefail

DEST=org.polycube.Dynmon
MANAGER=/org/polycube/Dynmon
MONITOR=org.polycube.Dynmon.Monitor

call() { gdbus call --system --dest "$DEST" "$@"; }
# unquote: gdbus prints a string as ('text',) or (<'text'>,), escaped (\n, \t, \', \\): the
# text alone, as it is (perl-base is in every Debian system).
unquote() {
	perl -0777 -pe "s/^\(<?'(.*)'>?,\)\n\z/\1/s;"' s/\\(.)/$1 eq "n" ? "\n" : $1 eq "t" ? "\t" : $1/ge'
}
prop() { call --object-path "$1" --method org.freedesktop.DBus.Properties.Get "$MONITOR" "$2" | unquote; }
monitor_path() { call --object-path "$MANAGER" --method "$DEST.Manager.GetMonitor" "$1" | sed -E "s/^\(objectpath '(.*)',\)$/\1/"; }

case ${1:-} in
list)
	# ListMonitors answers ([('mon0', objectpath '/org/...'), ...],)
	call --object-path "$MANAGER" --method "$DEST.Manager.ListMonitors" |
		grep -oE "objectpath '[^']*'" | sed -E "s/objectpath '(.*)'/\1/" |
		while read -r path; do
			printf '%s\t%s\t%s\n' "$(prop "$path" Name)" "$(prop "$path" Interface)" \
				"$(prop "$path" State)"
		done
	;;
metrics | openmetrics)
	[[ -n ${2:-} ]] || { echo "usage: $0 $1 NAME" >&2; exit 2; }
	prop "$(monitor_path "$2")" "$([[ $1 == metrics ]] && echo Metrics || echo OpenMetrics)"
	;;
watch)
	# gdbus monitor prints each signal on one line: "PATH: INTERFACE.MEMBER (ARGS)".
	gdbus monitor --system --dest "$DEST" | while read -r path signal args; do
		case $signal in
		org.freedesktop.DBus.ObjectManager.InterfacesAdded)
			echo "added ${args#*objectpath \'}" | sed -E "s/'.*//" ;;
		org.freedesktop.DBus.ObjectManager.InterfacesRemoved)
			echo "removed ${args#*objectpath \'}" | sed -E "s/'.*//" ;;
		org.freedesktop.DBus.Properties.PropertiesChanged)
			echo "changed ${path%:} $(grep -oE "'[A-Za-z]+': <'[^']*'>" <<<"$args" |
				sed -E "s/'([A-Za-z]+)': <'([^']*)'>/\1=\2/" | tr '\n' ' ')" ;;
		esac
	done
	;;
*)
	echo "usage: $0 list | metrics NAME | openmetrics NAME | watch" >&2
	exit 2
	;;
esac
