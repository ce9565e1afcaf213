#!/usr/bin/env bash
# finding: on fixture 'a log whose name has a space'
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: count_errors.sh LOG" >&2; exit 2; }
# joins the arguments into one string and splits it again: "my app.log" becomes two names
files=$*
read -r -a names <<< "$files"
awk '/ERROR/ { n++ } END { print n + 0 }' "${names[@]}"
