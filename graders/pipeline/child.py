"""A scenario run in an isolated child process: its own folder and DAGSTER_HOME, quiet
output, a time limit; whatever it raises comes back as data."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.pipeline.runs import OUTPUT_TAIL, RUN_TIMEOUT, StepError
from graders.remote import remote_data
from graders.report import quietly


@remote_data
@dataclass(frozen=True)
class Outcome:
    """How an isolated scenario ended: its value, or the error it raised, or a timeout."""

    value: Any = None
    error: StepError | None = None  # an exception the scenario raised (outside Dagster steps)
    timed_out: bool = False
    crashed: str | None = None  # the child died without answering (exit status, signal)
    seconds: float = 0.0
    output: str = ""  # the tail of everything the child printed (Dagster's log)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out and self.crashed is None


def run_isolated(scenario: Callable[[], Any], *, timeout: float = RUN_TIMEOUT) -> Outcome:
    """Run ``scenario()`` in a forked child, in a fresh temporary folder, with a time limit.

    ``scenario`` runs with that folder as its current directory and returns plain data
    (summaries, numbers, strings); it can use everything defined in the notebook.
    """
    folder = Path(tempfile.mkdtemp(prefix="mlops-pipeline-"))
    try:
        if not hasattr(os, "fork"):  # no fork (Windows): run here, without a time limit
            return _run_here(scenario, folder)
        return _run_forked(scenario, folder, timeout)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_forked(scenario: Callable[[], Any], folder: Path, timeout: float) -> Outcome:
    log_path = folder / "child.log"
    read_end, write_end = os.pipe()
    start = time.monotonic()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(scenario, folder, log_path, write_end)
    os.close(write_end)
    chunks: list[bytes] = []
    timed_out = False
    try:
        while True:
            remaining = timeout - (time.monotonic() - start)
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_end], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_end)
    if timed_out:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - start
    output = _tail(log_path)
    if timed_out:
        return Outcome(timed_out=True, seconds=seconds, output=output)
    try:
        value, error = pickle.loads(b"".join(chunks))
    except Exception:
        return Outcome(crashed=_describe_status(status), seconds=seconds, output=output)
    return Outcome(value=value, error=error, seconds=seconds, output=output)


def _child(scenario: Callable[[], Any], folder: Path, log_path: Path, write_end: int) -> None:
    """Runs in the forked child: quiet, in ``folder``, answers through the pipe, then exits."""
    status = 0
    try:
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)  # so a timeout can kill whatever the student's code started
        _redirect_output(log_path)
        _enter(folder)
        try:
            answer: tuple[Any, StepError | None] = (scenario(), None)
        except BaseException as exc:
            answer = (None, _describe_exception(exc))
        try:
            payload = pickle.dumps(answer)
        except Exception as exc:
            payload = pickle.dumps(
                (None, StepError("(grader)", "PicklingError", f"cannot send the result: {exc}"))
            )
        view = memoryview(payload)
        while view:
            written = os.write(write_end, view)
            view = view[written:]
    except BaseException:
        status = 70
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)  # no atexit handlers: they belong to the notebook's kernel


def _redirect_output(log_path: Path) -> None:
    """Send fds 1 and 2 (and Python's streams, and logging handlers on them) to a file."""
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    os.close(null_fd)
    old = {id(sys.stdout), id(sys.stderr), id(sys.__stdout__), id(sys.__stderr__)}
    out = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 (lives until os._exit)
    # typeshed declares sys.__stdout__ and sys.__stderr__ Final; this child replaces them on purpose
    sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = out  # type: ignore[misc]
    import logging

    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in old:
                handler.setStream(out)
    warnings.simplefilter("ignore")


def _enter(folder: Path) -> None:
    work = folder / "work"
    work.mkdir()
    os.chdir(work)
    os.environ["DAGSTER_HOME"] = str(folder / "dagster_home")
    (folder / "dagster_home").mkdir()
    tempfile.tempdir = str(folder)


def _run_here(scenario: Callable[[], Any], folder: Path) -> Outcome:
    """The fallback without fork: same folder and quiet output, but no time limit."""
    start = time.monotonic()
    here = Path.cwd()
    environment = os.environ.get("DAGSTER_HOME")
    try:
        with quietly() as captured:
            _enter(folder)
            try:
                value, error = scenario(), None
            except Exception as exc:
                value, error = None, _describe_exception(exc)
    finally:
        os.chdir(here)
        tempfile.tempdir = None
        if environment is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = environment
    output = captured.getvalue()[-OUTPUT_TAIL:]
    return Outcome(value=value, error=error, seconds=time.monotonic() - start, output=output)


def _describe_exception(exc: BaseException) -> StepError:
    frames = traceback.extract_tb(exc.__traceback__)
    own = [
        f
        for f in frames
        if "site-packages" not in f.filename
        and "/graders/" not in f.filename
        and "/lib/python" not in f.filename
    ]
    where = None
    if own:
        frame = own[-1]
        where = f"line {frame.lineno} in `{frame.name}`" + (
            f": `{frame.line.strip()}`" if frame.line else ""
        )
    message = str(exc).strip()
    return StepError("(scenario)", type(exc).__name__, message, where)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"killed by signal {signal.Signals(number).name}"
        return f"killed by signal {number}"
    return f"exited with status {os.WEXITSTATUS(status)} before reporting"


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-OUTPUT_TAIL:]
