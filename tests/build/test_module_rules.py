"""Every built module meets the exercise rules of docs/authoring-modules.md."""

from __future__ import annotations

import re

import nbformat

from course.submissions import answer_cells, check_cells, nbgrader_meta
from tests.conftest import REPO, module_params

MIN_EXERCISES = 6
MIN_POINTS = 20


def solution(module):
    return nbformat.read(module.solution_path(REPO), as_version=4)


@module_params()
def test_module_has_enough_exercises_and_points(module):
    checks = check_cells(solution(module))
    points = sum(nbgrader_meta(c).get("points", 0) for c in checks.values())
    assert len(checks) >= MIN_EXERCISES, f"{module.id}: {len(checks)} graded check cells"
    assert points >= MIN_POINTS, f"{module.id}: {points} points"


@module_params()
def test_every_answer_cell_has_its_check_cell(module):
    notebook = solution(module)
    answers = set(answer_cells(notebook))
    checks = set(check_cells(notebook))
    unchecked = sorted(a for a in answers if f"{a}_test" not in checks)
    orphans = sorted(c for c in checks if c.removesuffix("_test") not in answers)
    assert not unchecked, f"{module.id}: answer cells without a check cell: {unchecked}"
    assert not orphans, f"{module.id}: check cells without an answer cell: {orphans}"


@module_params()
def test_check_cells_have_visible_and_hidden_checks_and_finish(module):
    problems = []
    for grade_id, cell in check_cells(solution(module)).items():
        meta = nbgrader_meta(cell)
        source = cell.source
        visible = source.split("### BEGIN HIDDEN TESTS")[0]
        if not meta.get("locked"):
            problems.append(f"{grade_id}: not locked")
        if "### BEGIN HIDDEN TESTS" not in source or "### END HIDDEN TESTS" not in source:
            problems.append(f"{grade_id}: no hidden tests")
        # visible cases may be collected first and graded together after the hidden block
        if "Report(" not in visible:
            problems.append(f"{grade_id}: no Report before the hidden tests")
        if not source.rstrip().endswith("report.finish();"):
            problems.append(f"{grade_id}: does not end with report.finish();")
        if source.rfind("report.finish()") < source.rfind("### END HIDDEN TESTS"):
            problems.append(f"{grade_id}: report.finish() before the hidden block ends")
        if re.search(r"^\s*assert\b", source, re.M):
            problems.append(f"{grade_id}: a bare assert (use the Report)")
    assert not problems, f"{module.id}:\n" + "\n".join(problems)


@module_params()
def test_answer_cells_are_never_bash_magics(module):
    bash = [g for g, c in answer_cells(solution(module)).items() if c.source.startswith("%%bash")]
    assert not bash, f"{module.id}: %%bash answer cells break the release: {bash}"


@module_params()
def test_setup_cell_is_locked_and_imports_the_report(module):
    cells = [c for c in solution(module).cells if nbgrader_meta(c).get("grade_id") == "setup"]
    assert cells, f"{module.id}: no setup cell (grade_id 'setup')"
    assert nbgrader_meta(cells[0]).get("locked"), f"{module.id}: the setup cell is not locked"
    assert "from graders" in cells[0].source, f"{module.id}: setup does not import graders"


@module_params()
def test_cell_ids_are_stable_and_readable(module):
    bad = [
        c.get("id")
        for c in solution(module).cells
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", c.get("id", ""))
    ]
    assert not bad, f"{module.id}: cell ids that are not readable slugs: {bad[:5]}"
