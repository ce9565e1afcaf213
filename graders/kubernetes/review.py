"""Every rule together: :data:`RULES`, :func:`check_manifests` and :func:`check_files`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from graders.kubernetes.config import check_config_refs, check_inline_secrets, check_secret_data
from graders.kubernetes.cronjobs import check_cronjobs
from graders.kubernetes.manifests import KUBERNETES_VERSION, Manifest, load_manifests
from graders.kubernetes.pods import check_selectors
from graders.kubernetes.resources import check_resources
from graders.kubernetes.rollouts import check_rollout
from graders.kubernetes.schema import check_schema
from graders.kubernetes.workloads import (
    check_hpa,
    check_images,
    check_probe_timing,
    check_probes,
    check_services,
)
from graders.report import Report

Rule = Callable[[Report, Sequence[Manifest], Sequence[Manifest]], None]

#: Every semantic rule by name; :func:`check_files` runs the ones it is given.
RULES: dict[str, Rule] = {
    "selectors": check_selectors,
    "services": check_services,
    "hpa": check_hpa,
    "probes": check_probes,
    "probe_timing": check_probe_timing,
    "images": check_images,
    "resources": check_resources,
    "config_refs": check_config_refs,
    "inline_secrets": check_inline_secrets,
    "secret_data": check_secret_data,
    "rollout": check_rollout,
    "cronjobs": check_cronjobs,
}


def check_manifests(
    report: Report,
    manifests: Sequence[Manifest],
    *,
    rules: Iterable[str] = tuple(RULES),
    context: Sequence[Manifest] = (),
    version: str = KUBERNETES_VERSION,
) -> None:
    """Schema validation, then the named semantic rules, on already parsed manifests."""
    check_schema(report, manifests, version)
    report.checks_run += len(manifests)
    for name in rules:
        try:
            RULES[name](report, manifests, context)
        except Exception as exc:  # a shape no rule foresaw: a finding, never a traceback
            report.fail(
                manifests[0].source if manifests else "the manifests",
                f"the {name!r} check could not read these manifests ({type(exc).__name__}: {exc})",
                hint="Fix the schema findings first (wrong types, misplaced fields); this "
                "check runs on well-formed objects.",
            )
        report.checks_run += 1


def check_files(
    report: Report,
    *paths: Path | str,
    rules: Iterable[str] = tuple(RULES),
    context: Sequence[Manifest] = (),
    version: str = KUBERNETES_VERSION,
) -> list[Manifest] | None:
    """Load every file, validate it against the schema and run the ``rules`` across all of them
    (references may also resolve in ``context``, objects given by the exercise). Returns the
    manifests, or ``None`` when a file could not be read (the findings say why)."""
    manifests: list[Manifest] = []
    readable = True
    for path in paths:
        loaded = load_manifests(report, path)
        if loaded is None:
            readable = False
        else:
            manifests += loaded
    if not readable:
        return None
    check_manifests(report, manifests, rules=rules, context=context, version=version)
    return manifests
