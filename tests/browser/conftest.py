"""JupyterLab in a real browser: a lab server on a scratch copy of the course, and Chromium.

The server is the course's own ``mlops-course lab`` command line (:func:`course.lab.lab_command`)
on a free local port, serving a temporary copy of ``START_HERE.ipynb`` and ``exercises/``
(so the browser never writes into the repository), with its own Jupyter config, runtime,
settings and workspace folders. The browser is Debian's ``chromium`` driven by Playwright for
Python with ``executable_path``: Playwright's own browser download cannot work here, and is
never needed.

Screenshots go to ``$PYTEST_ARTIFACTS/browser`` (default ``test-artifacts/browser``, which
git ignores).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from course import lab, startpage
from tests.conftest import REPO

TOKEN = "browser-test"
SERVER_START_SECONDS = 90
UI_TIMEOUT_MS = 90_000  # a cold JupyterLab on a busy 2-core machine is slow to first paint
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Settings a learner would otherwise click away: the "Jupyter news?" toast covers the page.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


def chromium_path() -> str | None:
    """Debian's chromium (or ``$CHROMIUM_PATH``), if it is installed."""
    candidate = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return candidate if candidate and Path(candidate).is_file() else None


def artifacts_dir() -> Path:
    base = Path(os.environ.get("PYTEST_ARTIFACTS") or REPO / "test-artifacts")
    folder = base / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="package")
def playwright_api():
    """Playwright's sync API, or a skip that says what is missing and how to install it.

    Package scope, not session: while the sync API is open its event loop counts as running
    in the main thread, so every later test calling ``asyncio.run`` (tests/unit) would fail
    with "cannot be called from a running event loop" (it did, in CI of stop 13).
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "Playwright for Python is not installed: pip install -e '.[dev]' "
            "(no `playwright install`: the tests use the system chromium)"
        )
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as api:
        yield api


class LabServer:
    """A running JupyterLab on a scratch copy of the course."""

    def __init__(self, base: Path) -> None:
        self.root = base / "course"
        self.root.mkdir()
        shutil.copy(REPO / startpage.FILENAME, self.root)
        shutil.copytree(
            REPO / "exercises",
            self.root / "exercises",
            ignore=shutil.ignore_patterns("*_work", ".ipynb_checkpoints", "__pycache__"),
        )
        settings = base / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            target = settings / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab-workspaces"),
            "MPLBACKEND": "Agg",
        }
        self.command = lab.lab_command(
            self.root,
            [
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={TOKEN}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
        )
        self.log_path = base / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command,
            cwd=self.root,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={TOKEN}", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_SECONDS} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # JupyterLab shuts its kernels down on SIGTERM
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text() if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def page_url(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?token={TOKEN}"


@pytest.fixture(scope="package")
def lab_server(playwright_api) -> Iterator[LabServer]:
    with tempfile.TemporaryDirectory(prefix="mlops-browser-") as base:
        server = LabServer(Path(base))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="package")
def browser(playwright_api):
    instance = playwright_api.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
    )
    yield instance
    instance.close()


@pytest.fixture(scope="package")
def console_errors() -> list[str]:
    """Every JavaScript console error and uncaught page error, from every page, in order."""
    return []


@pytest.fixture
def lab_page(browser, lab_server, console_errors):
    """A fresh browser tab; its console errors are collected into ``console_errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            console_errors.append(f"console.{message.type}: {message.text} ({message.location})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    yield page
    context.close()
