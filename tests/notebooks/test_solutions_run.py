"""Every solution notebook runs top to bottom under papermill (as `mlops-course run` does)."""

from __future__ import annotations

import pytest

from course.execute import run_module
from tests.conftest import REPO, module_params

pytestmark = pytest.mark.slow


@module_params()
def test_solution_runs_under_papermill(module, tmp_path):
    result = run_module(module, REPO, notebook_timeout=600, cell_timeout=180, output_dir=tmp_path)
    assert result.status == "ok", f"{module.id}: {result.status}: {result.error}"
    assert result.peak_mb < 1024, f"{module.id}: peak memory {result.peak_mb:.0f} MB over 1 GB"


@module_params()
def test_released_notebook_stops_at_the_first_placeholder(module, tmp_path):
    """A student who opens the release and runs every cell is stopped by the first check,
    saying the answer is not written yet: not by an ImportError or a missing file."""
    result = run_module(module, REPO, folder="exercises", notebook_timeout=300, cell_timeout=120)
    assert result.status == "failed"
    assert "GradingError" in (result.error or ""), result.error
    assert "not written yet" in (result.error or ""), result.error
