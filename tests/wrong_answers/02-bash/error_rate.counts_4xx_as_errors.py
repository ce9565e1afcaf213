%%writefile bash_work/error_rate.sh
#!/usr/bin/env bash
# Counts every status >= 400 as an error, blaming the service for its clients' mistakes.
set -euo pipefail

awk '{
  hour = substr($4, 2, 14)
  if (!(hour in total)) order[++n] = hour
  total[hour]++
  if ($9 >= 400) errors[hour]++
}
END {
  for (i = 1; i <= n; i++) {
    h = order[i]
    printf "%s %d %d %.1f\n", h, total[h], errors[h], 100 * errors[h] / total[h]
  }
}' "$1"
