"""Every solution notebook runs top to bottom under papermill (as `mlops-course run` does),
headless, within its recorded time limits and under the 1 GB memory budget.

This is the one papermill execution of each solution per test run; full marks come from
the graded class (``test_grading.py``). Each run's figures are written to
``$PYTEST_ARTIFACTS/runs/<module>.json`` so CI's cost report can show them.
"""

from __future__ import annotations

import json

import pytest

from course.execute import run_module
from tests.classroom import ARTEFACTS, REPO, limits
from tests.conftest import module_params

pytestmark = pytest.mark.slow

MEMORY_BUDGET_MB = 1024


@module_params()
def test_solution_runs_under_papermill(module, tmp_path):
    limit = limits(module.id)
    result = run_module(
        module, REPO, notebook_timeout=limit.notebook, cell_timeout=limit.cell, output_dir=tmp_path
    )
    folder = ARTEFACTS / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module.id}.json").write_text(
        json.dumps(
            {
                "module": module.id,
                "status": result.status,
                "wall_seconds": round(result.wall_seconds, 1),
                "slowest_cell_seconds": round(result.slowest_cell_seconds, 1),
                "peak_mb": round(result.peak_mb),
                "limits": {"cell": limit.cell, "notebook": limit.notebook},
            }
        )
    )
    assert result.status == "ok", f"{module.id}: {result.status}: {result.error}"
    assert result.peak_mb < MEMORY_BUDGET_MB, (
        f"{module.id}: peak memory {result.peak_mb:.0f} MB over the {MEMORY_BUDGET_MB} MB budget"
    )
