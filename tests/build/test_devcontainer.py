"""The Codespaces / VS Code container: same Python as Binder, real linters pass its files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

DEVCONTAINER = REPO / ".devcontainer"
BIN = Path(sys.executable).parent


def config() -> dict:
    return json.loads((DEVCONTAINER / "devcontainer.json").read_text())


def test_config_builds_the_dockerfile_beside_it_from_the_repository():
    build = config()["build"]
    assert (DEVCONTAINER / build["dockerfile"]).is_file()
    assert (DEVCONTAINER / build["context"]).resolve() == REPO


def test_same_python_as_binder():
    runtime = (REPO / "binder" / "runtime.txt").read_text().strip()  # python-3.11
    version = runtime.removeprefix("python-")
    base = next(
        line.split()[1]
        for line in (DEVCONTAINER / "Dockerfile").read_text().splitlines()
        if line.startswith("FROM ")
    )
    assert f"-{version}-" in base or base.endswith(f":{version}"), (base, runtime)


def test_installs_and_opens_the_course_like_make_lab():
    cfg = config()
    assert cfg["postCreateCommand"] == "make install"
    assert 8888 in cfg["forwardPorts"]
    assert cfg["customizations"]["codespaces"]["openFiles"] == ["START_HERE.ipynb"]
    interpreter = cfg["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"]
    assert interpreter.endswith("/.venv/bin/python")


def test_start_script_exists_and_passes_shellcheck():
    script = DEVCONTAINER / "start-kind.sh"
    assert config()["postStartCommand"] == f"bash .devcontainer/{script.name}"
    done = subprocess.run(
        [str(BIN / "shellcheck"), str(script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


def test_dockerfile_passes_hadolint():
    done = subprocess.run(
        [str(BIN / "hadolint"), "--failure-threshold", "warning", str(DEVCONTAINER / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
