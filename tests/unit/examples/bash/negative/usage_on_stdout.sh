#!/usr/bin/env bash
# finding: the error output (stderr) should mention 'usage:'
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG"; exit 2; }
awk '/ERROR/ { n++ } END { print n + 0 }' "$1"
