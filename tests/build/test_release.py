"""The committed release is exactly what the sources produce, and leaks nothing."""

from __future__ import annotations

import re

import nbformat
import pytest

from course import build, catalog
from tests.conftest import BUILT, REPO, module_params

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@pytest.mark.slow
def test_committed_release_matches_the_sources():
    report = build.build(REPO, check=True)
    assert report.clean, "stale generated files (run `mlops-course build`):\n" + "\n".join(
        report.lines()
    )


def marked_and_unmarked(source: str) -> tuple[set[str], set[str]]:
    """(lines between solution or hidden-test markers, lines outside them), stripped."""
    inside, outside, within = set(), set(), False
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line or "### BEGIN HIDDEN TESTS" in line:
            within = True
        elif "### END SOLUTION" in line or "### END HIDDEN TESTS" in line:
            within = False
        elif line.strip():
            (inside if within else outside).add(line.strip())
    return inside, outside


@module_params()
def test_release_has_no_solution_or_hidden_test(module):
    """No marker survives, and no line from inside the markers reaches the same cell of the
    release (unless the instructor also wrote it outside them, like a kept signature)."""
    release = nbformat.read(module.exercise_path(REPO), as_version=4)
    text = "\n".join(cell.source for cell in release.cells)
    markers = [m for m in MARKERS if m in text]
    assert not markers, f"{module.exercise_path(REPO)} still holds markers {markers}"
    released = {cell.get("id"): cell.source for cell in release.cells}
    leaked = []
    for cell in nbformat.read(module.solution_path(REPO), as_version=4).cells:
        inside, outside = marked_and_unmarked(cell.source)
        shown = {line.strip() for line in released.get(cell.get("id"), "").splitlines()}
        leaked += [(cell.get("id"), line) for line in sorted((inside - outside) & shown)]
    # a short line such as `return df` may legitimately also be in the placeholder
    leaked = [(cell, line) for cell, line in leaked if len(line) > 12]
    assert not leaked, f"{module.id}: solution or hidden-test lines in the release: {leaked[:5]}"


@module_params()
def test_release_ships_no_working_files_or_test_data(module):
    folder = REPO / "exercises" / module.id
    shipped = [p.relative_to(REPO).as_posix() for p in folder.rglob("*") if p.is_file()]
    bad = [p for p in shipped if re.search(r"_work/|wrong_answers|\.pyc$|checkpoint", p)]
    assert not bad, f"the release ships files a learner must not get: {bad}"
    marked = [
        p
        for p in shipped
        if any(m.encode() in (REPO / p).read_bytes() for m in ("BEGIN SOLUTION", "HIDDEN TESTS"))
    ]
    assert not marked, f"released files with solution or hidden-test markers: {marked}"


def every_notebook():
    paths = [REPO / "START_HERE.ipynb"]
    for top in ("solutions", "exercises"):
        paths += sorted(p for p in (REPO / top).rglob("*.ipynb") if "_work" not in str(p))
    return paths


@pytest.mark.parametrize("path", every_notebook(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_notebook_is_committed_clean(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [
        cell.get("id", index)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells with outputs or execution counts: {dirty}"
    assert "widgets" not in notebook.metadata, f"{path.name}: widget state is committed"


def test_catalog_lists_every_module_folder():
    folders = {p.name for p in (REPO / "solutions").iterdir() if p.is_dir()}
    listed = {m.id for m in catalog.MODULES}
    assert folders <= listed, f"module folders missing from the catalog: {folders - listed}"
    assert BUILT, "no module is built"
