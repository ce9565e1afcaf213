"""Grading the learner's Docker SDK smoke test, on a real engine (the small probe image)
or on the stand-in engine."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from graders.dockerfile.engine import check_prediction, engine_client, model_predictions, short
from graders.dockerfile.rules import BASE_IMAGE_ARG, DEFAULT_BASE_IMAGE
from graders.dockerfile.standin import StandInEngine, scenario_context
from graders.remote.tunnel import Tunnel, tunnel_for
from graders.report import Report

# The check cell of the SDK exercise must finish in seconds, so on a real engine it does
# not pip-install scikit-learn: it builds this image instead, FROM the same base image,
# with the model's coefficients and a standard-library HTTP server that answers /health and
# /predict exactly as the real service does (the same numbers, to 4 decimals). Both are
# real files in probe/ (the server is linted like the rest of the graders).
PROBE = Path(__file__).with_name("probe")
PROBE_SERVICE = (PROBE / "service.py").read_text()
PROBE_DOCKERFILE = (PROBE / "Dockerfile").read_text()
PROBE_SCENARIOS = ("serving", "crashes", "never-ready")
GIVE_UP_GRACE = 12  # seconds a smoke test may take beyond its timeout to give up and clean up
WATCHDOG_GRACE = 16  # after timeout + this, the grader removes the container itself


def model_coefficients(model_path: Path) -> dict:
    """The scaler and logistic-regression numbers of the churn pipeline, as plain JSON."""
    import joblib

    model = joblib.load(model_path)
    scaler, logreg = model[0], model[-1]
    metadata = Path(model_path).with_name("metadata.json")
    version = json.loads(metadata.read_text())["model_version"] if metadata.exists() else "?"
    return {
        "version": version,
        "features": ["tenure_months", "monthly_charges", "support_calls", "contract_months"],
        "mean": [float(x) for x in scaler.mean_],
        "scale": [float(x) for x in scaler.scale_],
        "coef": [float(x) for x in logreg.coef_[0]],
        "intercept": float(logreg.intercept_[0]),
    }


PROBE_LABEL = "org.mlops-course.probe"


def probe_context(model_path: Path, scenario: str = "serving", run_id: str = "") -> Path:
    """A build context for the small image (``scenario``: serving, crashes, never-ready).

    ``run_id`` becomes the image label :data:`PROBE_LABEL`, which its containers inherit:
    two graders running at once (a class graded in parallel) would otherwise build the
    same image id, and each would count the other's containers as its own leftovers.
    The caller removes the folder (``shutil.rmtree``)."""
    if scenario not in PROBE_SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    target = Path(tempfile.mkdtemp(prefix=f"mlops-probe-{scenario}-"))
    (target / "model.json").write_text(json.dumps(model_coefficients(model_path)))
    (target / "service.py").write_text(PROBE_SERVICE)
    dockerfile = PROBE_DOCKERFILE.replace(
        "ARG PROBE_SCENARIO=serving", f"ARG PROBE_SCENARIO={scenario}"
    )
    if run_id:
        dockerfile += f'LABEL {PROBE_LABEL}="{run_id}"\n'
    (target / "Dockerfile").write_text(dockerfile)
    return target


def containers_labelled(client: Any, label: str, value: str) -> set[str]:
    """Ids of every container (running or not) with label ``label=value``."""
    try:
        found = client.containers.list(all=True, filters={"label": f"{label}={value}"})
    except Exception:
        return set()
    return {c.id for c in found}


def local_base_image(client: Any, wanted: str | None = None) -> str | None:
    """The base image to build FROM on this engine: ``wanted``, ``$MLOPS_BASE_IMAGE``, or
    python:3.11-slim, whichever is present first (nothing is pulled: it may not be possible)."""
    for name in (
        wanted,
        os.environ.get("MLOPS_BASE_IMAGE"),
        "mlops-python:3.11",
        DEFAULT_BASE_IMAGE,
    ):
        if not name:
            continue
        try:
            client.images.get(name)
        except Exception:
            continue
        return name
    return None


def _remove_image(client: Any, tag: str) -> None:
    with contextlib.suppress(Exception):
        client.images.remove(tag, force=True, noprune=True)  # keep cached layers: a
        # grader running at the same time may be building from them


def grade_smoke_test(
    report: Report,
    smoke_test: Any,
    model_path: Path,
    service_dir: Path,
    *,
    payload: dict,
    scenarios: tuple[str, ...] = ("serving", "crashes"),
    timeout: float = 20,
) -> str:
    """Grade a learner's ``smoke_test(client, context, *, tag, base_image, payload, timeout)``.

    On a reachable engine it runs for real against the small image (see
    :data:`PROBE_SERVICE`) built FROM the local base; with no engine it runs against
    :class:`StandInEngine` (the real service as a local process), and says so plainly.
    For every scenario: what it returns (or that it raises when the container cannot
    serve), and that no container is left behind. Returns "engine", "stand-in" or "none".

    Graded by the trusted checker (``smoke_test`` is a proxy of the learner's function), it
    always runs against the stand-in engine: a real engine's client would give the learner's
    code the host. Its containers' ports are then opened in the learner's kernel.
    """
    expected = model_predictions(model_path, payload)
    tunnel = tunnel_for(smoke_test)
    if tunnel is not None:
        report.note(
            "graded against a STAND-IN engine (each container is the service started as a "
            "local process): grading never gives a submission a Docker engine."
        )
        return _grade_on_standin(
            report, smoke_test, tunnel, service_dir, scenarios, payload, expected, timeout
        )
    client, description = engine_client(timeout=60)
    try:
        return _grade_smoke_test(
            report,
            smoke_test,
            client,
            description,
            model_path,
            service_dir,
            payload,
            expected,
            scenarios,
            timeout,
        )
    finally:
        if client is not None:
            client.close()


def _grade_smoke_test(
    report: Report,
    smoke_test: Any,
    client: Any,
    description: str,
    model_path: Path,
    service_dir: Path,
    payload: dict,
    expected: list[dict],
    scenarios: tuple[str, ...],
    timeout: float,
) -> str:
    base = local_base_image(client) if client is not None else None
    if client is not None and base is None:
        report.note(
            f"{description}, but it has no Python base image (python:3.11-slim or "
            "$MLOPS_BASE_IMAGE) and none can be pulled here: checking against the stand-in "
            "engine instead."
        )
    if client is not None and base is not None:
        report.note(f"live: {description}; your smoke_test ran on it, images built FROM {base}.")
        for scenario in scenarios:
            _grade_scenario_live(
                report, smoke_test, client, base, model_path, scenario, payload, expected, timeout
            )
        return "engine"
    if client is None:
        report.note(
            f"{description}: your smoke_test ran against a STAND-IN engine (each container "
            "is the service started as a local process), not Docker. The points are the same; "
            "run the notebook where Docker runs to see it work for real."
        )
    return _grade_on_standin(
        report, smoke_test, None, service_dir, scenarios, payload, expected, timeout
    )


def _grade_on_standin(
    report: Report,
    smoke_test: Any,
    tunnel: Tunnel | None,
    service_dir: Path,
    scenarios: tuple[str, ...],
    payload: dict,
    expected: list[dict],
    timeout: float,
) -> str:
    with StandInEngine(tunnel) as engine:
        for scenario in scenarios:
            _grade_scenario_standin(
                report, smoke_test, engine, service_dir, scenario, payload, expected, timeout
            )
    return "stand-in"


def _expect_outcome(
    report: Report,
    scenario: str,
    result: Any,
    error: BaseException | None,
    expected: list[dict],
    elapsed: float,
    timeout: float,
) -> None:
    where = f"smoke_test, container that {_SCENARIO_WORDS[scenario]}"
    if scenario == "serving":
        _expect_served(report, where, result, error, expected)
        return
    report.check(
        error is not None,
        where,
        "should raise an exception when the container never becomes healthy",
        expected="an exception (e.g. RuntimeError with the container's logs)",
        found=f"it returned {short(result, 120)}",
        hint="Check container.status after reload(): 'exited' means it died; raise with "
        "its logs. Give up after `timeout` seconds too.",
    )
    report.check(
        elapsed < timeout + GIVE_UP_GRACE,
        where,
        f"should give up within about timeout={timeout:g} s",
        found=f"it gave up {elapsed:.0f} s after its container was created",
        hint="Keep a deadline (time.monotonic() + timeout) in the wait loop.",
    )


def _expect_served(
    report: Report, where: str, result: Any, error: BaseException | None, expected: list[dict]
) -> None:
    """A container that serves: smoke_test returns the prediction and the logs."""
    if error is not None:
        report.fail(
            where,
            f"raised {type(error).__name__}: {str(error)[:300]}",
            hint="Build with buildargs={'BASE_IMAGE': base_image}, run detached "
            "with ports={'8000/tcp': None}, wait until container.health is "
            "'healthy', then POST to the published host port.",
        )
        return
    if not report.check(
        isinstance(result, dict),
        where,
        "should return a dict",
        expected="{'prediction': …, 'logs': …}",
        found=short(result),
    ):
        return
    check_prediction(report, result.get("prediction"), expected, where + ": prediction")
    logs = result.get("logs")
    report.check(
        isinstance(logs, str) and "loaded model" in logs,
        where + ": logs",
        "should be the container's log as text, showing the service loading the model",
        found=short(logs),
        hint="container.logs() returns bytes: .decode() them.",
    )


_SCENARIO_WORDS = {
    "serving": "serves",
    "crashes": "exits at startup",
    "never-ready": "never becomes healthy",
}


def _call(
    smoke_test: Any, client: Any, context: Path, tag: str, base: str, payload: dict, timeout: float
) -> tuple[Any, BaseException | None]:
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = smoke_test(
                client, context, tag=tag, base_image=base, payload=payload, timeout=timeout
            )
    except NotImplementedError:
        raise
    except Exception as exc:
        return None, exc
    return result, None


class _Watchdog(threading.Thread):
    """Watches for the smoke test's container. ``elapsed`` counts from when it appeared
    (so a slow build on a busy machine is not held against the learner); ``limit`` seconds
    after that, ``remove`` takes the container away, so a smoke test that would wait
    forever fails at its next call to the engine instead of hanging the check cell."""

    def __init__(self, find: Any, remove: Any, limit: float) -> None:
        super().__init__(daemon=True)
        self.find, self.remove, self.limit = find, remove, limit
        self.appeared: float | None = None
        self.fired = False
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.3):
            if self.appeared is None:
                with contextlib.suppress(Exception):
                    if self.find():
                        self.appeared = time.monotonic()
            elif time.monotonic() - self.appeared > self.limit:
                self.fired = True
                with contextlib.suppress(Exception):
                    self.remove()
                return

    def elapsed(self) -> float:
        return 0.0 if self.appeared is None else time.monotonic() - self.appeared

    def cancel(self) -> None:
        self._done.set()
        self.join(timeout=5)


def _remove_containers(client: Any, run_id: str) -> None:
    for container_id in containers_labelled(client, PROBE_LABEL, run_id):
        with contextlib.suppress(Exception):
            client.containers.get(container_id).remove(force=True)


def _grade_scenario_live(
    report: Report,
    smoke_test: Any,
    client: Any,
    base: str,
    model_path: Path,
    scenario: str,
    payload: dict,
    expected: list[dict],
    timeout: float,
) -> None:
    run_id = secrets.token_hex(6)
    tag = f"mlops-course-probe-{scenario}:{run_id}"
    context = probe_context(model_path, scenario, run_id)
    # A smoke test that waits forever must not hang the check cell: after the grace time
    # the container is removed under it, so its next call to the engine fails.
    watchdog = _Watchdog(
        lambda: containers_labelled(client, PROBE_LABEL, run_id),
        lambda: _remove_containers(client, run_id),
        timeout + WATCHDOG_GRACE,
    )
    watchdog.start()
    try:
        with report.attempt(f"smoke_test(<engine>, <image that {_SCENARIO_WORDS[scenario]}>)"):
            result, error = _call(smoke_test, client, context, tag, base, payload, timeout)
            elapsed = watchdog.elapsed()
            _expect_outcome(report, scenario, result, error, expected, elapsed, timeout)
    finally:
        watchdog.cancel()
        shutil.rmtree(context, ignore_errors=True)
        left = containers_labelled(client, PROBE_LABEL, run_id)
        report.check(
            not left,
            f"the Docker engine, after the container that {_SCENARIO_WORDS[scenario]}",
            "smoke_test left containers behind",
            expected="no container from its image once smoke_test has returned or raised",
            found=f"{len(left)} container(s): {', '.join(c[:12] for c in sorted(left))}",
            hint="Stop and remove the container in a finally: block, so that it goes "
            "whether the test passes, fails or raises.",
        )
        for container_id in left:
            with contextlib.suppress(Exception):
                client.containers.get(container_id).remove(force=True)
        _remove_image(client, tag)


# Long because the watchdog, the call and the clean-up must share one try/finally: a
# container the learner's code leaves is removed whatever happened.
def _grade_scenario_standin(
    report: Report,
    smoke_test: Any,
    engine: StandInEngine,
    service_dir: Path,
    scenario: str,
    payload: dict,
    expected: list[dict],
    timeout: float,
) -> None:
    standin = {"serving": "serving", "crashes": "missing-model", "never-ready": "never-ready"}
    context = scenario_context(service_dir, standin[scenario], PROBE_DOCKERFILE)
    engine.allow(context)
    before = set(engine.leftovers())
    builds_before = len(engine.builds)
    base = "mlops-standin-base:3.11"  # a name no default could produce by accident

    def remove_new() -> None:
        for container_id in set(engine.leftovers()) - before:
            with contextlib.suppress(Exception):
                engine.remove(container_id, force=True)

    watchdog = _Watchdog(
        lambda: set(engine.leftovers()) - before, remove_new, timeout + WATCHDOG_GRACE
    )
    watchdog.start()
    try:
        with report.attempt(
            f"smoke_test(<stand-in engine>, <image that {_SCENARIO_WORDS[scenario]}>)"
        ):
            tag = f"mlops-course-probe-{scenario}:standin"
            result, error = _call(smoke_test, engine.client(), context, tag, base, payload, timeout)
            elapsed = watchdog.elapsed()
            builds = engine.builds[builds_before:]
            report.check(
                any((b.get("buildargs") or {}).get(BASE_IMAGE_ARG) == base for b in builds),
                f"smoke_test, container that {_SCENARIO_WORDS[scenario]}: the build",
                "the image should be built with the base_image argument as BASE_IMAGE",
                expected=f"client.images.build(..., buildargs={{'BASE_IMAGE': {base!r}}})",
                found=short([b.get("buildargs") for b in builds]) if builds else "no build",
                hint="Where no registry is reachable the default base cannot be pulled.",
            )
            _expect_outcome(report, scenario, result, error, expected, elapsed, timeout)
    finally:
        watchdog.cancel()
        shutil.rmtree(context, ignore_errors=True)
        left = set(engine.leftovers()) - before
        report.check(
            not left,
            f"the stand-in engine, after the container that {_SCENARIO_WORDS[scenario]}",
            "smoke_test left containers behind",
            expected="no container once smoke_test has returned or raised",
            found=f"{len(left)} container(s) never removed",
            hint="Stop and remove the container in a finally: block.",
        )
        for container_id in left:
            with contextlib.suppress(Exception):
                engine.remove(container_id, force=True)
