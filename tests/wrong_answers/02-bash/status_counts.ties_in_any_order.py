%%writefile bash_work/status_counts.sh
#!/usr/bin/env bash
# Sorts by count only (sort -rn): codes with equal counts come out in reverse order.
set -euo pipefail

awk '{ print $9 }' "$1" | sort | uniq -c | sort -rn | awk '{ print $2, $1 }'
