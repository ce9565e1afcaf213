#!/usr/bin/env bash
# finding: the error output (stderr) should mention 'usage:'
set -euo pipefail

# no argument check: with set -u a missing $1 stops the script with "unbound variable"
log=$1
awk '/ERROR/ { n++ } END { print n + 0 }' "$log"
