"""A module is one folder: adding one by docs/authoring-modules.md's walkthrough reaches the
catalog, the release build and the start page, and a malformed catalog entry is said plainly.

The throw-away module lives in a scratch course (a copy of ``solutions/``); the repository
is never written.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course import build, catalog, cli, startpage
from course.errors import CourseError
from course.scratch import SCRATCH_IGNORE, ScratchCourse
from course.submissions import answer_cells, check_cells, nbgrader_meta
from tests.conftest import REPO

NEW_ID = "99-throwaway"
ENTRY = """\
title = "A throw-away module"
roadmap_step = "Testing the catalog"
notebook = "throwaway.ipynb"
summary = "Exists for one test, in a scratch course."
"""
EXERCISES = 6  # the minimum of docs/authoring-modules.md, 4 points each


def cell(kind: str, source: str, cell_id: str, **nbgrader: object) -> nbformat.NotebookNode:
    made = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
    made.id = cell_id
    if nbgrader:
        made.metadata["nbgrader"] = {
            "grade": False,
            "solution": False,
            "locked": False,
            "schema_version": 3,
            "task": False,
            **nbgrader,
        }
    return made


def source_notebook() -> nbformat.NotebookNode:
    """The smallest notebook the authoring rules accept: a locked setup cell importing the
    Report, then per exercise a task, an answer cell and a check cell with visible and
    hidden checks ending in ``report.finish();``."""
    cells = [
        cell("markdown", "# Module 99 · a throw-away module", "cell-00"),
        cell(
            "code",
            "from pathlib import Path\n\nfrom graders import Report\n\n"
            'WORK = Path("throwaway_work")\nWORK.mkdir(exist_ok=True)',
            "setup",
            grade_id="setup",
            locked=True,
        ),
    ]
    for number in range(1, EXERCISES + 1):
        grade_id = f"answer_{number}"
        cells += [
            cell("markdown", f"## {number} · return {number}", f"cell-{number:02d}"),
            cell(
                "code",
                f"def answer_{number}():\n    ### BEGIN SOLUTION\n    return {number}\n"
                "    ### END SOLUTION",
                grade_id.replace("_", "-"),
                grade_id=grade_id,
                solution=True,
            ),
            cell(
                "code",
                f'report = Report("Exercise {number}")\n'
                f'with report.attempt("answer_{number}()"):\n'
                f'    report.check_equal(answer_{number}(), {number}, "the answer", "")\n'
                "### BEGIN HIDDEN TESTS\n"
                f'    report.check_equal(answer_{number}() + 1, {number + 1}, "plus one", "")\n'
                "### END HIDDEN TESTS\n"
                "report.finish();",
                f"{grade_id.replace('_', '-')}-test",
                grade_id=f"{grade_id}_test",
                grade=True,
                locked=True,
                points=4,
            ),
        ]
    # the reference module's notebook metadata: its kernel, and graded by the trusted checker
    reference = nbformat.read(REPO / "solutions/01-python/python.ipynb", as_version=4)
    assert reference.metadata["mlops"] == {"trusted_checks": True}
    return nbformat.v4.new_notebook(cells=cells, metadata=reference.metadata)


@pytest.mark.slow  # one nbgrader generate_assignment of a tiny notebook: a few seconds
def test_a_module_added_by_the_walkthrough_reaches_catalog_build_and_start_page(tmp_path):
    with ScratchCourse(REPO) as scratch:
        root = scratch.root
        shutil.copytree(REPO / "solutions", root / "solutions", ignore=SCRATCH_IGNORE)
        folder = root / "solutions" / NEW_ID
        folder.mkdir()
        # step 1: its catalog entry, in the module's folder
        (folder / "module.toml").write_text(ENTRY)
        assert [m.id for m in catalog.load(root)][-1] == NEW_ID
        assert NEW_ID not in [m.id for m in catalog.built(root)], "no notebook yet: planned"
        assert "A throw-away module *(coming soon)*" in startpage.roadmap_table(root)

        # step 2: the solution notebook, which the module rules accept
        notebook = source_notebook()
        nbformat.write(notebook, folder / "throwaway.ipynb")
        answers, checks = answer_cells(notebook), check_cells(notebook)
        assert {f"{a}_test" for a in answers} == set(checks) and len(checks) == EXERCISES
        assert sum(nbgrader_meta(c)["points"] for c in checks.values()) >= 20
        assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", c.id) for c in notebook.cells)
        assert all(
            "### BEGIN HIDDEN TESTS" in c.source and c.source.endswith("report.finish();")
            for c in checks.values()
        )

        loaded = catalog.load(root)
        module = loaded[-1]
        assert [m.id for m in loaded] == [*(m.id for m in catalog.MODULES), NEW_ID]
        assert (module.title, module.roadmap_step, module.notebook, module.summary) == (
            "A throw-away module",
            "Testing the catalog",
            "throwaway.ipynb",
            "Exists for one test, in a scratch course.",
        )
        assert catalog.built(root)[-1] == module
        assert catalog.select(root, [NEW_ID]) == [module] == [catalog.get(NEW_ID, root)]

        # step 3: `mlops-course build NN-topic` generates the release and the start page row
        report = build.build(root, module_ids=[NEW_ID])
        assert {f"exercises/{NEW_ID}/module.toml", f"exercises/{NEW_ID}/throwaway.ipynb"} <= set(
            report.added
        )
        assert build.build(root, check=True, module_ids=[NEW_ID]).clean
        release = nbformat.read(module.exercise_path(root), as_version=4)
        released = "\n".join(c.source for c in release.cells)
        assert "raise NotImplementedError()" in released
        assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
        assert (root / "exercises" / NEW_ID / "module.toml").read_text() == ENTRY

        page = (root / startpage.FILENAME).read_text()
        rows = [
            line for line in startpage.roadmap_table(root).splitlines() if line.startswith("| 9")
        ]
        assert rows == [
            f"| 99 | [A throw-away module](exercises/{NEW_ID}/throwaway.ipynb) "
            "| Testing the catalog | Exists for one test, in a scratch course. |"
        ]
        assert f"exercises/{NEW_ID}/throwaway.ipynb" in page
        progress = startpage.roadmap_progress(root)
        assert progress.rows[-1].module == module
        assert progress.rows[-1].status == "not started"

        # a learner's copy holds only exercises/: the catalog comes from the release
        learner = tmp_path / "learner"
        shutil.copytree(root / "exercises", learner / "exercises")
        (learner / "exercises" / "my-notes").mkdir()  # a learner's own folder is passed over
        assert catalog.load(learner) == (module,)
        rows = startpage.roadmap_progress(learner).rows
        assert [(row.module.id, row.status) for row in rows] == [(NEW_ID, "not started")]


def test_the_repository_catalog_is_read_from_the_module_folders():
    folders = sorted(p.parent.name for p in (REPO / "solutions").glob("*/module.toml"))
    assert [m.id for m in catalog.MODULES] == folders == [m.id for m in catalog.load(REPO)]
    released = sorted(p.parent.name for p in (REPO / "exercises").glob("*/module.toml"))
    assert released == [m.id for m in catalog.built(REPO)], "run `mlops-course build`"


def test_the_readme_links_every_built_module():
    readme = (REPO / "README.md").read_text()
    missing = [
        m.id
        for m in catalog.built(REPO)
        if f"[{m.title}](exercises/{m.id}/{m.notebook})" not in readme
    ]
    assert not missing, f"README.md's module table has no row for {missing}"


# -- a malformed module is said plainly ------------------------------------------------------


def course_with(tmp_path: Path, folder: str, entry: str | None, *files: str) -> Path:
    """A course whose solutions/ holds one real module (02-bash's entry) and ``folder``."""
    good = tmp_path / "solutions" / "02-bash"
    good.mkdir(parents=True)
    (good / "module.toml").write_bytes((REPO / "solutions/02-bash/module.toml").read_bytes())
    made = tmp_path / "solutions" / folder
    made.mkdir()
    if entry is not None:
        (made / "module.toml").write_text(entry)
    for name in files:
        (made / name).write_text("{}")
    return tmp_path


def without(field: str) -> str:
    return "".join(line for line in ENTRY.splitlines(True) if not line.startswith(field))


MALFORMED = {
    "missing-field": (
        "07-tracking",
        without("summary"),
        (),
        ["07-tracking/module.toml: missing field 'summary'", "title, roadmap_step"],
    ),
    "not-a-string": (
        "07-tracking",
        ENTRY.replace('title = "A throw-away module"', "title = 7"),
        (),
        ["module.toml: field 'title' must be a non-empty string, found 7", 'title = "'],
    ),
    "empty": (
        "07-tracking",
        ENTRY.replace('"Testing the catalog"', '"  "'),
        (),
        ["field 'roadmap_step' must be a non-empty string"],
    ),
    "bad-toml": (
        "07-tracking",
        ENTRY.replace('title = "A throw-away module"', "title: A throw-away module"),
        (),
        ["07-tracking/module.toml: not valid TOML", "line 1", "one line per field"],
    ),
    "typo-in-a-field-name": (
        "07-tracking",
        ENTRY.replace("roadmap_step", "roadmap-step"),
        (),
        ["unknown field 'roadmap-step'", "the fields are title, roadmap_step"],
    ),
    "repeats-the-id": (
        "07-tracking",
        'id = "07-tracking"\n' + ENTRY,
        (),
        ["field 'id' is not used", "its folder name (07-tracking)"],
    ),
    "notebook-is-a-path": (
        "07-tracking",
        ENTRY.replace('"throwaway.ipynb"', '"notebooks/tracking.ipynb"'),
        (),
        ["field 'notebook' must be a notebook's file name", 'notebook = "tracking.ipynb"'],
    ),
    "notebook-misnamed": (
        "07-tracking",
        ENTRY,
        ("tracking.ipynb",),
        ["names throwaway.ipynb, which 07-tracking/ does not hold", "holds tracking.ipynb"],
    ),
    "folder-not-nn-topic": (
        "tracking",
        ENTRY,
        (),
        ["solutions/tracking: a folder of solutions/ whose name is not a module id", "NN-topic"],
    ),
    "no-entry": (
        "07-tracking",
        None,
        ("tracking.ipynb",),
        ["07-tracking: module folder without its catalog entry module.toml", "create "],
    ),
    "shared-number": (
        "02-shell",
        ENTRY,
        (),
        ["modules 02-bash and 02-shell share the number 02", "renumber"],
    ),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_module_is_a_course_error_naming_file_field_and_hint(tmp_path, case):
    folder, entry, files, expected = case
    root = course_with(tmp_path, folder, entry, *files)
    with pytest.raises(CourseError) as caught:
        catalog.load(root)
    error = caught.value
    assert error.hint, "every refusal says what to do"
    for text in expected:
        assert text in str(error), str(error)
    assert str(root / "solutions") in error.message, "the message names the file or folder"


def test_the_cli_shows_a_malformed_entry_without_a_traceback(tmp_path, monkeypatch, capsys):
    root = course_with(tmp_path, "07-tracking", without("notebook"))
    monkeypatch.setenv("MLOPS_COURSE_ROOT", str(root))
    assert cli.main(["build", "--check"]) == 2
    err = capsys.readouterr().err
    assert re.match(r"mlops-course: .*07-tracking/module.toml: missing field 'notebook'", err)
    assert "hint:" in err and "Traceback" not in err and "KeyError" not in err
