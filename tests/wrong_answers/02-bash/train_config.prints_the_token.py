%%writefile bash_work/train_config.sh
#!/usr/bin/env bash
# Prints the API token itself, so the secret ends up in every log of the job.
set -euo pipefail

: "${MODEL_NAME:?MODEL_NAME is not set}"
epochs=${EPOCHS:-10}
if [[ ! $epochs =~ ^[1-9][0-9]*$ ]]; then
  echo "error: EPOCHS must be a whole number of at least 1" >&2
  exit 1
fi
{
  echo "MODEL_NAME=$MODEL_NAME"
  echo "EPOCHS=$epochs"
  echo "LEARNING_RATE=${LEARNING_RATE:-0.001}"
  echo "DATA_DIR=${DATA_DIR:-$HOME/data}"
} > resolved.env
cat resolved.env
if [[ -n ${API_TOKEN:-} ]]; then
  echo "API_TOKEN=set ($API_TOKEN)"
else
  echo "API_TOKEN=unset"
fi
