%%writefile bash_work/publish_model.sh
#!/usr/bin/env bash
# Creates DEST_DIR before finding out that there is nothing to publish.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: publish_model.sh SOURCE_DIR DEST_DIR" >&2
  exit 2
fi
src=$1
dest=$2
if [[ ! -d $src ]]; then
  echo "error: $src is not a directory" >&2
  exit 1
fi
mkdir -p -- "$dest"
shopt -s nullglob
models=("$src"/*.onnx)
if [[ ${#models[@]} -eq 0 ]]; then
  echo "error: no .onnx models in $src" >&2
  exit 1
fi
cp -- "${models[@]}" "$dest/"
names=()
for model in "${models[@]}"; do
  names+=("$(basename -- "$model")")
done
(cd -- "$dest" && sha256sum -- "${names[@]}" > SHA256SUMS)
echo "published ${#models[@]} model(s) to $dest"
