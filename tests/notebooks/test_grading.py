"""Graded by the instructor's engine: solutions score full marks, blanks zero, every
recorded mistake is caught and costs nothing else. All read the module's one graded class
(``tests/classroom.py``)."""

from __future__ import annotations

import nbformat
import pytest

from course.submissions import answer_cells
from tests.classroom import REPO, load_wrong_answers
from tests.conftest import BUILT, module_params

pytestmark = pytest.mark.slow


def _lost(cells: dict[str, float | None], points: dict[str, float]) -> dict[str, str]:
    return {
        cell: f"{cells.get(cell)}/{full:g}"
        for cell, full in points.items()
        if cells.get(cell) != full
    }


@module_params("class")
def test_solution_scores_full_marks(module, graded_class):
    graded = graded_class(module)
    result = graded.results["perfect"]
    assert result.status == "graded", result.error
    lost = _lost(result.cells, graded.points)
    assert not lost, f"{module.id}: the solution loses points in {lost}"


@module_params("class")
def test_blank_release_scores_zero(module, graded_class):
    result = graded_class(module).results["blank"]
    assert result.status == "graded", result.error
    earned = {cell: score for cell, score in result.cells.items() if score}
    assert not earned, f"{module.id}: the released placeholders earn points in {earned}"


WRONG = [(m, w) for m in BUILT for w in load_wrong_answers(m.id)]


@pytest.mark.parametrize(
    ("module", "wrong"),
    [
        pytest.param(
            m,
            w,
            id=f"{m.id}/{w.path.stem}",
            marks=pytest.mark.classroom,
        )
        for m, w in WRONG
    ],
)
def test_recorded_wrong_answer_loses_its_points(module, wrong, graded_class):
    graded = graded_class(module)
    pack = graded.pack_of(wrong)
    result = graded.results[pack.student_id]
    assert result.status == "graded", result.error
    target = f"{wrong.grade_id}_test"
    assert target in result.cells, f"{wrong.path.name}: no check cell named {target}"
    assert result.cells[target] == 0, (
        f"{wrong.path.name} ({wrong.description}) still earns "
        f"{result.cells[target]}/{graded.points[target]:g} in {target}"
    )
    tampered = {f"{w.grade_id}_test" for w in pack.mistakes}
    collateral = {
        cell: score
        for cell, score in result.cells.items()
        if cell not in tampered and score != graded.points[cell]
    }
    assert not collateral, (
        f"{pack.student_id} (mistakes {sorted(w.path.name for w in pack.mistakes)}) also costs "
        f"points in exercises it did not touch {collateral}: exercises must be graded "
        "independently"
    )


# New modules (07 on) need at least two realistic mistakes per graded cell, the first six
# at least one (docs/authoring-modules.md).
def required_mistakes(module) -> int:
    return 2 if module.number >= 7 else 1


@module_params()
def test_every_answer_cell_has_recorded_wrong_answers(module):
    answers = answer_cells(nbformat.read(module.solution_path(REPO), as_version=4))
    recorded = [w.grade_id for w in load_wrong_answers(module.id)]
    short = {a: recorded.count(a) for a in answers if recorded.count(a) < required_mistakes(module)}
    assert not short, (
        f"{module.id}: too few recorded wrong answers {short} (need "
        f"{required_mistakes(module)} per answer cell); add them under "
        f"tests/wrong_answers/{module.id}/<grade_id>.<mistake>.py"
    )
