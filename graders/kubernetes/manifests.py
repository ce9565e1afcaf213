"""Manifests as the course reads them: YAML documents with the line of every field, the
path helpers every rule uses, and the constants of the API version checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graders.artefacts import read_artefact
from graders.formats.yamltext import YamlUnreadable, documents, format_path
from graders.report import Report, short_repr, type_name

#: The Kubernetes API version manifests are validated against. kubernetes-validate 1.37.0
#: ships the schemas of 1.25 to 1.37; 1.33 is a version every managed offering still runs.
KUBERNETES_VERSION = "1.33"

Path_ = tuple[str | int, ...]

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")
SCALABLE_KINDS = ("Deployment", "ReplicaSet", "StatefulSet")
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "failureThreshold": 3}


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


def as_mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_items(value: Any) -> list:
    return value if isinstance(value, list) else []


def show_labels(labels: Any) -> str:
    """Labels as ``{app: churn-api, tier: api}``, the way they look in the YAML."""
    if not isinstance(labels, dict) or not labels:
        return "{} (none)"
    return "{" + ", ".join(f"{k}: {v}" for k, v in labels.items()) + "}"


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
        return str(as_mapping(self.body.get("metadata")).get("name", ""))

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
            found=type_name(objects),
        )
        return None
    findings_before = len(report.findings)
    manifests: list[Manifest] = []
    for index, body in enumerate(objects, start=1):
        _add_document(report, manifests, source, index, body, {}, [])
    if not manifests and len(report.findings) == findings_before:
        report.fail(source, "contains no Kubernetes object", found=short_repr(objects))
    return manifests if len(manifests) == len(objects) else None
