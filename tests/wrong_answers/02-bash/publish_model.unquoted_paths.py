%%writefile bash_work/publish_model.sh
#!/usr/bin/env bash
# Leaves paths unquoted and loops over ls output: breaks on spaces, and shellcheck says so.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: publish_model.sh SOURCE_DIR DEST_DIR" >&2
  exit 2
fi
if [ ! -d $1 ]; then
  echo "error: $1 is not a directory" >&2
  exit 1
fi
count=$(ls $1/*.onnx 2> /dev/null | wc -l)
if [ $count -eq 0 ]; then
  echo "error: no .onnx models in $1" >&2
  exit 1
fi
mkdir -p $2
for model in $(ls $1/*.onnx); do
  cp $model $2
done
cd $2 && sha256sum *.onnx > SHA256SUMS
echo "published $count model(s) to $2"
