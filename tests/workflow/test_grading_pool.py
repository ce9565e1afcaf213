"""The grading pool reuses worker processes; a worker lost to one student costs nobody else.

One worker grades the whole queue in turn, so every replacement is on the path of the next
student: a student whose code kills the grading process, and one that outlives the notebook
limit, are each followed by an honest student who must still get full marks.
"""

from __future__ import annotations

import nbformat
import pytest

from course import catalog
from course.autograde import grade
from course.scratch import ScratchCourse
from course.submissions import answer_cells
from tests.classroom import LOOP_FOREVER, REPO, fill_answers, insert_after_setup, limits

pytestmark = pytest.mark.slow

KILL_THE_GRADER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"


def test_reused_workers_survive_a_killed_worker_and_a_notebook_timeout(tmp_path):
    module = catalog.get("04-kubernetes")  # the lightest notebook to grade
    with ScratchCourse(REPO) as scratch:
        release = nbformat.read(scratch.generate(module) / module.notebook, as_version=4)
        solution = fill_answers(release, nbformat.read(module.solution_path(REPO), as_version=4))
        stubs = {gid: cell.source for gid, cell in answer_cells(release).items()}
        class_ = {
            "a-perfect": solution,
            "b-kills-its-grader": insert_after_setup(solution, KILL_THE_GRADER),
            "c-blank": release,
            "d-outlives-the-notebook-limit": insert_after_setup(release, LOOP_FOREVER),
            "e-perfect-again": solution,
            "f-partial": fill_answers(release, solution, {next(iter(stubs)): ""}),
        }
        for student, notebook in class_.items():
            path = tmp_path / f"{student}.ipynb"
            nbformat.write(notebook, path)
            scratch.submit(module, student, path)

        # Only the notebook limit can stop the loop; it is derived from the module's
        # recorded run, so the honest students are well inside it.
        notebook_limit = limits(module.id).notebook
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

    full = results["a-perfect"].max_score
    assert full > 0
    assert (results["a-perfect"].status, results["a-perfect"].score) == ("graded", full)
    assert results["b-kills-its-grader"].status == "failed"
    assert "crashed" in results["b-kills-its-grader"].error
    assert (results["c-blank"].status, results["c-blank"].score) == ("graded", 0)
    looper = results["d-outlives-the-notebook-limit"]
    assert looper.status == "timeout" and f"{notebook_limit:.0f} s" in looper.error
    assert (results["e-perfect-again"].status, results["e-perfect-again"].score) == ("graded", full)
    partial = results["f-partial"]
    assert partial.status == "graded" and 0 < partial.score < full
