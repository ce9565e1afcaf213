#!/usr/bin/env bash
# finding: larger than 8 MB, so it was stopped
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
yes "$1"
