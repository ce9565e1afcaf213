"""Load the repository's ``nbgrader_config.py`` so the driver and plain nbgrader agree.

``NbGraderAPI()`` does not read ``nbgrader_config.py`` by itself (measured: it fell back to
``source_directory='source'``), so the driver loads the file explicitly and overrides only
what a scratch course must change: where the course root and its gradebook are.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from graders.tools import TOOL_CACHES

CONFIG_FILE = "nbgrader_config.py"
# What a learner's run leaves in a module folder, which no release, scratch copy or build
# comparison holds: nbgrader_config.py's CourseDirectory.ignore lists the same (a test
# compares them; the file stays readable without the course package).
NEVER_RELEASED = (".ipynb_checkpoints", "feedback", "*_work", *TOOL_CACHES)


def load_config(repo_root: Path, *, course_root: Path | None = None) -> Config:
    """The repository's nbgrader config, optionally pointed at another course root."""
    config = PyFileConfigLoader(CONFIG_FILE, path=str(repo_root)).load_config()
    root = (course_root or repo_root).resolve()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    header = config.IncludeHeaderFooter.get("header")
    if header and not Path(header).is_absolute():
        # relative to the repository, wherever nbgrader's working folder is
        config.IncludeHeaderFooter.header = str(repo_root / header)
    return config


def ensure_venv_on_path() -> None:
    """nbgrader runs ``alembic`` (and nbconvert runs kernels) by name: make sure the tools
    of the interpreter running us are found even when its venv was never activated."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path
