"""`.venv/bin/mlops-course` works without an activated venv.

nbgrader starts ``alembic`` by name when it creates a gradebook, so an instructor who ran
``.venv/bin/mlops-course grade`` on a fresh course (no gradebook yet) got a
``FileNotFoundError: 'alembic'`` traceback; the test process itself never sees this, because
``ScratchCourse`` puts the venv on its ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import catalog
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_grading_a_fresh_course_needs_no_activated_venv(tmp_path):
    module = catalog.get("04-kubernetes")  # the lightest notebook to grade
    course = tmp_path / "course"
    shutil.copytree(REPO / "solutions" / module.id, course / "solutions" / module.id)
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "course" / "templates", course / "course" / "templates")
    submitted = course / "submitted" / "ada" / module.id
    submitted.mkdir(parents=True)
    shutil.copy(REPO / "exercises" / module.id / module.notebook, submitted)
    (submitted / "timestamp.txt").write_text("2026-12-01 09:00:00.000000 UTC")
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        part for part in os.environ["PATH"].split(os.pathsep) if part and part != venv_bin
    )
    assert shutil.which("alembic", path=path) is None, "the test needs a PATH without alembic"

    graded = subprocess.run(
        [str(Path(venv_bin) / "mlops-course"), "grade", module.id, "--workers", "1"],
        cwd=course,
        env={**os.environ, "PATH": path, "MLOPS_COURSE_ROOT": str(course)},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert "Traceback" not in graded.stderr, graded.stderr
    assert graded.returncode == 0, graded.stderr
    row = next(line for line in graded.stdout.splitlines() if line.startswith("ada "))
    status, score = row.split()[1:3]
    assert (status, score.split("/")[0]) == ("graded", "0.0"), graded.stdout
    assert (course / "gradebook.db").is_file()
