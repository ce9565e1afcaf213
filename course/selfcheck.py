"""A student's self-check: run my notebook as the grader would, show which checks pass.

Only the checks the student can see run (their copy has no hidden tests), in a fresh
kernel on a scratch copy of their folder, so nothing in their work is changed. Shown as a
table in a terminal (``mlops-course check MODULE``) or as HTML in a notebook.
"""

from __future__ import annotations

import html
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course import nbclient_fix
from course.scratch import SCRATCH_IGNORE
from course.submissions import nbgrader_meta


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    points: float
    passed: bool
    message: str


def run_checks(notebook_path: Path, *, cell_timeout: float = 120) -> list[CheckResult]:
    with tempfile.TemporaryDirectory(prefix="mlops-selfcheck-") as scratch:
        work = Path(scratch) / "work"
        shutil.copytree(notebook_path.parent, work, ignore=SCRATCH_IGNORE)
        notebook = nbformat.read(work / notebook_path.name, as_version=4)
        nbclient_fix.install()
        client = NotebookClient(
            notebook,
            timeout=cell_timeout,
            allow_errors=True,
            kernel_name="python3",
            resources={"metadata": {"path": str(work)}},
        )
        client.execute()
    results = []
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade") or meta.get("solution"):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        stderr = [
            o
            for o in cell.get("outputs", [])
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        ]
        if errors:
            lines = errors[0].get("traceback") or [
                f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
            ]
            first = next((ln for ln in lines if ln.strip()), "failed")
            message = first.removeprefix("GradingError: ")
        elif stderr:
            message = "the check wrote to stderr, which the grader counts as a failure"
        else:
            message = "all visible checks pass"
        results.append(
            CheckResult(
                meta["grade_id"].removesuffix("_test"),
                float(meta.get("points", 0)),
                not errors and not stderr,
                message,
            )
        )
    return results


def format_table(results: list[CheckResult]) -> str:
    width = max([len(r.exercise) for r in results] + [8])
    lines = [f"{'exercise':<{width}}  {'points':>6}  result"]
    for r in results:
        mark = "✓" if r.passed else "✗"
        lines.append(f"{r.exercise:<{width}}  {r.points:>6.0f}  {mark} {r.message}")
    earned = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    lines.append(
        f"visible checks pass for {earned:.0f} of {total:.0f} points "
        "(hidden checks run when you are graded)"
    )
    return "\n".join(lines)


def to_html(results: list[CheckResult]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r.exercise)}</td><td>{r.points:.0f}</td>"
        f"<td style='color:{'#1a7f37' if r.passed else '#cf222e'}'>"
        f"{'✓' if r.passed else '✗'} {html.escape(r.message)}</td></tr>"
        for r in results
    )
    return f"<table><tr><th>exercise</th><th>points</th><th>visible checks</th></tr>{rows}</table>"
