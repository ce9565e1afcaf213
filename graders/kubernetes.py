"""Kubernetes manifests: parsed with line numbers, validated against the real API schemas,
checked with the rules a reviewer applies, and applied to a cluster only when one is reachable.

Three layers, each collecting *every* finding into a :class:`~graders.report.Report`:

1. **Loading** (:func:`load_manifests`, :func:`parse_manifests`): the file must exist, not be
   the released placeholder, be valid YAML without duplicate keys, and hold Kubernetes objects
   (mappings with ``apiVersion`` and ``kind``). Every document remembers the line of each
   field, so a finding can say ``deployment.yaml doc 1 (Deployment churn-api) line 14:
   spec.selector.matchLabels``.
2. **Schema** (:func:`check_schema`): the OpenAPI schemas of Kubernetes
   :data:`KUBERNETES_VERSION` shipped by ``kubernetes-validate``, in strict mode (unknown
   fields are errors, as with ``kubectl apply --validate=strict``). ``kubernetes_validate.
   validate`` stops at the first error; here the same schemas and registry feed a
   ``Draft202012Validator`` whose ``iter_errors`` gives all of them.
3. **Semantics** (:data:`RULES`): what the schema cannot see because it spans fields or
   documents: selectors that match their pods, Services that reach a container port, an HPA
   that targets an existing Deployment, probes on declared ports, pinned images, resources,
   ConfigMaps and Secrets that exist, secrets kept out of the Deployment, rollouts that keep
   capacity, valid CronJob schedules.

:func:`check_files` runs all three. :func:`dry_run` is the optional live layer: with a
kubeconfig and ``kubectl`` it runs ``kubectl apply --dry-run=server``; otherwise it notes
that it skipped and shows the command. Nothing here raises for bad student input.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import functools
import importlib.resources
import os
import re
import shutil
import subprocess
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from math import ceil, floor
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

from graders.artefacts import read_artefact
from graders.formats import cron
from graders.formats.cron import CronError
from graders.formats.secrets import names_a_secret
from graders.formats.yamltext import YamlUnreadable, documents
from graders.report import Report, short_repr

#: The Kubernetes API version manifests are validated against. kubernetes-validate 1.37.0
#: ships the schemas of 1.25 to 1.37; 1.33 is a version every managed offering still runs.
KUBERNETES_VERSION = "1.33"

Path_ = tuple[str | int, ...]

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
SCALABLE_KINDS = ("Deployment", "ReplicaSet", "StatefulSet")
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "failureThreshold": 3}


# -- paths -------------------------------------------------------------------------------------


def format_path(path: Iterable[str | int]) -> str:
    """``("spec", "containers", 0, "image")`` as ``spec.containers[0].image``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_path(text: str) -> Path_:
    """The inverse of :func:`format_path`."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


def dig(value: Any, path: Path_ | str, default: Any = None) -> Any:
    """The value at ``path`` inside nested dicts and lists, or ``default``; never raises."""
    for part in parse_path(path) if isinstance(path, str) else path:
        in_list = (
            isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value)
        )
        in_mapping = isinstance(part, str) and isinstance(value, dict) and part in value
        if not (in_list or in_mapping):
            return default
        value = value[part]
    return value


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list:
    return value if isinstance(value, list) else []


def show_labels(labels: Any) -> str:
    """Labels as ``{app: churn-api, tier: api}``, the way they look in the YAML."""
    if not isinstance(labels, dict) or not labels:
        return "{} (none)"
    return "{" + ", ".join(f"{k}: {v}" for k, v in labels.items()) + "}"


# -- loading -----------------------------------------------------------------------------------


@dataclass
class Manifest:
    """One Kubernetes object from a file, with the line of every field in it."""

    source: str
    index: int  # 1-based position of the document in its file
    body: dict
    lines: dict[Path_, int] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def name(self) -> str:
        return str(_mapping(self.body.get("metadata")).get("name", ""))

    def line(self, path: Path_ = ()) -> int | None:
        """The line of ``path``, or of its nearest ancestor that exists in the file."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)

    def where(self, path: Path_ | str = ()) -> str:
        """``kubernetes_work/x.yaml doc 2 (Service churn-api) line 9: spec.selector``."""
        path = parse_path(path) if isinstance(path, str) else tuple(path)
        what = f" ({self.kind} {self.name})" if self.kind and self.name else ""
        line = self.line(path)
        at = f" line {line}" if line else ""
        return f"{self.source} doc {self.index}{what}{at}: {format_path(path) or '(document)'}"

    def get(self, path: Path_ | str, default: Any = None) -> Any:
        return dig(self.body, path, default)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, plus the ``=`` value tag kubernetes-validate also accepts."""


_Loader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: str(loader.construct_scalar(node))
)


def _yaml_hint(problem: str) -> str:
    if "\\t" in problem or "tab" in problem:
        return "YAML does not allow tabs for indentation: indent with spaces only."
    return (
        "YAML is indentation-sensitive: keys of the same object line up exactly, list items "
        "start with '- ', and a value containing ': ' or starting with '*', '&' or '{' needs "
        "quotes."
    )


def parse_manifests(report: Report, text: str, source: str) -> list[Manifest] | None:
    """The Kubernetes objects in ``text`` (findings for everything unusable), or ``None``
    when the YAML cannot be read at all or holds no object."""
    findings_before = len(report.findings)
    manifests: list[Manifest] = []
    try:
        for document in documents(text, _Loader):
            _add_document(
                report, manifests, source, document.index, document.data, document.lines,
                document.duplicates,
            )  # fmt: skip
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = " ".join(
            str(part)
            for part in (getattr(exc, "context", None), getattr(exc, "problem", None) or exc)
            if part
        )
        report.fail(
            where,
            "is not valid YAML, so Kubernetes cannot read any of it",
            found=problem,
            hint=_yaml_hint(problem),
        )
        return None
    except YamlUnreadable as exc:
        report.fail(f"{source}:{exc.line}" if exc.line else source, exc.message, hint=exc.hint)
        return None
    if not manifests:
        if len(report.findings) == findings_before:
            report.fail(
                source,
                "contains no Kubernetes object",
                expected="at least one document with apiVersion, kind and metadata",
                found=short_repr(text.strip()[:200]),
            )
        return None
    return manifests


def _add_document(
    report: Report,
    manifests: list[Manifest],
    source: str,
    index: int,
    body: Any,
    lines: dict[Path_, int],
    duplicates: list[tuple[Path_, int]],
) -> None:
    where = f"{source} doc {index}" + (f" line {lines[()]}" if () in lines else "")
    if not isinstance(body, dict):
        report.fail(
            where,
            "is not a Kubernetes object",
            expected="a mapping with apiVersion, kind, metadata, ...",
            found=short_repr(body, 120),
            hint="A document is one object; separate several objects with a line '---'.",
        )
        return
    missing = [key for key in ("apiVersion", "kind") if not isinstance(body.get(key), str)]
    if missing:
        report.fail(
            where,
            f"is missing {' and '.join(missing)}, so Kubernetes cannot tell what it is",
            expected="apiVersion: apps/v1 and kind: Deployment (for example)",
            found=short_repr({k: body.get(k) for k in ("apiVersion", "kind")}),
        )
        return
    manifest = Manifest(source, index, body, lines)
    for path, line in duplicates:
        report.fail(
            f"{source} doc {index} line {line}: {format_path(path)}",
            "this key appears twice in the same object; YAML keeps only the last one, so "
            "everything under the first is silently lost",
            hint="Merge the two into one key (for example one env: list with all variables).",
        )
    manifests.append(manifest)


def load_manifests(report: Report, path: Path | str) -> list[Manifest] | None:
    """Read and parse a manifest file: missing, empty, placeholder and malformed files become
    findings and ``None``."""
    path = Path(path)
    text = read_artefact(report, path, what="manifest file")
    if text is None:
        return None
    return parse_manifests(report, text, str(path))


def manifests_from_objects(report: Report, objects: Any, source: str) -> list[Manifest] | None:
    """Objects built in Python (a list of dicts, as ``yaml.safe_dump_all`` takes them) as
    manifests, with the same findings as a file for anything that is not an object."""
    if not isinstance(objects, list | tuple):
        report.fail(
            source,
            "should be a list of Kubernetes objects (dicts)",
            expected="[{'apiVersion': ..., 'kind': ...}, ...]",
            found=type(objects).__name__,
        )
        return None
    findings_before = len(report.findings)
    manifests: list[Manifest] = []
    for index, body in enumerate(objects, start=1):
        _add_document(report, manifests, source, index, body, {}, [])
    if not manifests and len(report.findings) == findings_before:
        report.fail(source, "contains no Kubernetes object", found=short_repr(objects))
    return manifests if len(manifests) == len(objects) else None


# -- schema ------------------------------------------------------------------------------------

_RENAMED = {
    ("Deployment", "extensions"): "apps/v1",
    ("Deployment", "apps/v1beta1"): "apps/v1",
    ("Deployment", "apps/v1beta2"): "apps/v1",
    ("HorizontalPodAutoscaler", "autoscaling/v2beta1"): "autoscaling/v2",
    ("HorizontalPodAutoscaler", "autoscaling/v2beta2"): "autoscaling/v2",
    ("CronJob", "batch/v1beta1"): "batch/v1",
    ("Ingress", "extensions"): "networking.k8s.io/v1",
    ("Ingress", "networking.k8s.io/v1beta1"): "networking.k8s.io/v1",
    ("PodDisruptionBudget", "policy/v1beta1"): "policy/v1",
}


def _schema_dir(version: str) -> str:
    for shipped in kv.all_versions():
        if kv.major_minor(shipped) == kv.major_minor(version):
            return f"kubernetes-json-schema/v{shipped}-local-strict"
    raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {version}")


@functools.lru_cache(maxsize=8)
def _definitions(version: str) -> Registry:
    defs = kv.schema_contents(f"{_schema_dir(version)}/_definitions.json", version)
    return Resource.from_contents(defs) @ Registry()


@functools.lru_cache(maxsize=64)
def _validator(kind: str, api_version: str, version: str) -> jsonschema.Validator | None:
    """The strict validator kubernetes_validate.validate would use, or ``None`` when the
    schema set has no such kind/apiVersion."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    filename = f"{_schema_dir(version)}/{kind.lower()}-{group_version}.json"
    try:
        schema = kv.schema_contents(filename, version)
    except (FileNotFoundError, kv.InvalidSchemaError):
        return None
    registry = Resource.from_contents(schema) @ _definitions(version)
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


_GROUP_DOMAINS = {
    "networking": "networking.k8s.io",
    "rbac": "rbac.authorization.k8s.io",
    "storage": "storage.k8s.io",
    "scheduling": "scheduling.k8s.io",
    "coordination": "coordination.k8s.io",
    "discovery": "discovery.k8s.io",
    "certificates": "certificates.k8s.io",
    "node": "node.k8s.io",
    "events": "events.k8s.io",
}


def _known_api_versions(kind: str, version: str) -> list[str]:
    """The apiVersions the schema set has for ``kind`` (from the schema file names)."""
    folder = importlib.resources.files("kubernetes_validate").joinpath(_schema_dir(version))
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(
            rf"{re.escape(kind.lower())}-(?:([a-z]+)-)?(v\d+(?:(?:alpha|beta)\d+)?)\.json",
            entry.name,
        )
        if match:
            group, api = match.groups()
            found.append(f"{_GROUP_DOMAINS.get(group, group)}/{api}" if group else api)
    return sorted(found)


def check_schema(
    report: Report, manifests: Sequence[Manifest], version: str = KUBERNETES_VERSION
) -> None:
    """Every field of every object against the Kubernetes ``version`` API, strictly."""
    for manifest in manifests:
        validator = _validator(manifest.kind, manifest.api_version, version)
        if validator is None:
            _unknown_kind(report, manifest, version)
            continue
        errors = sorted(
            validator.iter_errors(manifest.body),
            key=lambda e: (manifest.line(tuple(e.absolute_path)) or 0, list(map(str, e.path))),
        )
        for error in errors:
            _schema_finding(report, manifest, error, version)


def _unknown_kind(report: Report, manifest: Manifest, version: str) -> None:
    group = manifest.api_version.split("/")[0] if "/" in manifest.api_version else None
    renamed = _RENAMED.get((manifest.kind, manifest.api_version)) or _RENAMED.get(
        (manifest.kind, group or "")
    )
    known = _known_api_versions(manifest.kind, version)
    if renamed:
        hint = f"That API version was removed; use apiVersion: {renamed}."
    elif known:
        hint = f"{manifest.kind} exists as apiVersion: {' or '.join(known)}."
    else:
        hint = "Check the spelling and capitals of kind (Deployment, Service, ConfigMap, ...)."
    report.fail(
        manifest.where(("apiVersion",)),
        f"Kubernetes {version} has no kind {manifest.kind!r} in apiVersion "
        f"{manifest.api_version!r}",
        hint=hint,
    )


_JSON_TYPE = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "object",
    type(None): "nothing (empty)",
}


def _schema_finding(
    report: Report, manifest: Manifest, error: jsonschema.ValidationError, version: str
) -> None:
    path = tuple(error.absolute_path)
    value = error.instance
    if error.validator == "additionalProperties" and isinstance(value, dict):
        _unknown_fields(report, manifest, error, version)
        return
    if error.validator == "required":
        present = set(value) if isinstance(value, dict) else set()
        for missing in [name for name in error.validator_value if name not in present]:
            report.fail(
                manifest.where((*path, missing)),
                "a required field is missing",
                expected=f"a value for {missing}",
            )
        return
    found = f"{short_repr(value, 80)} ({_JSON_TYPE.get(type(value), type(value).__name__)})"
    if error.validator == "type":
        wanted = [t for t in _as_list(error.validator_value) if t != "null"]
        report.fail(
            manifest.where(path),
            "has the wrong type",
            expected=" or ".join(wanted),
            found=found,
            hint=_type_hint(wanted, value),
        )
    elif error.validator == "enum":
        report.fail(
            manifest.where(path),
            "is not one of the allowed values",
            expected=", ".join(map(str, error.validator_value)),
            found=found,
            hint="Values are case-sensitive.",
        )
    elif error.validator in ("oneOf", "anyOf") and value is None:
        report.fail(manifest.where(path), "has no value", hint="Write a value after the colon.")
    elif error.validator in ("oneOf", "anyOf"):
        wanted = sorted(
            {
                t
                for sub in _as_list(error.validator_value)
                for t in _as_list(_mapping(sub).get("type"))
                if t != "null"
            }
        )
        report.fail(
            manifest.where(path),
            "has the wrong type",
            expected=" or ".join(wanted) or "a valid value",
            found=found,
            hint=_type_hint(wanted, value),
        )
    else:
        report.fail(manifest.where(path), error.message[:300])


def _unknown_fields(
    report: Report, manifest: Manifest, error: jsonschema.ValidationError, version: str
) -> None:
    """One finding per field the schema does not allow here, with the closest allowed name."""
    path = tuple(error.absolute_path)
    allowed = sorted(_mapping(error.schema.get("properties")))
    for extra in sorted(set(error.instance) - set(allowed)):
        close = difflib.get_close_matches(str(extra), allowed, n=1)
        hint = (
            f"Did you mean '{close[0]}'?"
            if close
            else "It may be indented at the wrong level. Fields allowed here: "
            + ", ".join(allowed[:25])
            + (" ..." if len(allowed) > 25 else "")
        )
        report.fail(
            manifest.where((*path, extra)),
            f"unknown field {extra!r}: the Kubernetes {version} API has no such field here "
            "(a strict apply rejects it; a lax one silently drops it)",
            hint=hint,
        )


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _type_hint(wanted: list[str], value: Any) -> str | None:
    if "string" in wanted and isinstance(value, bool):
        return "YAML reads true/false/yes/no/on/off as booleans: quote the value ('true')."
    if "string" in wanted and isinstance(value, int | float):
        return "YAML reads 0.35 or 8000 as numbers: quote the value ('0.35') to make it a string."
    if wanted and set(wanted) <= {"integer", "number"} and isinstance(value, str):
        return "Numbers are written without quotes: 8000, not '8000'."
    if "object" in wanted and isinstance(value, list):
        return "This takes an object (key: value lines), not a list of '- ' items."
    if "array" in wanted and isinstance(value, dict):
        return "This takes a list: start each item with '- '."
    return None


# -- walking pod templates ---------------------------------------------------------------------


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
            for i, container in enumerate(_items(self.spec.get(key))):
                if isinstance(container, dict):
                    yield (*self.path, key, i), container

    def ports(self) -> list[tuple[int | None, str | None]]:
        """(containerPort, name) of every port the main containers declare."""
        found = []
        for _, container in self.containers(init=False):
            for port in _items(container.get("ports")):
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
            labels = _mapping(manifest.get("metadata.labels"))
            found.append(PodTemplate(manifest, ("spec",), _mapping(manifest.get("spec")), labels))
        elif manifest.kind in _TEMPLATE_PATHS:
            base = _TEMPLATE_PATHS[manifest.kind]
            template = _mapping(manifest.get(base))
            labels = _mapping(dig(template, ("metadata", "labels")))
            found.append(
                PodTemplate(manifest, (*base, "spec"), _mapping(template.get("spec")), labels)
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
    found = manifest.get(path, _MISSING)
    try:
        ok = found is not _MISSING and (same(found, expected) if same else found == expected)
    except Exception:
        ok = False
    return report.check(
        ok,
        manifest.where(path),
        message or f"should be {short_repr(expected, 80)}",
        expected=short_repr(expected),
        found="(not set)" if found is _MISSING else short_repr(found),
        hint=hint,
    )


class _Missing:
    def __repr__(self) -> str:
        return "(not set)"


_MISSING = _Missing()


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


# -- selectors ---------------------------------------------------------------------------------


def selects(selector: Any, labels: Any) -> bool:
    """Whether a label selector (``matchLabels``/``matchExpressions``) matches ``labels``."""
    selector, labels = _mapping(selector), _mapping(labels)
    for key, value in _mapping(selector.get("matchLabels")).items():
        if str(labels.get(key, _MISSING)) != str(value):
            return False
    for expression in _items(selector.get("matchExpressions")):
        expression = _mapping(expression)
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in _items(expression.get("values"))]
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
        selector = _mapping(manifest.get("spec.selector"))
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


# -- services ----------------------------------------------------------------------------------


def _port_matches(target: Any, ports: list[tuple[int | None, str | None]]) -> bool:
    if isinstance(target, bool):
        return False
    if isinstance(target, int):
        return any(number == target for number, _ in ports)
    return any(name == target for _, name in ports)


def _show_ports(ports: list[tuple[int | None, str | None]]) -> str:
    return ", ".join(f"{n} ({name})" if name else str(n) for n, name in ports) or "no ports"


def check_services(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """A Service must select pods that exist, and each targetPort must be one of their ports."""
    templates = pod_templates([*manifests, *context])
    for service in find(manifests, "Service"):
        if service.get("spec.type") == "ExternalName":
            continue
        selector = service.get("spec.selector")
        if not isinstance(selector, dict) or not selector:
            report.fail(
                service.where("spec.selector"),
                "the Service has no selector, so it sends traffic to no pod",
                expected="selector: with the labels of the pods it serves",
                found=short_repr(selector),
            )
            continue
        if not templates:
            continue  # nothing to compare with: the pods are not in these manifests
        chosen = [t for t in templates if selects({"matchLabels": selector}, t.labels)]
        if not chosen:
            report.fail(
                service.where("spec.selector"),
                "the Service selects no pods: no pod template carries all of these labels, so "
                "every request to it fails",
                expected=f"pods labelled {show_labels(selector)}",
                found="; ".join(t.describe() for t in templates),
                hint="A Service selects pods by the labels in the workload's "
                "spec.template.metadata.labels (not its metadata.labels or its name): every "
                "key: value of the Service's selector must be among them.",
            )
            continue
        for i, port in enumerate(_items(service.get("spec.ports"))):
            port = _mapping(port)
            target = port.get("targetPort", port.get("port"))
            for template in chosen:
                ports = template.ports()
                if not _port_matches(target, ports):
                    report.fail(
                        service.where(("spec", "ports", i, "targetPort")),
                        f"targetPort is not a port of the selected pods ({template.manifest.kind} "
                        f"{template.manifest.name}), so connections are refused",
                        expected=f"one of: {_show_ports(ports)}",
                        found=short_repr(target)
                        + ("" if "targetPort" in port else " (no targetPort: defaults to port)"),
                        hint="port is what clients of the Service connect to; targetPort is the "
                        "container's port, by number or by its name.",
                    )


# -- autoscaling -------------------------------------------------------------------------------


def check_hpa(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """An HPA must target a workload that exists, with requests for the resources it scales on."""
    everything = [*manifests, *context]
    for hpa in find(manifests, "HorizontalPodAutoscaler"):
        ref = _mapping(hpa.get("spec.scaleTargetRef"))
        minimum, maximum = hpa.get("spec.minReplicas", 1), hpa.get("spec.maxReplicas")
        if isinstance(minimum, int) and isinstance(maximum, int) and minimum > maximum:
            report.fail(
                hpa.where("spec.minReplicas"),
                "minReplicas is larger than maxReplicas",
                expected=f"at most {maximum}",
                found=minimum,
            )
        if not ref:
            report.fail(
                hpa.where("spec.scaleTargetRef"),
                "the autoscaler has no scaleTargetRef, so it scales nothing",
                expected="scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ...}",
            )
            continue
        targets = find(everything, str(ref.get("kind")), str(ref.get("name")))
        if not targets:
            present = [f"{m.kind} {m.name}" for m in everything if m.kind in SCALABLE_KINDS]
            report.fail(
                hpa.where("spec.scaleTargetRef"),
                f"targets {ref.get('kind')} {ref.get('name')!r}, which is not in these manifests: "
                "the autoscaler would scale nothing",
                expected=" or ".join(present) or "a Deployment in the same manifests",
                found=f"kind: {ref.get('kind')}, name: {ref.get('name')}",
                hint="scaleTargetRef takes the target's apiVersion, kind and metadata.name.",
            )
            continue
        target = targets[0]
        if ref.get("apiVersion") != target.api_version:
            report.fail(
                hpa.where("spec.scaleTargetRef.apiVersion"),
                "does not match the target's apiVersion",
                expected=target.api_version,
                found=short_repr(ref.get("apiVersion")),
            )
        for i, resource in _utilization_metrics(hpa):
            lacking = [
                f"{format_path(path)} ({c.get('name')})"
                for t in pod_templates([target])
                for path, c in t.containers(init=False)
                if dig(c, ("resources", "requests", resource)) is None
            ]
            if lacking:
                report.fail(
                    hpa.where(("spec", "metrics", i) if i is not None else "spec"),
                    f"scales on {resource} utilisation, but utilisation is measured against the "
                    f"{resource} request, and {target.kind} {target.name} sets none",
                    expected=f"resources.requests.{resource} on every container",
                    found="no request in " + ", ".join(lacking),
                )


def _utilization_metrics(hpa: Manifest) -> list[tuple[int | None, str]]:
    if hpa.api_version == "autoscaling/v1":
        return [(None, "cpu")] if hpa.get("spec.targetCPUUtilizationPercentage") else []
    found: list[tuple[int | None, str]] = []
    for i, metric in enumerate(_items(hpa.get("spec.metrics"))):
        resource = _mapping(_mapping(metric).get("resource"))
        if _mapping(resource.get("target")).get("type") == "Utilization" and resource.get("name"):
            found.append((i, str(resource["name"])))
    return found


# -- probes ------------------------------------------------------------------------------------


def probe_patience(probe: Any) -> int:
    """Seconds of failures before a probe acts: periodSeconds × failureThreshold."""
    probe = {**PROBE_DEFAULTS, **_mapping(probe)}
    return _int(probe["periodSeconds"]) * _int(probe["failureThreshold"])


def startup_allowance(container: dict) -> int:
    """Seconds a starting container gets before liveness can restart it."""
    probe = container.get("startupProbe") or container.get("livenessProbe")
    if not isinstance(probe, dict):
        return 10**9  # nothing restarts it
    return _int({**PROBE_DEFAULTS, **probe}["initialDelaySeconds"]) + probe_patience(probe)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def check_probes(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """Every probe needs one handler, and an httpGet/tcpSocket/grpc probe a declared port."""
    for template in pod_templates(manifests):
        ports = template.ports()
        for path, spec in template.containers(init=False):
            for kind in PROBES:
                probe = spec.get(kind)
                if not isinstance(probe, dict):
                    continue
                handlers = [h for h in ("httpGet", "tcpSocket", "grpc", "exec") if h in probe]
                if len(handlers) != 1:
                    report.fail(
                        template.manifest.where((*path, kind)),
                        "a probe needs exactly one way to check the container",
                        expected="one of httpGet, tcpSocket, grpc, exec",
                        found=", ".join(handlers) or "none",
                    )
                    continue
                port = dig(probe, (handlers[0], "port"))
                if handlers[0] != "exec" and not _port_matches(port, ports):
                    report.fail(
                        template.manifest.where((*path, kind, handlers[0], "port")),
                        "the probe checks a port the container does not declare, so it fails "
                        "(or checks some other process) and the pod never becomes ready",
                        expected=f"one of: {_show_ports(ports)}",
                        found=short_repr(port),
                        hint="Refer to the container port by its name (port: http) so the two "
                        "cannot drift apart.",
                    )


def check_probe_timing(
    report: Report,
    manifests: Sequence[Manifest],
    context: Sequence[Manifest] = (),
    *,
    startup_seconds: int | None = None,
) -> None:
    """Liveness without readiness, a liveness probe less patient than readiness, and (with
    ``startup_seconds``) a liveness probe that restarts a container still starting up."""
    for template in pod_templates(manifests):
        for path, spec in template.containers(init=False):
            where = template.manifest.where
            live, ready = spec.get("livenessProbe"), spec.get("readinessProbe")
            if isinstance(live, dict) and not isinstance(ready, dict):
                report.fail(
                    where(path),
                    "has a livenessProbe but no readinessProbe: traffic reaches the pod before "
                    "it can answer, and a struggling pod is restarted instead of rested",
                    hint="Add a readinessProbe; keep liveness for 'the process is stuck'.",
                )
            both = isinstance(live, dict) and isinstance(ready, dict)
            if both and probe_patience(live) < probe_patience(ready):
                report.fail(
                    where((*path, "livenessProbe")),
                    "the livenessProbe gives up sooner than the readinessProbe, so a slow "
                    "pod is restarted before it is even taken out of the Service",
                    expected=f"periodSeconds × failureThreshold ≥ {probe_patience(ready)} s "
                    "(the readinessProbe's)",
                    found=f"{probe_patience(live)} s",
                )
            if startup_seconds is not None and startup_allowance(spec) < startup_seconds:
                probe = "startupProbe" if "startupProbe" in spec else "livenessProbe"
                report.fail(
                    where((*path, probe)),
                    f"a container that needs {startup_seconds} s to start is restarted after "
                    f"{startup_allowance(spec)} s, before it is up: it never starts "
                    "(CrashLoopBackOff)",
                    expected=f"initialDelaySeconds + periodSeconds × failureThreshold ≥ "
                    f"{startup_seconds} s",
                    found=f"{startup_allowance(spec)} s",
                    hint="Add a startupProbe with enough failureThreshold × periodSeconds: "
                    "liveness only starts once it has succeeded.",
                )


# -- images ------------------------------------------------------------------------------------


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``registry:5000/team/app:1.2@sha256:ab`` as (``registry:5000/team/app``, ``1.2``,
    ``sha256:ab``): a tag is a ``:`` after the last ``/``."""
    reference, _, digest = image.partition("@")
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :], digest or None
    return reference, None, digest or None


def check_images(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """Every container has an image pinned to a version: no ``latest``, no missing tag."""
    for template in pod_templates(manifests):
        for path, spec in template.containers():
            image = spec.get("image")
            where = template.manifest.where((*path, "image"))
            hint = (
                "Pin a version (churn-api:1.4.0) or a digest (@sha256:...): every node then "
                "runs the same build, and rolling back means going back to a known image."
            )
            if not isinstance(image, str) or not image.strip():
                report.fail(where, "the container has no image", hint=hint)
                continue
            _, tag, digest = split_image(image.strip())
            if digest:
                continue
            if tag is None:
                report.fail(
                    where,
                    "the image has no tag, which means ':latest': whatever was pushed last",
                    expected="name:version",
                    found=image,
                    hint=hint,
                )
            elif tag == "latest":
                report.fail(
                    where,
                    "':latest' is not a version: nodes may run different builds, and a "
                    "rollback goes nowhere",
                    expected="name:version",
                    found=image,
                    hint=hint,
                )
            policy = spec.get("imagePullPolicy")
            if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
                report.fail(
                    template.manifest.where((*path, "imagePullPolicy")),
                    "is not an image pull policy",
                    expected="Always, IfNotPresent or Never",
                    found=short_repr(policy),
                )


# -- resources ---------------------------------------------------------------------------------

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
            resources = _mapping(spec.get("resources"))
            missing = [
                f"{kind}.{name}"
                for kind, name in required
                if _mapping(resources.get(kind)).get(name) is None
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
                for name, value in _mapping(resources.get(kind)).items():
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


# -- configuration and secrets -----------------------------------------------------------------


@dataclass(frozen=True)
class EnvSource:
    """Where one environment variable of a container comes from."""

    kind: str  # "value", "ConfigMap", "Secret", "field", "resource"
    name: str | None = None  # the ConfigMap/Secret
    key: str | None = None  # its key
    value: Any = None  # for kind == "value"
    path: Path_ = ()


def container_env(container: dict, manifests: Sequence[Manifest] = ()) -> dict[str, EnvSource]:
    """The environment a container ends up with: ``envFrom`` (expanded from ConfigMaps and
    Secrets found in ``manifests``) overridden by ``env``, as the kubelet does it."""
    env: dict[str, EnvSource] = {}
    for i, source in enumerate(_items(container.get("envFrom"))):
        source = _mapping(source)
        prefix = str(source.get("prefix") or "")
        for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            name = _mapping(source.get(ref_key)).get("name")
            for manifest in find(manifests, kind, name) if name else []:
                for key in _data_keys(manifest):
                    env[prefix + key] = EnvSource(kind, name, key, path=("envFrom", i))
    for i, variable in enumerate(_items(container.get("env"))):
        variable = _mapping(variable)
        name = str(variable.get("name"))
        value_from = _mapping(variable.get("valueFrom"))
        if "configMapKeyRef" in value_from or "secretKeyRef" in value_from:
            kind = "ConfigMap" if "configMapKeyRef" in value_from else "Secret"
            ref = _mapping(value_from.get("configMapKeyRef") or value_from.get("secretKeyRef"))
            env[name] = EnvSource(kind, ref.get("name"), ref.get("key"), path=("env", i))
        elif "fieldRef" in value_from or "resourceFieldRef" in value_from:
            env[name] = EnvSource("field", path=("env", i))
        else:
            env[name] = EnvSource("value", value=variable.get("value"), path=("env", i))
    return env


def _data_keys(manifest: Manifest) -> list[str]:
    keys = list(_mapping(manifest.get("data")))
    other = "stringData" if manifest.kind == "Secret" else "binaryData"
    return keys + [k for k in _mapping(manifest.get(other)) if k not in keys]


def _references(template: PodTemplate) -> Iterator[tuple[Path_, str, Any, Any, bool]]:
    """(path, kind, name, key or None, optional) of every ConfigMap/Secret the pods use."""
    for path, spec in template.containers():
        for i, source in enumerate(_items(spec.get("envFrom"))):
            source = _mapping(source)
            for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if ref_key in source:
                    ref = _mapping(source[ref_key])
                    yield (
                        (*path, "envFrom", i, ref_key, "name"),
                        kind,
                        ref.get("name"),
                        None,
                        bool(ref.get("optional")),
                    )
        for i, variable in enumerate(_items(spec.get("env"))):
            value_from = _mapping(_mapping(variable).get("valueFrom"))
            for ref_key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if ref_key in value_from:
                    ref = _mapping(value_from[ref_key])
                    yield (
                        (*path, "env", i, "valueFrom", ref_key),
                        kind,
                        ref.get("name"),
                        ref.get("key"),
                        bool(ref.get("optional")),
                    )
    for i, volume in enumerate(_items(template.spec.get("volumes"))):
        volume = _mapping(volume)
        if "configMap" in volume:
            ref = _mapping(volume["configMap"])
            yield (
                (*template.path, "volumes", i, "configMap", "name"),
                "ConfigMap",
                ref.get("name"),
                None,
                bool(ref.get("optional")),
            )
        if "secret" in volume:
            ref = _mapping(volume["secret"])
            yield (
                (*template.path, "volumes", i, "secret", "secretName"),
                "Secret",
                ref.get("secretName"),
                None,
                bool(ref.get("optional")),
            )


def check_config_refs(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """Every ConfigMap and Secret the pods use (and every key) exists in the manifests: a
    missing one keeps the pod from starting (CreateContainerConfigError)."""
    everything = [*manifests, *context]
    for template in pod_templates(manifests):
        for path, kind, name, key, optional in _references(template):
            if optional:
                continue
            targets = find(everything, kind, str(name))
            if not targets:
                present = [m.name for m in find(everything, kind)]
                report.fail(
                    template.manifest.where(path),
                    f"refers to {kind} {name!r}, which is not in these manifests: the pod would "
                    "not start (CreateContainerConfigError)",
                    expected=f"one of the {kind}s defined: {', '.join(present)}"
                    if present
                    else f"a {kind} named {name!r} in the manifests",
                    found=short_repr(name),
                )
            elif key is not None and key not in _data_keys(targets[0]):
                report.fail(
                    template.manifest.where((*path, "key")),
                    f"{kind} {name} has no key {key!r}",
                    expected=" or ".join(map(str, _data_keys(targets[0])))
                    or "a key the object defines",
                    found=short_repr(key),
                )


def _secret_values(manifests: Iterable[Manifest]) -> set[str]:
    values = set()
    for secret in find(manifests, "Secret"):
        values |= {str(v) for v in _mapping(secret.get("stringData")).values() if v}
        for value in _mapping(secret.get("data")).values():
            try:
                values.add(base64.b64decode(str(value), validate=True).decode())
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
    return {v for v in values if len(v) >= 4}


def check_inline_secrets(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """Secret values belong in a Secret: not as a plain env value, not in a ConfigMap."""
    secrets = _secret_values([*manifests, *context])
    hint = (
        "Put it in a Secret and read it with env[].valueFrom.secretKeyRef (or envFrom.secretRef)."
    )
    for template in pod_templates(manifests):
        for path, spec in template.containers():
            for i, variable in enumerate(_items(spec.get("env"))):
                variable = _mapping(variable)
                if "value" not in variable:
                    continue
                name, value = str(variable.get("name")), variable.get("value")
                if names_a_secret(name) or str(value) in secrets:
                    report.fail(
                        template.manifest.where((*path, "env", i, "value")),
                        f"{name} holds a secret written into the Deployment: anyone who can read "
                        "the Deployment (or its git history) can read it",
                        expected="valueFrom: {secretKeyRef: {name: ..., key: ...}}",
                        found=f"value: {'*' * min(8, len(str(value)))} (hidden)",
                        hint=hint,
                    )
    for config_map in find(manifests, "ConfigMap"):
        for key, value in _mapping(config_map.get("data")).items():
            if names_a_secret(str(key)) or str(value) in secrets:
                report.fail(
                    config_map.where(("data", key)),
                    "this looks like a secret in a ConfigMap: ConfigMaps are not protected the "
                    "way Secrets are (access rules, encryption at rest)",
                    hint=hint,
                )


def check_secret_data(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """A Secret's ``data`` values are base64; plain text belongs under ``stringData``."""
    for secret in find(manifests, "Secret"):
        for key, value in _mapping(secret.get("data")).items():
            try:
                base64.b64decode(str(value), validate=True)
                valid = value is not None and len(str(value)) % 4 == 0
            except (binascii.Error, ValueError):
                valid = False
            if not valid:
                report.fail(
                    secret.where(("data", key)),
                    "a Secret's data values must be base64-encoded (the API server rejects this)",
                    expected="base64 text, e.g. " + base64.b64encode(b"s3cr3t").decode(),
                    found="not valid base64",
                    hint="Write plain text under stringData: instead of data:, and Kubernetes "
                    "encodes it for you.",
                )


# -- rollouts ----------------------------------------------------------------------------------


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
    strategy = _mapping(deployment.get("spec.strategy"))
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
    update = _mapping(strategy.get("rollingUpdate"))
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


# -- CronJobs ----------------------------------------------------------------------------------


def expand_cron(schedule: str) -> tuple[frozenset[int], ...]:
    """The five fields of a cron schedule as sets of values (minute, hour, day of month, month,
    day of week), with the syntax the CronJob controller accepts; :class:`CronError` if invalid."""
    text = cron.MACROS.get(schedule.strip().lower(), schedule.strip())
    if text.upper().startswith(("TZ=", "CRON_TZ=")):
        raise CronError("a time zone inside the schedule is not allowed: use spec.timeZone")
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"has {len(parts)} fields; a schedule has 5 (minute hour day month weekday)"
        )
    return cron.expand(parts, cron.KUBERNETES)


def check_cronjobs(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """A valid schedule and time zone, and pods that are allowed to finish."""
    for cronjob in find(manifests, "CronJob"):
        schedule = cronjob.get("spec.schedule")
        try:
            expand_cron(str(schedule) if schedule is not None else "")
        except CronError as exc:
            report.fail(
                cronjob.where("spec.schedule"),
                f"is not a valid schedule: {exc}",
                expected="five fields: minute hour day-of-month month day-of-week, "
                "e.g. '30 2 * * *' for 02:30 every day",
                found=short_repr(schedule),
                hint="Quote the schedule: a leading '*' means something else to YAML.",
            )
        zone = cronjob.get("spec.timeZone")
        if zone is not None and not _valid_zone(zone):
            report.fail(
                cronjob.where("spec.timeZone"),
                "is not a time zone name from the IANA database",
                expected="e.g. Etc/UTC or Europe/Berlin",
                found=short_repr(zone),
            )
    for template in pod_templates(manifests):
        if template.manifest.kind not in ("Job", "CronJob"):
            continue
        policy = template.spec.get("restartPolicy")
        if policy not in ("Never", "OnFailure"):
            report.fail(
                template.manifest.where((*template.path, "restartPolicy")),
                "a Job's pods must be allowed to finish: restartPolicy must be Never or "
                "OnFailure (the API server rejects Always, which is also the default)",
                expected="Never or OnFailure",
                found=short_repr(policy) if policy is not None else "(not set)",
            )


def _valid_zone(zone: Any) -> bool:
    try:
        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


# -- everything together -----------------------------------------------------------------------

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


# -- live: a server-side dry run ---------------------------------------------------------------


_UNREACHABLE = re.compile(
    r"connection refused|dial tcp|no such host|i/o timeout|Unable to connect to the server|"
    r"context deadline exceeded|no route to host|certificate",
    re.IGNORECASE,
)


def find_kubeconfig(environ: Mapping[str, str] | None = None) -> Path | None:
    """The kubeconfig kubectl would use ($KUBECONFIG, else ~/.kube/config), if it exists."""
    environ = os.environ if environ is None else environ
    if environ.get("KUBECONFIG"):
        for entry in environ["KUBECONFIG"].split(os.pathsep):
            if entry and Path(entry).expanduser().is_file():
                return Path(entry).expanduser()
        return None
    default = Path(environ.get("HOME", str(Path.home()))) / ".kube" / "config"
    return default if default.is_file() else None


def kubectl_command(paths: Sequence[Path | str], kubectl: str = "kubectl") -> list[str]:
    command = [kubectl, "apply", "--dry-run=server", "--validate=strict"]
    for path in paths:
        command += ["-f", str(path)]
    return command


def dry_run(
    report: Report,
    paths: Sequence[Path | str],
    *,
    environ: dict[str, str] | None = None,
    timeout: float = 30,
) -> bool | None:
    """Apply the files with a server-side dry run where a cluster is configured.

    Returns ``True`` when the API server accepted everything, ``False`` when it rejected
    something (a finding with its message), and ``None`` when skipped because there is no
    cluster or it cannot be reached (a note saying why and the command that would run)."""
    command = kubectl_command(paths)
    shown = " ".join(command)
    kubeconfig = find_kubeconfig(environ)
    kubectl = shutil.which("kubectl", path=(environ or os.environ).get("PATH"))
    if kubeconfig is None or kubectl is None:
        why = "no kubeconfig ($KUBECONFIG or ~/.kube/config)" if kubeconfig is None else ""
        why = why or "kubectl is not installed"
        report.note(
            f"skipped: no cluster to try the manifests on ({why}). With one, this runs: {shown}"
        )
        return None
    env = {**(environ or os.environ), "KUBECONFIG": str(kubeconfig)}
    try:
        done = subprocess.run(
            [kubectl, *command[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        report.fail(shown, f"kubectl did not finish: {exc}", hint="Is the cluster reachable?")
        return False
    output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
    if done.returncode != 0 and _UNREACHABLE.search(output):
        report.note(
            f"skipped: the cluster in {kubeconfig} is not reachable, so the manifests could "
            f"not be tried ({output.splitlines()[-1][:300]}). The command was: {shown}"
        )
        return None
    if done.returncode != 0:
        report.fail(
            shown,
            "the API server rejected the manifests (server-side dry run)",
            found=output[-1500:] or f"exit status {done.returncode}",
            hint="The server applies admission rules the schema cannot: read its message.",
        )
        return False
    report.note(f"{shown} (against {kubeconfig}):\n{output}")
    return True
