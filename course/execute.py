"""Execute solution notebooks with papermill and measure wall time and peak memory.

Each notebook runs in a temporary copy of its module folder (the source is never written),
in a child process of its own with a hard time limit, while this process samples the memory
of the kernel and everything it starts. Per-cell timeouts stop a cell that hangs (a widget
waiting for a click, a loop); the notebook timeout stops everything else.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from course.catalog import Module
from course.processes import kill_tree
from course.scratch import SCRATCH_IGNORE

DEFAULT_NOTEBOOK_TIMEOUT = 600
DEFAULT_CELL_TIMEOUT = 180
SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class RunResult:
    module_id: str
    notebook: str
    status: str  # "ok", "failed" or "timeout"
    wall_seconds: float
    peak_mb: float
    error: str | None = None
    slowest_cell_seconds: float = 0.0  # from papermill's per-cell timings


def run_module(
    module: Module,
    source_root: Path,
    *,
    folder: str = "solutions",
    notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    output_dir: Path | None = None,
) -> RunResult:
    """Run ``<folder>/<module>/<notebook>`` in a scratch copy; keep the output if asked."""
    with tempfile.TemporaryDirectory(prefix="mlops-run-") as scratch:
        workdir = Path(scratch) / module.id
        shutil.copytree(source_root / folder / module.id, workdir, ignore=SCRATCH_IGNORE)
        output = workdir / f"executed-{module.notebook}"
        result = _run_child(module, workdir, output, notebook_timeout, cell_timeout)
        if output.exists():
            result = replace(result, slowest_cell_seconds=slowest_cell(output))
        if output_dir is not None and output.exists():
            output_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(output, output_dir / f"{module.id}-{module.notebook}")
        return result


def _run_child(
    module: Module, workdir: Path, output: Path, notebook_timeout: float, cell_timeout: float
) -> RunResult:
    command = [
        sys.executable,
        "-m",
        "course.execute",
        str(workdir / module.notebook),
        str(output),
        str(cell_timeout),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MLOPS_COURSE_HEADLESS": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0.0
    status = "ok"
    while child.poll() is None:
        peak = max(peak, _tree_rss_mb(child.pid))
        if time.perf_counter() - start > notebook_timeout:
            kill_tree(child.pid)
            status = "timeout"
            break
        time.sleep(SAMPLE_SECONDS)
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - start
    report = _last_json_line(stdout)
    peak = max(peak, report.get("kernel_maxrss_mb", 0.0))
    if status == "timeout":
        error = f"the notebook did not finish within {notebook_timeout:.0f} s"
    elif report.get("status") == "ok":
        error = None
    else:
        status = "failed"
        reason = report.get("error") or stderr.strip().splitlines()[-1:] or "runner crashed"
        error = reason if isinstance(reason, str) else " ".join(reason)
    return RunResult(module.id, module.notebook, status, wall, peak, error)


def slowest_cell(executed: Path) -> float:
    """The longest a single cell took, from the timings papermill writes into each cell."""
    try:
        notebook = json.loads(executed.read_text())
    except (OSError, json.JSONDecodeError):
        return 0.0
    durations = [
        cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
        for cell in notebook.get("cells", [])
    ]
    return max(durations, default=0.0)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of the runner's descendants (the kernel and what it starts)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return 0.0
    total = 0
    for process in children:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def _last_json_line(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return {}


def format_table(results: list[RunResult]) -> str:
    """The table ``mlops-course run`` prints."""
    header = f"{'module':<18} {'notebook':<22} {'status':<8} {'wall s':>8} {'peak MB':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.module_id:<18} {r.notebook:<22} {r.status:<8} "
            f"{r.wall_seconds:>8.1f} {r.peak_mb:>8.0f}"
        )
        if r.error:
            lines.append(f"    {r.error}")
    return "\n".join(lines)


def _child_main(notebook: str, output: str, cell_timeout: str) -> int:
    """Runs inside the child process: one papermill execution, one JSON line of results."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from course import nbclient_fix

    nbclient_fix.install()

    report: dict = {"status": "ok"}
    try:
        papermill.execute_notebook(
            notebook,
            output,
            kernel_name="python3",
            cwd=str(Path(notebook).parent),
            progress_bar=False,
            execution_timeout=float(cell_timeout),
        )
    except PapermillExecutionError as exc:
        report = {
            "status": "failed",
            "error": f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"[:2000],
        }
    except Exception as exc:  # a cell timeout, a dead kernel: report, never hide
        report = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000]}
    maxrss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report["kernel_maxrss_mb"] = maxrss_kb / 1024
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(*sys.argv[1:4]))
