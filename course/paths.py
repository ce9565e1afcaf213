"""Where the course lives on disk."""

from __future__ import annotations

import os
from pathlib import Path

from course.errors import CourseError


def course_root(start: Path | None = None) -> Path:
    """The repository root: ``$MLOPS_COURSE_ROOT``, else the nearest folder upwards holding
    ``nbgrader_config.py`` and ``solutions/`` or ``exercises/``."""
    override = os.environ.get("MLOPS_COURSE_ROOT")
    if override:
        return Path(override).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (
            (folder / "solutions").is_dir() or (folder / "exercises").is_dir()
        ):
            return folder
    raise CourseError(
        f"no course found at or above {here}",
        hint="run the command inside the course repository, or set MLOPS_COURSE_ROOT",
    )
