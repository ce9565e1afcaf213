%%writefile bash_work/status_counts.sh
#!/usr/bin/env bash
# Forgets to pass the file to awk, so the script reads stdin (empty here) and prints nothing.
set -euo pipefail

awk '{ print $9 }' | sort | uniq -c | sort -k1,1nr -k2,2n | awk '{ print $2, $1 }'
