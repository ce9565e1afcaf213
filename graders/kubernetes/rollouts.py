"""Rolling updates that keep the service up."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, floor
from typing import Any

from graders.kubernetes.manifests import Manifest, as_mapping
from graders.kubernetes.pods import find, pod_templates
from graders.report import Report, short_repr


def _resolve(value: Any, replicas: int, round_up: bool) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    match = re.fullmatch(r"(\d+)%", str(value).strip())
    if not match:
        return None
    exact = int(match.group(1)) * replicas / 100
    return ceil(exact) if round_up else floor(exact)


def check_rollout(
    report: Report,
    manifests: Sequence[Manifest],
    context: Sequence[Manifest] = (),
    *,
    min_available: int | None = None,
    max_total: int | None = None,
) -> None:
    """A rollout keeps the service up: RollingUpdate with valid limits, never all pods down,
    readiness probes on the pods, and (if given) at least ``min_available`` available and at
    most ``max_total`` pods during the rollout."""
    for deployment in find(manifests, "Deployment"):
        if _check_strategy(report, deployment, min_available, max_total):
            _check_readiness_probes(report, deployment)


def _check_strategy(
    report: Report, deployment: Manifest, min_available: int | None, max_total: int | None
) -> bool:
    """Findings for the rollout strategy; False when it is Recreate or its limits are
    unreadable (nothing more to say about the rollout)."""
    strategy = as_mapping(deployment.get("spec.strategy"))
    replicas = deployment.get("spec.replicas", 1)
    replicas = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    if strategy.get("type") == "Recreate":
        report.fail(
            deployment.where("spec.strategy.type"),
            "Recreate stops every old pod before the new ones start: the service is down "
            "during every rollout",
            expected="RollingUpdate",
            found="Recreate",
        )
        return False
    update = as_mapping(strategy.get("rollingUpdate"))
    surge_value, down_value = update.get("maxSurge", "25%"), update.get("maxUnavailable", "25%")
    surge = _resolve(surge_value, replicas, round_up=True)
    down = _resolve(down_value, replicas, round_up=False)
    for name, value, resolved in (
        ("maxSurge", surge_value, surge),
        ("maxUnavailable", down_value, down),
    ):
        if resolved is None:
            report.fail(
                deployment.where(("spec", "strategy", "rollingUpdate", name)),
                "is neither a number of pods nor a percentage",
                expected="1 or '25%'",
                found=short_repr(value),
            )
    if surge is None or down is None:
        return False
    if surge_value in (0, "0%") and down_value in (0, "0%"):
        report.fail(
            deployment.where("spec.strategy.rollingUpdate"),
            "maxSurge and maxUnavailable cannot both be 0: the rollout could never make "
            "progress (the API server rejects it)",
            hint="Allow one extra pod: maxSurge: 1, maxUnavailable: 0.",
        )
        return False
    if surge == 0 and down == 0:
        down = 1  # what the Deployment controller does when both round to zero
    limits = _RolloutLimits(replicas, surge_value, down_value, surge, down)
    _check_pods_during_rollout(
        report, deployment.where("spec.strategy"), limits, min_available, max_total
    )
    return True


@dataclass(frozen=True)
class _RolloutLimits:
    """A Deployment's replicas and its rolling update's limits, as written and in pods."""

    replicas: int
    surge_value: Any
    down_value: Any
    surge: int
    down: int


def _check_pods_during_rollout(
    report: Report,
    where: str,
    limits: _RolloutLimits,
    min_available: int | None,
    max_total: int | None,
) -> None:
    replicas, surge_value, down_value = limits.replicas, limits.surge_value, limits.down_value
    down = limits.down
    lowest, highest = replicas - min(down, replicas), replicas + limits.surge
    if replicas > 0 and lowest == 0:
        report.fail(
            where,
            "maxUnavailable lets every pod go down at once during a rollout",
            expected=f"at least 1 of {replicas} pods available",
            found=f"maxUnavailable {down_value} = {down} of {replicas} pods",
        )
    if min_available is not None and lowest < min_available:
        report.fail(
            where,
            f"during a rollout only {lowest} pods are guaranteed available",
            expected=f"at least {min_available} (replicas − maxUnavailable, rounded down)",
            found=f"replicas {replicas}, maxUnavailable {down_value} → {lowest} available",
            hint="maxUnavailable is how many of the desired pods may be missing; percentages "
            "round down.",
        )
    if max_total is not None and highest > max_total:
        report.fail(
            where,
            f"during a rollout up to {highest} pods may run at once",
            expected=f"at most {max_total} (replicas + maxSurge, rounded up)",
            found=f"replicas {replicas}, maxSurge {surge_value} → {highest} pods",
            hint="maxSurge is how many pods may exist above replicas; percentages round up.",
        )


def _check_readiness_probes(report: Report, deployment: Manifest) -> None:
    for template in pod_templates([deployment]):
        for path, spec in template.containers(init=False):
            if not isinstance(spec.get("readinessProbe"), dict):
                report.fail(
                    deployment.where((*path, "readinessProbe")),
                    "without a readinessProbe a new pod counts as available as soon as its "
                    "process starts, before it can answer: the rollout sends it traffic "
                    "too early and removes old pods too soon",
                    expected="a readinessProbe",
                    found="none",
                )
