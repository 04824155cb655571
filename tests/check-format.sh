#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fails when clang-format (the root .clang-format) would change a C file of service/, cli/,
# bpf/, tests/unit/ or tests/oracle/, and names each such file. Run by tests/run.sh;
# `clang-format -i FILE` mends one.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-format >/dev/null || {
	echo "check-format: clang-format is missing (data/install-deps.sh installs it)" >&2
	exit 1
}
bad=0
while IFS= read -r f; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "check-format: clang-format would change $f"
		bad=$((bad + 1))
	fi
done < <(git ls-files 'service/*.[ch]' 'cli/*.[ch]' 'bpf/*.[ch]' 'tests/unit/*.[ch]' 'tests/oracle/*.[ch]')
if ((bad > 0)); then
	echo "check-format: $bad file(s) not formatted"
	exit 1
fi
echo "check-format: clean"
