"""The pod templates inside workloads and CronJobs, and the selectors that must match them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from graders.kubernetes.manifests import (
    WORKLOAD_KINDS,
    Manifest,
    Path_,
    as_items,
    as_mapping,
    dig,
    parse_path,
    show_labels,
)
from graders.report import Report, short_repr


@dataclass(frozen=True)
class PodTemplate:
    """The pod spec inside a workload, where its path starts, and the pods' labels."""

    manifest: Manifest
    path: Path_
    spec: dict
    labels: dict

    def containers(self, *, init: bool = True) -> Iterator[tuple[Path_, dict]]:
        keys = ("initContainers", "containers") if init else ("containers",)
        for key in keys:
            for i, container in enumerate(as_items(self.spec.get(key))):
                if isinstance(container, dict):
                    yield (*self.path, key, i), container

    def ports(self) -> list[tuple[int | None, str | None]]:
        """(containerPort, name) of every port the main containers declare."""
        found = []
        for _, container in self.containers(init=False):
            for port in as_items(container.get("ports")):
                if isinstance(port, dict):
                    found.append((port.get("containerPort"), port.get("name")))
        return found

    def describe(self) -> str:
        return f"{self.manifest.kind} {self.manifest.name} pods: {show_labels(self.labels)}"


_TEMPLATE_PATHS = {
    **{kind: ("spec", "template") for kind in (*WORKLOAD_KINDS, "Job")},
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def pod_templates(manifests: Iterable[Manifest]) -> list[PodTemplate]:
    """Every pod template (Deployments, StatefulSets, Jobs, CronJobs, ...) and bare Pods."""
    found = []
    for manifest in manifests:
        if manifest.kind == "Pod":
            labels = as_mapping(manifest.get("metadata.labels"))
            found.append(PodTemplate(manifest, ("spec",), as_mapping(manifest.get("spec")), labels))
        elif manifest.kind in _TEMPLATE_PATHS:
            base = _TEMPLATE_PATHS[manifest.kind]
            template = as_mapping(manifest.get(base))
            labels = as_mapping(dig(template, ("metadata", "labels")))
            found.append(
                PodTemplate(manifest, (*base, "spec"), as_mapping(template.get("spec")), labels)
            )
    return found


def find(manifests: Iterable[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [m for m in manifests if m.kind == kind and (name is None or m.name == name)]


def single(
    report: Report, manifests: Sequence[Manifest], kind: str, name: str | None = None
) -> Manifest:
    """The one object of ``kind`` (and ``name``); otherwise a finding, and the enclosing
    :meth:`Report.attempt` block is abandoned (so use it inside one)."""
    matches = find(manifests, kind, name)
    source = manifests[0].source if manifests else "the manifests"
    wanted = f"{kind} {name}" if name else f"a {kind}"
    present = ", ".join(f"{m.kind} {m.name or '(no name)'}" for m in manifests) or "nothing"
    report.require(
        len(matches) == 1,
        source,
        f"should contain exactly one {kind}" + (f" named {name!r}" if name else ""),
        expected=wanted,
        found=present,
        hint="Check kind (capitalised) and metadata.name." if not matches else None,
    )
    return matches[0]


def expect(
    report: Report,
    manifest: Manifest,
    path: Path_ | str,
    expected: Any,
    *,
    message: str | None = None,
    hint: str | None = None,
    same: Callable[[Any, Any], bool] | None = None,
) -> bool:
    """Check one field's value (compared with ``same`` if given, else ``==``)."""
    path = parse_path(path) if isinstance(path, str) else tuple(path)
    found = manifest.get(path, MISSING)
    try:
        ok = found is not MISSING and (same(found, expected) if same else found == expected)
    except Exception:
        ok = False
    return report.check(
        ok,
        manifest.where(path),
        message or f"should be {short_repr(expected, 80)}",
        expected=short_repr(expected),
        found="(not set)" if found is MISSING else short_repr(found),
        hint=hint,
    )


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


MISSING = _Missing()


def container(report: Report, manifest: Manifest, name: str | None = None) -> tuple[Path_, dict]:
    """The (path, spec) of the container called ``name`` (or the only container); otherwise a
    finding and the enclosing :meth:`Report.attempt` block is abandoned."""
    templates = pod_templates([manifest])
    found = [c for t in templates for c in t.containers(init=False)]
    matches = [c for c in found if name is None or c[1].get("name") == name]
    report.require(
        len(matches) == 1,
        manifest.where((*templates[0].path, "containers") if templates else ()),
        f"should have one container named {name!r}" if name else "should have one container",
        expected=name or "one container",
        found=[c[1].get("name") for c in found] or "no containers",
    )
    return matches[0]


def selects(selector: Any, labels: Any) -> bool:
    """Whether a label selector (``matchLabels``/``matchExpressions``) matches ``labels``."""
    selector, labels = as_mapping(selector), as_mapping(labels)
    for key, value in as_mapping(selector.get("matchLabels")).items():
        if str(labels.get(key, MISSING)) != str(value):
            return False
    for expression in as_items(selector.get("matchExpressions")):
        expression = as_mapping(expression)
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in as_items(expression.get("values"))]
        present = isinstance(key, str) and key in labels
        if operator == "In" and not (present and str(labels[key]) in values):
            return False
        if operator == "NotIn" and present and str(labels[key]) in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def check_selectors(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """A workload's selector must match its own pod template's labels."""
    for template in pod_templates(manifests):
        manifest = template.manifest
        if manifest.kind not in WORKLOAD_KINDS:
            continue
        selector = as_mapping(manifest.get("spec.selector"))
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            report.fail(
                manifest.where("spec.selector"),
                "the selector is empty: it must name the labels of this workload's pods",
                expected="matchLabels: {app: <name>}",
                found=short_repr(manifest.get("spec.selector")),
            )
        elif not selects(selector, template.labels):
            report.fail(
                manifest.where("spec.selector"),
                f"the selector does not match the pod template's labels, so this {manifest.kind} "
                "would not own the pods it creates (the API server rejects it)",
                expected=f"spec.template.metadata.labels including "
                f"{show_labels(selector.get('matchLabels'))}",
                found=f"spec.template.metadata.labels = {show_labels(template.labels)}",
                hint="Use the same key: value pair in spec.selector.matchLabels and in "
                "spec.template.metadata.labels.",
            )
