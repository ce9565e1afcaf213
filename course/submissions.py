"""Compose student submissions from the release: filled in, blank, or with one mistake.

A submission is the released notebook (with its nbgrader checksums) whose answer cells
hold some student's code. The test suite and the benchmarks use these to prove that the
solution scores full marks, the blank release scores zero, and each recorded wrong answer
loses the points of the exercise it belongs to.

Recorded wrong answers live in ``tests/wrong_answers/<module>/<grade_id>.<slug>.py``: the
file's text replaces the answer cell ``grade_id``; its first ``# `` comment line says what
the mistake is (after a ``%%writefile`` line, which must stay first). The exercise's
check cells are the grade cells named ``<grade_id>_test``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class WrongAnswer:
    module_id: str
    grade_id: str
    slug: str
    source: str
    path: Path

    @property
    def student_id(self) -> str:
        # nbgrader student ids end up in paths and the gradebook: keep them plain
        return re.sub(r"[^a-z0-9]+", "-", f"wrong-{self.grade_id}-{self.slug}".lower())

    @property
    def description(self) -> str:
        comments = [ln for ln in self.source.splitlines() if ln.startswith("# ")]
        return comments[0].removeprefix("# ").strip() if comments else self.slug


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Autograded answer cells (solution, not graded) by grade_id."""
    return {
        nbgrader_meta(c)["grade_id"]: c
        for c in notebook.cells
        if nbgrader_meta(c).get("solution") and not nbgrader_meta(c).get("grade")
    }


def check_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Autograder test cells (graded, not solution) by grade_id."""
    return {
        nbgrader_meta(c)["grade_id"]: c
        for c in notebook.cells
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
    }


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not MARKER.match(line))


def fill_answers(
    release: nbformat.NotebookNode,
    solution: nbformat.NotebookNode,
    replacements: dict[str, str] | None = None,
) -> nbformat.NotebookNode:
    """The release notebook with every answer cell taken from the solution, except the
    cells in ``replacements`` (grade_id to source), which get that source instead."""
    filled = nbformat.from_dict(release)
    solutions = answer_cells(solution)
    replacements = replacements or {}
    for grade_id, cell in answer_cells(filled).items():
        if grade_id in replacements:
            cell.source = replacements[grade_id]
        else:
            cell.source = strip_markers(solutions[grade_id].source)
    return filled


def load_wrong_answers(folder: Path, module_id: str) -> list[WrongAnswer]:
    answers = []
    for path in sorted((folder / module_id).glob("*.py")):
        grade_id, _, slug = path.stem.partition(".")
        answers.append(WrongAnswer(module_id, grade_id, slug or "wrong", path.read_text(), path))
    return answers
