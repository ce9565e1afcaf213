"""A synthetic class for any module: honest, partial and hostile submissions.

Every student is built from the module's release and solution, and comes with the score it
has *earned*, cell by cell, so tests and benchmarks can assert that grading gives exactly
that. Hostile code is added as extra cells (after the setup cell), which works for every
module whatever its answer cells contain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode

from course.submissions import answer_cells, check_cells, fill_answers, nbgrader_meta


@dataclass
class SyntheticStudent:
    student_id: str
    notebook: NotebookNode
    expected: dict[str, float]  # check cell grade_id -> points earned
    restored: tuple[str, ...] = ()  # check cells the student deleted


LOOP_FOREVER = "while True:\n    pass\n"
OS_EXIT = "import os\nos._exit(3)\n"
SYSTEM_EXIT = "raise SystemExit('bye')\n"
PRINT_MEGABYTES = "for _ in range(40):\n    print('x' * 100_000)\n"
PATCH_GRADER = """\
import graders.report

graders.report.Report.finish = lambda self: self
graders.report.Report.fail = lambda self, *args, **kwargs: None
"""
PATCH_BUILTINS = """\
import builtins
import types

_real_import = builtins.__import__


class _Anything:
    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


class _FakeGraders(types.ModuleType):
    def __getattr__(self, name):
        return _Anything()


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "graders" or name.startswith("graders."):
        return _FakeGraders(name)
    return _real_import(name, globals, locals, fromlist, level)


builtins.__import__ = _import
"""
READ_SOLUTIONS = """\
import json
import re
from pathlib import Path

found = []
for folder in [Path.cwd(), *Path.cwd().parents]:
    for notebook in folder.glob("solutions/{module}/*.ipynb"):
        found.append(notebook)
        for cell in json.loads(notebook.read_text())["cells"]:
            meta = cell.get("metadata", {{}}).get("nbgrader", {{}})
            if meta.get("solution") and not meta.get("grade"):
                source = "".join(cell["source"])
                source = re.sub(r"(?m)^\\s*### (BEGIN|END) SOLUTION\\s*$", "", source)
                if not source.startswith("%%"):
                    exec(source, globals())
    found += list(folder.glob("gradebook.db"))
print("found:", found)
"""


def _points(release: NotebookNode) -> dict[str, float]:
    return {gid: float(nbgrader_meta(c)["points"]) for gid, c in check_cells(release).items()}


def _insert_after_setup(notebook: NotebookNode, source: str) -> NotebookNode:
    notebook = copy.deepcopy(notebook)
    index = next(
        (
            i + 1
            for i, c in enumerate(notebook.cells)
            if nbgrader_meta(c).get("grade_id") == "setup"
        ),
        1,
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "student-added"
    notebook.cells.insert(index, cell)
    return notebook


def synthetic_class(
    module_id: str,
    release: NotebookNode,
    solution: NotebookNode,
    mistake: tuple[str, str] | None = None,
) -> list[SyntheticStudent]:
    """The class; ``mistake`` (answer grade_id, wrong source) adds a student who made it."""
    points = _points(release)
    full = dict(points)
    zero = dict.fromkeys(points, 0.0)
    answers = list(answer_cells(release))
    checks = list(check_cells(release))
    first_answer, first_check = answers[0], f"{answers[0]}_test"
    if first_check not in checks:
        raise ValueError(f"{module_id}: answer cell {first_answer} has no check cell {first_check}")
    stubs = {gid: cell.source for gid, cell in answer_cells(release).items()}
    filled = fill_answers(release, solution)

    half = set(answers[len(answers) // 2 :])
    partial = fill_answers(release, solution, {gid: stubs[gid] for gid in half})
    partial_expected = {
        gid: (0.0 if gid.removesuffix("_test") in half else pts) for gid, pts in points.items()
    }
    # Hostile code runs before an honest first exercise: the student must still earn it.
    # The other exercises stay unanswered, which keeps a module's class cheap to grade
    # (their checks stop at the placeholder) without weakening what is proven.
    first_only = fill_answers(
        release, solution, {gid: stubs[gid] for gid in answers if gid != first_answer}
    )
    first_earned = {**zero, first_check: points[first_check]}

    # A forged or deleted check cell must be graded as the instructor wrote it: with the
    # answer blank it then scores 0, where the forgery would have scored full marks.
    edited = copy.deepcopy(release)
    for cell in edited.cells:
        if nbgrader_meta(cell).get("grade_id") == first_check:
            cell.source = "print('all checks passed')"
    deleted = copy.deepcopy(release)
    deleted.cells = [c for c in deleted.cells if nbgrader_meta(c).get("grade_id") != first_check]
    duplicated = copy.deepcopy(first_only)
    for index, cell in reversed(list(enumerate(duplicated.cells))):
        if nbgrader_meta(cell).get("grade_id") in (first_answer, first_check):
            twin = copy.deepcopy(cell)
            twin.id = f"{cell.id}-copy"
            duplicated.cells.insert(index + 1, twin)

    extra = []
    if mistake is not None:
        grade_id, source = mistake
        extra.append(
            SyntheticStudent(
                "made-a-mistake",
                fill_answers(release, solution, {grade_id: source}),
                {**full, f"{grade_id}_test": 0.0},
            )
        )
    return [
        SyntheticStudent("perfect", filled, full),
        SyntheticStudent("blank", release, zero),
        SyntheticStudent("partial", partial, partial_expected),
        SyntheticStudent(
            "loops-forever", _insert_after_setup(first_only, LOOP_FOREVER), first_earned
        ),
        SyntheticStudent("calls-os-exit", _insert_after_setup(first_only, OS_EXIT), first_earned),
        SyntheticStudent(
            "raises-systemexit", _insert_after_setup(first_only, SYSTEM_EXIT), first_earned
        ),
        SyntheticStudent(
            "prints-megabytes", _insert_after_setup(first_only, PRINT_MEGABYTES), first_earned
        ),
        SyntheticStudent("edits-a-check-cell", edited, zero),
        SyntheticStudent("deletes-a-check-cell", deleted, zero, (first_check,)),
        SyntheticStudent("duplicates-cells", duplicated, first_earned),
        SyntheticStudent("patches-a-grader", _insert_after_setup(release, PATCH_GRADER), zero),
        SyntheticStudent("patches-builtins", _insert_after_setup(release, PATCH_BUILTINS), zero),
        SyntheticStudent(
            "reads-solutions",
            _insert_after_setup(release, READ_SOLUTIONS.format(module=module_id)),
            zero,
        ),
        *extra,
    ]
