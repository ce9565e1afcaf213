#!/usr/bin/env bash
# count_errors.sh LOG: the number of lines of LOG that contain ERROR.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: count_errors.sh LOG" >&2
  exit 2
fi
awk '/ERROR/ { n++ } END { print n + 0 }' "$1"
