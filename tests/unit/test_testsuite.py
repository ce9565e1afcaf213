"""The test-suite grader: correct code must pass, each planted bug must be caught."""

from __future__ import annotations

from graders import Report
from graders.testsuite import Implementation, grade_test_suite, run_pytest

CORRECT = Implementation("correct", "def double(x):\n    return 2 * x\n")
MUTANTS = [
    Implementation("adds", "def double(x):\n    return x + 2\n", "adds 2 instead of doubling"),
    Implementation("squares", "def double(x):\n    return x * x\n", "squares the input"),
]
GOOD_TESTS = """
from calc import double

def test_double_three():
    assert double(3) == 6

def test_double_zero():
    assert double(0) == 0
"""
WEAK_TESTS = """
from calc import double

def test_double_two():
    assert double(2) == 4
"""


def grade(tmp_path, source, **kwargs):
    test_file = tmp_path / "test_calc.py"
    test_file.write_text(source)
    report = Report("tests")
    grade_test_suite(report, test_file, "calc", CORRECT, MUTANTS, **kwargs)
    return report


def test_a_strong_suite_passes(tmp_path):
    assert grade(tmp_path, GOOD_TESTS).ok


def test_a_weak_suite_is_told_which_planted_bugs_went_unnoticed(tmp_path):
    report = grade(tmp_path, WEAK_TESTS)
    locations = [f.location for f in report.findings]
    assert any("planted bug 'adds'" in loc for loc in locations)
    assert any("planted bug 'squares'" in loc for loc in locations)
    assert "adds 2 instead of doubling" in report.to_text()


def test_a_suite_that_fails_on_correct_code_is_rejected(tmp_path):
    report = grade(tmp_path, GOOD_TESTS.replace("== 6", "== 7"))
    assert any("correct calc.py" in f.location for f in report.findings)


def test_an_empty_file_or_placeholder_scores_nothing(tmp_path):
    assert "no tests" in grade(tmp_path, "import calc\n").to_text()
    placeholder = grade(tmp_path, "# YOUR CODE HERE\nraise NotImplementedError()\n")
    assert placeholder.blocked and "not written yet" in placeholder.to_text()


def test_too_few_tests_is_a_finding(tmp_path):
    assert "too few tests" in grade(tmp_path, GOOD_TESTS, min_tests=3).to_text()


def test_a_hanging_suite_is_stopped(tmp_path):
    run = run_pytest(
        "def test_forever():\n    while True:\n        pass\n", "calc", CORRECT, timeout=2
    )
    assert run.exit_code is None


def test_missing_test_file_says_how_to_create_it(tmp_path):
    report = Report("tests")
    grade_test_suite(report, tmp_path / "nope.py", "calc", CORRECT, MUTANTS)
    assert "does not exist yet" in report.to_text()
