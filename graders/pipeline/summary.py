"""Dagster's result turned into a :class:`~graders.pipeline.runs.RunSummary` (inside the
child), and the helpers scenarios use there."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graders.pipeline.runs import CheckEvaluation, Materialization, RunSummary, StepError
from graders.remote.codec import is_data


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
