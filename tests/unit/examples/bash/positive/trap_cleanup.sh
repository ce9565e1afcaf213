#!/usr/bin/env bash
# A scratch file removed by a function that only `trap` calls (shellcheck cannot see the call).
set -euo pipefail

usage() {
  echo "usage: count_errors.sh LOG" >&2
  exit 2
}

cleanup() {
  rm -f -- "$scratch"
}

[[ $# -eq 1 ]] || usage
scratch=$(mktemp)
trap cleanup EXIT
grep -- ERROR "$1" > "$scratch" || true
wc -l < "$scratch" | tr -d ' '
