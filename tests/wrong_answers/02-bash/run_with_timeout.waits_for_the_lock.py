%%writefile bash_work/run_with_timeout.sh
#!/usr/bin/env bash
# Waits for an existing job.lock to go away instead of refusing to run: it can wait forever.
set -euo pipefail

if [[ $# -lt 2 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: run_with_timeout.sh SECONDS COMMAND [ARG...]" >&2
  exit 2
fi
limit=$1
shift
while [[ -e job.lock ]]; do
  sleep 1
done
echo "$$" > job.lock
job=""
JOB_TMPDIR=$(mktemp -d)
export JOB_TMPDIR
cleanup() {
  if [[ -n $job ]]; then
    kill "$job" 2> /dev/null || true
    wait "$job" 2> /dev/null || true
  fi
  rm -rf -- "$JOB_TMPDIR"
  rm -f job.lock
}
trap cleanup EXIT
trap 'exit 143' TERM
timeout "$limit" "$@" &
job=$!
status=0
wait "$job" || status=$?
job=""
if [[ $status -eq 124 ]]; then
  echo "error: the job timed out" >&2
fi
exit "$status"
