"""Course driver units: catalog, CLI errors, build comparison, submissions."""

from __future__ import annotations

import nbformat
import pytest

from course import build, catalog, cli, startpage
from course.errors import CourseError
from course.execute import RunResult, format_table
from tests.classroom import fill_answers, strip_markers
from tests.conftest import REPO


def test_unknown_module_names_the_valid_ones():
    with pytest.raises(CourseError) as caught:
        catalog.get("07-nope")
    assert "01-python" in str(caught.value)


def test_cli_reports_course_errors_without_a_traceback(capsys):
    assert cli.main(["run", "99-missing"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlops-course: unknown module '99-missing'")
    assert "Traceback" not in err


def test_select_refuses_a_module_that_is_not_built_yet(tmp_path):
    planned = tmp_path / "solutions" / "02-bash"  # its catalog entry, no notebook yet
    planned.mkdir(parents=True)
    (planned / "module.toml").write_bytes((REPO / "solutions/02-bash/module.toml").read_bytes())
    with pytest.raises(CourseError, match="no solution notebook yet"):
        catalog.select(tmp_path, ["02-bash"])


def test_compare_lists_missing_changed_and_extra_files():
    report = build.compare({"a": b"1", "b": b"2"}, {"b": b"3", "c": b"4"})
    assert report.lines() == ["missing  a", "differs  b", "extra    c"]
    assert not report.clean
    assert build.compare({"a": b"1"}, {"a": b"1"}).clean


def test_start_page_links_built_modules_and_marks_the_rest():
    text = "\n".join(c.source for c in startpage.render(REPO).cells)
    for module in catalog.MODULES:
        if module.is_built(REPO):
            assert f"(exercises/{module.id}/{module.notebook})" in text
        else:
            assert f"{module.title} *(coming soon)*" in text


def test_run_table_has_status_wall_time_and_peak_memory():
    table = format_table([RunResult("01-python", "python.ipynb", "ok", 12.34, 256.0)])
    header, _, row = table.splitlines()
    assert header.split()[-4:] == ["wall", "s", "peak", "MB"]
    assert row.split() == ["01-python", "python.ipynb", "ok", "12.3", "256"]


def test_fill_answers_replaces_only_answer_cells():
    meta = {"nbgrader": {"grade_id": "f", "solution": True, "grade": False}}
    release = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("raise NotImplementedError()", metadata=meta),
            nbformat.v4.new_code_cell("check()"),
        ]
    )
    solution = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", metadata=meta)
        ]
    )
    filled = fill_answers(release, solution)
    assert [c.source for c in filled.cells] == ["x = 1", "check()"]
    assert fill_answers(release, solution, {"f": "x = 2"}).cells[0].source == "x = 2"
    assert release.cells[0].source == "raise NotImplementedError()", "input untouched"
    assert strip_markers("a\n    ### END SOLUTION\nb") == "a\nb"


def test_lab_opens_the_start_page_and_passes_jupyter_options_on(tmp_path):
    from course.lab import lab_command

    command = lab_command(tmp_path, ["--no-browser", "--port=8899"])
    assert f"--ServerApp.root_dir={tmp_path}" in command
    assert "--LabApp.default_url=/lab/tree/START_HERE.ipynb" in command
    assert command[-2:] == ["--no-browser", "--port=8899"]


def test_cli_passes_unknown_options_only_to_lab(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["build", "--no-browser"])
    assert caught.value.code == 2
    assert "unrecognized arguments: --no-browser" in capsys.readouterr().err


def test_nbgrader_config_stops_when_the_installed_course_cannot_be_imported(monkeypatch):
    """A broken import must not silently grade without the sandbox and the checker."""
    import importlib.util
    import runpy
    import sys

    from traitlets.config import Config

    config_file = str(REPO / "nbgrader_config.py")
    hardened = runpy.run_path(config_file, init_globals={"get_config": Config})["c"]
    assert "GuardedExecute" in str(hardened)  # the course's Execute is installed

    monkeypatch.setitem(sys.modules, "course.hardening", None)  # its import now fails
    with pytest.raises(ImportError):
        runpy.run_path(config_file, init_globals={"get_config": Config})

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(  # not installed at all: plain nbgrader, as documented
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "course" else real_find_spec(name, *a),
    )
    plain = runpy.run_path(config_file, init_globals={"get_config": Config})["c"]
    assert "GuardedExecute" not in str(plain)


def test_nbgrader_never_releases_what_the_course_never_copies():
    """One list of a learner's leftovers (course/nbconfig.py); nbgrader_config.py keeps its
    own copy so that it reads without the course package, and the two must agree."""
    import runpy

    from traitlets.config import Config

    from course.nbconfig import NEVER_RELEASED

    config = runpy.run_path(str(REPO / "nbgrader_config.py"), init_globals={"get_config": Config})
    assert sorted(config["c"].CourseDirectory.ignore) == sorted(NEVER_RELEASED)
