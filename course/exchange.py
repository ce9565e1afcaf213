"""Moving notebooks between instructor and students, through nbgrader's own commands.

* JupyterHub (or any shared filesystem): nbgrader's filesystem exchange. The instructor
  releases and collects here; students use plain ``nbgrader fetch_assignment`` and
  ``nbgrader submit`` (or the Assignments tab).
* Binder or a laptop (no exchange): a student runs ``mlops-course submit MODULE``, which
  writes one upload-ready file named ``<student>__<module>__<UTC time>__<notebook>``; the
  instructor downloads them all from the learning platform and runs
  ``mlops-course collect MODULE --zip FILES…``, i.e. ``nbgrader zip_collect`` with the
  matching file-name pattern declared in ``nbgrader_config.py``.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from course import catalog
from course.autograde import ensure_in_gradebook
from course.errors import CourseError
from course.nbconfig import ensure_venv_on_path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def nbgrader(root: Path, *args: str, timeout: float = 600) -> str:
    """Run an nbgrader command in the course root; its output, or a CourseError."""
    ensure_venv_on_path()
    command = [str(Path(sys.executable).parent / "nbgrader"), *args]
    done = subprocess.run(
        command,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or "[ERROR]" in output or "[CRITICAL]" in output:
        tail = "\n".join(line for line in output.splitlines()[-12:])
        raise CourseError(f"`nbgrader {' '.join(args)}` failed:\n{tail}")
    return output


def _exchange_args(exchange: Path | None) -> list[str]:
    if exchange is None:
        return []
    exchange.mkdir(parents=True, exist_ok=True)
    return [f"--Exchange.root={exchange.resolve()}"]


def release(root: Path, module_id: str, exchange: Path | None = None) -> str:
    """Register the module in the gradebook (with its hidden tests) and release it."""
    module = catalog.get(module_id, root)
    ensure_in_gradebook(root, module)
    return nbgrader(root, "release_assignment", module.id, "--force", *_exchange_args(exchange))


def collect(root: Path, module_id: str, exchange: Path | None = None) -> str:
    module = catalog.get(module_id, root)
    return nbgrader(root, "collect", module.id, "--update", *_exchange_args(exchange))


def collect_uploads(root: Path, module_id: str, files: list[Path]) -> str:
    """Import files downloaded from a learning platform (zips or notebooks) via zip_collect."""
    module = catalog.get(module_id, root)
    archive = root / "downloaded" / module.id / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    for path in files:
        sources = sorted(path.rglob("*")) if path.is_dir() else [path]
        for source in sources:
            if source.is_file():
                shutil.copy2(source, archive / source.name)
    if not any(archive.iterdir()):
        raise CourseError(
            f"nothing to collect in {archive}",
            hint="pass the downloaded files or the folder that holds them",
        )
    return nbgrader(root, "zip_collect", module.id, "--force")


def release_feedback(root: Path, module_id: str, exchange: Path | None = None) -> str:
    return nbgrader(root, "release_feedback", module_id, *_exchange_args(exchange))


def default_student_id() -> str:
    for variable in ("JUPYTERHUB_USER", "NB_USER"):
        value = os.environ.get(variable)
        if value and value != "jovyan":
            return value
    user = getpass.getuser()
    if user in ("jovyan", "root"):
        raise CourseError(
            "cannot tell who you are on this machine",
            hint="pass your student id: mlops-course submit MODULE --student ID",
        )
    return user


def submission_name(student: str, module: catalog.Module, when: datetime) -> str:
    return f"{student}__{module.id}__{when:%Y%m%dT%H%M%SZ}__{module.notebook}"


def submit(
    root: Path,
    module_id: str,
    *,
    student: str | None = None,
    notebook: Path | None = None,
    out_dir: Path | None = None,
    now: datetime | None = None,
) -> Path:
    """Write the upload-ready copy of a student's notebook; return its path."""
    module = catalog.get(module_id, root)
    student = student or default_student_id()
    if not STUDENT_ID.match(student) or "__" in student:
        raise CourseError(
            f"student id {student!r} may hold only letters, digits, '.', '-', '_'",
            hint="use the id your instructor gave you (no spaces, no '__')",
        )
    source = notebook or module.exercise_path(root)
    if not source.is_file():
        raise CourseError(f"no notebook at {source}", hint="pass it with --notebook PATH")
    target_dir = out_dir or root / "submissions-to-upload"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / submission_name(student, module, now or datetime.now(UTC))
    shutil.copyfile(source, target)
    return target
