"""A throw-away nbgrader course in a temporary folder.

Building, test grading and benchmarks all work on a scratch copy: nbgrader writes its
gradebook, release and autograded folders there, the repository is never touched, and two
runs never share state. The scratch course uses the repository's own nbgrader config.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI

from course.catalog import Module
from course.errors import CourseError
from course.nbconfig import CONFIG_FILE, NEVER_RELEASED, ensure_venv_on_path, load_config

TIMESTAMP = "2026-01-01 00:00:00.000000 UTC"
SCRATCH_IGNORE = shutil.ignore_patterns(*NEVER_RELEASED)


@dataclass(frozen=True)
class CellScore:
    grade_id: str
    score: float | None
    max_score: float


class ScratchCourse:
    """An nbgrader course root in a temporary folder, removed on ``close``."""

    def __init__(self, repo_root: Path, *, keep: bool = False) -> None:
        self.repo_root = repo_root
        self.root = Path(tempfile.mkdtemp(prefix="mlops-course-"))
        self.keep = keep
        self._write_config()
        self.config = load_config(repo_root, course_root=self.root)
        ensure_venv_on_path()
        # nbgrader's apps log through the root logger; keep our output readable.
        logging.getLogger("traitlets").setLevel(logging.ERROR)
        self.api = NbGraderAPI(config=self.config)
        self.api.log.setLevel(logging.ERROR)

    def _write_config(self) -> None:
        """A complete course root: its config defers to the repository's own."""
        repo_config = self.repo_root.resolve() / CONFIG_FILE
        header = load_config(self.repo_root).IncludeHeaderFooter.get("header")
        (self.root / CONFIG_FILE).write_text(
            f"# scratch course for {self.repo_root}: the repository's config, re-rooted here\n"
            "c = get_config()  # noqa: F821\n"
            f"load_subconfig({str(repo_config)!r})  # noqa: F821\n"
            + (f"c.IncludeHeaderFooter.header = {header!r}\n" if header else "")
        )

    def __enter__(self) -> ScratchCourse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- nbgrader steps --------------------------------------------------------------------

    def generate(self, module: Module) -> Path:
        """Copy the module's solutions in and generate its release; return the release folder."""
        source = self.root / "solutions" / module.id
        if not source.exists():
            shutil.copytree(self.repo_root / "solutions" / module.id, source, ignore=SCRATCH_IGNORE)
        result = self.api.generate_assignment(module.id, force=True, create=True)
        _check(result, f"nbgrader generate_assignment {module.id}")
        return self.root / "exercises" / module.id

    def submit(self, module: Module, student: str, notebook: Path) -> None:
        """Place a notebook as ``student``'s submission, the way ``nbgrader collect`` does."""
        folder = self.root / "submitted" / student / module.id
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, folder / module.notebook)
        (folder / "timestamp.txt").write_text(TIMESTAMP)

    def autograde(self, module: Module, student: str) -> None:
        result = self.api.autograde(module.id, student, force=True, create=True)
        _check(result, f"nbgrader autograde {module.id} --student {student}")

    def scores(self, module: Module, student: str) -> dict[str, CellScore]:
        """Per graded cell: the autograded score and its maximum, from the gradebook."""
        with Gradebook(self.config.CourseDirectory.db_url) as gradebook:
            try:
                notebook = gradebook.find_submission_notebook(
                    module.notebook.removesuffix(".ipynb"), module.id, student
                )
            except MissingEntry as exc:
                raise CourseError(f"no graded submission of {module.id} by {student}") from exc
            return {
                grade.name: CellScore(grade.name, grade.auto_score, grade.max_score)
                for grade in notebook.grades
            }


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        log = (result.get("log") or "").strip().splitlines()[-15:]
        raise CourseError(f"{what} failed: {result.get('error') or 'see log'}\n" + "\n".join(log))
