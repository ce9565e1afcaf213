"""The churn service run as a local process (no engine needed): ports, HTTP probes,
start and stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from graders.isolation import learner_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def unix_http_ok(path: Path, route: str, timeout: float = 0.5) -> bool:
    """Whether a GET of ``route`` from the HTTP server on the Unix socket ``path`` says 200."""
    import http.client

    connection = http.client.HTTPConnection("localhost", timeout=timeout)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(path))
        connection.sock = sock
        connection.request("GET", route)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
        sock.close()


def start_service(
    service_dir: Path,
    port: int,
    log_file: Path,
    env: dict | None = None,
    *,
    unix_socket: Path | None = None,
):
    """Start ``uvicorn app.main:app`` from ``service_dir`` on 127.0.0.1:``port`` (or on
    ``unix_socket``, a path inside ``service_dir``) as its own process group, output to
    ``log_file``; returns the ``Popen``. From the trusted checker it runs in a sandbox of its
    own, ``service_dir`` its only writable folder (its environment is the learner's choice)."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(service_dir),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LOG_LEVEL": "info",
        **(env or {}),
    }
    with open(log_file, "ab") as log:
        listen = (
            ["--uds", str(unix_socket)]
            if unix_socket is not None
            else ["--host", "127.0.0.1", "--port", str(port)]
        )
        command = [sys.executable, "-m", "uvicorn", "app.main:app", *listen]
        argv, host_env = learner_process(command, service_dir, env=environment)
        return subprocess.Popen(
            argv,
            cwd=service_dir,
            env=host_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen, timeout: float = 10) -> int:
    """SIGTERM, then SIGKILL after ``timeout`` seconds, like ``docker stop``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


@contextlib.contextmanager
def serve_locally(service_dir: Path, startup_timeout: float = 30) -> Iterator[str]:
    """Run the service as a local process for a demonstration; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mlops-serve-") as folder:
        log_file = Path(folder) / "service.log"
        process = start_service(Path(service_dir).resolve(), port, log_file)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_timeout
            while not http_ok(base + "/health"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the service did not start:\n" + log_file.read_text())
                time.sleep(0.2)
            yield base
        finally:
            stop_process(process)
