"""Units of the grading workflow: names, patterns, hardening, reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from course import catalog, exchange
from course.errors import CourseError
from course.hardening import HIDDEN_PLACEHOLDER, StripHiddenTests, guard_code
from course.nbconfig import load_config
from course.results import ExerciseStats, hardest_report
from course.selfcheck import CheckResult, format_table
from tests.conftest import REPO


def test_submission_file_name_matches_the_zip_collect_pattern(tmp_path):
    notebook = tmp_path / "python.ipynb"
    notebook.write_text("{}")
    when = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
    written = exchange.submit(
        REPO, "01-python", student="ada.l-1", notebook=notebook, out_dir=tmp_path / "out", now=when
    )
    assert written.name == "ada.l-1__01-python__20260301T123005Z__python.ipynb"
    pattern = load_config(REPO).FileNameCollectorPlugin.named_regexp
    match = re.match(pattern, str(written.resolve()))
    assert match and match.groupdict() == {
        "student_id": "ada.l-1",
        "timestamp": "20260301T123005Z",
        "file_id": "python.ipynb",
    }


@pytest.mark.parametrize("bad", ["has space", "a__b", "../etc", ""])
def test_submit_refuses_student_ids_that_break_collection(tmp_path, bad):
    with pytest.raises(CourseError):
        exchange.submit(
            REPO, "01-python", student=bad or "-", notebook=REPO / "README.md", out_dir=tmp_path
        )


def _check_cell(source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "x_test",
        "points": 1,
    }
    return cell


def test_feedback_strips_hidden_tests_but_keeps_visible_ones_and_finish():
    cell = _check_cell(
        "report = Report('x')\nreport.check(a, 'visible')\n"
        "    ### BEGIN HIDDEN TESTS\nreport.check(b, 'secret edge case')\n"
        "### END HIDDEN TESTS\nreport.finish();"
    )
    stripped, _ = StripHiddenTests().preprocess_cell(cell, {}, 0)
    assert "secret edge case" not in stripped.source
    assert "report.check(a, 'visible')" in stripped.source
    assert stripped.source.endswith("report.finish();")
    assert HIDDEN_PLACEHOLDER.strip() in stripped.source


def test_feedback_drops_the_traceback_lines_of_a_check_cells_error():
    cell = _check_cell(
        "report = Report('x')\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS"
    )
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="NameError",
            evalue="name 'secret' is not defined",
            traceback=["---> 3 secret_hidden_input = build()", "NameError: ..."],
        )
    ]
    stripped, _ = StripHiddenTests().preprocess_cell(cell, {}, 0)
    assert stripped.outputs[0].traceback == ["NameError: name 'secret' is not defined"]


def test_guard_reimports_only_what_instructor_cells_import():
    setup = nbformat.v4.new_code_cell("from graders import Report\nimport pandas as pd")
    setup.metadata["nbgrader"] = {
        "locked": True,
        "solution": False,
        "grade": False,
        "grade_id": "setup",
    }
    answer = nbformat.v4.new_code_cell("from graders.evil import Fake")
    answer.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "a"}
    check = _check_cell("from graders.frames import check_frame_equal\nreport.finish();")
    code = guard_code(nbformat.v4.new_notebook(cells=[setup, answer, check]))
    assert code.splitlines() == [
        '__import__("sys")._mlops_restore()',
        "from graders import Report",
        "from graders.frames import check_frame_equal",
    ]


def test_guard_reimports_bracketed_imports_and_skips_magics():
    setup = nbformat.v4.new_code_cell(
        "%matplotlib inline\nfrom graders.bash import (\n    run_script,\n    shellcheck,\n)\n"
        "import graders.quiz as quiz"
    )
    setup.metadata["nbgrader"] = {"locked": True, "solution": False, "grade": False}
    writefile = _check_cell("%%writefile x.sh\necho hi )")
    code = guard_code(nbformat.v4.new_notebook(cells=[setup, writefile]))
    assert code.splitlines()[1:] == [
        "from graders.bash import run_script, shellcheck",
        "import graders.quiz as quiz",
    ]


def test_hardest_report_ranks_by_mean_score():
    stats = [
        ExerciseStats("01-python", "easy_test", 4, (4, 4, 4)),
        ExerciseStats("01-python", "hard_test", 4, (0, 0, 4)),
        ExerciseStats("02-bash", "mid_test", 2, (1, 2, 0)),
    ]
    report = hardest_report(stats)
    rows = [line for line in report.splitlines() if line.startswith("| ") and "---" not in line]
    assert [row.split("|")[3].strip() for row in rows[1:]] == ["hard", "mid", "easy"]
    assert "| 1 | 01-python | hard | 33% | 33% | 67% |" in report


def test_self_check_table_sums_visible_points():
    table = format_table(
        [
            CheckResult("clean", 4, True, "all visible checks pass"),
            CheckResult("config", 3, False, "Exercise 2: 1 problem found"),
        ]
    )
    assert "✓ all visible checks pass" in table and "✗ Exercise 2" in table
    assert table.splitlines()[-1].startswith("visible checks pass for 4 of 7 points")


def test_grade_refuses_a_module_without_submissions(tmp_path):
    from course.autograde import grade

    (tmp_path / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    with pytest.raises(CourseError, match="no submissions of 01-python"):
        grade(tmp_path, "01-python")
    with pytest.raises(CourseError, match="no submission of 01-python for ghost"):
        grade(tmp_path, "01-python", ["ghost"])


def test_catalog_ids_are_nbgrader_assignment_ids():
    for module in catalog.MODULES:
        assert re.fullmatch(r"\d\d-[a-z]+", module.id)
        assert Path(module.notebook).suffix == ".ipynb"
