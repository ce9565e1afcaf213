%%writefile bash_work/run_with_timeout.sh
#!/usr/bin/env bash
# Sets the cleanup trap before checking the lock, so a refused run deletes the other run's lock.
set -euo pipefail

if [[ $# -lt 2 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: run_with_timeout.sh SECONDS COMMAND [ARG...]" >&2
  exit 2
fi
limit=$1
shift
job=""
JOB_TMPDIR=""
cleanup() {
  if [[ -n $job ]]; then
    kill "$job" 2> /dev/null || true
    wait "$job" 2> /dev/null || true
  fi
  if [[ -n $JOB_TMPDIR ]]; then
    rm -rf -- "$JOB_TMPDIR"
  fi
  rm -f job.lock
}
trap cleanup EXIT
trap 'exit 143' TERM
if [[ -e job.lock ]]; then
  echo "error: job.lock exists: another run is in progress" >&2
  exit 1
fi
echo "$$" > job.lock
JOB_TMPDIR=$(mktemp -d)
export JOB_TMPDIR
timeout "$limit" "$@" &
job=$!
status=0
wait "$job" || status=$?
job=""
if [[ $status -eq 124 ]]; then
  echo "error: the job timed out" >&2
fi
exit "$status"
