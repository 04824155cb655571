#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The shell completions of dynmonctl parse (bash -n, zsh -n) and offer every command and every
# long option of `dynmonctl --help`, so that a new verb or option cannot be forgotten in either.
#   check-completion.sh DYNMONCTL SOURCE_DIR
set -euo pipefail
ctl=$1 src=$2 failed=0
bashc=$src/data/dynmonctl.bash-completion zshc=$src/data/_dynmonctl

check() {
	if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; failed=$((failed + 1)); fi
}
check "bash completion parses" bash -n "$bashc"
check "zsh completion parses" zsh -n "$zshc"

help=$("$ctl" --help)
commands=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' <<<"$help")
options=$(grep -oE -- '--[a-z][a-z-]*' <<<"$(grep -E '^\s+-' <<<"$help" | sed -E 's/^\s+//; s/\s{2,}.*//')" | sort -u)
[[ -n $commands && -n $options ]] || { echo "FAIL cannot read commands and options of --help"; exit 1; }
for w in $commands $options; do
	check "bash completion offers $w" grep -qE -- "(^|[ '])$w([ '=]|$)" "$bashc"
	check "zsh completion offers $w" grep -qE -- "(^|[ '{,)])$w([]:,=+}'[]|$)" "$zshc"
done
echo "check-completion: $failed failed"
((failed == 0))
