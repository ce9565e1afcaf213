"""The check contract of modules graded by the trusted checker (docs/authoring-modules.md).

A check cell runs in the checker, where the only names are the instructor's (bound by
locked and check cells, run in source order) and the answer names taken from the
learner's kernel. A check that read any other name (one bound by an unlocked demo cell,
say) would fail for every student when graded while passing in the notebook, so each such
name is a defect found here, with the cell that needs it.
"""

from __future__ import annotations

import ast
import builtins

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course import catalog
from course.trusted import answer_names, bound_names, checker_cells, trusted_checks_enabled
from tests.classroom import REPO

TRUSTED = [
    m.id
    for m in catalog.select(REPO, None)
    if trusted_checks_enabled(nbformat.read(m.solution_path(REPO), as_version=4))
]


def loaded_names(source: str) -> set[str]:
    """Names a cell reads that it does not bind itself (anywhere in the cell)."""
    tree = ast.parse(TransformerManager().transform_cell(source))
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound - set(dir(builtins)) - {"get_ipython"}


def test_some_module_is_graded_by_the_trusted_checker():
    assert TRUSTED, "no source notebook sets metadata.mlops.trusted_checks"


@pytest.mark.parametrize("module_id", TRUSTED)
def test_checks_read_only_instructor_and_answer_names(module_id):
    source = nbformat.read(catalog.get(module_id).solution_path(REPO), as_version=4)
    answers = set(answer_names(source))
    known: set[str] = set()
    unknown = []
    for cell in checker_cells(source):
        missing = loaded_names(cell["source"]) - known - answers
        if missing:
            unknown.append(f"{cell['kind']} cell {cell['grade_id']}: {sorted(missing)}")
        known |= bound_names(cell["source"])
    assert not unknown, "names the checker would not have:\n" + "\n".join(unknown)


@pytest.mark.parametrize("module_id", TRUSTED)
def test_answer_cells_do_not_rebind_instructor_names(module_id):
    """An answer may not bind a name a locked cell binds: the checker would keep its own
    and silently ignore the learner's (the answer would look unanswered)."""
    source = nbformat.read(catalog.get(module_id).solution_path(REPO), as_version=4)
    instructors = set().union(*(bound_names(c["source"]) for c in checker_cells(source)))
    answers = set()
    for cell in source.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            answers |= bound_names(cell.source)
    assert not (answers & instructors), sorted(answers & instructors)
