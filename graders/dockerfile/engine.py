"""A real Docker engine, where there is one: a client, a note saying whether there is one,
and the live smoke test of the learner's image."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from graders.isolation import sandboxed
from graders.report import Report, type_name


def engine_client(timeout: float = 600) -> tuple[Any | None, str]:
    """A connected Docker SDK client and a one-line description, or (None, why not).

    Never in the trusted checker: a check there would hand the engine (root on the host)
    to the learner's code."""
    if sandboxed():
        return None, "no Docker engine while grading (the engine's socket is root on the host)"
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://"):
        path = host.removeprefix("unix://")
        if not Path(path).exists():
            return None, f"no Docker engine reachable (no socket at {path})"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(5)
            try:  # a socket file left by a stopped daemon: docker-py would leak its connection
                probe.connect(path)
            except OSError as exc:
                return None, f"no Docker engine reachable ({path}: {exc.strerror or exc})"
    client = None
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
        version = client.version().get("Version", "?")
    except Exception as exc:  # no socket, no permission, daemon down: all mean "no engine"
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"no Docker engine reachable ({reason[:160]})"
    return client, f"Docker engine {version} reachable"


def note_engine(report: Report) -> bool:
    """Add a note saying whether live checks can run here; True when they can."""
    client, description = engine_client(timeout=10)
    if client is None:
        report.note(
            f"skipped: {description}. The live checks need a Docker engine; this is expected "
            "on Binder, and the static checks above decide the points."
        )
    else:
        report.note(
            f"{description}: run the live section at the end of the notebook to build and "
            "run this image for real."
        )
        client.close()
    return client is not None


def assemble_context(work_dir: Path, dockerfile: str = "Dockerfile") -> Path:
    """A temporary copy of the working folder to build from, with ``dockerfile`` as its
    Dockerfile. The caller removes it (``shutil.rmtree``)."""
    target = Path(tempfile.mkdtemp(prefix="mlops-build-"))
    shutil.copytree(work_dir, target, dirs_exist_ok=True)
    if dockerfile != "Dockerfile":
        shutil.copyfile(Path(work_dir) / dockerfile, target / "Dockerfile")
    return target


def containers_from(client: Any, tag: str) -> set[str]:
    """Ids of every container (running or not) created from image ``tag``."""
    try:
        return {c.id for c in client.containers.list(all=True, filters={"ancestor": tag})}
    except Exception:
        return set()


def live_smoke_test(
    report: Report,
    smoke_test: Any,
    work_dir: Path,
    *,
    base_image: str,
    payload: dict,
    expected: list[dict],
    tag: str = "churn-service:live",
    timeout: float = 120,
    client: Any = None,
) -> dict | None:
    """Run a learner's ``smoke_test`` against the real engine on the working folder, and
    check what it returns and what it leaves behind. Returns timings and sizes."""
    run = functools.partial(
        _live_smoke_test, report, smoke_test, work_dir,
        base_image=base_image, payload=payload, expected=expected, tag=tag, timeout=timeout,
    )  # fmt: skip
    if client is not None:
        return run(client)
    client, description = engine_client()
    if client is None:
        report.note(f"skipped: {description}; the live checks need a Docker engine.")
        return None
    try:
        return run(client)
    finally:
        client.close()


def _live_smoke_test(
    report: Report,
    smoke_test: Any,
    work_dir: Path,
    client: Any,
    *,
    base_image: str,
    payload: dict,
    expected: list[dict],
    tag: str,
    timeout: float,
) -> dict:
    context = assemble_context(work_dir)
    before = containers_from(client, tag)
    figures: dict[str, Any] = {"base_image": base_image}
    try:
        with report.attempt(
            f"smoke_test(<docker engine>, <{work_dir}>, base_image={base_image!r})"
        ):
            start = time.perf_counter()
            result = smoke_test(
                client, context, tag=tag, base_image=base_image, payload=payload, timeout=timeout
            )
            figures["seconds"] = round(time.perf_counter() - start, 1)
            report.require(
                isinstance(result, dict),
                "smoke_test(...)",
                "should return a dict",
                found=type_name(result),
            )
            check_prediction(report, result.get("prediction"), expected, "live /predict")
            logs = result.get("logs")
            report.check(
                isinstance(logs, str) and "loaded model" in logs,
                "live container logs",
                "the logs should show the service loading the model",
                found=(logs or "")[-300:] if isinstance(logs, str) else repr(logs),
            )
            figures["prediction"] = result.get("prediction")
    finally:
        shutil.rmtree(context, ignore_errors=True)
        _check_nothing_left(report, client, containers_from(client, tag) - before)
    with contextlib.suppress(Exception):
        figures["image_mb"] = round(client.images.get(tag).attrs["Size"] / 1e6)
    return figures


def _check_nothing_left(report: Report, client: Any, left: set[str]) -> None:
    """A finding for the containers a smoke test left, which the grader then removes."""
    report.check(
        not left,
        "the Docker engine",
        "smoke_test left containers behind",
        expected="no container from the image after smoke_test returns",
        found=f"{len(left)} container(s): {', '.join(c[:12] for c in sorted(left))}",
        hint="Stop and remove the container in a finally: block.",
    )
    for container_id in left:
        with contextlib.suppress(Exception):
            client.containers.get(container_id).remove(force=True)


def check_prediction(report: Report, prediction: Any, expected: list[dict], where: str) -> None:
    """``prediction`` is the service's /predict answer; compare it with the model's own."""
    if not report.check(
        isinstance(prediction, dict) and isinstance(prediction.get("predictions"), list),
        where,
        "should be the JSON body /predict answered",
        expected='{"model_version": …, "predictions": [{"churn": …, "probability": …}, …]}',
        found=short(prediction),
    ):
        return
    got = prediction["predictions"]
    same = len(got) == len(expected) and all(
        isinstance(g, dict)
        and g.get("churn") == e["churn"]
        and abs(float(g.get("probability", -1)) - e["probability"]) < 1e-3
        for g, e in zip(got, expected, strict=False)
    )
    report.check(
        same,
        where,
        "the predictions differ from the model's own",
        expected=short(expected),
        found=short(got),
        hint="POST the payload as JSON to /predict and return response.json().",
    )


def short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 15] + " … (truncated)"


def model_predictions(model_path: Path, payload: dict) -> list[dict]:
    """What /predict must answer for ``payload``, computed from the model file directly."""
    import joblib
    import numpy as np

    features = ("tenure_months", "monthly_charges", "support_calls", "contract_months")
    model = joblib.load(model_path)
    X = np.array([[c[f] for f in features] for c in payload["customers"]], dtype=float)
    labels, probabilities = model.predict(X), model.predict_proba(X)[:, 1]
    return [
        {"churn": bool(label), "probability": round(float(p), 4)}
        for label, p in zip(labels, probabilities, strict=True)
    ]
