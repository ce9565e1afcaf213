"""Reading nbgrader's cell roles from a notebook.

A notebook's graded structure is in its cells' ``nbgrader`` metadata: answer cells
(``solution``, not ``grade``) hold student code; check cells (``grade``, not ``solution``)
hold the instructor's tests. The driver uses these to count the check cells a submission
deleted and to read a student's self-check; the test suite uses them to compose
submissions (``tests/classroom.py``).
"""

from __future__ import annotations

import nbformat


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
