"""Binder without Binder: the pinned requirements alone run every exercise notebook.

repo2docker installs ``binder/requirements.txt`` and then runs ``postBuild``, which installs
the course's own packages with ``pip install --no-deps -e .``. This test does the same in a
fresh virtual environment (pip's cache keeps it fast) on a copy of the repository, then runs
every built *exercise* notebook there with the course's runner (:mod:`course.execute`) until
its first unanswered exercise. That exercise must stop the run with the placeholder (the
stub's ``NotImplementedError``, or a check cell saying "not written yet"), never with an
import error or anything else a learner on Binder could not fix.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import venv
from pathlib import Path

import nbformat
import pytest

from course import catalog
from course.submissions import nbgrader_meta
from tests.conftest import REPO

pytestmark = pytest.mark.slow

INSTALL_TIMEOUT = 1200
NOTEBOOK_TIMEOUT = 600
# what a fresh clone holds that the install and the notebooks need (no .venv, no caches)
COPIED = (
    "pyproject.toml",
    "nbgrader_config.py",
    "README.md",
    "binder",
    "course",
    "graders",
    "exercises",
)
PLACEHOLDER_STOP = "not written yet: the placeholder is still there"


def pip(python: Path, *args: str, cwd: Path) -> None:
    # --no-compile: byte-compiling 300 MB of packages is a minute of CPU and proves nothing
    # about what Binder's install contains (Python compiles on first import anyway)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"pip install {' '.join(args)} failed:\n{done.stderr[-4000:]}"


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a fresh venv with Binder's install, the repository copy it serves)."""
    base = tmp_path_factory.mktemp("binder")
    checkout = base / "repo"
    checkout.mkdir()
    ignore = shutil.ignore_patterns("*_work", "__pycache__", ".ipynb_checkpoints", "*.egg-info")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=ignore)
        elif source.is_file():
            shutil.copy(source, checkout / name)
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    pip(python, "-r", "binder/requirements.txt", cwd=checkout)
    pip(python, "--no-deps", "-e", ".", cwd=checkout)  # what binder/postBuild runs
    return python, checkout


def test_fresh_env_imports_the_course_from_the_checkout(binder_env):
    python, checkout = binder_env
    probe = (
        "import course, graders, nbgrader\n"
        "from jupyter_client.manager import KernelManager\n"
        "print(graders.__file__)\n"
        "print(KernelManager(kernel_name='python3').format_kernel_cmd()[0])\n"
    )
    done = subprocess.run(
        [str(python), "-c", probe],
        cwd=checkout.parent,  # not the repository: the import must come from the install
        env={"PATH": f"{python.parent}{os.pathsep}/usr/bin:/bin", "HOME": str(checkout.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    graders_file, kernel_python = done.stdout.split()
    assert Path(graders_file).is_relative_to(checkout), "postBuild's editable install is used"
    assert Path(kernel_python).parent == python.parent, "notebooks run in the fresh environment"


def first_exercise(notebook: nbformat.NotebookNode) -> str:
    """The grade_id of the first autograded answer cell."""
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and not meta.get("grade"):
            return meta["grade_id"]
    raise AssertionError("the notebook has no answer cell")


def first_error(notebook: nbformat.NotebookNode) -> tuple[dict, dict] | None:
    """(nbgrader metadata, error output) of the first cell that raised."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return nbgrader_meta(cell), output
    return None


@pytest.mark.parametrize("module", catalog.built(REPO), ids=lambda m: m.id)
def test_exercise_notebook_runs_to_its_first_placeholder(module, binder_env, tmp_path):
    python, checkout = binder_env
    workdir = tmp_path / module.id
    shutil.copytree(checkout / "exercises" / module.id, workdir)
    notebook = workdir / module.notebook
    output = tmp_path / f"executed-{module.notebook}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    env.update(
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        MLOPS_COURSE_HEADLESS="1",
        MPLBACKEND="Agg",
    )
    # the course's own runner, in the fresh environment: its papermill, its kernel
    done = subprocess.run(
        [str(python), "-m", "course.execute", str(notebook), str(output), "180"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=NOTEBOOK_TIMEOUT,
        check=False,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"the runner printed no result:\n{done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert output.exists(), f"no executed notebook: {result}"
    executed = nbformat.read(output, as_version=4)
    stop = first_error(executed)
    assert result["status"] == "failed" and stop is not None, (
        f"{module.id}: the blank release ran to the end without stopping at a placeholder"
    )
    meta, error = stop
    expected = first_exercise(executed)
    where = meta.get("grade_id", "a cell without nbgrader metadata")
    assert where in (expected, f"{expected}_test"), (
        f"{module.id}: the run stopped in {where} ({error['ename']}: {error['evalue'][:300]}), "
        f"before the first exercise {expected}: a Binder learner would hit this first"
    )
    placeholder = error["ename"] == "NotImplementedError" or (
        error["ename"] == "GradingError" and PLACEHOLDER_STOP in error["evalue"]
    )
    assert placeholder, (
        f"{module.id}: the first exercise {expected} stopped with {error['ename']}: "
        f"{error['evalue'][:500]}, not with its placeholder"
    )
