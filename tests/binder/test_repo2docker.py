"""Binder: repo2docker picks binder/, the pinned Python, the pinned requirements, postBuild."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dockerfile() -> str:
    exe = Path(sys.executable).parent / "jupyter-repo2docker"
    if not exe.exists():
        exe = Path(shutil.which("jupyter-repo2docker") or "jupyter-repo2docker")
    done = subprocess.run(
        [str(exe), "--no-build", "--debug", "--no-run", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def test_repo2docker_uses_binder_folder_and_python_311(dockerfile):
    assert "Building conda environment for python=3.11" in dockerfile
    assert "binder/requirements.txt" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile


def test_repo2docker_runs_post_build(dockerfile):
    assert "./binder/postBuild" in dockerfile
    assert (REPO / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
    assert "set -euo pipefail" in (REPO / "binder" / "postBuild").read_text()
