"""Manifests validated against the real OpenAPI schemas of Kubernetes
:data:`~graders.kubernetes.manifests.KUBERNETES_VERSION` (kubernetes-validate), strict:
every error, each located and explained."""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
from collections.abc import Sequence
from typing import Any

import jsonschema
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

from graders.kubernetes.manifests import KUBERNETES_VERSION, Manifest, as_mapping
from graders.report import Report, short_repr

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
                for t in _as_list(as_mapping(sub).get("type"))
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
    allowed = sorted(as_mapping(error.schema.get("properties")))
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
