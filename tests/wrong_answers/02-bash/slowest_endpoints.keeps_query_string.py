%%writefile bash_work/slowest_endpoints.sh
#!/usr/bin/env bash
# Groups by the full path, so /explain?top_k=5 and /explain count as two endpoints.
set -euo pipefail

awk '{ total[$7] += $NF * 1000; count[$7]++ }
END { for (p in total) printf "%s %.1f\n", p, total[p] / count[p] }' "$1" \
  | sort -k2,2nr | head -n "${2:-3}"
