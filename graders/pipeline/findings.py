"""Runs turned into located findings: a step that raised is reported with the step's name,
the exception and the learner's line that raised it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from graders.pipeline.child import Outcome, run_isolated
from graders.pipeline.runs import RUN_TIMEOUT, RunSummary
from graders.report import Report, short_repr


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
