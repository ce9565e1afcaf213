#!/usr/bin/env bash
# Build a local stand-in for python:3.11-slim, for machines where no image registry is
# reachable (CI here, see docs/modules/03-docker.md). Debian's own packages only:
# debootstrap makes a minimal bookworm root file system with python3, pip and venv, and
# `docker import` turns it into an image. Dockerfiles written as
#   ARG BASE_IMAGE=python:3.11-slim
#   FROM ${BASE_IMAGE}
# are then built with --build-arg BASE_IMAGE=<this image>.
#
# usage: scripts/build-base-image.sh [IMAGE]     (default: $MLOPS_BASE_IMAGE or mlops-python:3.11)
#   DEBIAN_MIRROR  the mirror debootstrap reads (default: http://deb.debian.org/debian)
#   REBUILD=1      build again even when the image exists
#
# The host's CA certificates are copied in, because TLS to the package index is re-signed
# on some networks (this one): without them pip inside a container fails with
# CERTIFICATE_VERIFY_FAILED.
set -euo pipefail

IMAGE="${1:-${MLOPS_BASE_IMAGE:-mlops-python:3.11}}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
PACKAGES=python3,python3-pip,python3-venv,ca-certificates

if [[ "${REBUILD:-0}" != 1 ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE exists (REBUILD=1 to build it again)"
    exit 0
fi
for tool in debootstrap docker; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done

rootfs="$(mktemp -d /tmp/mlops-base-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
start=$SECONDS

echo "== debootstrap $SUITE ($PACKAGES) from $MIRROR"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR"

echo "== trust the host's CA certificates"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates
fi
# The bundle itself as well, so certificates the host trusts in other ways count too.
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"

echo "== behave like python:3.11-slim: python and pip on PATH, pip may install"
ln -sf python3 "$rootfs/usr/bin/python"
ln -sf pip3 "$rootfs/usr/bin/pip"
# Debian marks its Python "externally managed" (PEP 668); the official image does not.
rm -f "$rootfs"/usr/lib/python3.*/EXTERNALLY-MANAGED
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

echo "== docker import $IMAGE"
tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' \
    --change "LABEL org.opencontainers.image.description=\"local stand-in for python:3.11-slim (Debian $SUITE)\"" \
    - "$IMAGE"

docker run --rm "$IMAGE" python -c "import ssl, sys; print('python', sys.version.split()[0])"
docker image ls "$IMAGE"
echo "base image $IMAGE built in $((SECONDS - start)) s"
