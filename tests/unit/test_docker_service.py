"""The solution's image of module 03-docker, built and run for real on a Docker engine.

The Dockerfile and .dockerignore are taken from the solution notebook's answer cells
(Exercises 5 and 3), so this is exactly what a learner is asked to write. The build uses
the local base image (``$MLOPS_BASE_IMAGE``, default ``mlops-python:3.11``, made by
``scripts/build-base-image.sh``) because no registry is reachable in CI, and ``--no-cache``
so that the build time printed is a real one. The container must become healthy, answer
``/health`` and ``/predict`` with the model's own numbers, run as a non-root user, stop
promptly on SIGTERM, and leave nothing behind. The image size, build time and the
prediction are printed into the test log (CI's included) whatever pytest's capture mode.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from graders import dockerfile as df

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "solutions" / "03-docker"
BASE_IMAGE = os.environ.get("MLOPS_BASE_IMAGE", "mlops-python:3.11")
PAYLOAD = {
    "customers": [
        {"tenure_months": 3, "monthly_charges": 95.5, "support_calls": 4, "contract_months": 1},
        {"tenure_months": 60, "monthly_charges": 25.0, "support_calls": 0, "contract_months": 24},
        {"tenure_months": 14, "monthly_charges": 70.25, "support_calls": 2, "contract_months": 12},
    ]
}

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def solution_file(grade_id: str) -> str:
    """The text an answer cell of the solution writes (without %%writefile and markers)."""
    notebook = nbformat.read(MODULE / "docker.ipynb", as_version=4)
    cell = next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )
    lines = cell.source.splitlines()[1:]  # the %%writefile line
    return "\n".join(line for line in lines if "### BEGIN" not in line and "### END" not in line)


@pytest.fixture(scope="module")
def engine() -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI")
    if docker("info", check=False, timeout=20).returncode != 0:
        pytest.skip("docker info fails: no Docker engine reachable")
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        pytest.skip(f"base image {BASE_IMAGE} missing: run scripts/build-base-image.sh")


def test_solution_image_builds_serves_and_cleans_up(engine, tmp_path, capsys):
    context = tmp_path / "churn-service"
    shutil.copytree(MODULE / "churn-service", context, ignore=shutil.ignore_patterns("__pycache__"))
    (context / "Dockerfile").write_text(solution_file("runtime_dockerfile") + "\n")
    (context / ".dockerignore").write_text(solution_file("dockerignore") + "\n")
    tag = f"mlops-course-churn-test:{secrets.token_hex(4)}"
    container = None
    try:
        start = time.monotonic()
        docker(
            "build", "--no-cache", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", tag,
            str(context), timeout=900,
        )  # fmt: skip
        build_seconds = time.monotonic() - start
        size_mb = int(docker("image", "inspect", "-f", "{{.Size}}", tag).stdout) / 1e6
        base_mb = int(docker("image", "inspect", "-f", "{{.Size}}", BASE_IMAGE).stdout) / 1e6

        container = docker("run", "-d", "-p", "127.0.0.1::8000", tag).stdout.strip()
        start = time.monotonic()
        health = ""
        while time.monotonic() - start < 120:
            state = json.loads(docker("inspect", "-f", "{{json .State}}", container).stdout)
            health = state.get("Health", {}).get("Status", "")
            assert state["Status"] == "running", docker("logs", container).stderr
            if health == "healthy":
                break
            time.sleep(1)
        healthy_seconds = time.monotonic() - start
        assert health == "healthy", docker("logs", container).stderr
        port = docker("port", container, "8000/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        base = f"http://127.0.0.1:{port}"

        with urllib.request.urlopen(base + "/health", timeout=10) as response:
            assert json.load(response) == {"status": "ok", "model_version": "churn-logreg-2026.11"}
        request = urllib.request.Request(
            base + "/predict",
            data=json.dumps(PAYLOAD).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        expected = df.model_predictions(MODULE / "churn-service/model/churn-model.joblib", PAYLOAD)
        assert answer["predictions"] == expected
        assert docker("exec", container, "id", "-u").stdout.strip() == "10001"
        logs = docker("logs", container)
        assert "loaded model" in logs.stdout + logs.stderr

        start = time.monotonic()
        docker("stop", "-t", "10", container)
        stop_seconds = time.monotonic() - start
        assert stop_seconds < 5, "uvicorn should get SIGTERM (exec-form CMD) and exit at once"

        figures = (
            f"solution image of 03-docker on {BASE_IMAGE}: {size_mb:.0f} MB "
            f"(base {base_mb:.0f} MB), built in {build_seconds:.0f} s with --no-cache, "
            f"healthy after {healthy_seconds:.0f} s, stopped in {stop_seconds:.1f} s; "
            f"/predict answered {answer['predictions']}"
        )
        with capsys.disabled():  # into the CI log, whatever pytest's capture settings
            print(f"\n[03-docker] {figures}")
    finally:
        if container:
            docker("rm", "-f", container, check=False)
        docker("rmi", "-f", tag, check=False)
    assert docker("ps", "-a", "-q", "--filter", f"ancestor={tag}", check=False).stdout == ""
