"""Grading orchestrated pipelines (Dagster) by running them for real.

A check never inspects pipeline code as text: it runs the student's assets with Dagster's own
in-process executor and judges what happened, from the run's event log: which assets
materialised, in what order, with what metadata, which asset checks passed, which steps
failed and why.

Every grading run happens in a forked child process (:func:`run_isolated`):

* the child inherits the notebook's definitions, so nothing has to be pickled on the way in,
  and sends back a plain summary (:class:`RunSummary`) through a pipe;
* it works in a fresh temporary folder (its current directory, ``DAGSTER_HOME`` and
  ``tempfile``'s default), removed afterwards, so a run never writes into the repository;
* its file descriptors 1 and 2 go to a log file, so Dagster's event log (which it writes to
  stderr) never reaches the notebook, where nbgrader would score the check cell 0;
* it has a time limit, after which its whole process group is killed, and a crash in it
  (``os._exit``, a segfault) costs only the exercise that caused it.

The report helpers turn a run into located findings: a step that raised is reported with the
step's name, the exception and the student's line that raised it.
"""

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.remote import remote_data
from graders.remote.codec import is_data
from graders.report import Report, quietly, short_repr

RUN_TIMEOUT = 20.0  # seconds for one isolated scenario (one or a few Dagster runs)
OUTPUT_TAIL = 6000  # characters of the child's log kept for the student

# -- what a run looked like, as plain data -----------------------------------------------------


@remote_data
@dataclass(frozen=True)
class StepError:
    """A step that raised: which step, what it raised, and where in the student's code."""

    step: str
    error_type: str
    message: str
    where: str | None = None  # "line 12 in `raw_rides`: `frame = load(...)`"

    def describe(self) -> str:
        return f"{self.error_type}: {self.message}" if self.message else self.error_type


@remote_data
@dataclass(frozen=True)
class Materialization:
    asset: str  # the asset key, parts joined with "/"
    partition: str | None
    metadata: dict[str, Any]


@remote_data
@dataclass(frozen=True)
class CheckEvaluation:
    asset: str
    name: str
    passed: bool
    severity: str
    blocking: bool
    metadata: dict[str, Any]


@remote_data
@dataclass(frozen=True)
class RunSummary:
    """What one Dagster run did, in the order it happened."""

    success: bool
    partition: str | None = None
    steps_started: tuple[str, ...] = ()
    materializations: tuple[Materialization, ...] = ()
    checks: tuple[CheckEvaluation, ...] = ()
    failures: tuple[StepError, ...] = ()
    retries: Mapping[str, int] = field(default_factory=dict)  # step -> retries requested
    run_error: StepError | None = None  # a failure outside any step (resources, config)

    @property
    def materialized(self) -> list[str]:
        """Asset keys in the order they materialised (once per partition)."""
        return [m.asset for m in self.materializations]

    def metadata(self, asset: str, partition: str | None = None) -> dict[str, Any] | None:
        """The metadata of the last materialisation of ``asset`` (in ``partition``), if any."""
        found = None
        for m in self.materializations:
            if m.asset == asset and (partition is None or m.partition == partition):
                found = m.metadata
        return found

    def check(self, name: str, asset: str | None = None) -> CheckEvaluation | None:
        for evaluation in self.checks:
            if evaluation.name == name and (asset is None or evaluation.asset == asset):
                return evaluation
        return None

    def to_text(self) -> str:
        lines = [
            f"run {'succeeded' if self.success else 'FAILED'}"
            + (f" (partition {self.partition})" if self.partition else "")
        ]
        for m in self.materializations:
            where = f"[{m.partition}]" if m.partition else ""
            lines.append(f"  materialised {m.asset}{where} {_plain_metadata(m.metadata)}")
        for c in self.checks:
            verdict = "passed" if c.passed else f"FAILED ({c.severity})"
            lines.append(f"  check {c.asset}:{c.name} {verdict} {_plain_metadata(c.metadata)}")
        for step, count in self.retries.items():
            lines.append(f"  step {step} retried {count} time{'s' if count != 1 else ''}")
        for f in self.failures:
            lines.append(f"  step {f.step} failed: {f.describe()}")
        if self.run_error:
            lines.append(f"  run failed: {self.run_error.describe()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.success else "#cf222e"
        rows = "".join(
            f"<li><code>{html.escape(line.strip())}</code></li>"
            for line in self.to_text().splitlines()[1:]
        )
        title = html.escape(self.to_text().splitlines()[0])
        return (
            f"<div style='border-left:4px solid {colour};padding:0.3em 0.8em'>"
            f"<b style='color:{colour}'>{title}</b><ul>{rows}</ul></div>"
        )


def _plain_metadata(metadata: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in metadata.items() if k != "path"}  # the IO manager's file
    return short_repr(shown, 160) if shown else ""


# -- turning Dagster's result into a summary (runs inside the child) ---------------------------


def summarize(result: Any) -> RunSummary:
    """A :class:`RunSummary` of an ``ExecuteInProcessResult`` (from ``materialize`` or
    ``execute_in_process``), in plain data that can cross a process boundary."""
    tags = getattr(getattr(result, "dagster_run", None), "tags", {}) or {}
    return summarize_events(result.all_events, bool(result.success), tags)


def summarize_runs(instance: Any) -> list[RunSummary]:
    """Summaries of every run an instance has recorded, oldest first (for backfills and
    runs that a schedule or sensor requested)."""
    summaries = []
    for run in reversed(list(instance.get_runs())):
        events = [
            entry.dagster_event
            for entry in instance.all_logs(run.run_id)
            if entry.dagster_event is not None
        ]
        success = getattr(run.status, "value", str(run.status)) == "SUCCESS"
        summaries.append(summarize_events(events, success, run.tags or {}))
    return summaries


def summarize_events(events: Iterable[Any], success: bool, tags: Mapping[str, str]) -> RunSummary:
    """A :class:`RunSummary` from a run's Dagster events, in the order they happened."""
    started: list[str] = []
    materializations: list[Materialization] = []
    checks: list[CheckEvaluation] = []
    failures: list[StepError] = []
    retries: dict[str, int] = {}
    last_retry_error: dict[str, Any] = {}
    run_error = None
    for event in events:
        kind = event.event_type_value
        step = event.step_key or ""
        data = event.event_specific_data
        if kind == "STEP_START":
            started.append(step)
        elif kind == "STEP_UP_FOR_RETRY":
            retries[step] = retries.get(step, 0) + 1
            last_retry_error[step] = getattr(data, "error", None)
        elif kind == "ASSET_MATERIALIZATION":
            materialization = data.materialization
            materializations.append(
                Materialization(
                    asset=materialization.asset_key.to_user_string(),
                    partition=materialization.partition,
                    metadata=plain_metadata(materialization.metadata),
                )
            )
        elif kind == "ASSET_CHECK_EVALUATION":
            severity = getattr(data.severity, "value", str(data.severity))
            checks.append(
                CheckEvaluation(
                    asset=data.asset_key.to_user_string(),
                    name=data.check_name,
                    passed=bool(data.passed),
                    severity=str(severity),
                    blocking=bool(getattr(data, "blocking", False)),
                    metadata=plain_metadata(data.metadata),
                )
            )
        elif kind == "STEP_FAILURE":
            error = getattr(data, "error", None)
            if error is not None and "Exceeded max_retries" in (error.message or ""):
                error = last_retry_error.get(step) or error  # the error that kept recurring
            failures.append(_step_error(step, error, getattr(data, "user_failure_data", None)))
        elif kind in ("PIPELINE_FAILURE", "RUN_FAILURE") and getattr(data, "error", None):
            run_error = _step_error("(run)", data.error, None)
    return RunSummary(
        success=success,
        partition=tags.get("dagster/partition"),
        steps_started=tuple(started),
        materializations=tuple(materializations),
        checks=tuple(checks),
        failures=tuple(failures),
        retries=retries,
        run_error=run_error if not failures else None,
    )


def plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Dagster metadata values as plain Python values (``IntMetadataValue(3)`` → ``3``)."""
    plain = {}
    for key, value in (metadata or {}).items():
        raw = getattr(value, "value", value)
        if hasattr(raw, "fspath"):
            raw = raw.fspath
        elif hasattr(raw, "text") and not isinstance(raw, str):
            raw = raw.text
        if not _is_plain(raw):  # it must cross to the checker as data (graders.remote)
            raw = repr(raw)
        plain[str(key)] = raw
    return plain


def _is_plain(value: Any) -> bool:
    """Data that crosses to the checker (graders.remote) and through the child's pipe."""
    if not is_data(value):
        return False
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _step_error(step: str, error: Any, user_failure: Any) -> StepError:
    """The most useful exception in Dagster's error chain, with the student's line."""
    if error is None:
        return StepError(step, "Failure", "the step failed without an error")
    # Dagster wraps user exceptions ("Error occurred while executing op ..."): prefer the cause.
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    user = next((e for e in reversed(chain) if not _is_dagster_wrapper(e)), chain[-1])
    error_type = user.cls_name or "Exception"
    message = _exception_message(user.message, error_type)
    if user_failure is not None and getattr(user_failure, "description", None):
        error_type, message = "Failure", user_failure.description
    return StepError(step, error_type, message, _where_in_student_code(user.stack))


def _is_dagster_wrapper(error: Any) -> bool:
    return (error.cls_name or "").startswith("Dagster") and error.cause is not None


def _exception_message(message: str, error_type: str) -> str:
    """``'dagster...Failure: corrupt file\\n'`` → ``'corrupt file'``."""
    text = (message or "").strip()
    head, sep, rest = text.partition(": ")
    if sep and head.rsplit(".", 1)[-1] == error_type:
        text = rest.strip()
    return text.splitlines()[0] if len(text.splitlines()) == 1 else text


def _where_in_student_code(stack: Sequence[str]) -> str | None:
    """The last frame of a Dagster stack that is the student's code (not a library)."""
    own = [
        frame
        for frame in stack
        if "site-packages" not in frame and "/graders/" not in frame and "/lib/python" not in frame
    ]
    if not own:
        return None
    lines = own[-1].strip().splitlines()
    head = lines[0]  # File "/tmp/ipykernel_1/123.py", line 12, in raw_rides
    code = lines[1].strip() if len(lines) > 1 else ""
    try:
        line_no = head.split(", line ", 1)[1].split(",", 1)[0]
        function = head.rsplit(" in ", 1)[1]
    except IndexError:
        return head
    return f"line {line_no} in `{function}`" + (f": `{code}`" if code else "")


# -- running a scenario in an isolated child process -------------------------------------------


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


# -- helpers for scenarios (run inside the child) ----------------------------------------------


def materialize(assets: Sequence[Any], **kwargs: Any) -> RunSummary:
    """``dagster.materialize`` that never raises for a failing step and returns a summary.

    Without an ``instance`` it uses an ephemeral one whose files live in the current folder.
    Errors outside steps (invalid run config, an unknown partition) still raise.
    """
    import dagster as dg

    kwargs.setdefault("instance", dg.DagsterInstance.ephemeral(tempdir=str(Path.cwd())))
    kwargs.setdefault("raise_on_error", False)
    return summarize(dg.materialize(list(assets), **kwargs))


def lineage(definitions: Iterable[Any]) -> dict[str, list[str]]:
    """Every asset key with the sorted keys it depends on, from assets or asset checks.

    Asset checks appear as ``asset:check`` depending on the asset they check.
    """
    graph: dict[str, list[str]] = {}
    for item in flatten(definitions):
        for key, parents in (getattr(item, "asset_deps", None) or {}).items():
            graph[key.to_user_string()] = sorted(p.to_user_string() for p in parents)
        for spec in getattr(item, "check_specs", None) or ():
            graph[f"{spec.asset_key.to_user_string()}:{spec.name}"] = [
                spec.asset_key.to_user_string()
            ]
    return graph


def flatten(definitions: Iterable[Any]) -> list[Any]:
    items = []
    for item in definitions:
        if isinstance(item, (list, tuple)):
            items.extend(flatten(item))
        else:
            items.append(item)
    return items


# -- findings ----------------------------------------------------------------------------------


def expect_outcome(
    report: Report, outcome: Outcome, location: str, *, timeout_hint: str = ""
) -> Any:
    """The scenario's value, or ``None`` after recording why there is none."""
    if outcome.timed_out:
        report.fail(
            location,
            f"did not finish within the time limit ({outcome.seconds:.0f} s)",
            hint=timeout_hint
            or "Look for a step that waits: a long sleep, a retry delay, a loop that never ends.",
        )
        return None
    if outcome.crashed:
        report.fail(
            location,
            f"the pipeline's process died: {outcome.crashed}",
            found=_last_lines(outcome.output),
            hint="Something called os._exit(), sys.exit() or crashed the interpreter.",
        )
        return None
    if outcome.error is not None:
        error = outcome.error
        if error.error_type == "NotImplementedError":
            report.not_written(location)
            return None
        report.fail(
            location,
            f"raised {error.describe()}",
            hint=(f"It was raised at {error.where}." if error.where else None),
        )
        return None
    report.checks_run += 1
    return outcome.value


def run_scenario(
    report: Report, scenario: Callable[[], Any], location: str, *, timeout: float = RUN_TIMEOUT
) -> Any:
    """:func:`run_isolated` + :func:`expect_outcome`, inside a ``report.attempt`` block:
    returns the scenario's value, or records why there is none and leaves the block."""
    return outcome_value(report, run_isolated(scenario, timeout=timeout), location)


def outcome_value(report: Report, outcome: Any, location: str) -> Any:
    """The value of a scenario run beside the learner's definitions (graders.pipeline_runs),
    inside a ``report.attempt`` block: or, after recording why there is none, leave it.

    In the checker ``outcome`` is what the learner's kernel sent: anything but an Outcome
    is a finding, never a crash of the check."""
    if not isinstance(outcome, Outcome):
        report.fail(location, "the scenario did not report how it ended", found=short_repr(outcome))
        report.abandon()
    value = expect_outcome(report, outcome, location)
    if not outcome.ok:
        report.abandon()
    return value


def check_run(report: Report, summary: Any, location: str, *, hint: str | None = None) -> bool:
    """Record every failed step (its name, exception and line) of a run that should succeed."""
    if not isinstance(summary, RunSummary) and type(summary).__name__ != "RunSummary":
        report.fail(
            location, "the scenario did not return a run summary", found=short_repr(summary)
        )
        return False
    report.checks_run += 1
    if summary.success:
        return True
    for failure in summary.failures:
        if failure.error_type == "NotImplementedError":
            report.not_written(f"{location}: step {failure.step}")
            continue
        report.fail(
            f"{location}: step {failure.step}",
            f"raised {failure.describe()}",
            hint=(f"It was raised at {failure.where}." if failure.where else hint),
        )
    if summary.run_error is not None:
        report.fail(location, f"the run failed: {summary.run_error.describe()}", hint=hint)
    elif not summary.failures:
        report.fail(location, "the run failed without a failed step", hint=hint)
    return False


def check_materialized(
    report: Report,
    summary: RunSummary,
    expected: Iterable[str],
    location: str,
    *,
    hint: str | None = None,
) -> bool:
    """The run materialised exactly the assets ``expected`` (each at least once)."""
    found = sorted(set(summary.materialized))
    wanted = sorted(set(expected))
    missing = [a for a in wanted if a not in found]
    extra = [a for a in found if a not in wanted]
    message = "materialised the wrong assets"
    if missing and not extra:
        message = f"did not materialise {', '.join(missing)}"
    elif extra and not missing:
        message = f"materialised unexpected assets {', '.join(extra)}"
    return report.check(
        not missing and not extra, location, message, expected=wanted, found=found, hint=hint
    )


def check_not_materialized(
    report: Report,
    summary: RunSummary,
    assets: Iterable[str],
    location: str,
    *,
    hint: str | None = None,
) -> bool:
    """None of ``assets`` materialised (a gate should have stopped them)."""
    leaked = [a for a in assets if a in summary.materialized]
    return report.check(
        not leaked,
        location,
        f"{', '.join(leaked) or 'nothing'} materialised although it should have been stopped",
        expected="not materialised",
        found=f"materialised: {summary.materialized}",
        hint=hint,
    )


def check_order(
    report: Report, summary: RunSummary, graph: Mapping[str, Sequence[str]], location: str
) -> bool:
    """Every asset materialised after each of its upstream assets in ``graph``."""
    position = {asset: i for i, asset in reversed(list(enumerate(summary.materialized)))}
    wrong = [
        f"{parent} → {child}"
        for child, parents in graph.items()
        if child in position
        for parent in parents
        if parent in position and position[parent] > position[child]
    ]
    return report.check(
        not wrong,
        location,
        "assets materialised before what they depend on",
        expected="every upstream asset first",
        found=f"order {summary.materialized}; violated {wrong}",
    )


def check_lineage(
    report: Report,
    found: Mapping[str, Sequence[str]],
    expected: Mapping[str, Sequence[str]],
    location: str,
    *,
    hint: str | None = None,
) -> bool:
    """The asset graph has exactly the expected upstream assets for each expected asset."""
    ok = True
    for asset, parents in expected.items():
        if asset not in found:
            report.fail(
                location,
                f"there is no asset named {asset}",
                expected=sorted(expected),
                found=sorted(found),
                hint="The asset's name is the decorated function's name (or its `name=`).",
            )
            ok = False
            continue
        ok &= report.check(
            sorted(found[asset]) == sorted(parents),
            f"{location}: asset {asset}",
            "depends on the wrong upstream assets",
            expected=sorted(parents) or "no upstream asset",
            found=sorted(found[asset]) or "no upstream asset",
            hint=hint
            or "An asset depends on the assets named by its parameters (or listed in deps=).",
        )
    return ok


def check_metadata(
    report: Report,
    summary: RunSummary,
    asset: str,
    key: str,
    expected: Any,
    location: str,
    *,
    partition: str | None = None,
    tolerance: float | None = None,
    hint: str | None = None,
) -> bool:
    """The materialisation of ``asset`` carries metadata ``key`` equal to ``expected``."""
    where = f"{location}: asset {asset}" + (f"[{partition}]" if partition else "")
    metadata = summary.metadata(asset, partition)
    if metadata is None:
        report.fail(where, "did not materialise, so its metadata cannot be checked", hint=hint)
        return False
    if key not in metadata:
        shown = sorted(k for k in metadata if k != "path")
        return report.check(
            False,
            where,
            f"has no metadata entry {key!r}",
            expected=f"{key} = {short_repr(expected)}",
            found=f"entries {shown}",
            hint=hint
            or "Attach it with context.add_output_metadata({...}) or "
            "MaterializeResult(metadata={...}).",
        )
    return _check_value(
        report, metadata[key], expected, where, f"metadata {key!r}", tolerance, hint
    )


def check_check(
    report: Report,
    summary: RunSummary,
    name: str,
    location: str,
    *,
    passed: bool,
    metadata: Mapping[str, Any] | None = None,
    hint: str | None = None,
) -> bool:
    """The asset check ``name`` ran with the expected verdict (and metadata)."""
    evaluation = summary.check(name)
    where = f"{location}: check {name}"
    if evaluation is None:
        ran = [c.name for c in summary.checks]
        report.fail(
            where, "did not run", expected=f"a check named {name}", found=f"checks {ran}", hint=hint
        )
        return False
    ok = report.check(
        evaluation.passed == passed,
        where,
        "should pass on this batch" if passed else "should fail on this batch",
        expected="passed" if passed else "failed",
        found="passed" if evaluation.passed else "failed",
        hint=hint,
    )
    for key, value in (metadata or {}).items():
        if key not in evaluation.metadata:
            ok &= report.check(
                False,
                where,
                f"has no metadata entry {key!r}",
                expected=f"{key} = {short_repr(value)}",
                found=f"entries {sorted(evaluation.metadata)}",
                hint="AssetCheckResult(passed=..., metadata={...})",
            )
        else:
            ok &= _check_value(
                report, evaluation.metadata[key], value, where, f"metadata {key!r}", None, hint
            )
    return ok


def _check_value(
    report: Report,
    found: Any,
    expected: Any,
    where: str,
    what: str,
    tolerance: float | None,
    hint: str | None,
) -> bool:
    if tolerance is not None:
        try:
            same = abs(float(found) - float(expected)) <= tolerance
        except (TypeError, ValueError):
            same = False
    else:
        same = _same(found, expected)
    return report.check(
        same,
        where,
        f"{what} has the wrong value",
        expected=short_repr(expected),
        found=short_repr(found),
        hint=hint,
    )


def _same(found: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(found, bool):
        return type(found) is type(expected) and found == expected
    try:
        return bool(found == expected)
    except Exception:
        return False


def _last_lines(output: str, count: int = 6) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:]) or "(no output)"


# -- exploration: preview a run, draw the lineage graph -------------------------------------


def preview(
    build: Callable[[], Sequence[Any]], *, timeout: float = RUN_TIMEOUT, **kwargs: Any
) -> RunSummary | None:
    """Materialise ``build()``'s assets the way the checks do (a child process, a temporary
    folder, a time limit, the log captured) and return the run's summary to look at.

    ``kwargs`` go to ``dagster.materialize`` (``run_config``, ``resources``, ...).
    """
    outcome = run_isolated(lambda: materialize(flatten(build()), **kwargs), timeout=timeout)
    if outcome.ok:
        return outcome.value
    report = Report("preview")
    expect_outcome(report, outcome, "preview")
    print("\n".join(f.to_text() for f in report.findings))
    return None


def draw_lineage(definitions: Iterable[Any], ax: Any = None, title: str = "asset lineage") -> Any:
    """Draw the asset graph with matplotlib: sources on the left, each asset right of its
    upstream assets, asset checks (yellow) right of the asset they guard."""
    import matplotlib.pyplot as plt

    graph = lineage(definitions)
    depth: dict[str, int] = {}

    def level(node: str, seen: tuple[str, ...] = ()) -> int:
        if node not in depth:
            parents = [p for p in graph.get(node, []) if p not in seen]
            depth[node] = 1 + max((level(p, (*seen, node)) for p in parents), default=-1)
        return depth[node]

    for node in graph:
        level(node)
    columns: dict[int, list[str]] = {}
    for node in sorted(graph, key=lambda n: (depth[n], n)):
        columns.setdefault(depth[node], []).append(node)
    position = {
        node: (column, -row + (len(nodes) - 1) / 2)
        for column, nodes in columns.items()
        for row, node in enumerate(nodes)
    }
    if ax is None:
        width = 2.6 * (max(columns, default=0) + 1)
        height = 1.2 * max((len(n) for n in columns.values()), default=1) + 0.8
        _, ax = plt.subplots(figsize=(max(width, 4), max(height, 2)))
    for child, parents in graph.items():
        for parent in parents:
            (x0, y0), (x1, y1) = position[parent], position[child]
            ax.annotate(
                "",
                xy=(x1 - 0.32, y1),
                xytext=(x0 + 0.32, y0),
                arrowprops={"arrowstyle": "->", "color": "#57606a"},
            )
    for node, (x, y) in position.items():
        is_check = ":" in node
        ax.text(
            x,
            y,
            node.split(":", 1)[1] if is_check else node,
            ha="center",
            va="center",
            fontsize=8 if is_check else 9,
            bbox={
                "boxstyle": "round4" if is_check else "round",
                "fc": "#fff8c5" if is_check else "#ddf4ff",
                "ec": "#9a6700" if is_check else "#0969da",
            },
        )
    ax.set_xlim(-0.6, max(columns, default=0) + 0.6)
    ys = [y for _, y in position.values()] or [0]
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_axis_off()
    ax.set_title(title)
    return ax
