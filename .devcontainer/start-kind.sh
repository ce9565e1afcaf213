#!/usr/bin/env bash
# postStartCommand: make sure the course's kind cluster exists, so the Kubernetes module
# finds a kubeconfig and runs its live checks (server-side dry-run) instead of skipping them.
# Never fails the container start: without a cluster the static checks still grade.
set -uo pipefail
cluster="${MLOPS_COURSE_KIND_CLUSTER:-mlops}"
for _ in $(seq 1 30); do  # the docker-in-docker feature starts dockerd in the background
    docker info >/dev/null 2>&1 && break
    sleep 2
done
if ! docker info >/dev/null 2>&1; then
    echo "start-kind: no Docker engine yet; run 'bash .devcontainer/start-kind.sh' later" >&2
    exit 0
fi
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
    echo "start-kind: cluster '$cluster' is running"
elif kind create cluster --name "$cluster" --wait 120s; then
    echo "start-kind: created cluster '$cluster'"
else
    echo "start-kind: could not create cluster '$cluster'; live Kubernetes checks will skip" >&2
fi
exit 0
