%%writefile bash_work/stale_models.sh
#!/usr/bin/env bash
# Leaves $1 unquoted: a folder name with a space is split into two paths.
find $1 -type f \( -name '*.pkl' -o -name '*.onnx' -o -name '*.pt' \) -mtime +$2 \
  -printf '%s\t%p\n' | sort -rn
