#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile code meets the compiler (issue 10, F3 F7 F8 F10 F11; Inject's size bound): compiling runs off the event
# loop, under limits, as an unprivileged user, and dies with the daemon; no diagnostic shows a
# file the caller could not read; an #include outside the include directories, a map BTF cannot
# describe and a pinning request are refused by name.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

PORT=9140
command -v curl >/dev/null || die "missing tool: curl (run data/install-deps.sh)"
E2E_DAEMON_ARGS=(--rest-address="127.0.0.1:$PORT" --compile-timeout 6)
e2e_setup
must dm add mon0
MON0=$(monitor_path mon0)

# probe NAME: wraps $TMPD/NAME.c into $TMPD/NAME.json (an ingress program, metric on COUNTER).
probe() {
	"$PY" "$E2E_DIR/mkconfig.py" --ingress "$TMPD/$1.c" \
		--metric ingress:packets_total:COUNTER >"$TMPD/$1.json"
}

# refused NAME ERROR WHAT: injecting NAME fails with ERROR, the message matching WHAT.
refused() {
	dbus_error "$MON0" org.polycube.Dynmon.Monitor.Inject "$(gv_string <"$TMPD/$1.json")"
	assert_eq "$1: $2" "org.polycube.Dynmon.Error.$2" "$DBUS_ERROR_NAME"
	assert_match "$1: the message says why" "$3" "$DBUS_ERROR_MESSAGE"
}

# --- F7: no file outside the include directories ------------------------------------------------
SECRET_LINE="dynmon-e2e-secret-$$-$RANDOM"
for target in /etc/shadow ../../../etc/shadow linux/../../../../etc/shadow; do
	name=include-$(tr -c 'a-z\n' _ <<<"$target")
	printf '#include <dynmon.h>\n#include "%s"\nchar LICENSE[] SEC("license") = "GPL";\n' \
		"$target" >"$TMPD/$name.c"
	probe "$name"
	refused "$name" IncludeRefused "#include \"$target\" names a file outside"
	assert_no_match "$name: no line of /etc/shadow in the message" '^root:|:[0-9]+:[0-9]*:' \
		"$DBUS_ERROR_MESSAGE"
done
# The second wall: a header the check lets through (relative, in a system include directory)
# but only root may read. clang, running as nobody, cannot open it.
SECRET_H=/usr/include/dynmon-e2e-secret-$$.h
trap 'rm -f "$SECRET_H"; e2e_cleanup' EXIT
printf 'int leaked = 1; %s\n' "$SECRET_LINE" >"$SECRET_H"
chmod 600 "$SECRET_H"
printf '#include <dynmon.h>\n#include <%s>\n' "${SECRET_H#/usr/include/}" >"$TMPD/secret.c"
probe secret
refused secret CompileFailed "Permission denied"
assert_no_match "secret: its content is not in the message" "$SECRET_LINE" "$DBUS_ERROR_MESSAGE"
rm -f "$SECRET_H"

# --- F11: a map BTF cannot describe; F8: a pinning request ----------------------------------------
cat >"$TMPD/huge.c" <<'EOF2'
#include <dynmon.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << 30);
} COUNTER SEC(".maps");
SEC("tc") int f(struct __sk_buff *skb) { return DYNMON_PASS; }
char LICENSE[] SEC("license") = "GPL";
EOF2
probe huge
refused huge MapTooLarge "max_entries 1073741824 is too large"
assert_no_match "huge: no verifier log or BTF dump" "verifier|\\[[0-9]+\\] (STRUCT|INT)" \
	"$DBUS_ERROR_MESSAGE"
sed -e 's/max_entries, 1 << 30/max_entries, 1/' \
	-e 's/} COUNTER/\t__uint(pinning, LIBBPF_PIN_BY_NAME);\n} COUNTER/' "$TMPD/huge.c" >"$TMPD/pin.c"
probe pin
refused pin PinRefused "COUNTER.*asks to be pinned"
assert_eq "pin: nothing pinned outside dynmon's directory" "" \
	"$(find "$BPFFS" -name COUNTER -not -path "$PIN_DIR/*")"

# --- A configuration over 1 MiB: the bound REST and dynmonctl have, on D-Bus too ------------------
# (gdbus and busctl cannot carry it: an argument is at most 128 KiB; python3-dbus can.)
too_large=$("$PY" - "$BUS_ADDR" "$MON0" <<'EOF2'
import sys, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
monitor = dbus.Interface(bus.get_object("org.polycube.Dynmon", sys.argv[2]),
                         "org.polycube.Dynmon.Monitor")
try:
    monitor.Inject(" " * (1024 * 1024) + "{}")
    print("<no error>")
except dbus.DBusException as e:
    print(e.get_dbus_name(), e.get_dbus_message())
EOF2
)
assert_match "1 MiB + 2: ConfigTooLarge" \
	"^org.polycube.Dynmon.Error.ConfigTooLarge the configuration is larger than 1048576 bytes" \
	"$too_large"

# --- F3: the daemon answers while clang works; one compilation per monitor ------------------------
# About 10^5 statements at -O2: seconds of clang, past the 6 s limit on a slow machine or not.
{
	echo '#include <dynmon.h>'
	echo '#define A(i) v = v * 31 + i;'
	for l in B:A C:B D:C E:D F:E; do
		n=${l%%:*} p=${l#*:}
		printf '#define %s(i)' "$n"
		for d in 0 1 2 3 4 5 6 7 8 9; do printf ' %s(i * 10 + %d)' "$p" "$d"; done
		echo
	done
	echo 'volatile int v;'
	echo 'SEC("tc") int f(struct __sk_buff *skb) { F(0) F(1) return DYNMON_PASS; }'
	echo 'char LICENSE[] SEC("license") = "GPL";'
} >"$TMPD/slow.c"
probe slow
dm inject mon0 "$TMPD/slow.json" >"$TMPD/slow.out" 2>&1 &
SLOW_PID=$!
BG_PIDS+=("$SLOW_PID")
for ((i = 0; i < 50; i++)); do
	CLANG_PID=$(pgrep -P "$DAEMON_PID" | head -n 1)
	[[ -n $CLANG_PID ]] && break
	sleep 0.1
done
check "slow: clang runs as a child of dynmond" test -n "$CLANG_PID"
assert_eq "slow: clang runs as nobody" nobody "$(ps -o user= -p "$CLANG_PID" | tr -d ' ')"
assert_match "slow: clang has a memory limit" "^Max address space +1073741824" \
	"$(grep 'Max address space' "/proc/$CLANG_PID/limits")"
# Code in, object and diagnostics out through memory files: no file on disk to leave behind.
assert_match "slow: clang writes no file, only memory files" \
	"^/memfd:dynmon-code .*/memfd:dynmon-object .*/memfd:dynmon-diagnostics " \
	"$(readlink "/proc/$CLANG_PID/fd/0" "/proc/$CLANG_PID/fd/1" "/proc/$CLANG_PID/fd/2" | xargs) "
T0=$(date +%s%N)
check "slow: ListMonitors answers meanwhile" timeout 2 busctl --address="$BUS_ADDR" call \
	org.polycube.Dynmon /org/polycube/Dynmon org.polycube.Dynmon.Manager ListMonitors
check "slow: REST answers meanwhile" ip netns exec "$NS_A" curl -sS --max-time 2 -o /dev/null \
	"http://127.0.0.1:$PORT/polycube/v1/dynmon/"
T1=$(date +%s%N)
check "slow: both answered within 2 s ($(((T1 - T0) / 1000000)) ms)" \
	test $(((T1 - T0) / 1000000)) -lt 2000
refused slow Busy "Monitor mon0 is busy"
wait "$SLOW_PID" || true
assert_match "slow: the compilation ends at the time limit" "Timeout|did not finish within 6 s" \
	"$(cat "$TMPD/slow.out")"
assert_eq "slow: no clang is left" "" "$(pgrep -P "$DAEMON_PID")"
must dm inject mon0 "$EXAMPLES/packet_counter.json"

# A macro bomb asks clang for gigabytes: it meets its memory limit, not the machine's.
{
	echo '#define A "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'
	for l in B:A C:B D:C E:D F:E G:F; do
		printf '#define %s %s\n' "${l%%:*}" "$(printf "${l#*:} %.0s" {1..16})"
	done
	echo 'const char *s = G G G G G G G G G G G G G G G G;'
} >"$TMPD/bomb.c"
probe bomb
T0=$(date +%s)
dbus_error "$MON0" org.polycube.Dynmon.Monitor.Inject "$(gv_string <"$TMPD/bomb.json")"
# Killed at the memory limit (CompileFailed), or on a slow machine at the time limit first.
assert_match "bomb: CompileFailed or Timeout" "Error\.(CompileFailed|Timeout)$" "$DBUS_ERROR_NAME"
check "bomb: over within the time limit ($(($(date +%s) - T0)) s)" \
	test $(($(date +%s) - T0)) -le 8
check "dynmond stayed small (VmHWM under 200 MB)" \
	awk '/^VmHWM/ { exit !($2 < 204800) }' "/proc/$DAEMON_PID/status"
assert_eq "bomb: no clang is left" "" "$(pgrep -P "$DAEMON_PID")"

# --- F10: kill -9 of the daemon during a compilation leaves no clang ------------------------------
dm inject mon0 "$TMPD/slow.json" >/dev/null 2>&1 &
BG_PIDS+=("$!")
CLANG_PID=
for ((i = 0; i < 50; i++)); do
	CLANG_PID=$(pgrep -P "$DAEMON_PID" | head -n 1)
	[[ -n $CLANG_PID ]] && break
	sleep 0.1
done
check "kill -9: clang runs" test -n "$CLANG_PID"
e2e_daemon_restart kill sleep 1
# Dead: gone, or a zombie that this machine's PID 1, its new parent, has not reaped yet (a
# zombie runs nothing and holds no memory; `kill -0` still finds it).
clang_dead() {
	local state
	state=$(awk '{print $3}' "/proc/$CLANG_PID/stat" 2>/dev/null) || return 0
	[[ -z $state || $state == Z ]]
}
for ((i = 0; i < 50; i++)); do
	clang_dead && break
	sleep 0.1
done
check "kill -9: clang died with dynmond" clang_dead
assert_eq "mon0 is back with its last dataplane" "packet_counter" \
	"$(dm -q list | awk '$1 == "mon0" {print "packet_counter"}')"
