"""The grader core: findings are collected, located, rendered, and raised together."""

from __future__ import annotations

import pytest

from graders import GradingError, Report


def test_a_report_with_no_findings_passes_and_says_how_many_checks_ran():
    report = Report("Exercise 1")
    report.check(True, "a", "fine")
    report.check_equal(2, 2, "b", "fine")
    assert report.ok
    assert report.finish() is report
    assert report.summary() == "✓ Exercise 1: all 2 checks passed"


def test_finish_raises_once_with_every_finding_and_its_location():
    report = Report("Exercise 2")
    report.check_equal([1, 2], [1, 2, 3], "result", "wrong list", hint="append 3")
    report.check(False, "Dockerfile:12", "runs as root", expected="USER app", found="(none)")
    with pytest.raises(GradingError) as caught:
        report.finish()
    text = str(caught.value)
    assert "2 problems found" in text
    assert "✗ result: wrong list" in text and "expected: [1, 2, 3]" in text
    assert "found:    [1, 2]" in text and "hint:     append 3" in text
    assert "✗ Dockerfile:12: runs as root" in text
    assert text.index("result") < text.index("Dockerfile:12"), "findings keep their order"


def test_grading_error_renders_without_a_traceback_in_ipython():
    report = Report("Exercise 3")
    report.fail("cell", "nope")
    lines = GradingError(report)._render_traceback_()
    assert lines[0].startswith("GradingError: Exercise 3")
    assert not any("File " in line for line in lines), "no source lines may leak"


def test_html_rendering_escapes_student_values():
    report = Report("Exercise <4>")
    report.fail("x", "bad <script>", found="<b>")
    html = report._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Exercise &lt;4&gt;" in html


def test_attempt_turns_an_exception_into_a_located_finding_and_carries_on():
    report = Report("Exercise 5")
    answer_cell: dict = {}  # the learner's code lives in another cell (file) than the check
    exec(compile('def student():\n    return {}["missing"]\n', "answer.py", "exec"), answer_cell)
    student = answer_cell["student"]

    with report.attempt("student()"):
        student()
        report.check(False, "never", "not reached")
    report.check(True, "later", "still runs")
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert finding.location == "student()"
    assert "raised KeyError" in finding.message
    assert "student" in (finding.hint or "")


def test_placeholder_is_reported_once_as_not_written_yet():
    report = Report("Exercise 6")
    for _ in range(3):
        with report.attempt("f()"):
            raise NotImplementedError
    assert report.blocked
    assert [f.message for f in report.findings] == [
        "not written yet: the placeholder is still there"
    ]


def test_attempt_captures_stray_output_so_stderr_never_reaches_the_cell(capsys):
    import sys
    import warnings

    report = Report("Exercise 7")
    with report.attempt("noisy()") as out:
        print("to stdout")
        print("to stderr", file=sys.stderr)
        warnings.warn("deprecated thing", stacklevel=1)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert "to stdout" in out.getvalue() and "to stderr" in out.getvalue()
    assert report.ok


def test_name_error_hints_at_running_the_answer_cell():
    report = Report("Exercise 8")
    with report.attempt("undefined_function()"):
        undefined_function()  # noqa: F821
    assert "Define it in the answer cell" in (report.findings[0].hint or "")


def test_require_abandons_the_block_after_recording():
    report = Report("Exercise 9")
    with report.attempt("f()"):
        report.require(False, "f()", "should return a DataFrame", found="NoneType")
        report.check(False, "never", "not reached")
    assert [f.location for f in report.findings] == ["f()"]


def test_long_values_are_truncated_in_findings():
    report = Report("Exercise 10")
    report.check_equal(list(range(1000)), [], "big", "too long")
    assert "(truncated)" in report.findings[0].found
    assert len(report.findings[0].found) <= 300


def test_progress_lists_passed_failed_and_unrun_exercises():
    from graders.progress import show_progress
    from graders.report import OUTCOMES

    OUTCOMES.clear()
    Report("Exercise 1 · a").finish()
    failing = Report("Exercise 2 · b")
    failing.fail("x", "wrong")
    with pytest.raises(GradingError):
        failing.finish()
    progress = show_progress(["Exercise 1 · a", "Exercise 2 · b", "Exercise 3 · c"])
    assert progress.rows == [
        ("Exercise 1 · a", "pass"),
        ("Exercise 2 · b", "fail"),
        ("Exercise 3 · c", "not run yet"),
    ]
    assert progress.summary() == "1 of 3 exercises pass their visible checks"
    assert "✗ fail" in progress._repr_html_()
    OUTCOMES.clear()


def _run_as_cells(check_source: str, answer_source: str) -> Report:
    """Compile answer and check code under two file names, as IPython does with two cells."""
    namespace: dict = {"Report": Report}
    exec(compile(answer_source, "/tmp/ipykernel_1/answer.py", "exec"), namespace)
    exec(compile(check_source, "/tmp/ipykernel_1/check.py", "exec"), namespace)
    return namespace["report"]


def test_a_located_hint_points_at_the_students_line_not_the_checks():
    report = _run_as_cells(
        "report = Report('x')\n"
        "def hidden_helper():\n"
        "    return {}['SECRET_HIDDEN_CASE']\n"
        "with report.attempt('answer()'):\n"
        "    answer()\n"
        "with report.attempt('hidden_helper()'):\n"
        "    hidden_helper()\n",
        "def answer():\n    return 1 / 0\n",
    )
    student, check = report.findings
    assert "answer.py:2" in student.hint
    assert "SECRET_HIDDEN_CASE" not in (check.hint or ""), "a check's own line is never shown"
    assert "check.py" not in (check.hint or "")
