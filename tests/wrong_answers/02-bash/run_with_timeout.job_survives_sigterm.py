%%writefile bash_work/run_with_timeout.sh
#!/usr/bin/env bash
# Runs the job in the foreground and never stops it: after SIGTERM the job keeps running.
set -euo pipefail

if [[ $# -lt 2 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: run_with_timeout.sh SECONDS COMMAND [ARG...]" >&2
  exit 2
fi
limit=$1
shift
if ! (set -o noclobber && echo "$$" > job.lock) 2> /dev/null; then
  echo "error: job.lock exists" >&2
  exit 1
fi
JOB_TMPDIR=$(mktemp -d)
export JOB_TMPDIR
trap 'rm -rf -- "$JOB_TMPDIR"; rm -f job.lock' EXIT
status=0
timeout "$limit" "$@" || status=$?
if [[ $status -eq 124 ]]; then
  echo "error: the job timed out" >&2
fi
exit "$status"
