"""What a Dagster run looked like, as plain data a check can compare and the checker can
receive: steps, materializations, asset-check evaluations, errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graders.remote import remote_data
from graders.report import short_repr

RUN_TIMEOUT = 20.0  # seconds for one isolated scenario (one or a few Dagster runs)
OUTPUT_TAIL = 6000  # characters of the child's log kept for the student


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
