"""Services that reach their pods, autoscalers that target a workload, probes on declared
ports with sane timing, and pinned images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graders.kubernetes.manifests import (
    PROBE_DEFAULTS,
    PROBES,
    SCALABLE_KINDS,
    Manifest,
    as_items,
    as_mapping,
    dig,
    format_path,
    show_labels,
)
from graders.kubernetes.pods import find, pod_templates, selects
from graders.report import Report, short_repr


def port_matches(target: Any, ports: list[tuple[int | None, str | None]]) -> bool:
    if isinstance(target, bool):
        return False
    if isinstance(target, int):
        return any(number == target for number, _ in ports)
    return any(name == target for _, name in ports)


def show_ports(ports: list[tuple[int | None, str | None]]) -> str:
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
        for i, port in enumerate(as_items(service.get("spec.ports"))):
            port = as_mapping(port)
            target = port.get("targetPort", port.get("port"))
            for template in chosen:
                ports = template.ports()
                if not port_matches(target, ports):
                    report.fail(
                        service.where(("spec", "ports", i, "targetPort")),
                        f"targetPort is not a port of the selected pods ({template.manifest.kind} "
                        f"{template.manifest.name}), so connections are refused",
                        expected=f"one of: {show_ports(ports)}",
                        found=short_repr(target)
                        + ("" if "targetPort" in port else " (no targetPort: defaults to port)"),
                        hint="port is what clients of the Service connect to; targetPort is the "
                        "container's port, by number or by its name.",
                    )


def check_hpa(
    report: Report, manifests: Sequence[Manifest], context: Sequence[Manifest] = ()
) -> None:
    """An HPA must target a workload that exists, with requests for the resources it scales on."""
    everything = [*manifests, *context]
    for hpa in find(manifests, "HorizontalPodAutoscaler"):
        ref = as_mapping(hpa.get("spec.scaleTargetRef"))
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
    for i, metric in enumerate(as_items(hpa.get("spec.metrics"))):
        resource = as_mapping(as_mapping(metric).get("resource"))
        if as_mapping(resource.get("target")).get("type") == "Utilization" and resource.get("name"):
            found.append((i, str(resource["name"])))
    return found


def probe_patience(probe: Any) -> int:
    """Seconds of failures before a probe acts: periodSeconds × failureThreshold."""
    probe = {**PROBE_DEFAULTS, **as_mapping(probe)}
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
                if handlers[0] != "exec" and not port_matches(port, ports):
                    report.fail(
                        template.manifest.where((*path, kind, handlers[0], "port")),
                        "the probe checks a port the container does not declare, so it fails "
                        "(or checks some other process) and the pod never becomes ready",
                        expected=f"one of: {show_ports(ports)}",
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
