#!/usr/bin/env bash
# finding: the script does not turn on strict mode
set -eu

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
awk '/ERROR/ { n++ } END { print n + 0 }' "$1"
