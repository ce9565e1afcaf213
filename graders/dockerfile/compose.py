"""A Compose file, checked against the Compose specification's schema and the rules of
the churn service."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from graders.artefacts import read_artefact
from graders.dockerfile.engine import short
from graders.dockerfile.rules import BASE_IMAGE_ARG
from graders.formats.secrets import names_a_secret
from graders.formats.yamltext import YamlUnreadable, format_path, single_document
from graders.report import Report


def compose_schema() -> dict:
    """The Compose specification's JSON schema, as vendored (offline) by check-jsonschema
    (``vendor.compose-spec``, from github.com/compose-spec/compose-spec, schema/)."""
    from importlib import resources

    source = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(source.read_text())


def _memory_bytes(value: Any) -> float | None:
    """A Compose byte value (``512m``, ``1g``, ``536870912``) in bytes."""
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*", str(value).lower())
    if not match:
        return None
    return float(match.group(1)) * 1024 ** "bkmg".index(match.group(2) or "b")


def load_compose(report: Report, path: Path) -> dict | None:
    """Read a Compose file, parse it, and validate it against the Compose spec schema."""
    import jsonschema
    import yaml

    text = read_artefact(report, Path(path), what="Compose file")
    if text is None:
        return None
    location = str(path)
    try:
        data = single_document(text).data
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{location}:{mark.line + 1}" if mark else location
        report.fail(
            where,
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            hint="Indent with spaces, consistently; quote values containing ': '.",
        )
        return None
    except YamlUnreadable as exc:
        report.fail(f"{location}:{exc.line}" if exc.line else location, exc.message, hint=exc.hint)
        return None
    if not report.check(
        isinstance(data, dict),
        location,
        "should be a YAML mapping",
        expected="services: …",
        found=type(data).__name__,
    ):
        return None
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    report.checks_run += 1
    for error in errors[:10]:
        report.fail(
            f"{location}: {format_path(error.absolute_path) or '(top level)'}",
            f"not valid under the Compose specification: {error.message[:200]}",
            hint="See https://docs.docker.com/reference/compose-file/ for the key's format.",
        )
    return None if errors else data


def check_compose_service(report: Report, path: Path, data: dict, name: str = "churn") -> None:
    """The churn service: built from the folder with the base image as a build argument,
    port 8000 published, configuration from the environment with the secret from an
    env_file, a health check on /health with no curl, and CPU and memory limits."""
    location = str(path)
    services = data.get("services") or {}
    service = services.get(name)
    if not report.check(
        isinstance(service, dict),
        f"{location}: services",
        f"there is no service named {name!r}",
        expected=f"services: {{{name}: …}}",
        found=", ".join(services) or "no services",
    ):
        return
    assert isinstance(service, dict)  # the check above passed
    at = f"{location}: services.{name}"
    _check_build(report, at, service.get("build"))
    _check_ports(report, at, service.get("ports"))
    _check_environment(report, at, service)
    _check_healthcheck(report, at, service.get("healthcheck"))
    _check_limits(report, at, ((service.get("deploy") or {}).get("resources") or {}))


def _check_build(report: Report, at: str, build: Any) -> None:
    args = build.get("args") if isinstance(build, dict) else None
    args = dict(a.split("=", 1) for a in args if "=" in a) if isinstance(args, list) else args
    report.check(
        isinstance(build, dict) and isinstance(args, dict) and BASE_IMAGE_ARG in args,
        f"{at}.build",
        "the service should be built from the folder, with BASE_IMAGE as a build argument",
        expected="build: {context: ., args: {BASE_IMAGE: ${BASE_IMAGE:-python:3.11-slim}}}",
        found=short(build),
        hint="Compose passes args: to docker build as --build-arg.",
    )


def _check_ports(report: Report, at: str, published: Any) -> None:
    ports = [str(p.get("target")) if isinstance(p, dict) else str(p) for p in published or []]
    report.check(
        any(p == "8000" or p.endswith(":8000") or p.endswith(":8000/tcp") for p in ports),
        f"{at}.ports",
        "container port 8000 is not published",
        expected='ports: ["8000:8000"]',
        found=short(published),
    )


def _check_environment(report: Report, at: str, service: dict) -> None:
    """Configuration in ``environment``, no secret written there, the secret in .env."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(e.split("=", 1) if "=" in e else (e, None) for e in environment)
    report.check(
        str(environment.get("LOG_LEVEL", "")).lower() in ("debug", "info", "warning", "error"),
        f"{at}.environment",
        "LOG_LEVEL should be set in the environment",
        expected="environment: {LOG_LEVEL: info}",
        found=short(environment),
    )
    for key, value in environment.items():
        report.check(
            not names_a_secret(key) or value in (None, "") or str(value).startswith("${"),
            f"{at}.environment.{key}",
            "a secret written into the Compose file ends up in git",
            found=f"{key}: {value}",
            hint="Keep secrets in an env_file that git ignores (env_file: .env).",
        )
    env_file = service.get("env_file")
    files = [env_file] if isinstance(env_file, str | dict) else (env_file or [])
    names = [f.get("path") if isinstance(f, dict) else f for f in files]
    report.check(
        any(posixpath.normpath(str(n)) == ".env" for n in names),
        f"{at}.env_file",
        "the registry token should come from the .env file, which is never committed",
        expected="env_file: .env",
        found=short(env_file),
    )


def _check_healthcheck(report: Report, at: str, health: Any) -> None:
    if not report.check(
        isinstance(health, dict) and bool(health.get("test")),
        f"{at}.healthcheck",
        "the service has no health check",
        expected="healthcheck: {test: [CMD, python, -c, …/health…], interval: 10s, …}",
    ):
        return
    test = health["test"]
    probe = " ".join(test) if isinstance(test, list) else str(test)
    report.check(
        re.search(r"(localhost|127\.0\.0\.1):8000/health\b", probe) is not None,
        f"{at}.healthcheck.test",
        "the health check should call /health on port 8000",
        found=probe[:200],
    )
    report.check(
        not re.search(r"(^|[\s/])(curl|wget)\b", probe),
        f"{at}.healthcheck.test",
        "the health check runs curl or wget, which python:3.11-slim does not have",
        found=probe[:200],
        hint='Use python -c "import urllib.request; urllib.request.urlopen(…)".',
    )
    for key in ("interval", "timeout", "retries"):
        report.check(
            key in health,
            f"{at}.healthcheck",
            f"healthcheck.{key} is not set",
            expected=f"{key}: …",
        )


def _check_limits(report: Report, at: str, resources: dict) -> None:
    limits = resources.get("limits") or {}
    report.check(
        bool(limits.get("cpus")),
        f"{at}.deploy.resources.limits",
        "no CPU limit: one busy container can starve everything else on the host",
        expected='cpus: "1.0"',
        found=short(limits),
    )
    memory = _memory_bytes(limits["memory"]) if "memory" in limits else None
    report.check(
        memory is not None and 256 * 2**20 <= memory <= 4 * 2**30,
        f"{at}.deploy.resources.limits.memory",
        "the memory limit should be between 256 MiB and 4 GiB (the model service needs about"
        " 150 MiB)"
        if "memory" in limits
        else "no memory limit",
        expected="memory: 512m",
        found=f"memory: {limits.get('memory')!r}"
        + (f" = {memory:,.0f} bytes" if memory is not None else ""),
        hint="A bare number is bytes: write the unit (512m, 1g).",
    )
