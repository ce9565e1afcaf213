"""Autograde many notebooks of one module with nbgrader, spread over worker processes.

Each worker owns a scratch course (its own gradebook, generated from the same sources), so
workers never contend for one SQLite file; the scores they read back are merged. nbgrader's
own ``autograde`` does the grading, hidden tests, checksum restoration and all.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from course import catalog
from course.scratch import CellScore, ScratchCourse

Scores = dict[str, dict[str, CellScore]]


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def grade_notebooks(
    repo_root: Path,
    module_id: str,
    submissions: dict[str, nbformat.NotebookNode],
    *,
    workers: int | None = None,
) -> Scores:
    """Per student id: the score of every graded cell of their notebook."""
    workers = max(1, min(workers or default_workers(), len(submissions)))
    students = sorted(submissions)
    shares = [students[i::workers] for i in range(workers)]
    with tempfile.TemporaryDirectory(prefix="mlops-grade-") as folder:
        jobs = []
        for index, share in enumerate(shares):
            paths = {}
            for student in share:
                path = Path(folder) / f"{index}-{student}.ipynb"
                nbformat.write(submissions[student], path)
                paths[student] = path
            jobs.append((repo_root, module_id, paths))
        if workers == 1:
            results = [_grade_share(*jobs[0])]
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(_grade_share, *zip(*jobs, strict=True)))
    merged: Scores = {}
    for result in results:
        merged.update(result)
    return merged


def _grade_share(repo_root: Path, module_id: str, paths: dict[str, Path]) -> Scores:
    module = catalog.get(module_id)
    with ScratchCourse(repo_root) as scratch:
        scratch.generate(module)
        for student, path in paths.items():
            scratch.submit(module, student, path)
        scores: Scores = {}
        for student in paths:
            scratch.autograde(module, student)
            scores[student] = scratch.scores(module, student)
        return scores
