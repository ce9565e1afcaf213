"""Refuse rather than pretend: no sandbox, no grading, unless the instructor accepts the risk
by name; and plain `nbgrader autograde` gets the same sandbox through nbgrader_config.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course.sandbox import unavailable_reason
from course.scratch import ScratchCourse
from tests.classroom import REPO, insert_after_setup, keep_only_graded_cells_after, points_of
from tests.security.test_sandbox import (
    ATTACKS,
    MODULE,
    SOLUTION_CANARY,
    _bare,
    _printed_by_student_cells,
    plant_canaries,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]
BIN = Path(sys.executable).parent


@pytest.fixture
def course_with_an_attacker(tmp_path):
    """A scratch course (solutions included) with one submission that reads the course."""
    with ScratchCourse(REPO) as scratch:
        release = nbformat.read(scratch.generate(MODULE) / MODULE.notebook, as_version=4)
        blank = keep_only_graded_cells_after(release, next(iter(points_of(release))))
        path = tmp_path / "attacker.ipynb"
        nbformat.write(insert_after_setup(blank, ATTACKS["reads-the-course"]), path)
        scratch.submit(MODULE, "attacker", path)
        plant_canaries(scratch.root / "solutions" / MODULE.id / MODULE.notebook)
        yield scratch


def _run(command: list[str], root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=root,
        env={**os.environ, "MLOPS_COURSE_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_grade_refuses_without_a_sandbox_and_names_the_flag(course_with_an_attacker):
    root = course_with_an_attacker.root
    with open(root / "nbgrader_config.py", "a") as config:
        config.write("c.Sandbox.bwrap = '/nonexistent/bwrap'\n")
    refused = _run([str(BIN / "mlops-course"), "grade", MODULE.id], root)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "cannot grade in a sandbox" in refused.stderr
    assert "--unsafe-no-sandbox" in refused.stderr and "bubblewrap" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (root / "autograded").exists(), "nothing may be graded when refused"

    accepted = _run([str(BIN / "mlops-course"), "grade", MODULE.id, "--unsafe-no-sandbox"], root)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "graded WITHOUT a sandbox (--unsafe-no-sandbox)" in accepted.stdout


def test_plain_nbgrader_autograde_is_sandboxed_too(course_with_an_attacker):
    root = course_with_an_attacker.root
    done = _run([str(BIN / "nbgrader"), "autograde", MODULE.id, "--student=attacker"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    graded = root / "autograded" / "attacker" / MODULE.id / MODULE.notebook
    scores = course_with_an_attacker.scores(MODULE, "attacker")
    assert not any(score.score for score in scores.values()), scores
    assert _bare(SOLUTION_CANARY) not in _bare(_printed_by_student_cells(graded))


def test_plain_nbgrader_autograde_refuses_without_a_sandbox(course_with_an_attacker):
    root = course_with_an_attacker.root
    with open(root / "nbgrader_config.py", "a") as config:
        config.write("c.Sandbox.bwrap = '/nonexistent/bwrap'\n")
    done = _run([str(BIN / "nbgrader"), "autograde", MODULE.id, "--student=attacker"], root)
    output = done.stdout + done.stderr
    assert "cannot grade in a sandbox" in output and "c.Sandbox.required = False" in output
    assert not (root / "autograded" / "attacker" / MODULE.id / MODULE.notebook).exists()
