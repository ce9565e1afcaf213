#!/usr/bin/env bash
# grep -c prints 0 and exits 1 when nothing matches: `|| true` keeps set -e quiet.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
log=$1
grep -c -- ERROR "$log" || true
