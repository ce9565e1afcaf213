%%writefile bash_work/run_with_timeout.sh
#!/usr/bin/env bash
# Turns every failure into status 1, so callers cannot tell a crash from a time-out.
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
if ! timeout "$limit" "$@"; then
  echo "error: the job failed or timed out" >&2
  exit 1
fi
