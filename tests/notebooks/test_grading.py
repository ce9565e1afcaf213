"""Graded with nbgrader: solutions score full marks, blanks zero, every mistake is caught."""

from __future__ import annotations

import pytest

from course.submissions import load_wrong_answers
from tests.conftest import BUILT, WRONG_ANSWERS, module_params

pytestmark = pytest.mark.slow


@module_params()
def test_solution_scores_full_marks(module, module_grades):
    grades = module_grades(module)
    lost = {
        cell: f"{s.score}/{s.max_score}"
        for cell, s in grades.scores["solution"].items()
        if s.score != s.max_score
    }
    assert not lost, f"{module.id}: the solution loses points in {lost}"


@module_params()
def test_blank_release_scores_zero(module, module_grades):
    grades = module_grades(module)
    earned = {cell: s.score for cell, s in grades.scores["blank"].items() if s.score}
    assert not earned, f"{module.id}: the released placeholders earn points in {earned}"


WRONG = [(m, w) for m in BUILT for w in load_wrong_answers(WRONG_ANSWERS, m.id)]


@pytest.mark.parametrize(
    ("module", "wrong"), WRONG, ids=[f"{m.id}/{w.path.stem}" for m, w in WRONG]
)
def test_recorded_wrong_answer_loses_its_points(module, wrong, module_grades):
    grades = module_grades(module)
    pack_id, pack = grades.pack_of(wrong)
    scores = grades.scores[pack_id]
    target = f"{wrong.grade_id}_test"
    assert target in scores, f"{wrong.path.name}: no check cell named {target}"
    assert scores[target].score == 0, (
        f"{wrong.path.name} ({wrong.description}) still earns "
        f"{scores[target].score}/{scores[target].max_score} in {target}"
    )
    tampered = {f"{w.grade_id}_test" for w in pack}
    collateral = {
        cell: s.score
        for cell, s in scores.items()
        if cell not in tampered and s.score != s.max_score
    }
    assert not collateral, (
        f"{pack_id} (mistakes {sorted(w.path.name for w in pack)}) also costs points in "
        f"exercises it did not touch {collateral}: exercises must be graded independently"
    )


@module_params()
def test_every_answer_cell_has_a_recorded_wrong_answer(module, module_grades):
    grades = module_grades(module)
    answered = {w.grade_id for w in grades.wrong_answers}
    tested = {cell.removesuffix("_test") for cell in grades.scores["solution"]}
    missing = sorted(tested - answered)
    assert not missing, (
        f"{module.id}: no recorded wrong answer for {missing}; add one under "
        f"tests/wrong_answers/{module.id}/<grade_id>.<mistake>.py"
    )
