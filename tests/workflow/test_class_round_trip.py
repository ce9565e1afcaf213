"""A whole class, end to end, per module: release → fetch → submit (and LMS uploads →
zip_collect) → collect → parallel autograde → feedback → export.

The class mixes honest and hostile students (course/synthetic.py). Each must get exactly
the score it earned, none may stop the others, nothing under submitted/ may change, and
feedback must keep every outcome but no hidden test source.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import exchange, results
from course.autograde import DEFAULT_CELL_TIMEOUT, grade
from course.scratch import ScratchCourse
from course.submissions import load_wrong_answers
from course.synthetic import synthetic_class
from tests.conftest import BUILT, REPO, WRONG_ANSWERS, module_params

pytestmark = pytest.mark.slow
# The looping student costs the cell time limit once per module; the class gets the course's
# own limit, since heavy check cells (05-cicd's mutation runs) need well over 20 s on a busy
# 2-core machine. The interrupted-grading test uses a short one: it grades light notebooks.
CELL_TIMEOUT = 20


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class ClassRun:
    def __init__(self, module, tmp: Path) -> None:
        self.module = module
        self.scratch = ScratchCourse(REPO)
        root = self.scratch.root
        release = nbformat.read(self.scratch.generate(module) / module.notebook, as_version=4)
        solution = nbformat.read(module.solution_path(REPO), as_version=4)
        wrong = load_wrong_answers(WRONG_ANSWERS, module.id)
        mistake = (wrong[0].grade_id, wrong[0].source) if wrong else None
        self.students = {
            s.student_id: s for s in synthetic_class(module.id, release, solution, mistake)
        }
        self.exchange_root = tmp / "exchange"
        exchange.release(root, module.id, self.exchange_root)

        nbgrader = str(Path(sys.executable).parent / "nbgrader")
        uploads = tmp / "lms-download"
        for index, (student, synthetic) in enumerate(sorted(self.students.items())):
            # A few students go through the filesystem exchange, as on a JupyterHub (each
            # nbgrader fetch or submit is a CLI start of several seconds); the rest upload
            # to a learning platform and are imported with zip_collect.
            if index % 4 == 0:
                home = tmp / "homes" / student
                home.mkdir(parents=True)
                flags = [
                    f"--Exchange.root={self.exchange_root}",
                    f"--Exchange.cache={tmp / 'caches' / student}",
                    "--CourseDirectory.course_id=mlops-roadmap",
                    f"--student={student}",
                ]
                _run([nbgrader, "fetch_assignment", module.id, *flags], home)
                nbformat.write(synthetic.notebook, home / module.id / module.notebook)
                _run([nbgrader, "submit", module.id, *flags], home)
            else:  # uploaded to a learning platform, downloaded by the instructor
                work = tmp / "binder" / student / module.notebook
                work.parent.mkdir(parents=True)
                nbformat.write(synthetic.notebook, work)
                exchange.submit(root, module.id, student=student, notebook=work, out_dir=uploads)
        exchange.collect(root, module.id, self.exchange_root)
        exchange.collect_uploads(root, module.id, [uploads])

        self.submitted_before = _digest(root / "submitted")
        self.results = {
            r.student: r
            for r in grade(
                root,
                module.id,
                workers=2,
                cell_timeout=DEFAULT_CELL_TIMEOUT,
                progress=False,
            )
        }
        self.submitted_after = _digest(root / "submitted")
        self.feedback = results.generate_feedback(root, module.id)
        self.exported = results.export(root, tmp / "grades")

    def close(self) -> None:
        self.scratch.close()


@pytest.fixture(scope="module")
def class_runs(tmp_path_factory):
    runs: dict[str, ClassRun] = {}

    def get(module) -> ClassRun:
        if module.id not in runs:
            runs[module.id] = ClassRun(module, tmp_path_factory.mktemp(module.id))
        return runs[module.id]

    yield get
    for run in runs.values():
        run.close()


@module_params()
def test_every_student_is_collected_from_the_exchange_and_the_uploads(module, class_runs):
    run = class_runs(module)
    assert sorted(run.results) == sorted(run.students)


@module_params()
def test_every_student_gets_exactly_what_they_earned(module, class_runs):
    run = class_runs(module)
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


@module_params()
def test_deleted_check_cells_are_restored_and_counted(module, class_runs):
    run = class_runs(module)
    for student, synthetic in run.students.items():
        assert tuple(run.results[student].restored_cells) == synthetic.restored, student


@module_params()
def test_a_dying_kernel_is_revived_and_counted(module, class_runs):
    assert class_runs(module).results["calls-os-exit"].kernel_restarts == 1


@module_params()
def test_grading_never_modifies_submissions(module, class_runs):
    run = class_runs(module)
    assert run.submitted_after == run.submitted_before


@module_params()
def test_feedback_keeps_outcomes_but_never_hidden_test_source(module, class_runs):
    run = class_runs(module)
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
    import html

    return html.escape(line, quote=False)


@module_params()
def test_export_has_nbgraders_columns_and_each_students_total(module, class_runs):
    run = class_runs(module)
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
    """Kill `mlops-course grade` mid-run, run it again: every student graded once, right."""
    module = BUILT[0]
    with ScratchCourse(REPO) as scratch:
        release = nbformat.read(scratch.generate(module) / module.notebook, as_version=4)
        solution = nbformat.read(module.solution_path(REPO), as_version=4)
        students = [
            s
            for s in synthetic_class(module.id, release, solution)
            if s.student_id in ("perfect", "blank", "partial", "loops-forever")
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
            "--workers=2",
            f"--cell-timeout={CELL_TIMEOUT}",
        ]
        first = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            first.wait(timeout=12)
        except subprocess.TimeoutExpired:
            os.killpg(first.pid, 9)  # the instructor's laptop lost power mid-grading
            first.wait()
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        assert again.returncode == 0, again.stdout + again.stderr
        for student in students:
            scores = scratch.scores(module, student.student_id)
            assert {k: v.score for k, v in scores.items()} == student.expected, student.student_id
