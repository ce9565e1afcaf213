%%writefile bash_work/train_config.sh
#!/usr/bin/env bash
# Uses ${VAR-default}, so a variable set to the empty string gets no default.
set -euo pipefail

: "${MODEL_NAME:?MODEL_NAME is not set}"
epochs=${EPOCHS-10}
if [[ ! $epochs =~ ^[1-9][0-9]*$ ]]; then
  echo "error: EPOCHS must be a whole number of at least 1, got '$epochs'" >&2
  exit 1
fi
{
  echo "MODEL_NAME=$MODEL_NAME"
  echo "EPOCHS=$epochs"
  echo "LEARNING_RATE=${LEARNING_RATE-0.001}"
  echo "DATA_DIR=${DATA_DIR-$HOME/data}"
} > resolved.env
cat resolved.env
echo "API_TOKEN=$([[ -n ${API_TOKEN:-} ]] && echo set || echo unset)"
