"""How the container runs: exposed port, exec-form command, health check, probe tools
and configuration through the environment."""

from __future__ import annotations

import posixpath
import re

from graders.dockerfile.context import image_paths
from graders.formats.dockerfile import Dockerfile, Instruction, Stage
from graders.report import Report


def check_expose(report: Report, dockerfile: Dockerfile, port: int = 8000) -> None:
    exposed = {
        word.split("/")[0]
        for stage in (dockerfile.final, dockerfile.parent(dockerfile.final))
        if stage
        for i in stage.named("EXPOSE")
        for word in i.words()
    }
    report.check(
        str(port) in exposed,
        dockerfile.at(dockerfile.final),
        f"the image does not declare that it listens on port {port}",
        expected=f"EXPOSE {port}",
        found=f"EXPOSE {' '.join(sorted(exposed))}" if exposed else "no EXPOSE",
        hint="EXPOSE documents the port for people and tools (`docker run -P`, Compose).",
    )


def check_exec_form(report: Report, dockerfile: Dockerfile) -> None:
    _, sources = dockerfile.command()
    if not sources:
        report.fail(dockerfile.at(dockerfile.final), "the image has no CMD", expected="CMD [...]")
    for instruction in sources:
        report.check(
            instruction.exec_form is not None,
            dockerfile.at(instruction),
            f"{instruction.name} is in shell form, so uvicorn never receives SIGTERM",
            expected=f'{instruction.name} ["uvicorn", "app.main:app", ...] (JSON array)',
            found=instruction.short(),
            hint="In shell form /bin/sh -c is PID 1 and does not pass signals on: `docker "
            "stop` waits 10 s, then kills the service in the middle of requests.",
        )


def healthcheck_instruction(dockerfile: Dockerfile) -> Instruction | None:
    stage: Stage | None = dockerfile.final
    while stage is not None:
        found = stage.last("HEALTHCHECK")
        if found is not None:
            return found
        stage = dockerfile.parent(stage)
    return None


def duration_seconds(text: str) -> float | None:
    """A Go duration (``30s``, ``1m30s``, ``500ms``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(n) * units[u] for n, u in parts)


def healthcheck_command(instruction: Instruction) -> list[str] | None:
    """The probe's words (``HEALTHCHECK [flags] CMD …``), or None for NONE/malformed."""
    rest = instruction.args.strip()
    if not rest.upper().startswith("CMD"):
        return None
    probe = Instruction(
        "CMD", rest[3:].strip(), instruction.line, instruction.stage, args=rest[3:].strip()
    )
    return probe.words()


def check_healthcheck(report: Report, dockerfile: Dockerfile, port: int = 8000) -> None:
    instruction = healthcheck_instruction(dockerfile)
    if not report.check(
        instruction is not None,
        dockerfile.at(dockerfile.final),
        "the image has no HEALTHCHECK, so Docker cannot tell a hung service from a healthy one",
        expected="HEALTHCHECK --interval=… --timeout=… CMD <probe GET /health>",
    ):
        return
    assert instruction is not None  # the check above passed
    words = healthcheck_command(instruction)
    if not report.check(
        words is not None,
        dockerfile.at(instruction),
        "the HEALTHCHECK has no probe command",
        expected="HEALTHCHECK [options] CMD …",
        found=instruction.short(),
    ):
        return
    assert words is not None  # the check above passed
    probe = " ".join(words)
    report.check(
        re.search(rf"(localhost|127\.0\.0\.1|0\.0\.0\.0):{port}/health\b", probe) is not None,
        dockerfile.at(instruction),
        "the health check should call the service's /health endpoint",
        expected=f"a request to http://127.0.0.1:{port}/health",
        found=probe[:200],
    )
    for flag in ("interval", "timeout"):
        report.check(
            flag in instruction.flags,
            dockerfile.at(instruction),
            f"HEALTHCHECK --{flag} is not set",
            expected=f"--{flag}=…s",
            hint="Defaults are 30 s: a new container would wait half a minute to be healthy."
            if flag == "interval"
            else "A probe that hangs must fail after a few seconds.",
        )


def check_probe_tools(report: Report, dockerfile: Dockerfile) -> None:
    """The probe must use a program the image has: slim images have no curl or wget."""
    instruction = healthcheck_instruction(dockerfile)
    words = healthcheck_command(instruction) if instruction else None
    if instruction is None or not words:
        return
    probe = " ".join(words)
    for tool in ("curl", "wget"):
        if not re.search(rf"(^|[\s/]){tool}\b", probe):
            continue
        installed = any(
            re.search(rf"\binstall\b.*\b{tool}\b", " ".join(i.words()))
            for stage in (dockerfile.final, dockerfile.parent(dockerfile.final))
            if stage
            for i in stage.named("RUN")
        )
        report.check(
            installed,
            dockerfile.at(instruction),
            f"the health check runs {tool}, which python:3.11-slim does not have",
            found=instruction.short(),
            hint="The probe fails with 'not found' and the container is marked unhealthy. "
            'Use Python, which the image has: python -c "import urllib.request; '
            "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)\"",
        )
    interval = duration_seconds(instruction.flags.get("interval", "30s"))
    timeout = duration_seconds(instruction.flags.get("timeout", "30s"))
    if interval is not None and timeout is not None:
        report.check(
            timeout < interval,
            dockerfile.at(instruction),
            "the probe's timeout should be shorter than its interval",
            expected="e.g. --interval=10s --timeout=3s",
            found=f"--interval={instruction.flags.get('interval', '30s')} "
            f"--timeout={instruction.flags.get('timeout', '30s')}",
        )


def check_env_config(report: Report, dockerfile: Dockerfile) -> None:
    """Configuration through ENV: MODEL_PATH (where the model really is), LOG_LEVEL, and
    PYTHONUNBUFFERED so log lines reach ``docker logs`` at once."""
    env = dockerfile.env()
    final = dockerfile.final
    model_at = image_paths(dockerfile, final, "model/churn-model.joblib")
    value, where = env.get("MODEL_PATH", ("", None))
    resolved = posixpath.normpath(posixpath.join(dockerfile.workdir(final), value)) if value else ""
    report.check(
        bool(value) and resolved in model_at,
        dockerfile.at(where or final),
        "ENV MODEL_PATH should name the file the model is copied to"
        if value
        else "ENV MODEL_PATH is not set",
        expected=f"ENV MODEL_PATH={sorted(model_at)[0]}" if model_at else "ENV MODEL_PATH=…",
        found=f"MODEL_PATH={value}" if value else "no MODEL_PATH",
        hint="The service reads its configuration from the environment; the image sets "
        "defaults and an operator overrides them with `docker run -e`.",
    )
    level, where = env.get("LOG_LEVEL", ("", None))
    report.check(
        level.lower() in ("debug", "info", "warning", "error"),
        dockerfile.at(where or final),
        "ENV LOG_LEVEL should set the service's log level",
        expected="ENV LOG_LEVEL=info",
        found=f"LOG_LEVEL={level}" if level else "no LOG_LEVEL",
    )
    unbuffered, where = env.get("PYTHONUNBUFFERED", ("", None))
    report.check(
        bool(unbuffered),
        dockerfile.at(where or final),
        "ENV PYTHONUNBUFFERED is not set, so log lines can sit in a buffer",
        expected="ENV PYTHONUNBUFFERED=1",
        hint="Without it Python buffers stdout when it is not a terminal: `docker logs` "
        "shows nothing until the buffer fills, or the container dies and the lines are lost.",
    )
