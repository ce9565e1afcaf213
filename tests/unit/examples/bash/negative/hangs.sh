#!/usr/bin/env bash
# finding: the script did not finish within the time limit
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
while true; do sleep 1; done
