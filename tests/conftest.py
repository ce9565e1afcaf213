"""Shared fixtures: the repository and its built modules; the graded classes come from the
``tests.classroom`` plugin.

Tests run in two processes (pytest-xdist). Tests that share an expensive fixture run in one
worker: every test that reads a module's graded class, that module's papermill run, the
Binder venv, the browser session, the Docker image (:func:`xdist_group`, used by the
scheduler below). The groups are sent longest first, so the two workers finish together.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from course import catalog

pytest_plugins = ["tests.classroom"]

REPO = Path(__file__).resolve().parents[1]

# MLOPS_TEST_MODULES=04-kubernetes,01-python narrows every per-module test (make test-fast).
ONLY = [m for m in os.environ.get("MLOPS_TEST_MODULES", "").split(",") if m]
BUILT = [m for m in catalog.built(REPO) if not ONLY or m.id in ONLY]


def module_params(group: str | None = None):
    """Parametrize a test over the built modules (the id is the module id). Tests that read
    a module's graded class pass ``group="class"``: they get the ``classroom`` marker."""
    marks = [pytest.mark.classroom] if group == "class" else []
    return pytest.mark.parametrize("module", [pytest.param(m, id=m.id, marks=marks) for m in BUILT])


@pytest.fixture(scope="session")
def repo():
    return REPO


# -- which worker runs what ---------------------------------------------------------------------

# Test file (or folder) -> the expensive fixture its tests share. "class" and "run" are per
# module: one group per module id found in the test id.
SHARED_FIXTURES = {
    "tests/notebooks/test_grading.py": "class",
    "tests/workflow/test_class_round_trip.py": "class",
    "tests/notebooks/test_solutions_run.py": "run",
    "tests/binder/test_fresh_venv.py": "binder",
    "tests/browser/": "browser",
    "tests/unit/test_docker_service.py": "docker",
    "tests/security/test_sandbox.py": "security",
    "tests/security/test_trusted_checks.py": "verdicts",
}
PER_MODULE = {"class", "run"}
MODULE_IN_ID = re.compile(r"\[(\d\d-[a-z]+)[\]/]")


def xdist_group(nodeid: str) -> str:
    """The scheduling unit of a test: its shared fixture's group, or the test alone."""
    for prefix, kind in SHARED_FIXTURES.items():
        if nodeid.startswith(prefix):
            if kind not in PER_MODULE:
                return kind
            module = MODULE_IN_ID.search(nodeid)
            return f"{kind}-{module.group(1)}" if module else nodeid
    return nodeid


# Relative cost of the groups that are not a module's class, in seconds of a 2-core machine
# (measured: docs/testing.md). A class costs about its recorded notebook time per student
# that runs a whole solution, plus a few seconds per hostile student.
FIXED_GROUP_COST = {
    "binder": 150.0,
    "browser": 80.0,
    "docker": 60.0,
    "security": 90.0,
    "verdicts": 120.0,
}
DURATIONS = REPO / "benchmarks" / "durations.json"
RECORDED = json.loads(DURATIONS.read_text())["modules"] if DURATIONS.is_file() else {}


def group_cost(group: str) -> float:
    if group in FIXED_GROUP_COST:
        return FIXED_GROUP_COST[group]
    kind, _, module_id = group.partition("-")
    if kind in PER_MODULE and module_id in RECORDED:
        wall = RECORDED[module_id]["wall_seconds"]
        return wall * 6 + 40 if kind == "class" else wall
    return 1.0


def pytest_collection_modifyitems(config, items):
    """Longest groups first: the scheduler hands out groups in collection order, and a long
    group that starts last leaves one core idle at the end."""
    items.sort(key=lambda item: -group_cost(xdist_group(item.nodeid)))  # stable


def pytest_xdist_make_scheduler(config, log):
    """Schedule whole groups (:func:`xdist_group`) in collection order. xdist's own
    ``--dist loadgroup`` cannot be used: it tags groups by rewriting ``item._nodeid``,
    which pytest 9 no longer reads, so grouped tests were split over both workers (each
    built every graded class again)."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False  # keep the longest-first order

        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid)

    return SharedFixtureScheduling(config, log)
