#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run-fuzzer.sh TARGET SEED-DIR...: fuzzes TARGET for DYNMON_FUZZ_SECONDS (default 8) from the
# seed corpus, as the test of suite 'fuzz'. What the fuzzer finds on the way goes to a scratch corpus
# next to the binary (the seeds in the source tree stay as they are); a crash, a leak, a timeout
# of one input or a broken property ends the run with an error and leaves the input as
# <build>/tests/fuzz/artifacts/<target>-crash-*: keep it in the seed corpus with the fix.
set -euo pipefail
target=$1
shift
name=$(basename "$target")
dir=$(dirname "$target")
mkdir -p "$dir/scratch/$name" "$dir/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exec "$target" -max_total_time="${DYNMON_FUZZ_SECONDS:-8}" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" \
	"$dir/scratch/$name" "$@"
