"""A graded kernel that dies is revived (course/hardening.py), and a notebook that cannot be
graded says why (course/autograde.py)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat import v4
from traitlets.config import Config

from course.autograde import failure_reason
from course.hardening import MAX_REVIVALS, GuardedExecute
from course.sandbox import unavailable_reason

EXIT = "import os\nos._exit(3)\n"


def _run(tmp_path, sources: list[str]) -> nbformat.NotebookNode:
    notebook = v4.new_notebook(cells=[v4.new_code_cell(source) for source in sources])
    config = Config()
    config.Sandbox.required = unavailable_reason() is None  # sandboxed wherever it can be
    execute = GuardedExecute(config=config, timeout=60)
    graded, _ = execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    return graded


def _restarted(cell) -> bool:
    return any(o.get("ename") == "KernelRestarted" for o in cell.outputs)


def _printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
def test_cells_that_killed_the_kernel_are_not_replayed_when_it_is_revived(tmp_path):
    """Replaying the cells above a fatal one used to replay the earlier fatal ones too, and
    three deaths in a row ended the grading of a notebook whose last cell was fine."""
    graded = _run(tmp_path, ["x = 41", *[EXIT] * MAX_REVIVALS, "print(x + 1)"])
    assert [_restarted(cell) for cell in graded.cells] == [False, True, True, True, False]
    assert _printed(graded.cells[-1]) == "42\n"


@pytest.mark.slow
def test_a_kernel_that_fails_to_come_back_is_revived_again(tmp_path, monkeypatch):
    """A new kernel that does not answer in time (a loaded machine) is one more death, not
    the end of the notebook's grading."""
    fresh = GuardedExecute._fresh_kernel
    failures = iter([RuntimeError("Kernel didn't respond in 60 seconds")])

    def flaky(self):
        fresh(self)
        failure = next(failures, None)
        if failure is not None:
            raise failure

    monkeypatch.setattr(GuardedExecute, "_fresh_kernel", flaky)
    graded = _run(tmp_path, ["x = 41", EXIT, "print(x + 1)"])
    assert _restarted(graded.cells[1]) and _printed(graded.cells[2]) == "42\n"


NBGRADER_LOG = """\
[INFO] Converting notebook /c/autograded/ana/04-kubernetes/kubernetes.ipynb
[WARNING] Attribute 'checksum' for cell quiz_test has changed! (should be: 1, got: 2)
[ERROR] There was an error processing assignment: /c/submitted/ana/04-kubernetes
[ERROR] Traceback (most recent call last):
  File "/venv/nbgrader/converters/base.py", line 400, in convert_notebooks
    self.convert_single_notebook(notebook_filename)
RuntimeError: Kernel didn't respond in 60 seconds
[WARNING] Removing failed assignment: /c/autograded/ana/04-kubernetes
[ERROR] There was an error processing assignment '04-kubernetes' for student 'ana'
[ERROR] Please see the the above traceback for details on the specific errors on the above failures.
"""

NBGRADER_ERROR = """\
Traceback (most recent call last):
  File "/venv/nbgrader/converters/base.py", line 468, in convert_notebooks
    raise NbGraderException(msg)
nbgrader.converters.base.NbGraderException: Please see the the above traceback for details.
"""


def test_a_failed_grading_says_what_went_wrong_not_see_the_traceback_above():
    reason = failure_reason({"success": False, "log": NBGRADER_LOG, "error": NBGRADER_ERROR})
    assert reason == "RuntimeError: Kernel didn't respond in 60 seconds"


def test_without_a_log_the_error_nbgrader_returned_is_the_reason():
    reason = failure_reason({"success": False, "error": NBGRADER_ERROR}, entries=1)
    assert reason.startswith("nbgrader.converters.base.NbGraderException")
    assert failure_reason({"success": False}) == "nbgrader failed"


def test_the_grade_table_indents_every_line_of_a_reason():
    from course.autograde import StudentResult, format_results

    failed = StudentResult("ana", "failed", error="Kernel died\nthe kernel died more than 3 times")
    table = format_results([failed]).splitlines()
    assert table[-2:] == ["    Kernel died", "    the kernel died more than 3 times"]
