#!/usr/bin/env bash
# finding: processes the script started were still running after it exited
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
sleep 30 &
awk '/ERROR/ { n++ } END { print n + 0 }' "$1"
