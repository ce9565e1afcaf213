#!/usr/bin/env bash
# finding: wrong exit status
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
# grep -c exits 1 when nothing matches, so an empty log fails the script
grep -c -- ERROR "$1"
