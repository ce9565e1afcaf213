"""The learners' start page, ``START_HERE.ipynb``, rendered from the module catalog.

Binder and ``mlops-course lab`` open here. It is generated (by ``mlops-course build``) so the
roadmap table can never disagree with the catalog.

The page also has a **progress view**: a code cell that, when the learner runs it, reads
their *saved* exercise notebooks and shows, per module, how many exercises pass their
visible checks. A check cell that ran without an error passed (a failing check raises
``GradingError``); one with an error or stderr output failed; one that never ran is still
open. Reading saved outputs costs nothing (no notebook is re-run), never changes the
learner's files, and works on a fresh clone (every module shows "not started"). The cell is
committed without outputs, so the generated page stays deterministic.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import nbformat

from course import catalog

FILENAME = "START_HERE.ipynb"

INTRO = """\
# MLOps Roadmap: the interactive course

Welcome! This course walks the **MLOps engineer roadmap** one step at a time. Each step is a
notebook of short lessons and hands-on exercises, and every exercise is **checked
automatically**: run the check cell under your answer and it tells you what it expected,
what it found, and a hint when they differ.

Why these steps, in this order? A model only creates value once it runs reliably for other
people. That takes the same engineering as any production service (solid Python, the shell,
containers, a cluster, automated tests and delivery) plus what is special about ML:
pipelines that retrain on new data, experiments to track, models to serve and monitor.
"""

HOW_IT_WORKS = """\
## How the exercises work

1. Open a module from the table above. Read the lesson cells, then find the cells that say
   `raise NotImplementedError()`: that placeholder is where your answer goes.
2. Replace the placeholder with your code and run the cell (<kbd>Shift</kbd>+<kbd>Enter</kbd>).
3. Run the **check cell** right below it. A green line means the visible checks pass; a red
   report lists *every* problem found, each with what was expected, what was found and a hint.
4. Your graded score also includes **hidden checks** (edge cases: empty input, odd values,
   missing files). Passing the visible checks is necessary, not sufficient: test the edge
   cases yourself.
5. Restart the kernel and run everything (*Kernel → Restart Kernel and Run All Cells*)
   before you submit: the grader runs your notebook from top to bottom in a fresh kernel.

Exercises are independent: a stuck exercise never costs you the points of the others.
Do not edit or delete the check cells: the grader restores the original checks anyway.

## How to submit

* **On your course's JupyterHub:** use the *Assignments* tab, or `nbgrader submit MODULE`
  in a terminal.
* **On Binder or a laptop:** save the notebook and upload the `.ipynb` file where your
  instructor asked (your learning platform). Binder sessions are temporary: download your
  work before you close the tab.

## Working on your own machine

```bash
git clone <this repository> && cd mlops-roadmap
make lab          # creates .venv, installs everything, opens this page
```
"""


def roadmap_table(root: Path) -> str:
    rows = [
        "## The roadmap",
        "",
        "| # | module | roadmap step | what you will do |",
        "|---|---|---|---|",
    ]
    for module in catalog.load(root):
        if module.is_built(root):
            link = f"[{module.title}](exercises/{module.id}/{module.notebook})"
        else:
            link = f"{module.title} *(coming soon)*"
        rows.append(f"| {module.number} | {link} | {module.roadmap_step} | {module.summary} |")
    return "\n".join(rows)


PROGRESS_INTRO = """\
## Your progress

Run the cell below (<kbd>Shift</kbd>+<kbd>Enter</kbd>) to see, for every module, which
exercises pass their visible checks. It reads your **saved** notebooks, so save your work
first (<kbd>Ctrl</kbd>+<kbd>S</kbd>); it runs nothing and changes nothing. Hidden checks
run only when you are graded.
"""

PROGRESS_CODE = """\
from course.startpage import roadmap_progress

roadmap_progress()"""


@dataclass(frozen=True)
class ModuleProgress:
    """What a learner's saved exercise notebook says about one module's check cells."""

    module: catalog.Module
    available: bool  # the exercise notebook exists
    passed: list[str]
    failed: list[str]
    not_run: list[str]
    points_passed: float = 0.0
    points_total: float = 0.0

    @property
    def total(self) -> int:
        return len(self.passed) + len(self.failed) + len(self.not_run)

    @property
    def status(self) -> str:
        if not self.available:
            return "coming soon"
        if not self.passed and not self.failed:
            return "not started"
        if len(self.passed) == self.total:
            return "all visible checks pass"
        return "in progress"

    def summary(self) -> str:
        if not self.available:
            return "coming soon"
        return (
            f"{len(self.passed)} of {self.total} exercises pass "
            f"({self.points_passed:g} of {self.points_total:g} points)"
        )


def _check_outcome(cell: dict) -> str:
    """ "pass", "fail" or "not run" for one saved check cell."""
    outputs = cell.get("outputs") or []
    if any(o.get("output_type") == "error" for o in outputs):
        return "fail"
    if any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outputs):
        return "fail"  # nbgrader zeroes a check cell that wrote to stderr
    return "pass" if cell.get("execution_count") is not None else "not run"


def module_progress(root: Path, module: catalog.Module) -> ModuleProgress:
    """Progress in one module, from the learner's saved exercise notebook."""
    path = module.exercise_path(root)
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ModuleProgress(module, False, [], [], [])
    buckets: dict[str, list[str]] = {"pass": [], "fail": [], "not run": []}
    points = {"pass": 0.0, "all": 0.0}
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        outcome = _check_outcome(cell)
        buckets[outcome].append(str(meta.get("grade_id", "?")).removesuffix("_test"))
        value = float(meta.get("points", 0) or 0)
        points["all"] += value
        points["pass"] += value if outcome == "pass" else 0.0
    return ModuleProgress(
        module,
        True,
        buckets["pass"],
        buckets["fail"],
        buckets["not run"],
        points["pass"],
        points["all"],
    )


class RoadmapProgress:
    """The progress view: one row per module; HTML in a notebook, text elsewhere."""

    MARKS: ClassVar[dict[str, tuple[str, str]]] = {
        "all visible checks pass": ("✓", "#1a7f37"),
        "in progress": ("◐", "#9a6700"),
        "not started": ("·", "#6e7781"),
        "coming soon": ("·", "#6e7781"),
    }

    def __init__(self, rows: list[ModuleProgress]) -> None:
        self.rows = rows

    def __repr__(self) -> str:
        lines = []
        for row in self.rows:
            mark = self.MARKS[row.status][0]
            lines.append(f"{mark} {row.module.number} {row.module.title}: {row.summary()}")
            if row.failed:
                lines.append(f"    failing: {', '.join(row.failed)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = []
        for row in self.rows:
            mark, colour = self.MARKS[row.status]
            title = html.escape(row.module.title)
            if row.available:
                title = f"<a href='exercises/{row.module.id}/{row.module.notebook}'>{title}</a>"
            failing = (
                f"<br><span style='color:#cf222e'>failing: "
                f"{html.escape(', '.join(row.failed))}</span>"
                if row.failed
                else ""
            )
            body.append(
                f"<tr class='roadmap-progress-row' data-module='{row.module.id}'>"
                f"<td>{row.module.number}</td><td style='text-align:left'>{title}</td>"
                f"<td style='color:{colour};text-align:left'>{mark} {html.escape(row.status)}</td>"
                f"<td style='text-align:left'>{html.escape(row.summary())}{failing}</td></tr>"
            )
        return (
            "<table class='roadmap-progress'><tr><th>#</th><th>module</th><th>status</th>"
            f"<th>visible checks</th></tr>{''.join(body)}</table>"
        )


def roadmap_progress(root: Path | str = ".") -> RoadmapProgress:
    """The progress view for the course at ``root`` (the start page's folder), listing the
    modules of its catalog (a learner's copy with only ``exercises/`` has one too); a folder
    that holds no course shows the installed course's modules as still to come."""
    root = Path(root)
    modules = catalog.load(root) or catalog.MODULES
    return RoadmapProgress([module_progress(root, module) for module in modules])


def render(root: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    cells = [INTRO, roadmap_table(root), PROGRESS_INTRO, HOW_IT_WORKS]
    notebook.cells = [nbformat.v4.new_markdown_cell(text) for text in cells]
    notebook.cells.insert(3, nbformat.v4.new_code_cell(PROGRESS_CODE))
    for index, cell in enumerate(notebook.cells):
        cell.id = f"start-{index}"  # stable ids keep the generated file deterministic
    return notebook
