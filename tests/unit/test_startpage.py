"""The start page's progress view: read from saved notebooks, safe on a fresh clone."""

from __future__ import annotations

import shutil

import nbformat

from course import build, catalog, startpage
from tests.conftest import REPO


def check_cell(grade_id: str, points: float, *, count=None, outputs=()) -> dict:
    cell = nbformat.v4.new_code_cell("report.finish();")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "grade_id": grade_id,
        "points": points,
        "locked": True,
        "schema_version": 3,
    }
    cell.execution_count = count
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def saved_notebook(root, module: catalog.Module, cells) -> None:
    path = module.exercise_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# lesson"), *cells])
    nbformat.write(notebook, path)


def test_an_empty_folder_shows_every_module_as_coming_soon(tmp_path):
    view = startpage.roadmap_progress(tmp_path)
    assert [row.status for row in view.rows] == ["coming soon"] * len(catalog.MODULES)
    assert "coming soon" in repr(view) and "roadmap-progress" in view._repr_html_()


def test_a_fresh_clone_shows_built_modules_as_not_started(tmp_path):
    shutil.copytree(REPO / "exercises", tmp_path / "exercises")
    view = startpage.roadmap_progress(tmp_path)
    for row in view.rows:
        if row.module.exercise_path(REPO).is_file():
            assert row.status == "not started", row
            assert row.total >= 6 and row.points_total >= 20
            assert row.summary().startswith(f"0 of {row.total} exercises pass")
        else:
            assert row.status == "coming soon"


def test_saved_outputs_decide_pass_fail_and_not_run(tmp_path):
    module = catalog.MODULES[0]
    error = {
        "output_type": "error",
        "ename": "GradingError",
        "evalue": "2 problems",
        "traceback": [],
    }
    stderr = {"output_type": "stream", "name": "stderr", "text": "warning"}
    shown = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/plain": "✓ Exercise 1: all 3 checks passed"},
    }
    saved_notebook(
        tmp_path,
        module,
        [
            check_cell("a_test", 4, count=3, outputs=[shown]),
            check_cell("b_test", 4, count=5, outputs=[error]),
            check_cell("c_test", 3, count=6, outputs=[stderr]),
            check_cell("d_test", 3),
        ],
    )
    row = startpage.module_progress(tmp_path, module)
    assert (row.passed, row.failed, row.not_run) == (["a"], ["b", "c"], ["d"])
    assert row.status == "in progress"
    assert row.summary() == "1 of 4 exercises pass (4 of 14 points)"
    view = startpage.roadmap_progress(tmp_path)
    assert "failing: b, c" in repr(view)
    assert f"href='exercises/{module.id}/{module.notebook}'" in view._repr_html_()


def test_every_check_passing_is_reported_as_such(tmp_path):
    module = catalog.MODULES[1]
    saved_notebook(tmp_path, module, [check_cell("a_test", 2, count=1)])
    assert startpage.module_progress(tmp_path, module).status == "all visible checks pass"


def test_an_unreadable_notebook_is_not_a_crash(tmp_path):
    module = catalog.MODULES[0]
    module.exercise_path(tmp_path).parent.mkdir(parents=True)
    module.exercise_path(tmp_path).write_text("{ not json")
    assert startpage.module_progress(tmp_path, module).status == "coming soon"


def test_the_start_page_has_a_clean_progress_cell_and_renders_deterministically():
    notebook = startpage.render(REPO)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) == 1 and "roadmap_progress()" in code[0].source
    assert not code[0].outputs and code[0].execution_count is None
    assert build.notebook_bytes(notebook) == build.notebook_bytes(startpage.render(REPO))
