"""A whole class, end to end, per module: release → fetch → submit (and LMS uploads →
zip_collect) → collect → parallel autograde → feedback → export.

The class (``tests/classroom.py``) mixes honest and hostile students. Each must get exactly
the score it earned, none may stop the others, nothing under submitted/ may change, and
feedback must keep every outcome but no hidden test source. Every test here reads the
module's one graded class; the last two grade small classes of their own.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course import catalog, results
from course.scratch import ScratchCourse
from tests.classroom import REPO, build_students, limits
from tests.conftest import module_params

pytestmark = pytest.mark.slow


@module_params("class")
def test_every_student_is_collected_from_the_exchange_and_the_uploads(module, graded_class):
    run = graded_class(module)
    assert sorted(run.results) == sorted(run.students)


@module_params("class")
def test_every_student_gets_exactly_what_they_earned(module, graded_class):
    run = graded_class(module)
    wrong = {}
    for student, synthetic in run.students.items():
        result = run.results[student]
        if result.status != "graded":
            wrong[student] = f"{result.status}: {result.error}"
            continue
        differ = {
            cell: (result.cells.get(cell), points)
            for cell, points in synthetic.expected.items()
            if result.cells.get(cell) != points
        }
        if differ:
            wrong[student] = f"(got, earned) per cell: {differ}"
    assert not wrong, "\n".join(f"{s}: {w}" for s, w in sorted(wrong.items()))


@module_params("class")
def test_deleted_check_cells_are_restored_and_counted(module, graded_class):
    run = graded_class(module)
    for student, synthetic in run.students.items():
        assert tuple(run.results[student].restored_cells) == synthetic.restored, student


@module_params("class")
def test_a_dying_kernel_is_revived_and_counted(module, graded_class):
    assert graded_class(module).results["calls-os-exit"].kernel_restarts == 1


@module_params("class")
def test_grading_never_modifies_submissions(module, graded_class):
    run = graded_class(module)
    assert run.submitted_after == run.submitted_before


@module_params("class")
def test_feedback_keeps_outcomes_but_never_hidden_test_source(module, graded_class):
    run = graded_class(module)
    assert len(run.feedback) == len(run.students)
    solution = nbformat.read(module.solution_path(REPO), as_version=4)
    hidden_lines = {
        line.strip()
        for cell in solution.cells
        for block in cell.source.split("### BEGIN HIDDEN TESTS")[1:]
        for line in block.split("### END HIDDEN TESTS")[0].splitlines()
        if len(line.strip()) > 30
    }
    # a line the visible checks also contain (a repeated call's arguments) is no leak
    hidden_lines -= {
        line.strip()
        for cell in solution.cells
        for part in HIDDEN_BLOCK.split(cell.source)
        for line in part.splitlines()
    }
    for page in run.feedback:
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text, page
        leaked = [line for line in hidden_lines if line in text or _escaped(line) in text]
        assert not leaked, f"{page}: hidden test source in feedback: {leaked[:3]}"
    blank = next(p for p in run.feedback if "/blank/" in str(p)).read_text()
    assert "not written yet" in blank, "feedback must keep the findings of every check"


HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)


def _escaped(line: str) -> str:
    return html.escape(line, quote=False)


@module_params("class")
def test_export_has_nbgraders_columns_and_each_students_total(module, graded_class):
    run = graded_class(module)
    rows = results.read_grades(run.exported["grades"])
    assert list(rows[0]) == [
        "assignment",
        "duedate",
        "timestamp",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "raw_score",
        "late_submission_penalty",
        "score",
        "max_score",
    ]
    scores = {
        row["student_id"]: float(row["score"]) for row in rows if row["assignment"] == module.id
    }
    expected = {s: sum(st.expected.values()) for s, st in run.students.items()}
    assert scores == expected
    assert run.exported["plot"].stat().st_size > 10_000
    report = run.exported["report"].read_text()
    assert "| 1 |" in report and module.id in report


def test_interrupted_grading_can_be_rerun_to_a_consistent_gradebook(tmp_path):
    """Kill `mlops-course grade` once it has graded one student, run it again: every student
    graded once, right."""
    module = catalog.get("04-kubernetes")  # the lightest notebook to grade
    with ScratchCourse(REPO) as scratch:
        release = nbformat.read(scratch.generate(module) / module.notebook, as_version=4)
        solution = nbformat.read(module.solution_path(REPO), as_version=4)
        students = [
            s
            for s in build_students(module.id, release, solution, [])
            if s.student_id in ("perfect", "blank", "partial")
        ]
        for student in students:
            path = tmp_path / f"{student.student_id}.ipynb"
            nbformat.write(student.notebook, path)
            scratch.submit(module, student.student_id, path)
        env = {**os.environ, "MLOPS_COURSE_ROOT": str(scratch.root)}
        command = [
            str(Path(sys.executable).parent / "mlops-course"),
            "grade",
            module.id,
            "--workers=1",
            f"--cell-timeout={limits(module.id).cell}",
        ]
        first = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        graded = scratch.root / "autograded"
        deadline = time.monotonic() + limits(module.id).notebook
        while first.poll() is None and time.monotonic() < deadline:
            if any(graded.glob(f"*/{module.id}/{module.notebook}")):
                break  # one student graded, the next one under way
            time.sleep(0.1)
        assert first.poll() is None, "grading ended before it could be interrupted"
        os.killpg(first.pid, signal.SIGKILL)  # the instructor's laptop lost power mid-grading
        first.wait()
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert again.returncode == 0, again.stdout + again.stderr
        for student in students:
            scores = scratch.scores(module, student.student_id)
            assert {k: v.score for k, v in scores.items()} == student.expected, student.student_id
