"""Shared fixtures: the repository, its built modules, and (once per session) their grades."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from course import catalog
from course.grading import Scores, grade_notebooks
from course.scratch import ScratchCourse
from course.submissions import fill_answers, load_wrong_answers

REPO = Path(__file__).resolve().parents[1]
WRONG_ANSWERS = REPO / "tests" / "wrong_answers"
BUILT = catalog.built(REPO)


def module_params():
    return pytest.mark.parametrize("module", BUILT, ids=[m.id for m in BUILT])


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


class ModuleGrades:
    """nbgrader's scores for the solution, the blank release and every recorded mistake."""

    def __init__(self, module: catalog.Module) -> None:
        self.module = module
        with ScratchCourse(REPO) as scratch:
            release_dir = scratch.generate(module)
            self.release = nbformat.read(release_dir / module.notebook, as_version=4)
        self.solution = nbformat.read(module.solution_path(REPO), as_version=4)
        self.wrong_answers = load_wrong_answers(WRONG_ANSWERS, module.id)
        submissions = {
            "solution": fill_answers(self.release, self.solution),
            "blank": self.release,
        }
        for wrong in self.wrong_answers:
            submissions[wrong.student_id] = fill_answers(
                self.release, self.solution, {wrong.grade_id: wrong.source}
            )
        self.scores: Scores = grade_notebooks(REPO, module.id, submissions)

    def total(self, student: str) -> tuple[float, float]:
        cells = self.scores[student].values()
        return sum(c.score or 0 for c in cells), sum(c.max_score for c in cells)


@pytest.fixture(scope="session")
def module_grades():
    cache: dict[str, ModuleGrades] = {}

    def get(module: catalog.Module) -> ModuleGrades:
        if module.id not in cache:
            cache[module.id] = ModuleGrades(module)
        return cache[module.id]

    return get
