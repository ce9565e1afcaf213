"""Benchmark: the course's parallel grader against plain serial `nbgrader autograde`.

Builds a synthetic class (solution, blank, partial and recorded-mistake notebooks in
rotation) of N students for each module, grades it twice in the same run, in two separate
scratch courses (so neither benefits from the other's work), and prints notebooks per
minute for each, their ratio, and whether the two graders gave every student the same score.
Then the per-notebook grading overhead: the course's grader on the solution notebook alone
against one plain papermill run of it, and the sandbox's share of it (the same grading with
``c.Sandbox.enabled = False``).

    python benchmarks/grading.py                   # 30 students, every built module
    python benchmarks/grading.py --students 10 --modules 01-python

This is a benchmark, not a test: it asserts nothing and takes minutes.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from course import catalog  # noqa: E402
from course.autograde import default_workers, grade  # noqa: E402
from course.execute import run_module  # noqa: E402
from course.scratch import ScratchCourse  # noqa: E402
from course.submissions import answer_cells  # noqa: E402
from tests.classroom import fill_answers, load_wrong_answers  # noqa: E402


def class_notebooks(module: catalog.Module, release, solution, students: int) -> dict:
    wrong = load_wrong_answers(module.id)
    answers = list(answer_cells(release))
    stubs = {gid: cell.source for gid, cell in answer_cells(release).items()}
    kinds = ["solution", "blank", "partial", *[f"wrong-{w.grade_id}-{w.slug}" for w in wrong]]
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
            mistake = next(w for w in wrong if f"wrong-{w.grade_id}-{w.slug}" == kind)
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


def plain_nbgrader(scratch: ScratchCourse, module) -> tuple[float, int]:
    """nbgrader as shipped: serial, without the course's hardening preprocessors.
    Returns the wall time and how many cells waited out the cell timeout for a reply."""
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
    seconds = time.perf_counter() - start
    graded = scratch.root.glob(f"autograded/*/{module.id}/{module.notebook}")
    return seconds, sum(stalled_cells(nbformat.read(path, as_version=4)) for path in graded)


def stalled_cells(notebook, threshold: float = 50) -> int:
    """Cells after which the client sat idle: the kernel went idle, and only ``threshold``
    seconds or more later received the next cell (nbclient issue 312; a stall logs nothing,
    the late reply is then taken as normal). Timestamps are the kernel's own."""
    executions = [
        cell.metadata["execution"]
        for cell in notebook.cells
        if cell.cell_type == "code" and "iopub.status.busy" in cell.metadata.get("execution", {})
    ]
    gaps = (
        datetime.fromisoformat(after["iopub.status.busy"])
        - datetime.fromisoformat(before["iopub.status.idle"])
        for before, after in itertools.pairwise(executions)
        if "iopub.status.idle" in before
    )
    return sum(gap.total_seconds() >= threshold for gap in gaps)


def total_score(scratch: ScratchCourse, module, student: str) -> float:
    return sum(cell.score or 0 for cell in scratch.scores(module, student).values())


def solution_grading_seconds(
    module, copies: int, sandbox: bool = True, trusted: bool = True
) -> float:
    """Seconds per notebook for the course's grader (one worker) on the solution alone."""
    scratch = ScratchCourse(REPO)
    with open(scratch.root / "nbgrader_config.py", "a") as config:
        if not sandbox:
            config.write("c.Sandbox.enabled = False\n")
        if not trusted:
            config.write("c.GuardedExecute.trusted_checks = False\n")
    try:
        release = nbformat.read(scratch.generate(module) / module.notebook, as_version=4)
        solution = fill_answers(release, nbformat.read(module.solution_path(REPO), as_version=4))
        for index in range(copies):
            path = scratch.root / f"solution{index}.ipynb"
            nbformat.write(solution, path)
            scratch.submit(module, f"solution{index}", path)
        start = time.perf_counter()
        grade(scratch.root, module.id, workers=1, progress=False, require_sandbox=sandbox)
        return (time.perf_counter() - start) / copies
    finally:
        shutil.rmtree(scratch.root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--modules", nargs="*")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument(
        "--solution-copies",
        type=int,
        default=3,
        help="solution notebooks graded alone to measure the overhead over papermill",
    )
    args = parser.parse_args()
    modules = catalog.select(REPO, args.modules)
    rows = []
    for module in modules:
        papermill = run_module(module, REPO)  # also warms the disk cache for both graders
        serial_course, parallel_course = (
            prepare(module, args.students),
            prepare(module, args.students),
        )
        try:
            serial, stalls = plain_nbgrader(serial_course, module)
            start = time.perf_counter()
            graded = grade(parallel_course.root, module.id, workers=args.workers, progress=False)
            parallel = time.perf_counter() - start
            failed = [r.student for r in graded if r.status != "graded"]
            differ = [
                r.student
                for r in graded
                if r.status == "graded" and total_score(serial_course, module, r.student) != r.score
            ]
        finally:
            for course in (serial_course, parallel_course):
                shutil.rmtree(course.root, ignore_errors=True)
        per_solution = solution_grading_seconds(module, args.solution_copies)
        unsandboxed = solution_grading_seconds(module, args.solution_copies, sandbox=False)
        # what issue 17 compares with: the same grading with neither sandbox nor checker
        bare = solution_grading_seconds(module, args.solution_copies, sandbox=False, trusted=False)
        rows.append(
            (module.id, args.students, serial, stalls, parallel, papermill, per_solution,
             unsandboxed, bare, failed)
        )  # fmt: skip
        print(
            f"{module.id}: serial {serial:.0f} s ({stalls} stalled cells), parallel "
            f"{parallel:.0f} s; scores differ for {len(differ)} students {differ}",
            flush=True,
        )

    print()
    print(
        f"{'module':<18} {'nbs':>4} {'serial nb/min':>14} {'course nb/min':>14} {'ratio':>6} "
        f"{'stalls':>6} {'ratio w/o':>9}   {'papermill s':>11} {'graded s':>9} {'overhead':>9}"
        f" {'sandbox':>8} {'s+checker':>9}"
    )
    total_nbs = total_serial = total_parallel = total_stalls = 0.0
    for (
        module_id,
        n,
        serial,
        stalls,
        parallel,
        papermill,
        per_solution,
        nosand,
        bare,
        failed,
    ) in rows:
        unstalled = serial - 60 * stalls
        print(
            f"{module_id:<18} {n:>4} {60 * n / serial:>14.1f} {60 * n / parallel:>14.1f} "
            f"{serial / parallel:>6.2f} {stalls:>6} {unstalled / parallel:>9.2f}   "
            f"{papermill.wall_seconds:>11.1f} {per_solution:>9.1f} "
            f"{per_solution - papermill.wall_seconds:>+8.1f}s {per_solution - nosand:>+7.1f}s"
            f" {per_solution - bare:>+8.1f}s"
            + (f"  papermill {papermill.status}" if papermill.status != "ok" else "")
            + (f"  FAILED: {failed}" if failed else "")
        )
        total_nbs += n
        total_serial += serial
        total_parallel += parallel
        total_stalls += stalls
    print(
        f"{'all':<18} {total_nbs:>4.0f} {60 * total_nbs / total_serial:>14.1f} "
        f"{60 * total_nbs / total_parallel:>14.1f} {total_serial / total_parallel:>6.2f} "
        f"{total_stalls:>6.0f} {(total_serial - 60 * total_stalls) / total_parallel:>9.2f}"
    )
    print(
        f"\n{os.cpu_count()} cores, {args.workers} workers. serial: plain `nbgrader autograde`, "
        "one process; course: `mlops-course grade`'s pool.\n"
        "stalls: cells after which plain nbgrader sat idle for the 60 s cell timeout waiting "
        "for a reply it had already received (nbclient issue 312; course/nbclient_fix.py); a "
        "lower bound, since a stall on a notebook's last cell leaves no trace. 'ratio w/o' "
        "leaves those minutes out.\noverhead: the course's grader on the solution alone "
        "(one worker, per notebook) minus one papermill run of it.\nsandbox: the same grading "
        "minus it with the sandbox switched off (c.Sandbox.enabled = False).\ns+checker: the "
        "same grading minus it with both the sandbox and the trusted checker off "
        "(c.GuardedExecute.trusted_checks = False): their cost together."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
