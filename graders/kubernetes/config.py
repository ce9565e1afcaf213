"""Configuration and secrets: references to ConfigMaps and Secrets that exist, and secrets
kept out of the Deployment."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from graders.formats.secrets import names_a_secret
from graders.kubernetes.manifests import Manifest, Path_, as_items, as_mapping
from graders.kubernetes.pods import PodTemplate, find, pod_templates
from graders.report import Report, short_repr


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
    for i, source in enumerate(as_items(container.get("envFrom"))):
        source = as_mapping(source)
        prefix = str(source.get("prefix") or "")
        for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            name = as_mapping(source.get(ref_key)).get("name")
            for manifest in find(manifests, kind, name) if name else []:
                for key in _data_keys(manifest):
                    env[prefix + key] = EnvSource(kind, name, key, path=("envFrom", i))
    for i, variable in enumerate(as_items(container.get("env"))):
        variable = as_mapping(variable)
        name = str(variable.get("name"))
        value_from = as_mapping(variable.get("valueFrom"))
        if "configMapKeyRef" in value_from or "secretKeyRef" in value_from:
            kind = "ConfigMap" if "configMapKeyRef" in value_from else "Secret"
            ref = as_mapping(value_from.get("configMapKeyRef") or value_from.get("secretKeyRef"))
            env[name] = EnvSource(kind, ref.get("name"), ref.get("key"), path=("env", i))
        elif "fieldRef" in value_from or "resourceFieldRef" in value_from:
            env[name] = EnvSource("field", path=("env", i))
        else:
            env[name] = EnvSource("value", value=variable.get("value"), path=("env", i))
    return env


def _data_keys(manifest: Manifest) -> list[str]:
    keys = list(as_mapping(manifest.get("data")))
    other = "stringData" if manifest.kind == "Secret" else "binaryData"
    return keys + [k for k in as_mapping(manifest.get(other)) if k not in keys]


def _references(template: PodTemplate) -> Iterator[tuple[Path_, str, Any, Any, bool]]:
    """(path, kind, name, key or None, optional) of every ConfigMap/Secret the pods use."""
    for path, spec in template.containers():
        for i, source in enumerate(as_items(spec.get("envFrom"))):
            source = as_mapping(source)
            for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if ref_key in source:
                    ref = as_mapping(source[ref_key])
                    yield (
                        (*path, "envFrom", i, ref_key, "name"),
                        kind,
                        ref.get("name"),
                        None,
                        bool(ref.get("optional")),
                    )
        for i, variable in enumerate(as_items(spec.get("env"))):
            value_from = as_mapping(as_mapping(variable).get("valueFrom"))
            for ref_key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if ref_key in value_from:
                    ref = as_mapping(value_from[ref_key])
                    yield (
                        (*path, "env", i, "valueFrom", ref_key),
                        kind,
                        ref.get("name"),
                        ref.get("key"),
                        bool(ref.get("optional")),
                    )
    for i, volume in enumerate(as_items(template.spec.get("volumes"))):
        volume = as_mapping(volume)
        if "configMap" in volume:
            ref = as_mapping(volume["configMap"])
            yield (
                (*template.path, "volumes", i, "configMap", "name"),
                "ConfigMap",
                ref.get("name"),
                None,
                bool(ref.get("optional")),
            )
        if "secret" in volume:
            ref = as_mapping(volume["secret"])
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
        values |= {str(v) for v in as_mapping(secret.get("stringData")).values() if v}
        for value in as_mapping(secret.get("data")).values():
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
            for i, variable in enumerate(as_items(spec.get("env"))):
                variable = as_mapping(variable)
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
        for key, value in as_mapping(config_map.get("data")).items():
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
        for key, value in as_mapping(secret.get("data")).items():
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
