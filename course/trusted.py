"""Check cells graded by the trusted checker, outside the learner's kernel (issue 17).

nbgrader's Execute (``GuardedExecute``, course/hardening.py) runs a graded notebook's cells
in the learner's sandboxed kernel, except its check cells. For each of them it

1. asks the learner's kernel to answer requests for the duration of the check
   (``graders.remote.agent.serve`` on a Unix socket inside its sandbox), and once that
   socket is there,
2. calls :meth:`TrustedChecks.check`, which asks this notebook's checker
   (course/checker.py, a process of the grader's outside the sandbox, forked from a
   :class:`Zygote`) to run the instructor's cells of the *source* notebook up to this
   check, hidden tests included, against copies of the files the learner's answers wrote;
   the check's outputs become the cell's outputs, and so its points.

Which notebooks are graded this way is the source notebook's choice (its metadata
``mlops.trusted_checks``), so a learner cannot switch it off in their copy.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbformat import NotebookNode

from course.checker import ADDRESS_SPACE_VARIABLE
from course.sandbox import address_space


def trusted_checks_enabled(source: NotebookNode) -> bool:
    return bool(source.metadata.get("mlops", {}).get("trusted_checks"))


# -- what the checker runs ------------------------------------------------------------------


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def checker_cells(source: NotebookNode) -> list[dict]:
    """The instructor's code cells the checker runs, in source order: locked cells and
    check cells (answers and unlocked cells stay with the learner)."""
    cells = []
    for cell in source.cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or meta.get("solution"):
            continue
        if meta.get("grade"):
            cells.append({"kind": "check", "grade_id": meta["grade_id"], "source": cell.source})
        elif meta.get("locked"):
            cells.append({"kind": "locked", "grade_id": meta.get("grade_id"),
                          "source": cell.source})  # fmt: skip
    return cells


def answer_names(source: NotebookNode) -> list[str]:
    """Names the answer cells bind at the top level that no instructor cell binds: the
    only names the checker takes from the learner's kernel."""
    answers: set[str] = set()
    instructors: set[str] = set()
    for cell in source.cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            answers |= bound_names(cell.source)
        elif meta.get("locked") or meta.get("grade"):
            instructors |= bound_names(cell.source)
    return sorted(answers - instructors)


def bound_names(source: str) -> set[str]:
    """Names a cell binds at its top level (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    names.add(target.id)
    return names


# -- the checker process ----------------------------------------------------------------------


class Zygote:
    """A checker server that has imported what a module's checks need and forks one
    checker per notebook (course/checker.py, ``zygote``). One per grading process and
    module, started on first use and stopped when the process ends."""

    def __init__(self, preload: list[str], address_space: int) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mlops-zygote-"))
        self.path = str(self.folder / "checker")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(MPLBACKEND="agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        env[ADDRESS_SPACE_VARIABLE] = str(address_space)
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "course.checker", "--zygote", self.path, *preload],
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        ready = self.process.stdout.readline()  # type: ignore[union-attr]
        if ready.strip() != "ready":
            self.stop()
            raise RuntimeError("the checker server did not start")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_ZYGOTES: dict[tuple[tuple[str, ...], int], Zygote] = {}


def zygote_for(preload: list[str], address_space: int) -> Zygote:
    key = (tuple(preload), address_space)
    zygote = _ZYGOTES.get(key)
    if zygote is None or not zygote.alive():
        zygote = _ZYGOTES[key] = Zygote(preload, address_space)
    return zygote


@atexit.register
def _stop_zygotes() -> None:
    for zygote in _ZYGOTES.values():
        zygote.stop()


class CheckerProcess:
    """One checker, forked by the module's zygote, with a timeout per answer."""

    def __init__(self, folder: Path, preload: list[str], address_space: int) -> None:
        self.connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.connection.connect(zygote_for(preload, address_space).path)
        self.stream = self.connection.makefile("rw", buffering=1, encoding="utf-8")
        self.pid = int(json.loads(self.stream.readline())["pid"])
        self.stream.write(json.dumps({"folder": str(folder)}) + "\n")
        self.stream.flush()

    def ask(self, command: dict, timeout: float) -> dict | None:
        """The answer, or None if the checker died or took longer than ``timeout``."""
        try:
            self.connection.settimeout(timeout)
            self.stream.write(json.dumps(command) + "\n")
            self.stream.flush()
            line = self.stream.readline()
        except (OSError, ValueError):
            return None
        return json.loads(line) if line else None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.stream.close()
            self.connection.close()


def preloaded_modules(cells: list[dict], support: Path | None = None) -> list[str]:
    """The modules the instructor's cells import, and those the module's support code in
    ``support`` imports (06's rides.py: scikit-learn), for the zygote to import once."""
    names: set[str] = {"graders", "graders.report", "graders.remote.peer", "graders.remote.codec"}
    sources = [TransformerManager().transform_cell(cell["source"]) for cell in cells]
    if support is not None:
        sources += [path.read_text(errors="replace") for path in sorted(support.glob("*.py"))]
    for source in sources:
        names |= _imported_modules(source)
    return sorted(names)


def _imported_modules(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _source_plan(source_path: Path) -> tuple[bool, list[dict], list[str]]:
    """Whether the source notebook asks for the checker, the cells it runs and the answer
    names, read once per version of the file (a worker grades many notebooks of one)."""
    return _read_plan(str(source_path), source_path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_plan(path: str, _mtime_ns: int) -> tuple[bool, list[dict], list[str]]:
    source = nbformat.read(path, as_version=4)
    return trusted_checks_enabled(source), checker_cells(source), answer_names(source)


class TrustedChecks:
    """The checker of one graded notebook and the copies it checks (module docstring)."""

    def __init__(self, source_path: Path, timeout: float, memory_mb: int) -> None:
        self.source_path = source_path
        # the checker runs outside every sandbox and reads what learner code sends (up to
        # MAX_MESSAGE a message): bounded like a sandbox without a cgroup
        self.address_space = address_space(memory_mb)
        _, self.cells, self.answer_names = _source_plan(source_path)
        self.timeout = timeout
        self.folder = Path(tempfile.mkdtemp(prefix="mlops-checker-"))
        shutil.copytree(
            source_path.parent,
            self.folder,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"),
        )
        self._process: CheckerProcess | None = None
        self._starting: threading.Thread | None = None

    @classmethod
    def for_notebook(
        cls, source_path: Path, timeout: float, memory_mb: int
    ) -> TrustedChecks | None:
        if not source_path.is_file() or not _source_plan(source_path)[0]:
            return None
        return cls(source_path, timeout, memory_mb)

    def start(self) -> None:
        """Start the checker in the background: its server's imports (once per grading
        process and module, seconds for Dagster or scikit-learn) overlap with the
        learner's cells instead of delaying them."""
        if self._process is None and self._starting is None:
            self._starting = threading.Thread(target=self._start_quietly, daemon=True)
            self._starting.start()

    def _start_quietly(self) -> None:
        with contextlib.suppress(Exception):  # _ready starts it again, and then says why not
            self._start()

    def _start(self) -> None:
        preload = preloaded_modules(self.cells, self.source_path.parent)
        process = CheckerProcess(self.folder, preload, self.address_space)
        process.ask(
            {"op": "start", "cells": self.cells, "answer_names": self.answer_names,
             "timeout": self.timeout},
            timeout=self.timeout,
        )  # fmt: skip
        self._process = process

    def _ready(self) -> CheckerProcess:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._process is None:
            self._start()
        assert self._process is not None
        return self._process

    def check(self, grade_id: str, workdir: str, socket_path: str) -> list[dict]:
        """The outputs of check ``grade_id``, run by the checker against the kernel whose
        working folder (as the grader sees it) is ``workdir`` and agent is ``socket_path``."""
        answer = self._ready().ask(
            {"op": "check", "grade_id": grade_id, "socket": socket_path, "workdir": workdir},
            timeout=self.timeout + 10,
        )
        if answer is None or "outputs" not in answer:
            self._restart()
            return [error_output(
                "CheckTimedOut",
                f"this check did not finish within {self.timeout:.0f} s; the grader stopped it",
            )]  # fmt: skip
        return answer["outputs"]

    def _restart(self) -> None:
        if self._process is not None:
            self._process.stop()
        self._process = None

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        self._restart()
        shutil.rmtree(self.folder, ignore_errors=True)


def error_output(ename: str, evalue: str) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"]}  # fmt: skip
