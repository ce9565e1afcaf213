"""Benchmark: the course's parallel grader against plain serial `nbgrader autograde`.

Builds a synthetic class (solution, blank, partial and recorded-mistake notebooks in
rotation) of N students for each module, grades it twice in the same run, in two separate
scratch courses (so neither benefits from the other's work), and prints notebooks per
minute for each and their ratio; then the per-notebook grading overhead over a plain
papermill run of the same solution notebook.

    python benchmarks/grading.py                   # 30 students, every built module
    python benchmarks/grading.py --students 10 --modules 01-python

This is a benchmark, not a test: it asserts nothing and takes minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from course import catalog  # noqa: E402
from course.autograde import grade  # noqa: E402
from course.execute import run_module  # noqa: E402
from course.scratch import ScratchCourse  # noqa: E402
from course.submissions import answer_cells, fill_answers, load_wrong_answers  # noqa: E402


def class_notebooks(module: catalog.Module, release, solution, students: int) -> dict:
    wrong = load_wrong_answers(REPO / "tests" / "wrong_answers", module.id)
    answers = list(answer_cells(release))
    stubs = {gid: cell.source for gid, cell in answer_cells(release).items()}
    kinds = ["solution", "blank", "partial", *[w.student_id for w in wrong]]
    notebooks = {}
    for index in range(students):
        kind = kinds[index % len(kinds)]
        if kind == "solution":
            notebook = fill_answers(release, solution)
        elif kind == "blank":
            notebook = release
        elif kind == "partial":
            notebook = fill_answers(release, solution, {g: stubs[g] for g in answers[::2]})
        else:
            mistake = next(w for w in wrong if w.student_id == kind)
            notebook = fill_answers(release, solution, {mistake.grade_id: mistake.source})
        notebooks[f"student{index:03d}"] = notebook
    return notebooks


def prepare(module, students: int) -> ScratchCourse:
    scratch = ScratchCourse(REPO)
    release = nbformat.read(scratch.generate(module) / module.notebook, as_version=4)
    solution = nbformat.read(module.solution_path(REPO), as_version=4)
    for student, notebook in class_notebooks(module, release, solution, students).items():
        path = scratch.root / f"{student}.ipynb"
        nbformat.write(notebook, path)
        scratch.submit(module, student, path)
    return scratch


PLAIN_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "mlops-roadmap"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.Execute.timeout = 60
"""


def plain_nbgrader(scratch: ScratchCourse, module) -> float:
    """nbgrader as shipped: serial, without the course's hardening preprocessors."""
    (scratch.root / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    start = time.perf_counter()
    subprocess.run(
        [nbgrader, "autograde", module.id, "--force", "--Execute.timeout=60"],
        cwd=scratch.root,
        check=True,
        capture_output=True,
        env={**os.environ},
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--modules", nargs="*")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    modules = catalog.select(REPO, args.modules)
    rows = []
    for module in modules:
        papermill = run_module(module, REPO)
        serial_course, parallel_course = (
            prepare(module, args.students),
            prepare(module, args.students),
        )
        try:
            serial = plain_nbgrader(serial_course, module)
            start = time.perf_counter()
            graded = grade(parallel_course.root, module.id, workers=args.workers, progress=False)
            parallel = time.perf_counter() - start
            failed = [r.student for r in graded if r.status != "graded"]
        finally:
            for course in (serial_course, parallel_course):
                shutil.rmtree(course.root, ignore_errors=True)
        rows.append((module.id, args.students, serial, parallel, papermill.wall_seconds, failed))
        print(f"{module.id}: serial {serial:.0f} s, parallel {parallel:.0f} s", flush=True)

    print()
    print(
        f"{'module':<18} {'nbs':>4} {'serial nb/min':>14} {'course nb/min':>14} {'ratio':>6} "
        f"{'papermill s':>12} {'grade s/nb':>11} {'overhead':>9}"
    )
    total_nbs = total_serial = total_parallel = 0.0
    for module_id, n, serial, parallel, papermill_s, failed in rows:
        per_nb = serial / n
        print(
            f"{module_id:<18} {n:>4} {60 * n / serial:>14.1f} {60 * n / parallel:>14.1f} "
            f"{serial / parallel:>6.2f} {papermill_s:>12.1f} {per_nb:>11.1f} "
            f"{per_nb - papermill_s:>+8.1f}s" + (f"  FAILED: {failed}" if failed else "")
        )
        total_nbs += n
        total_serial += serial
        total_parallel += parallel
    print(
        f"{'all':<18} {total_nbs:>4.0f} {60 * total_nbs / total_serial:>14.1f} "
        f"{60 * total_nbs / total_parallel:>14.1f} {total_serial / total_parallel:>6.2f}"
    )
    print(f"\n{os.cpu_count()} cores, {args.workers} workers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
