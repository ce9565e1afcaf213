"""CPU and memory requests and limits: quantities parsed as the API server does."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from graders.kubernetes.manifests import Manifest, as_mapping
from graders.kubernetes.pods import pod_templates
from graders.report import Report, short_repr

_SUFFIXES: dict[str, int | Decimal] = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$"
)


def parse_quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (``250m``, ``1.5``, ``512Mi``, ``1e3``) as a number, or ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            amount = Decimal(str(value))
        except ArithmeticError:
            return None
        return amount if amount.is_finite() else None
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    number, exponent, suffix = match.groups()
    try:
        amount = Decimal(number + (exponent or "")) * Decimal(_SUFFIXES[suffix or ""])
    except ArithmeticError:  # InvalidOperation, Overflow: nothing a cluster would accept
        return None
    return amount if amount.is_finite() else None


def same_quantity(found: Any, expected: Any) -> bool:
    """Whether two quantities are the same amount (``"0.5"`` and ``"500m"`` are)."""
    amount = parse_quantity(found)
    return amount is not None and amount == parse_quantity(expected)


REQUIRED_RESOURCES = (
    ("requests", "cpu"),
    ("requests", "memory"),
    ("limits", "cpu"),
    ("limits", "memory"),
)


def check_resources(
    report: Report,
    manifests: Sequence[Manifest],
    context: Sequence[Manifest] = (),
    *,
    required: Sequence[tuple[str, str]] = REQUIRED_RESOURCES,
) -> None:
    """Requests and limits are set, are valid quantities, and requests do not exceed limits."""
    for template in pod_templates(manifests):
        for path, spec in template.containers(init=False):
            resources = as_mapping(spec.get("resources"))
            missing = [
                f"{kind}.{name}"
                for kind, name in required
                if as_mapping(resources.get(kind)).get(name) is None
            ]
            if missing:
                report.fail(
                    template.manifest.where((*path, "resources")),
                    "requests and limits must be set: without requests the scheduler packs pods "
                    "blindly, without limits one pod can starve its neighbours",
                    expected="resources: " + ", ".join(f"{k}.{n}" for k, n in required),
                    found="missing " + ", ".join(missing),
                )
            parsed: dict[tuple[str, str], Decimal] = {}
            for kind in ("requests", "limits"):
                for name, value in as_mapping(resources.get(kind)).items():
                    where = template.manifest.where((*path, "resources", kind, name))
                    amount = parse_quantity(value)
                    if amount is None:
                        report.fail(
                            where,
                            "is not a Kubernetes quantity",
                            expected="e.g. 250m or 0.5 (CPU), 512Mi or 1Gi (memory)",
                            found=short_repr(value),
                        )
                        continue
                    parsed[(kind, name)] = amount
                    _check_magnitude(report, where, name, value, amount)
            for name in {n for _, n in parsed}:
                request, limit = parsed.get(("requests", name)), parsed.get(("limits", name))
                if request is not None and limit is not None and request > limit:
                    report.fail(
                        template.manifest.where((*path, "resources", "requests", name)),
                        f"the {name} request is larger than its limit (the API server rejects it)",
                        expected=f"at most {resources['limits'][name]}",
                        found=short_repr(resources["requests"][name]),
                    )


def _check_magnitude(report: Report, where: str, name: str, value: Any, amount: Decimal) -> None:
    if name == "memory" and amount < 4 * 2**20:
        report.fail(
            where,
            f"{value} means {amount} bytes of memory: far too little for any process",
            expected="a unit, e.g. 512Mi or 1Gi",
            found=short_repr(value),
            hint="Memory without a unit is in bytes.",
        )
    if name == "cpu" and amount > 64:
        report.fail(
            where,
            f"{value} means {amount} whole CPU cores",
            expected="millicores like 250m, or a fraction like 0.25",
            found=short_repr(value),
            hint="1 = one core; 250m = a quarter of a core.",
        )
