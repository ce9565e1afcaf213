%%writefile bash_work/slowest_endpoints.sh
#!/usr/bin/env bash
# Reads the request time as field 13, which is only right when the user agent has no spaces.
set -euo pipefail

awk '{ path = $7; sub(/\?.*/, "", path); total[path] += $13 * 1000; count[path]++ }
END { for (p in total) printf "%s %.1f\n", p, total[p] / count[p] }' "$1" \
  | sort -k2,2nr | head -n "${2:-3}"
