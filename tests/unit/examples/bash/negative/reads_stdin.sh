#!/usr/bin/env bash
# finding: the output differs from the expected one at line 1: expected '3', found '0'
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
# forgets "$1": grep reads stdin, which must be empty (not a terminal that waits forever)
grep -c ERROR || true
