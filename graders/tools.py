"""The instructor's tools, found where the instructor installed them, never through PATH.

A check that runs a tool (git, pytest, shellcheck, hadolint, bash) must run the real one:
looked up beside the running interpreter (what pip installed into the course's
environment) and then in the system folders, never in ``$PATH``, the working folder or
anything else a learner's code could have changed. Tools also run with their own
code-running features off (``git_safety_options``, ``PYTEST_SAFETY_ENV``), since the
repository or test folder they look at is the learner's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SYSTEM_FOLDERS = ("/usr/local/bin", "/usr/bin", "/bin")
# What Python and the course's tools write beside the code they ran on: never copied into a
# check's copy of a learner's project, never released, never compared (course/nbconfig.py).
TOOL_CACHES = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache")
# What a check's subprocesses get as PATH: the course environment, then the system.
SAFE_PATH = os.pathsep.join([str(Path(sys.executable).parent), *SYSTEM_FOLDERS])


def tool_path(name: str) -> Path | None:
    """``name`` beside this Python, else in the system folders; None when not installed."""
    for folder in (str(Path(sys.executable).parent), *SYSTEM_FOLDERS):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def git_safety_options() -> list[str]:
    """``git -c`` options that keep a repository's own configuration from running code while
    a check inspects it: no hooks, no file-system monitor, no pager, no external diff or
    text conversion. (Content filters a repository names in .gitattributes are switched
    off per repository by :func:`git_filter_options`.)"""
    return [
        "-c", "core.hooksPath=/dev/null",
        "-c", "core.fsmonitor=false",
        "-c", "core.pager=cat",
        "-c", "diff.external=",
        "-c", "core.sshCommand=false",
        "-c", "credential.helper=",
        "-c", "protocol.allow=never",
        "-c", "protocol.file.allow=always",
    ]  # fmt: skip


def git_filter_options(config_keys: list[str]) -> list[str]:
    """For every content filter (``filter.<name>.*``) the repository defines, options that
    replace its commands with ``cat``, which runs nothing of the repository's."""
    options: list[str] = []
    for name in sorted(
        {
            key.split(".")[1]
            for key in config_keys
            if key.count(".") == 2 and key.startswith("filter.")
        }
    ):
        options += ["-c", f"filter.{name}.clean=cat", "-c", f"filter.{name}.smudge=cat"]
        options += ["-c", f"filter.{name}.process=", "-c", f"filter.{name}.required=false"]
    return options


# Commands that show diffs take these after their name: no external diff driver, no text
# conversion, both of which a repository's .gitattributes can point at its own commands.
DIFF_COMMANDS = {"diff", "log", "show", "whatchanged", "format-patch"}
NO_DIFF_DRIVERS = ["--no-ext-diff", "--no-textconv"]


# pytest on a learner's tests: no plugins installed packages announce, no cache written
# back into the learner's folder.
PYTEST_SAFETY_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
PYTEST_SAFETY_ARGS = ["-p", "no:cacheprovider"]


@dataclass(frozen=True)
class ToolRun:
    """What a tool run gave back. ``status`` is None when it did not finish in time;
    ``error`` says why it could not start (then ``status`` is None too)."""

    status: int | None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status is not None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_tool(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> ToolRun:
    """The one way the graders run a tool (hadolint, shellcheck, git, pytest): no stdin,
    output captured as text, stopped at ``timeout``; it never raises. ``argv`` is the real
    tool's path (:func:`tool_path`) or, for a learner's program, what
    ``graders.isolation.learner_process`` made of it."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        return ToolRun(None, _text(exc.stdout), _text(exc.stderr))
    except OSError as exc:
        return ToolRun(None, error=str(exc))
    return ToolRun(done.returncode, done.stdout, done.stderr)


def _text(captured: str | bytes | None) -> str:
    if isinstance(captured, bytes):
        return captured.decode("utf-8", errors="replace")
    return captured or ""
