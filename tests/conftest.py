"""Shared fixtures: the repository, its built modules, and (once per session) their grades."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from course import catalog
from course.grading import Scores, grade_notebooks
from course.scratch import ScratchCourse
from course.submissions import WrongAnswer, fill_answers, load_wrong_answers

REPO = Path(__file__).resolve().parents[1]
WRONG_ANSWERS = REPO / "tests" / "wrong_answers"
BUILT = catalog.built(REPO)


def module_params():
    return pytest.mark.parametrize("module", BUILT, ids=[m.id for m in BUILT])


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


class ModuleGrades:
    """nbgrader's scores for the solution, the blank release and every recorded mistake.

    Recorded mistakes are packed: submission ``wrong-k`` carries the k-th mistake of every
    answer cell at once. Exercises are graded independently (each check cell builds its own
    inputs), so a pack grades as many mistakes as one notebook run, and the cells it left
    alone must still score full marks. That makes grading a module cost its largest number
    of mistakes per cell in notebook runs, not its number of mistakes.
    """

    def __init__(self, module: catalog.Module) -> None:
        self.module = module
        with ScratchCourse(REPO) as scratch:
            release_dir = scratch.generate(module)
            self.release = nbformat.read(release_dir / module.notebook, as_version=4)
        self.solution = nbformat.read(module.solution_path(REPO), as_version=4)
        self.wrong_answers = load_wrong_answers(WRONG_ANSWERS, module.id)
        self.packs = pack_wrong_answers(self.wrong_answers)
        submissions = {
            "solution": fill_answers(self.release, self.solution),
            "blank": self.release,
        }
        for pack_id, pack in self.packs.items():
            submissions[pack_id] = fill_answers(
                self.release, self.solution, {w.grade_id: w.source for w in pack}
            )
        self.scores: Scores = grade_notebooks(REPO, module.id, submissions)

    def pack_of(self, wrong: WrongAnswer) -> tuple[str, list[WrongAnswer]]:
        for pack_id, pack in self.packs.items():
            if wrong in pack:
                return pack_id, pack
        raise KeyError(wrong.path.name)

    def total(self, student: str) -> tuple[float, float]:
        cells = self.scores[student].values()
        return sum(c.score or 0 for c in cells), sum(c.max_score for c in cells)


# Grades computed in this session, reported at its end (pytest_terminal_summary).
GRADED: dict[str, ModuleGrades] = {}


def score_lines(grades: ModuleGrades) -> list[str]:
    """nbgrader's scores for a module: totals, then each recorded mistake in its own cell."""
    solution, full = grades.total("solution")
    blank, _ = grades.total("blank")
    lines = [f"{grades.module.id}: solution {solution:g}/{full:g}, blank {blank:g}/{full:g}"]
    for pack_id, pack in grades.packs.items():
        earned, _ = grades.total(pack_id)
        lines.append(f"  {pack_id}: {earned:g}/{full:g} with {len(pack)} mistakes")
        for wrong in pack:
            cell = grades.scores[pack_id].get(f"{wrong.grade_id}_test")
            score = "no check cell" if cell is None else f"{cell.score or 0:g}/{cell.max_score:g}"
            lines.append(f"    {wrong.path.name}: {score}")
    return lines


def pytest_terminal_summary(terminalreporter):
    if not GRADED:
        return
    lines = [line for grades in GRADED.values() for line in score_lines(grades)]
    artefacts = Path(os.environ.get("PYTEST_ARTIFACTS") or REPO / "test-artifacts")
    artefacts.mkdir(parents=True, exist_ok=True)
    report = artefacts / "grading-scores.txt"
    report.write_text("\n".join(lines) + "\n")
    terminalreporter.section(f"nbgrader scores (each recorded mistake: {report})")
    for line in lines:
        if not line.startswith("    "):
            terminalreporter.write_line(line)


def pack_wrong_answers(wrong_answers: list[WrongAnswer]) -> dict[str, list[WrongAnswer]]:
    """Submission id -> the mistakes it carries, at most one per answer cell."""
    packs: dict[str, list[WrongAnswer]] = {}
    seen: dict[str, int] = {}
    for wrong in wrong_answers:
        index = seen.get(wrong.grade_id, 0)
        seen[wrong.grade_id] = index + 1
        packs.setdefault(f"wrong-{index + 1}", []).append(wrong)
    return packs


@pytest.fixture(scope="session")
def module_grades():
    cache: dict[str, ModuleGrades] = {}

    def get(module: catalog.Module) -> ModuleGrades:
        if module.id not in cache:
            cache[module.id] = GRADED[module.id] = ModuleGrades(module)
        return cache[module.id]

    return get
