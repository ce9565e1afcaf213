#!/usr/bin/env bash
# finding: shellcheck SC2086
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
awk '/ERROR/ { n++ } END { print n + 0 }' $1
