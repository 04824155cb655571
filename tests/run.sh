#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The one test command: `sudo tests/run.sh` (CI runs it through .ci/run).
#
#   1. installs what is missing (data/install-deps.sh), and checks the C sources' formatting
#      (tests/check-format.sh, one test);
#   2. builds into build/ and runs the unit suite;
#   3. builds into build-sanitize/ with ASan+UBSan (UBSan fatal) and runs the unit suite again;
#   4. runs the end-to-end suite (build/, real kernel, real bus, real packets; needs root);
#   5. builds the libFuzzer targets into build-fuzz/ (clang, ASan+UBSan) and fuzzes each for
#      DYNMON_FUZZ_SECONDS (default 8: about a minute in all) from its seeds (tests/fuzz/README.md).
#
# Every stage runs even when an earlier one failed, so one run shows everything. The last line is
# "N passed, N failed", counted from meson's test logs; a skipped test and a build that fails
# count as failures. The exit status is 0 only when nothing failed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) != 0 ]]; then
	echo "run.sh: the end-to-end tests need root: sudo tests/run.sh" >&2
	exit 1
fi

data/install-deps.sh

PASSED=0
FAILED=0

stage() { printf '\n==== %s\n' "$*"; }

# count_log FILE: adds the results of one meson test log (one JSON object per line) to the totals.
count_log() {
	local counts
	if [[ ! -s $1 ]]; then
		echo "run.sh: no test log $1: counted as one failure"
		FAILED=$((FAILED + 1))
		return
	fi
	counts=$(/usr/bin/python3 - "$1" <<'EOF'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    result = json.loads(line)["result"]
    if result in ("OK", "EXPECTEDFAIL"):
        ok += 1
    else:  # FAIL, SKIP, TIMEOUT, ERROR, UNEXPECTEDPASS, ...
        bad += 1
        print(f"  not passed: {json.loads(line)['name']} ({result})", file=sys.stderr)
print(ok, bad)
EOF
)
	PASSED=$((PASSED + ${counts% *}))
	FAILED=$((FAILED + ${counts#* }))
}

# setup_build DIR MESON-OPTIONS...: configures DIR once; later runs reuse it (ninja reconfigures).
setup_build() {
	local dir=$1
	shift
	[[ -f $dir/build.ninja ]] && return 0
	meson setup "$dir" "$@"
}

# test_stage NAME DIR MESON-TEST-ARGS...: builds DIR, runs some of its tests, counts the results.
test_stage() {
	local name=$1 dir=$2
	shift 2
	rm -f "$dir/meson-logs/$name.json"
	if ! ninja -C "$dir"; then
		echo "run.sh: the build in $dir failed: counted as one failure"
		FAILED=$((FAILED + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs --logbase "$name" "$@" || true
	count_log "$dir/meson-logs/$name.json"
}

stage "formatting (clang-format)"
if tests/check-format.sh; then
	PASSED=$((PASSED + 1))
else
	FAILED=$((FAILED + 1))
fi

stage "build/ and the unit suite"
if setup_build build; then
	test_stage unit build --suite unit
else
	echo "run.sh: meson setup build failed: counted as one failure"
	FAILED=$((FAILED + 1))
fi

stage "build-sanitize/ (ASan+UBSan) and the unit suite"
if setup_build build-sanitize -Db_sanitize=address,undefined -Db_lundef=false; then
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	test_stage unit-sanitize build-sanitize --suite unit --timeout-multiplier 3
	unset ASAN_OPTIONS UBSAN_OPTIONS
else
	echo "run.sh: meson setup build-sanitize failed: counted as one failure"
	FAILED=$((FAILED + 1))
fi

stage "the end-to-end suite"
if [[ -f build/build.ninja ]]; then
	test_stage e2e build --suite e2e
else
	FAILED=$((FAILED + 1))
fi

stage "build-fuzz/ (libFuzzer, ASan+UBSan) and the fuzz suite"
# Only the fuzz targets are built there (the alias 'fuzzers'), not the daemon again.
if CC=clang setup_build build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
	-Db_lundef=false; then
	rm -f build-fuzz/meson-logs/fuzz.json
	if ninja -C build-fuzz fuzzers; then
		meson test -C build-fuzz --no-rebuild --print-errorlogs --logbase fuzz --suite fuzz ||
			true
		count_log build-fuzz/meson-logs/fuzz.json
	else
		echo "run.sh: the build in build-fuzz failed: counted as one failure"
		FAILED=$((FAILED + 1))
	fi
else
	echo "run.sh: meson setup build-fuzz failed: counted as one failure"
	FAILED=$((FAILED + 1))
fi

echo
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
