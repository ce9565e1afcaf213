%%writefile bash_work/error_rate.sh
#!/usr/bin/env bash
# Sorts the hours as text, which is chronological within one month only (01/Apr < 31/Mar).
set -euo pipefail

awk '{
  hour = substr($4, 2, 14)
  total[hour]++
  if ($9 >= 500) errors[hour]++
}
END {
  for (h in total) printf "%s %d %d %.1f\n", h, total[h], errors[h], 100 * errors[h] / total[h]
}' "$1" | sort
