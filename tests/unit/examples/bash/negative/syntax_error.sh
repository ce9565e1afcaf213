#!/usr/bin/env bash
# finding: shellcheck SC1046
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: count_errors.sh LOG" >&2
  exit 2
awk '/ERROR/ { n++ } END { print n + 0 }' "$1"
