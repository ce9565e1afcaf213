"""The grading pool reuses worker processes; a worker lost costs only the student it was
grading, who is recorded as failed with the reason, never as a zero.

One worker grades the whole queue in turn, so every replacement is on the path of the next
student. A submission can no longer kill its worker (its sandbox cannot see it): the one
that tries is graded like anyone else. A worker can still be lost to something outside the
submission (the host's out-of-memory killer, an administrator), which the test does to it
mid-notebook; and a notebook that outlives its limit gets its worker killed and replaced.
"""

from __future__ import annotations

import threading
import time

import nbformat
import psutil
import pytest

from course import catalog
from course import results as results_module
from course.autograde import grade, read_failures
from course.scratch import ScratchCourse
from course.submissions import answer_cells
from tests.classroom import LOOP_FOREVER, REPO, fill_answers, insert_after_setup, limits

pytestmark = pytest.mark.slow

KILL_THE_GRADER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
SLOW = "import time\ntime.sleep(12)\n"


def kill_the_worker_once_graded(folder, before: list[str], stop: threading.Event) -> None:
    """Kill the grading worker once ``before`` are graded: it is then on the next student."""
    while not stop.is_set():
        if all((folder / student).is_dir() for student in before):
            time.sleep(2)  # well into the next notebook
            for child in psutil.Process().children():
                if "spawn_main" in " ".join(child.cmdline()):  # a worker, not the tracker
                    child.kill()
            return
        time.sleep(0.1)


def test_reused_workers_survive_a_lost_worker_and_a_notebook_timeout(tmp_path):
    module = catalog.get("04-kubernetes")  # the lightest notebook to grade
    with ScratchCourse(REPO) as scratch:
        release = nbformat.read(scratch.generate(module) / module.notebook, as_version=4)
        solution = fill_answers(release, nbformat.read(module.solution_path(REPO), as_version=4))
        stubs = {gid: cell.source for gid, cell in answer_cells(release).items()}
        class_ = {
            "a-perfect": solution,
            "b-tries-to-kill-its-grader": insert_after_setup(solution, KILL_THE_GRADER),
            "c-loses-its-worker": insert_after_setup(solution, SLOW),
            "d-blank": release,
            "e-outlives-the-notebook-limit": insert_after_setup(release, LOOP_FOREVER),
            "f-perfect-again": solution,
            "g-partial": fill_answers(release, solution, {next(iter(stubs)): ""}),
        }
        for student, notebook in class_.items():
            path = tmp_path / f"{student}.ipynb"
            nbformat.write(notebook, path)
            scratch.submit(module, student, path)

        stop = threading.Event()
        killer = threading.Thread(
            target=kill_the_worker_once_graded,
            args=(scratch.root / "autograded", ["a-perfect", "b-tries-to-kill-its-grader"], stop),
        )
        killer.start()
        # Only the notebook limit can stop the loop; it is derived from the module's
        # recorded run, so the honest students are well inside it.
        notebook_limit = limits(module.id).notebook
        try:
            results = {
                r.student: r
                for r in grade(
                    scratch.root,
                    module.id,
                    workers=1,
                    cell_timeout=10 * notebook_limit,
                    notebook_timeout=notebook_limit,
                    progress=False,
                )
            }
        finally:
            stop.set()
            killer.join()
        failures = read_failures(scratch.root)[module.id]
        exported = results_module.export(scratch.root, tmp_path / "grades")
        rows = {row["student_id"]: row for row in results_module.read_grades(exported["grades"])}

    full = results["a-perfect"].max_score
    assert full > 0
    assert (results["a-perfect"].status, results["a-perfect"].score) == ("graded", full)
    tried = results["b-tries-to-kill-its-grader"]
    assert (tried.status, tried.score) == ("graded", full), tried.error
    lost = results["c-loses-its-worker"]
    assert lost.status == "failed" and "crashed" in lost.error
    assert (results["d-blank"].status, results["d-blank"].score) == ("graded", 0)
    looper = results["e-outlives-the-notebook-limit"]
    assert looper.status == "timeout" and f"{notebook_limit:.0f} s" in looper.error
    assert (results["f-perfect-again"].status, results["f-perfect-again"].score) == ("graded", full)
    partial = results["g-partial"]
    assert partial.status == "graded" and 0 < partial.score < full
    assert sorted(failures) == ["c-loses-its-worker", "e-outlives-the-notebook-limit"]
    # a grading that did not complete is no zero: its score is empty, and it is listed
    for student in failures:
        assert (rows[student]["raw_score"], rows[student]["score"]) == ("", ""), rows[student]
        assert student in exported["not graded"].read_text()
    assert float(rows["d-blank"]["score"]) == 0 and float(rows["a-perfect"]["score"]) == full
