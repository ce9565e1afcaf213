#!/usr/bin/env bash
# Start a Docker engine when none answers, and wait until it does (CI and fresh machines:
# a session's processes end before CI runs). Idempotent: exits at once when `docker info`
# already works. The daemon's log goes to ${DOCKERD_LOG:-/tmp/dockerd.log}.
set -euo pipefail

if docker info >/dev/null 2>&1; then
    echo "docker engine already running"
    exit 0
fi
command -v dockerd >/dev/null || { echo "error: dockerd is not installed" >&2; exit 1; }

log="${DOCKERD_LOG:-/tmp/dockerd.log}"
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 60); do
    if docker info >/dev/null 2>&1; then
        echo "docker engine started (log: $log)"
        exit 0
    fi
    sleep 0.5
done
echo "error: dockerd did not answer within 30 s; last lines of $log:" >&2
tail -20 "$log" >&2
exit 1
