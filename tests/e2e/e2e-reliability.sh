#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The load and fault bench's short form (issue 10; docs/RELIABILITY.md): 20 s of concurrent
# D-Bus and REST clients doing every operation under traffic, swap-on-read's reads exact, three
# kill -9 (during an inject, a swap-on-read read, a burst of saved changes) each followed by a
# restart, 10 s of slowloris with stalled readers, then every monitor deleted; after each phase the
# audit (API, tc, the programs and maps dynmond holds, pins, the state file, fds) must agree and
# nothing may be left. bench/run.sh makes and removes its own namespaces, bus and BPF file system.
# About 70 s idle, twice that on a loaded 2-core machine.
set -uo pipefail

: "${DYNMON_BUILD_DIR:?DYNMON_BUILD_DIR must name the meson build directory}"
: "${DYNMON_SOURCE_DIR:?DYNMON_SOURCE_DIR must name the source tree}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
BUILD_DIR=$DYNMON_BUILD_DIR "$DYNMON_SOURCE_DIR/bench/run.sh" reliability --seconds 20 --kills 3 \
	--slowloris 10 >"$out" 2>&1
rc=$?
cat "$out"
if ((rc != 0)); then
	echo "FAIL the reliability bench's audit (exit status $rc)"
	exit 1
fi
if ! grep -q '^Audit: consistent, nothing lost, nothing leaked\.$' "$out"; then
	echo "FAIL the reliability bench gave no verdict"
	exit 1
fi
echo "ok   the reliability bench's short form: consistent, nothing lost, nothing leaked"
