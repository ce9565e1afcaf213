"""A stand-in engine for grading code that drives Docker without one (module docstring of
:mod:`graders.dockerfile`)."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.dockerfile.local_service import (
    free_port,
    http_ok,
    start_service,
    stop_process,
    unix_http_ok,
)
from graders.dockerfile.runtime import (
    duration_seconds,
    healthcheck_command,
    healthcheck_instruction,
)
from graders.formats.dockerfile import Dockerfile, parse_dockerfile
from graders.remote import exposed
from graders.remote.tunnel import Tunnel

UNPUBLISHED = "unpublished"
MAX_BUILDS = 30  # per engine: a smoke test builds once per scenario
MAX_RUNNING = 4  # containers at once: each is a real process on the grader's machine


class StandInError(RuntimeError):
    """The stand-in engine cannot do what was asked (said plainly to the learner)."""


@dataclass
class _Image:
    id: str
    tag: str
    context: Path
    healthcheck: dict | None
    exposed: list[str]


@dataclass
class _Container:
    id: str
    name: str
    image: _Image
    created: float
    ports: dict[str, Any]
    env: dict[str, str]
    labels: dict[str, str]
    auto_remove: bool
    log_file: Path
    process: subprocess.Popen | None = None
    status: str = "created"
    exit_code: int = 0
    health: str = "starting"
    failing_streak: int = 0
    started: float = 0.0
    host_port: int | None = None
    internal_port: int | None = None
    unix_socket: Path | None = None  # where the service listens, when tunnelled


class StandInEngine:
    """Grades code written against the Docker SDK where no engine runs.

    ``engine.client()`` returns an object with docker-py's ``images``, ``containers`` and
    ``api`` interfaces (the containers and images are docker-py's own model classes, so
    ``reload``, ``status``, ``health``, ``ports``, ``logs``, ``stop`` and ``remove`` behave
    as documented). Building snapshots the context folder and reads its Dockerfile's
    HEALTHCHECK and EXPOSE; running starts the service from the snapshot as a process with
    the container port published on a free host port; inspecting a running container
    probes its health the way the HEALTHCHECK would. Everything it started is stopped by
    :meth:`shutdown` (use the engine as a context manager).

    With a ``tunnel`` (graders/remote/tunnel.py: the learner's code runs in a kernel the
    trusted checker reaches) each service listens on a Unix socket, in a sandbox of its own,
    and its published port is opened in the learner's kernel; the engine then builds only
    the contexts the grader :meth:`allow`-ed, never a folder the learner names.
    """

    def __init__(self, tunnel: Tunnel | None = None) -> None:
        self.tunnel = tunnel
        self.allowed: set[Path] | None = None if tunnel is None else set()
        self.folder = Path(tempfile.mkdtemp(prefix="mlops-standin-"))
        self.images: dict[str, _Image] = {}
        self.containers: dict[str, _Container] = {}
        self.builds: list[dict] = []
        self.runs: list[dict] = []
        self.removed: list[str] = []
        self.stopped: list[str] = []

    def __enter__(self) -> StandInEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def client(self) -> Any:
        return _StandInClient(self)

    # -- what the grader asks afterwards ----------------------------------------------------

    def leftovers(self) -> list[str]:
        """Containers created but never removed."""
        return [c.id for c in self.containers.values()]

    def still_running(self) -> list[str]:
        return [c.id for c in self.containers.values() if self._refresh(c) == "running"]

    def allow(self, context: Path) -> None:
        """Let a tunnelled engine build ``context``."""
        if self.allowed is not None:
            self.allowed.add(Path(context).resolve())

    def shutdown(self) -> None:
        for container in self.containers.values():
            if container.process is not None:
                stop_process(container.process, timeout=3)
        if self.tunnel is not None:
            self.tunnel.close_all()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- images -------------------------------------------------------------------------------

    def build(
        self,
        path: Any = None,
        tag: str | None = None,
        dockerfile: str | None = None,
        buildargs: dict | None = None,
        **kwargs: Any,
    ) -> _Image:
        import docker

        if len(self.builds) >= MAX_BUILDS:
            raise StandInError(f"the stand-in engine builds at most {MAX_BUILDS} images")
        self.builds.append(
            {
                "path": path,
                "tag": tag,
                "dockerfile": dockerfile,
                "buildargs": dict(buildargs or {}),
                **kwargs,
            }
        )
        if path is None or not Path(path).is_dir():
            raise TypeError("You must specify a directory to build in path")
        if self.allowed is not None and Path(path).resolve() not in self.allowed:
            raise docker.errors.APIError(
                "while grading, the stand-in engine builds only the context smoke_test was given"
            )
        name = dockerfile or "Dockerfile"
        source = Path(path) / name
        if not source.resolve().is_relative_to(Path(path).resolve()):
            raise docker.errors.APIError(
                f"The Dockerfile ({name}) must be within the build context"
            )
        if not source.is_file():
            raise docker.errors.APIError(f"Cannot locate specified Dockerfile: {name}")
        image_id = "sha256:" + secrets.token_hex(32)
        snapshot = self.folder / image_id[7:19]
        shutil.copytree(path, snapshot)
        parsed = parse_dockerfile(source.read_text(), name)
        image = _Image(image_id, tag or "", snapshot, *_image_config(parsed))
        self.images[image_id] = image
        if tag:
            self.images[tag if ":" in tag else tag + ":latest"] = image
        return image

    def image(self, ref: Any) -> _Image:
        import docker

        ref = getattr(ref, "id", ref)
        for key in (ref, f"{ref}:latest"):
            if key in self.images:
                return self.images[key]
        raise docker.errors.ImageNotFound(f"No such image: {ref}")

    # -- containers -------------------------------------------------------------------------

    def create(
        self,
        image: Any,
        command: Any = None,
        ports: dict | None = None,
        environment: Any = None,
        name: str | None = None,
        labels: dict | None = None,
        auto_remove: bool = False,
        **kwargs: Any,
    ) -> _Container:
        import docker

        found = self.image(image)
        if command is not None:
            raise StandInError(
                "the stand-in engine runs the image's own CMD only: leave command= out"
            )
        if name and any(c.name == name for c in self.containers.values()):
            raise docker.errors.APIError(
                f'Conflict. The container name "/{name}" is already in use'
            )
        env = (
            dict(environment or {})
            if isinstance(environment, dict)
            else dict(item.split("=", 1) for item in (environment or []) if "=" in item)
        )
        container_id = secrets.token_hex(32)
        # "unpublished": EXPOSEd only; None: published on a free host port (docker-py's
        # meaning of ports={"8000/tcp": None}); anything else names the host port.
        published: dict[str, Any] = {port: UNPUBLISHED for port in found.exposed}
        for key, value in (ports or {}).items():
            port = str(key) if "/" in str(key) else f"{key}/tcp"
            published[port] = value  # resolved when the container starts
        container = _Container(
            id=container_id,
            name=name or f"standin_{container_id[:6]}",
            image=found,
            created=time.time(),
            ports=published,
            env=env,
            labels=dict(labels or {}),
            auto_remove=auto_remove,
            log_file=self.folder / f"{container_id[:12]}.log",
        )
        container.log_file.touch()
        self.containers[container_id] = container
        return container

    def start(self, container: _Container) -> None:
        import docker

        if container.status == "running":
            return
        if len(self.still_running()) >= MAX_RUNNING:
            raise StandInError(
                f"the stand-in engine runs at most {MAX_RUNNING} containers at once: "
                "stop and remove the ones you are done with"
            )
        inner = container.ports.get("8000/tcp", UNPUBLISHED)
        wanted = None if inner in (None, UNPUBLISHED) else self._host_port(inner)
        if self.tunnel is not None:
            self._start_tunnelled(container, None if inner == UNPUBLISHED else (wanted or 0))
        else:
            port = wanted or free_port()
            if wanted:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        raise docker.errors.APIError(
                            f"driver failed programming external connectivity: Bind for "
                            f"0.0.0.0:{port} failed: port is already allocated"
                        )
            container.host_port = None if inner == UNPUBLISHED else port
            container.internal_port = port
            container.process = start_service(
                container.image.context, port, container.log_file, container.env
            )
        container.status, container.started = "running", time.monotonic()
        container.health = "starting"

    def _start_tunnelled(self, container: _Container, published: int | None) -> None:
        """The service on a Unix socket; its published port opened in the learner's kernel."""
        import docker

        assert self.tunnel is not None
        container.unix_socket = container.image.context / f".standin-{container.id[:12]}.sock"
        if published is not None:
            try:
                container.host_port = self.tunnel.publish(container.unix_socket, published)
            except OSError as exc:
                raise docker.errors.APIError(
                    f"driver failed programming external connectivity: Bind for "
                    f"0.0.0.0:{published} failed: port is already allocated ({exc})"
                ) from None
        container.process = start_service(
            container.image.context,
            0,
            container.log_file,
            container.env,
            unix_socket=container.unix_socket,
        )

    def _unpublish(self, container: _Container) -> None:
        if self.tunnel is not None and container.host_port is not None:
            self.tunnel.close(container.host_port)
            container.host_port = None

    def _healthy(self, container: _Container) -> bool:
        if container.unix_socket is not None:
            return unix_http_ok(container.unix_socket, "/health")
        return http_ok(f"http://127.0.0.1:{container.internal_port}/health")

    @staticmethod
    def _host_port(spec: Any) -> int | None:
        if isinstance(spec, int):
            return spec
        if isinstance(spec, str) and spec.isdigit():
            return int(spec)
        if isinstance(spec, tuple) and len(spec) == 2:
            return int(spec[1]) if spec[1] is not None else None
        if isinstance(spec, list) and spec:
            return StandInEngine._host_port(spec[0])
        return None

    def get(self, container_id: str) -> _Container:
        import docker

        for container in self.containers.values():
            if container_id in (container.id, container.name) or (
                len(container_id) >= 6 and container.id.startswith(container_id)
            ):
                return container
        raise docker.errors.NotFound(f"No such container: {container_id}")

    def _refresh(self, container: _Container) -> str:
        """Bring a container's state up to date, probing health like a HEALTHCHECK."""
        process = container.process
        if container.status == "running" and process is not None and process.poll() is not None:
            container.status, container.exit_code = "exited", process.returncode
            if container.auto_remove:
                self._forget(container)
        if container.status == "running" and container.image.healthcheck:
            if self._healthy(container):
                container.health, container.failing_streak = "healthy", 0
            elif time.monotonic() - container.started > container.image.healthcheck["start_period"]:
                container.failing_streak += 1
                if container.failing_streak >= container.image.healthcheck["retries"] * 10:
                    container.health = "unhealthy"
        return container.status

    def inspect(self, container_id: str) -> dict:
        container = self.get(container_id)
        self._refresh(container)
        state: dict[str, Any] = {
            "Status": container.status,
            "Running": container.status == "running",
            "ExitCode": container.exit_code,
        }
        if container.image.healthcheck and container.status != "created":
            state["Health"] = {
                "Status": container.health,
                "FailingStreak": container.failing_streak,
                "Log": [],
            }
        ports: dict[str, Any] = {}
        if container.status == "running":
            for port in container.ports:
                published = port == "8000/tcp" and container.host_port
                ports[port] = (
                    [{"HostIp": "0.0.0.0", "HostPort": str(container.host_port)}]
                    if published
                    else None
                )
        return {
            "Id": container.id,
            "Name": "/" + container.name,
            "Image": container.image.id,
            "State": state,
            "Config": {
                "Image": container.image.tag,
                "Labels": container.labels,
                "Env": [f"{k}={v}" for k, v in container.env.items()],
                "ExposedPorts": {p: {} for p in container.image.exposed},
            },
            "NetworkSettings": {"Ports": ports},
        }

    def logs(
        self,
        container_id: str,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        timestamps: bool = False,
        tail: Any = "all",
        since: Any = None,
        follow: Any = None,
        until: Any = None,
    ) -> Any:
        container = self.get(container_id)
        data = container.log_file.read_bytes()
        if tail not in ("all", None):
            data = b"".join(data.splitlines(keepends=True)[-int(tail) :]) if int(tail) else b""
        if stream:
            return iter(data.splitlines(keepends=True))
        return data

    def stop(self, container_id: str, timeout: float | None = None) -> None:
        container = self.get(container_id)
        self.stopped.append(container.id)
        if container.process is not None and self._refresh(container) == "running":
            stop_process(container.process, timeout=10 if timeout is None else timeout)
            container.status, container.exit_code = "exited", container.process.returncode
            self._unpublish(container)
            if container.auto_remove:
                self._forget(container)

    def kill(self, container_id: str, signal_name: Any = None) -> None:
        container = self.get(container_id)
        if container.process is not None and self._refresh(container) == "running":
            stop_process(container.process, timeout=0)
            container.status, container.exit_code = "exited", 137
            self._unpublish(container)

    def remove(
        self, container_id: str, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        import docker

        container = self.get(container_id)
        if self._refresh(container) == "running":
            if not force:
                raise docker.errors.APIError(
                    f"You cannot remove a running container {container.id}. Stop the "
                    "container before attempting removal or force remove"
                )
            self.kill(container.id)
        self._forget(container)

    def wait(self, container_id: str, timeout: float | None = None, condition: Any = None) -> dict:
        container = self.get(container_id)
        if container.process is not None:
            try:
                container.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                raise StandInError(f"container still running after {timeout} s") from exc
        self._refresh(container)
        return {"StatusCode": container.exit_code, "Error": None}

    def _forget(self, container: _Container) -> None:
        self._unpublish(container)
        if container.id in self.containers:
            del self.containers[container.id]
            self.removed.append(container.id)


@exposed
class _StandInAPI:
    """The low-level calls docker-py's model classes make (``client.api.*``)."""

    def __init__(self, engine: StandInEngine) -> None:
        self.engine = engine
        self._version = "1.41"

    def inspect_container(self, container: Any) -> dict:
        return self.engine.inspect(getattr(container, "id", container))

    def logs(self, container: Any, **kwargs: Any) -> Any:
        return self.engine.logs(getattr(container, "id", container), **kwargs)

    def stop(self, container: Any, timeout: float | None = None) -> None:
        self.engine.stop(getattr(container, "id", container), timeout=timeout)

    def kill(self, container: Any, signal: Any = None) -> None:
        self.engine.kill(getattr(container, "id", container), signal)

    def remove_container(
        self, container: Any, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        self.engine.remove(getattr(container, "id", container), v=v, link=link, force=force)

    def start(self, container: Any, *args: Any, **kwargs: Any) -> None:
        self.engine.start(self.engine.get(getattr(container, "id", container)))

    def wait(self, container: Any, timeout: float | None = None, condition: Any = None) -> dict:
        return self.engine.wait(getattr(container, "id", container), timeout=timeout)

    def port(self, container: Any, private_port: Any) -> list[dict] | None:
        ports = self.inspect_container(container)["NetworkSettings"]["Ports"]
        key = str(private_port) if "/" in str(private_port) else f"{private_port}/tcp"
        return ports.get(key)

    def ping(self) -> bool:
        return True

    def version(self) -> dict:
        return {"Version": "stand-in", "ApiVersion": self._version}

    def close(self) -> None:
        pass


@exposed
class _StandInClient:
    """Quacks like ``docker.DockerClient`` for the calls a smoke test makes.

    When the trusted checker hands it to a learner's smoke test (a handle), the learner's
    code may use it, its collections, and the containers and images they return, as docker-py
    documents them (graders.remote.exposed); ``engine`` stays the checker's."""

    # Long because the two collections are defined in here: they subclass docker-py's own
    # (imported only when a stand-in is made) and close over ``engine``.
    def __init__(self, engine: StandInEngine) -> None:
        from docker.models.containers import Container, ContainerCollection
        from docker.models.images import Image, ImageCollection

        exposed(Container)
        exposed(Image)

        self.engine = engine
        self.api = _StandInAPI(engine)

        @exposed
        class Images(ImageCollection):
            def build(self, **kwargs: Any) -> tuple[Any, Iterator[dict]]:
                image = engine.build(**kwargs)
                return self.get(image.id), iter(
                    [{"stream": f"Successfully built {image.id[7:19]}\n"}]
                )

            def get(self, name: Any) -> Any:
                image = engine.image(name)
                return self.prepare_model(
                    {"Id": image.id, "RepoTags": [image.tag] if image.tag else [], "Size": 0}
                )

            def list(self, *args: Any, **kwargs: Any) -> list:
                return [self.get(i.id) for i in {i.id: i for i in engine.images.values()}.values()]

        @exposed
        class Containers(ContainerCollection):
            def run(
                self,
                image: Any,
                command: Any = None,
                detach: bool = False,
                remove: bool = False,
                **kwargs: Any,
            ) -> Any:
                engine.runs.append(
                    {
                        "image": image,
                        "command": command,
                        "detach": detach,
                        "remove": remove,
                        **kwargs,
                    }
                )
                if not detach:
                    raise StandInError(
                        "containers.run(..., detach=False) waits until the container exits, "
                        "and a web service never exits: pass detach=True"
                    )
                container = self.create(image, command, **kwargs)
                if remove:
                    engine.get(container.id).auto_remove = True
                container.start()
                return container

            def create(self, image: Any, command: Any = None, **kwargs: Any) -> Any:
                known = {"ports", "environment", "name", "labels", "auto_remove"}
                created = engine.create(
                    image, command, **{k: v for k, v in kwargs.items() if k in known}
                )
                return self.get(created.id)

            def get(self, container_id: Any) -> Any:
                return self.prepare_model(engine.inspect(getattr(container_id, "id", container_id)))

            def list(self, all: bool = False, filters: dict | None = None, **kwargs: Any) -> list:
                found = [self.get(c.id) for c in list(engine.containers.values())]
                return [c for c in found if all or c.status == "running"]

        self.images = Images(client=self)
        self.containers = Containers(client=self)

    def ping(self) -> bool:
        return True

    def version(self) -> dict:
        return self.api.version()

    def close(self) -> None:
        pass


def _image_config(parsed: Dockerfile) -> tuple[dict | None, list[str]]:
    """The health check (start period, retries) and exposed ports an image built from
    ``parsed`` would have."""
    health = healthcheck_instruction(parsed) if parsed.stages else None
    healthcheck = None
    if health is not None and healthcheck_command(health):
        healthcheck = {
            "start_period": duration_seconds(health.flags.get("start-period", "0s")) or 0,
            "retries": int(health.flags.get("retries", "3") or 3),
        }
    exposed = {
        word.split("/")[0] + "/tcp"
        for instruction in parsed.instructions
        if instruction.name == "EXPOSE"
        for word in instruction.words()
    }
    return healthcheck, sorted(exposed)


def scenario_context(work_dir: Path, scenario: str, dockerfile_text: str) -> Path:
    """A build context for the stand-in engine: a copy of the service (``work_dir`` holds
    app/, model/, requirements.txt) with ``dockerfile_text`` as its Dockerfile.

    ``serving``: the service as shipped; ``missing-model``: the model file is not there, so
    the service stops at startup; ``never-ready``: the code hangs before it serves.
    """
    target = Path(tempfile.mkdtemp(prefix=f"mlops-{scenario}-"))
    for name in ("app", "model"):
        shutil.copytree(
            Path(work_dir) / name, target / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copyfile(Path(work_dir) / "requirements.txt", target / "requirements.txt")
    (target / "Dockerfile").write_text(dockerfile_text)
    if scenario == "missing-model":
        (target / "model" / "churn-model.joblib").unlink()
    elif scenario == "never-ready":  # the package hangs on import, before app.main loads
        init = target / "app" / "__init__.py"
        init.write_text(init.read_text() + "\nimport time\n\ntime.sleep(3600)  # stuck\n")
    elif scenario != "serving":
        raise ValueError(f"unknown scenario {scenario!r}")
    return target
