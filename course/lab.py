"""Start JupyterLab on the course, opened at the start page."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from course import startpage


def lab_command(root: Path, extra_args: list[str]) -> list[str]:
    """The command that serves ``root`` and opens the start page."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{startpage.FILENAME}",
        # containers and dev boxes often run as root, where Jupyter refuses to start
        *(["--allow-root"] if os.geteuid() == 0 else []),
        *extra_args,
    ]


def start_lab(root: Path, extra_args: list[str]) -> None:
    """Replace this process with JupyterLab (so Ctrl+C reaches it directly)."""
    command = lab_command(root, extra_args)
    os.chdir(root)
    os.execv(command[0], command)
