"""The learners' start page, ``START_HERE.ipynb``, rendered from the module catalog.

Binder and ``mlops-course lab`` open here. It is generated (by ``mlops-course build``) so the
roadmap table can never disagree with the catalog.
"""

from __future__ import annotations

from pathlib import Path

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
    for module in catalog.MODULES:
        if module.is_built(root):
            link = f"[{module.title}](exercises/{module.id}/{module.notebook})"
        else:
            link = f"{module.title} *(coming soon)*"
        rows.append(f"| {module.number} | {link} | {module.roadmap_step} | {module.summary} |")
    return "\n".join(rows)


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
    cells = [INTRO, roadmap_table(root), HOW_IT_WORKS]
    notebook.cells = [nbformat.v4.new_markdown_cell(text) for text in cells]
    for index, cell in enumerate(notebook.cells):
        cell.id = f"start-{index}"  # stable ids keep the generated file deterministic
    return notebook
