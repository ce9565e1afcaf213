"""Autograde a class in parallel, into nbgrader's own gradebook and folders.

Each submission is graded by nbgrader's ``autograde`` in one of ``workers`` worker processes,
with a progress bar. A worker grades one notebook at a time and is reused for the next, since
starting a process and importing nbgrader costs more than grading a short notebook. Results
land where plain nbgrader puts them (``autograded/<student>/<module>/`` and ``gradebook.db``),
so ``nbgrader generate_feedback``, ``nbgrader export`` and the formgrader work on them
unchanged.

Safety, beyond nbgrader's own checksums and cell timeout:

* Every notebook's kernel runs in a sandbox of its own (``course.sandbox``, installed by
  ``course.hardening``): it sees a copy of its own files and nothing of the course, the
  host or the other students (docs/security.md). Where no sandbox can be built, grading
  is refused unless ``require_sandbox=False`` (``--unsafe-no-sandbox``), and every result
  then says it was graded without one.
* nbgrader works in a scratch folder outside the course root (its autograded folder is
  pointed there for the run, then moved into place).
* A worker that exceeds the per-notebook limit is killed with its kernel and replaced; the
  student is reported as timed out and the others carry on. A worker that dies (a student
  who kills its parent) costs only that student's grade.
* SQLite allows one writer at a time: a worker that meets a locked gradebook retries.
* ``course.hardening`` (loaded through nbgrader_config.py) revives dead kernels, restores
  graders and builtins before check cells, ignores stderr warnings and restores deleted
  check cells; this module counts the restored cells per student.
"""

from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

import nbformat
from tqdm import tqdm

from course import catalog
from course.errors import CourseError
from course.nbconfig import ensure_venv_on_path, load_config
from course.processes import kill_tree
from course.submissions import check_cells

DEFAULT_CELL_TIMEOUT = 60
DEFAULT_NOTEBOOK_TIMEOUT = 900
LOCK_RETRIES = 5
# a worker process is replaced after this many notebooks, so nothing accumulates in it
NOTEBOOKS_PER_WORKER = 25


@dataclass
class StudentResult:
    student: str
    status: str  # "graded", "failed" or "timeout"
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, float | None] = field(default_factory=dict)
    restored_cells: list[str] = field(default_factory=list)
    kernel_restarts: int = 0
    seconds: float = 0.0
    error: str | None = None
    sandboxed: bool = True


@dataclass(frozen=True)
class GradingSettings:
    """What every worker of one grading run needs to know (sent to spawned processes)."""

    cell_timeout: float
    require_sandbox: bool = True


def default_workers() -> int:
    """One worker more than there are cores: a worker waits on its kernel, its checker and
    their sandboxes' start and end, and a third worker on 2 cores fills those gaps
    (measured on 2 cores, 30 notebooks of 04-kubernetes: 33 s with 2 workers, 26 s with 3,
    29 s with 4; 20 of 01-python: 98 s with 2, 75 s with 3)."""
    return (os.cpu_count() or 1) + 1


def submitted_students(root: Path, module: catalog.Module) -> list[str]:
    submitted = root / "submitted"
    return sorted(
        p.name for p in submitted.glob("*") if (p / module.id / module.notebook).is_file()
    )


def ensure_in_gradebook(root: Path, module: catalog.Module) -> bool:
    """Register the module (with its hidden tests) in the gradebook if it is not there.
    Returns True when it had to be generated."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.apps import NbGraderAPI

    ensure_venv_on_path()  # before the first Gradebook: a new one runs `alembic` by name
    config = load_config(root)
    with Gradebook(config.CourseDirectory.db_url) as gradebook:
        try:
            gradebook.find_assignment(module.id)
            return False
        except MissingEntry:
            pass
    result = NbGraderAPI(config=config).generate_assignment(module.id, force=True, create=True)
    if not result.get("success"):
        raise CourseError(f"could not register {module.id} in the gradebook: {result.get('error')}")
    return True


def grade(
    root: Path,
    module_id: str,
    students: list[str] | None = None,
    *,
    workers: int | None = None,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT,
    progress: bool = True,
    require_sandbox: bool = True,
) -> list[StudentResult]:
    """Autograde ``students`` (default: every submission of the module) in parallel, each in
    a sandbox. Refuses when no sandbox can be built, unless ``require_sandbox`` is False."""
    module = catalog.get(module_id, root)
    available = submitted_students(root, module)
    chosen = students or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise CourseError(
            f"no submission of {module.id} for {', '.join(unknown)}",
            hint=f"expected submitted/<student>/{module.id}/{module.notebook}",
        )
    if not chosen:
        raise CourseError(
            f"no submissions of {module.id} to grade",
            hint="collect them first: mlops-course collect " + module.id,
        )
    sandboxed = sandbox_check(root, require_sandbox)
    ensure_in_gradebook(root, module)
    workers = max(1, min(workers or default_workers(), len(chosen)))
    settings = GradingSettings(cell_timeout, require_sandbox)
    results = _run_pool(root, module, chosen, workers, settings, notebook_timeout, progress)
    for result in results:
        result.sandboxed = sandboxed
    record_failures(root, module.id, results)
    return results


# Gradings that did not complete, per module and student, with their reason. nbgrader's
# gradebook cannot say "not graded": a submission whose grading was cut short holds no
# scores, which nbgrader's export shows as 0. The export reads this file to leave them out.
FAILURES_FILE = "grading-failures.json"


def record_failures(root: Path, module_id: str, results: list[StudentResult]) -> None:
    """Remember which gradings of this run failed, forgetting the ones that now succeeded."""
    recorded = read_failures(root)
    failed = recorded.setdefault(module_id, {})
    for result in results:
        if result.status == "graded":
            failed.pop(result.student, None)
        else:
            failed[result.student] = {"status": result.status, "error": result.error or ""}
    if not failed:
        recorded.pop(module_id)
    (root / FAILURES_FILE).write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


def read_failures(root: Path) -> dict[str, dict[str, dict[str, str]]]:
    """Module id -> student -> {"status", "error"} of every grading not (yet) completed."""
    path = root / FAILURES_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise CourseError(f"{path} cannot be read: {exc}", hint="grade the module again") from exc


def sandbox_check(root: Path, require_sandbox: bool) -> bool:
    """Whether submissions will be sandboxed; a CourseError when they must be and cannot."""
    from course.sandbox import Sandbox, unavailable_reason

    settings = Sandbox(config=load_config(root))
    reason = unavailable_reason(settings.bwrap) if settings.enabled else "switched off"
    if reason is not None and require_sandbox:
        raise CourseError(
            f"cannot grade in a sandbox: {reason}",
            hint="install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or grade "
            "with --unsafe-no-sandbox to accept that submissions run with your rights "
            "(docs/security.md says how to grade on macOS or Windows)",
        )
    return reason is None


def _run_pool(root, module, students, workers, settings, notebook_timeout, progress):
    context = multiprocessing.get_context("spawn")
    pending = list(students)
    results: dict[str, StudentResult] = {}
    scratch = Path(tempfile.mkdtemp(prefix="mlops-grade-results-"))
    pool: list[_Worker] = []
    started: list[int] = []  # every worker's pid, for the last sweep of sandboxes
    bar = tqdm(
        total=len(students),
        unit="notebook",
        desc=f"grading {module.id}",
        disable=not progress,
        dynamic_ncols=True,
    )

    def finish(student: str, result: StudentResult) -> None:
        results[student] = result
        bar.update(1)
        bar.set_postfix_str(f"{student}: {result.status}")

    try:
        while pending or any(worker.student for worker in pool):
            pool = [w for w in pool if w.usable()]
            while len(pool) < min(workers, len(pending) + sum(bool(w.student) for w in pool)):
                pool.append(_Worker(context, root, module.id, settings))
                started.append(pool[-1].process.pid)
            for worker in pool:
                if pending and worker.student is None:
                    student = pending.pop(0)
                    worker.assign(student, scratch / f"{student}.json")
            wait([w.conn for w in pool if w.student], timeout=0.2)
            for worker in pool:
                if worker.student is None:
                    continue
                student, out, elapsed = worker.student, worker.out, worker.elapsed()
                assert out is not None  # assign() sets student and out together
                if worker.finished():
                    finish(student, _read_result(student, out, elapsed, None))
                elif not worker.process.is_alive():
                    worker.stop()
                    finish(student, _read_result(student, out, elapsed, worker.process.exitcode))
                elif elapsed > notebook_timeout:
                    worker.stop()
                    message = f"grading took longer than {notebook_timeout:.0f} s and was stopped"
                    finish(
                        student, StudentResult(student, "timeout", seconds=elapsed, error=message)
                    )
    finally:
        for worker in pool:
            worker.stop(gracefully=worker.student is None)
        bar.close()
        shutil.rmtree(scratch, ignore_errors=True)
        _sweep_sandboxes(started)
    return [results[s] for s in students]


def _sweep_sandboxes(worker_pids: list[int]) -> None:
    """Every worker removed its sandboxes' cgroups when it stopped, waiting up to 15 s for
    their processes to die; under load (a fork bomb, memory reclaim) that can take longer.
    Try once more with more patience, and say plainly what is left."""
    from course.sandbox import remove_leftovers

    for pid in worker_pids:
        for group in remove_leftovers(pid, seconds=60):
            procs = group / "cgroup.procs"
            still = procs.read_text().split() if procs.is_file() else []
            print(
                f"warning: sandbox cgroup {group} could not be removed; processes still "
                f"in it: {' '.join(still) or 'none'}",
                file=sys.stderr,
            )


class _Worker:
    """A grading process that grades one notebook at a time, for many notebooks in turn.

    Starting a process and importing nbgrader costs more than grading a short notebook, so a
    worker lives for up to ``NOTEBOOKS_PER_WORKER`` notebooks. Each notebook still gets a
    fresh kernel, sandbox and nbgrader app; a worker that overruns the notebook limit or
    dies is stopped with its kernel and replaced, and only its current student is affected.
    """

    def __init__(self, context, root: Path, module_id: str, settings: GradingSettings):
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(child_end, str(root), module_id, settings),
            daemon=False,
        )
        self.process.start()
        child_end.close()
        self.student: str | None = None
        self.out: Path | None = None
        self.started = 0.0
        self.graded = 0
        self.stopped = False

    def assign(self, student: str, out: Path) -> None:
        self.student, self.out, self.started = student, out, time.perf_counter()
        self.conn.send((student, str(out)))

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def finished(self) -> bool:
        """True (and idle again) when the worker reported its current notebook graded."""
        try:
            if not self.conn.poll():
                return False
            self.conn.recv()
        except (EOFError, OSError):  # it died mid-notebook: the caller sees it is not alive
            return False
        self.student = None
        self.graded += 1
        return True

    def usable(self) -> bool:
        if self.stopped:
            return False
        if self.student is None and (
            not self.process.is_alive() or self.graded >= NOTEBOOKS_PER_WORKER
        ):
            self.stop(gracefully=True)
            return False
        return True

    def stop(self, gracefully: bool = False) -> None:
        self.student = None
        if self.stopped:
            return
        self.stopped = True
        if gracefully and self.process.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(5)
        if self.process.is_alive():
            kill_tree(self.process.pid)
        self.process.join(5)
        self.conn.close()
        from course.sandbox import remove_leftovers

        remove_leftovers(self.process.pid)  # a killed worker could not clean up its sandbox


def _read_result(student: str, out: Path, elapsed: float, exitcode: int | None) -> StudentResult:
    try:
        data = json.loads(out.read_text())
    except (OSError, json.JSONDecodeError):
        return StudentResult(
            student,
            "failed",
            seconds=elapsed,
            error=f"the grading worker crashed (exit code {exitcode})",
        )
    data["seconds"] = elapsed
    return StudentResult(**data)


# -- inside a worker process ------------------------------------------------------------------


def _worker_main(conn, root_text: str, module_id: str, settings: GradingSettings) -> None:
    """Grade the students the pool sends, one at a time, until it sends None."""
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the pool is gone
            return
        if task is None:
            return
        student, out = task
        _grade_one(root_text, module_id, student, settings, out)
        conn.send(student)


def _grade_one(
    root_text: str, module_id: str, student: str, settings: GradingSettings, out: str
) -> None:
    root = Path(root_text)
    module = catalog.get(module_id, root)
    result = StudentResult(student, "failed")
    scratch = Path(tempfile.mkdtemp(prefix="mlops-autograde-"))
    try:
        os.environ.pop("MLOPS_COURSE_ROOT", None)
        os.chdir(scratch)
        os.environ["PWD"] = str(scratch)
        ensure_venv_on_path()
        result.restored_cells = _missing_check_cells(root, module, student)
        outcome = _autograde_with_retries(root, module, student, settings, scratch)
        if not outcome.get("success"):
            result.error = failure_reason(outcome)
        else:
            _move_into_course(scratch, root, module, student)
            _read_scores(root, module, student, result)
            result.kernel_restarts = _count_restarts(root, module, student)
            result.status = "graded"
    except Exception as exc:  # report every failure as data; the pool carries on
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        Path(out).write_text(
            json.dumps({k: v for k, v in asdict(result).items() if k != "seconds"})
        )


def _autograde_with_retries(root, module, student, settings: GradingSettings, scratch) -> dict:
    from nbgrader.apps import NbGraderAPI

    config = load_config(root)
    config.CourseDirectory.autograded_directory = str(scratch / "autograded")
    config.Execute.timeout = settings.cell_timeout
    if not settings.require_sandbox:
        config.Sandbox.required = False
    outcome: dict = {}
    for attempt in range(LOCK_RETRIES):
        api = NbGraderAPI(config=config)
        outcome = api.autograde(module.id, student, force=True, create=True)
        text = f"{outcome.get('log', '')} {outcome.get('error', '')}"
        if outcome.get("success") or "database is locked" not in text:
            break
        time.sleep(0.5 + random.random() * (attempt + 1))
    return outcome


def _missing_check_cells(root: Path, module: catalog.Module, student: str) -> list[str]:
    """Check cells of the release that the submission no longer has (nbgrader restores them)."""
    submitted = root / "submitted" / student / module.id / module.notebook
    release = module.exercise_path(root)
    if not release.is_file():
        return []
    expected = _release_check_cells(str(release), release.stat().st_mtime_ns)
    try:
        present = set(check_cells(nbformat.read(submitted, as_version=4)))
    except Exception:  # an unreadable notebook: nbgrader reports it
        return []
    return sorted(expected - present)


@functools.lru_cache(maxsize=8)
def _release_check_cells(path: str, _mtime_ns: int) -> frozenset[str]:
    """The release's check cells, read once per version of the file by each worker."""
    return frozenset(check_cells(nbformat.read(path, as_version=4)))


def _move_into_course(scratch: Path, root: Path, module: catalog.Module, student: str) -> None:
    source = scratch / "autograded" / student / module.id
    target = root / "autograded" / student / module.id
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))


def _read_scores(root: Path, module: catalog.Module, student: str, result: StudentResult) -> None:
    from nbgrader.api import Gradebook

    config = load_config(root)
    with Gradebook(config.CourseDirectory.db_url) as gradebook:
        notebook = gradebook.find_submission_notebook(
            module.notebook.removesuffix(".ipynb"), module.id, student
        )
        result.cells = {g.name: g.score for g in notebook.grades}
        result.score = float(notebook.score)
        result.max_score = float(notebook.max_score)


def _count_restarts(root: Path, module: catalog.Module, student: str) -> int:
    graded = root / "autograded" / student / module.id / module.notebook
    notebook = json.loads(graded.read_text())  # nbgrader wrote and validated it just now
    return sum(
        1
        for cell in notebook.get("cells", [])
        if cell.get("cell_type") == "code"
        for output in cell.get("outputs", [])
        if output.get("ename") == "KernelRestarted"
    )


# what every failed autograde logs after the cause, which says nothing about it
_BOILERPLATE = (
    "There was an error processing assignment",
    "Please see the",
    "Removing failed",
    "Attribute 'checksum'",
)


def failure_reason(outcome: dict, entries: int = 4) -> str:
    """Why nbgrader could not grade a notebook: the last error and warning entries of its
    log, a traceback shortened to its exception line. The ``error`` nbgrader returns is
    always the NbGraderException that ends every failure ("see the above traceback"); it
    is the answer only when the log holds nothing better."""
    found = []
    for entry in re.split(r"\n(?=\[[A-Z]+\] )", outcome.get("log") or ""):
        level, _, message = entry.partition("] ")
        if level not in ("[ERROR", "[CRITICAL", "[WARNING") or not message.strip():
            continue
        if any(text in message for text in _BOILERPLATE):
            continue
        lines = message.strip().splitlines()
        found.append(lines[-1].strip() if lines[0].startswith("Traceback") else lines[0])
    if not found:
        text = (outcome.get("error") or "nbgrader failed").strip()
        return "\n".join(text.splitlines()[-entries:])
    return "\n".join(found[-entries:])


def format_results(results: list[StudentResult]) -> str:
    """The table ``mlops-course grade`` prints, and what the run did without a sandbox."""
    header = f"{'student':<28} {'status':<8} {'score':>11} {'restored':>8} {'restarts':>8} {'s':>6}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.student:<28} {r.status:<8} {r.score:>5.1f}/{r.max_score:<5.1f} "
            f"{len(r.restored_cells):>8} {r.kernel_restarts:>8} {r.seconds:>6.1f}"
        )
        if r.error:  # a reason of several lines (failure_reason), each indented
            lines += [f"    {line}" for line in r.error.splitlines()]
    unsandboxed = [r.student for r in results if not r.sandboxed]
    if unsandboxed:
        lines.append(
            f"WARNING: {len(unsandboxed)} submission(s) graded WITHOUT a sandbox "
            "(--unsafe-no-sandbox): their code ran with your user's rights"
        )
    return "\n".join(lines)
