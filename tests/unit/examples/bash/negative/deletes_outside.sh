#!/usr/bin/env bash
# finding: the script changed files outside its own folder
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
# a "clean-up" one folder too high
rm -rf -- ../outside/models ../outside/sentinel.txt
awk '/ERROR/ { n++ } END { print n + 0 }' "$1"
