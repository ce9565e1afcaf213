"""One graded class per module, built once per test session (a pytest plugin).

Every proof about a module's grading reads the same class: its solution, its blank release,
a partly done notebook, the packs of recorded wrong answers and the hostile students are
taken together through the instructor's own path, release → fetch/submit and uploads →
collect → ``mlops-course grade``'s engine (:func:`course.autograde.grade`) → feedback →
export, once. The tests in ``tests/notebooks`` and ``tests/workflow`` only read the
results, so a module costs one grading run of its class, not one per assertion.

Recorded wrong answers live in ``tests/wrong_answers/<module>/<grade_id>.<slug>.py``: the
file's text replaces answer cell ``grade_id``; its first ``# `` comment line says what the
mistake is (after a ``%%writefile`` line, which must stay first). They are packed: student
``wrong-k`` carries the k-th mistake of every answer cell at once (exercises are graded
independently, so the cells a pack left alone must still score full marks).

Time limits come from each module's recorded durations (``benchmarks/durations.json``,
written by ``benchmarks/notebooks.py``), not a flat wait.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from course import catalog, exchange, results
from course.autograde import StudentResult, grade
from course.scratch import ScratchCourse
from course.submissions import answer_cells, check_cells, nbgrader_meta
from course.trusted import answer_names

REPO = Path(__file__).resolve().parents[1]
WRONG_ANSWERS = REPO / "tests" / "wrong_answers"
DURATIONS = REPO / "benchmarks" / "durations.json"
ARTEFACTS = Path(os.environ.get("PYTEST_ARTIFACTS") or REPO / "test-artifacts")

# -- time limits from recorded durations -------------------------------------------------------

# A cell may take this many times its module's slowest recorded cell; a notebook, one cell
# limit (the looping student waits it out) plus this many times its recorded run. CI grades
# two classes at once on two cores, each with two workers: about four processes per core,
# each cell several times slower than when recorded on an idle machine.
CELL_FACTOR = 8
CELL_FLOOR = 20
NOTEBOOK_FACTOR = 6
NOTEBOOK_FLOOR = 30


@dataclass(frozen=True)
class Limits:
    cell: int
    notebook: int


def recorded_durations() -> dict[str, dict]:
    return json.loads(DURATIONS.read_text())["modules"] if DURATIONS.is_file() else {}


def limits(module_id: str) -> Limits:
    """Cell and notebook time limits for a module, derived from its recorded durations."""
    recorded = recorded_durations().get(module_id)
    if recorded is None:
        raise LookupError(
            f"{module_id} has no recorded durations in {DURATIONS.relative_to(REPO)}: run "
            f"`python benchmarks/notebooks.py --modules {module_id}` and commit the file"
        )
    # whole seconds: nbclient's (and papermill's) cell timeout is an integer trait
    return Limits(
        cell=math.ceil(max(CELL_FLOOR, CELL_FACTOR * recorded["slowest_cell_seconds"])),
        notebook=math.ceil(
            max(CELL_FLOOR, CELL_FACTOR * recorded["slowest_cell_seconds"])
            + max(NOTEBOOK_FLOOR, NOTEBOOK_FACTOR * recorded["wall_seconds"])
        ),
    )


# -- composing submissions ---------------------------------------------------------------------

MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class WrongAnswer:
    module_id: str
    grade_id: str
    slug: str
    source: str
    path: Path

    @property
    def description(self) -> str:
        comments = [ln for ln in self.source.splitlines() if ln.startswith("# ")]
        return comments[0].removeprefix("# ").strip() if comments else self.slug


def load_wrong_answers(module_id: str, folder: Path = WRONG_ANSWERS) -> list[WrongAnswer]:
    answers = []
    for path in sorted((folder / module_id).glob("*.py")):
        grade_id, _, slug = path.stem.partition(".")
        answers.append(WrongAnswer(module_id, grade_id, slug or "wrong", path.read_text(), path))
    return answers


def pack_wrong_answers(wrong_answers: list[WrongAnswer]) -> dict[str, list[WrongAnswer]]:
    """Submission id -> the mistakes it carries, at most one per answer cell."""
    packs: dict[str, list[WrongAnswer]] = {}
    seen: dict[str, int] = {}
    for wrong in wrong_answers:
        index = seen.get(wrong.grade_id, 0)
        seen[wrong.grade_id] = index + 1
        packs.setdefault(f"wrong-{index + 1}", []).append(wrong)
    return packs


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not MARKER.match(line))


def fill_answers(
    release: NotebookNode, solution: NotebookNode, replacements: dict[str, str] | None = None
) -> NotebookNode:
    """The release notebook with every answer cell taken from the solution, except the
    cells in ``replacements`` (grade_id to source), which get that source instead."""
    filled = nbformat.from_dict(release)
    solutions = answer_cells(solution)
    replacements = replacements or {}
    for grade_id, cell in answer_cells(filled).items():
        if grade_id in replacements:
            cell.source = replacements[grade_id]
        else:
            cell.source = strip_markers(solutions[grade_id].source)
    return filled


def keep_only_graded_cells_after(notebook: NotebookNode, grade_id: str) -> NotebookNode:
    """A copy that keeps every cell up to the cell ``grade_id``, and after it only the
    answer and check cells (what a student may delete: demos, lessons, plain cells).

    Hostile students are built on this: the attack runs before an honest first exercise,
    every later exercise is still there (unanswered, so it scores 0), and the lessons and
    demos that cost seconds to run but prove nothing about the attack are gone.
    """
    notebook = copy.deepcopy(notebook)
    cut = next(
        i for i, c in enumerate(notebook.cells) if nbgrader_meta(c).get("grade_id") == grade_id
    )
    notebook.cells = notebook.cells[: cut + 1] + [
        c
        for c in notebook.cells[cut + 1 :]
        if nbgrader_meta(c).get("solution") or nbgrader_meta(c).get("grade")
    ]
    return notebook


def insert_after_setup(notebook: NotebookNode, source: str) -> NotebookNode:
    """A copy of ``notebook`` with a student-added cell right after the setup cell."""
    notebook = copy.deepcopy(notebook)
    index = next(
        (
            i + 1
            for i, c in enumerate(notebook.cells)
            if nbgrader_meta(c).get("grade_id") == "setup"
        ),
        1,
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "student-added"
    notebook.cells.insert(index, cell)
    return notebook


# -- the students ------------------------------------------------------------------------------

# A cell that never ends. It sleeps rather than spins: the proof (the cell limit stops it
# and grading goes on) is the same, and CI's two cores stay free for other work meanwhile.
LOOP_FOREVER = "import time\nwhile True:\n    time.sleep(0.1)\n"
OS_EXIT = "import os\nos._exit(3)\n"
SYSTEM_EXIT = "raise SystemExit('bye')\n"
PRINT_MEGABYTES = "for _ in range(40):\n    print('x' * 100_000)\n"
PATCH_GRADER = """\
import graders.report

graders.report.Report.finish = lambda self: self
graders.report.Report.fail = lambda self, *args, **kwargs: None
"""
PATCH_BUILTINS = """\
import builtins
import types

_real_import = builtins.__import__


class _Anything:
    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


class _FakeGraders(types.ModuleType):
    def __getattr__(self, name):
        return _Anything()


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if name == "graders" or name.startswith("graders."):
        return _FakeGraders(name)
    return _real_import(name, globals, locals, fromlist, level)


builtins.__import__ = _import
"""
READ_SOLUTIONS = """\
import json
import re
from pathlib import Path

found = []
for folder in [Path.cwd(), *Path.cwd().parents]:
    for notebook in folder.glob("solutions/{module}/*.ipynb"):
        found.append(notebook)
        for cell in json.loads(notebook.read_text())["cells"]:
            meta = cell.get("metadata", {{}}).get("nbgrader", {{}})
            if meta.get("solution") and not meta.get("grade"):
                source = "".join(cell["source"])
                source = re.sub(r"(?m)^\\s*### (BEGIN|END) SOLUTION\\s*$", "", source)
                if not source.startswith("%%"):
                    exec(source, globals())
    found += list(folder.glob("gradebook.db"))
print("found:", found)
"""

# Every answer, and every helper a check runs beside the answers (graders.remote's
# learner_side functions), is an object that says yes to everything: equal to any expected
# value, containing anything, true, callable, with every attribute. Read by the checker, it
# must earn nothing (issue 17: the checker decides equality and membership itself).
ANYTHING = """\
class Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __contains__(self, item):
        return True

    def __bool__(self):
        return True

    def __len__(self):
        return 1

    def __getattr__(self, name):
        return self

    def __getitem__(self, key):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter([self])

    def __hash__(self):
        return 0
"""
ANSWERS_ANYTHING = (
    "import graders.remote\n\n\n"
    + ANYTHING
    + """

class EveryHelper(dict):
    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return lambda *args, **kwargs: Anything()


graders.remote.LEARNER_SIDE = EveryHelper()
for _name in {names!r}:
    globals()[_name] = Anything()
"""
)


@dataclass
class Student:
    student_id: str
    notebook: NotebookNode
    expected: dict[str, float]  # check cell grade_id -> points earned
    restored: tuple[str, ...] = ()  # check cells the student deleted
    mistakes: tuple[WrongAnswer, ...] = ()  # recorded wrong answers it carries


def points_of(release: NotebookNode) -> dict[str, float]:
    return {gid: float(nbgrader_meta(c)["points"]) for gid, c in check_cells(release).items()}


def build_students(
    module_id: str, release: NotebookNode, solution: NotebookNode, wrong: list[WrongAnswer]
) -> list[Student]:
    """The class: honest, partial, recorded mistakes and hostile students, each with the
    score it has *earned*, cell by cell.

    Hostile code runs before an honest *first* exercise with the rest unanswered, and forged
    or deleted check cells sit in a blank release; after the first exercise a hostile
    notebook keeps only answer and check cells (:func:`keep_only_graded_cells_after`). Each
    still proves "scores exactly what it earned", while only the solution, the partial
    student and the packs run a whole solution (decisions.md, 11).
    """
    points = points_of(release)
    full = dict(points)
    zero = dict.fromkeys(points, 0.0)
    answers = list(answer_cells(release))
    first_answer, first_check = answers[0], f"{answers[0]}_test"
    if first_check not in points:
        raise ValueError(f"{module_id}: answer cell {first_answer} has no check cell {first_check}")
    stubs = {gid: cell.source for gid, cell in answer_cells(release).items()}

    half = set(answers[len(answers) // 2 :])
    partial = fill_answers(release, solution, {gid: stubs[gid] for gid in half})
    partial_expected = {
        gid: (0.0 if gid.removesuffix("_test") in half else pts) for gid, pts in points.items()
    }
    first_only = keep_only_graded_cells_after(
        fill_answers(
            release, solution, {gid: stubs[gid] for gid in answers if gid != first_answer}
        ),
        first_check,
    )
    first_earned = {**zero, first_check: points[first_check]}
    unanswered = keep_only_graded_cells_after(release, first_check)

    edited = copy.deepcopy(unanswered)
    for cell in edited.cells:
        if nbgrader_meta(cell).get("grade_id") == first_check:
            cell.source = "print('all checks passed')"
    deleted = copy.deepcopy(unanswered)
    deleted.cells = [c for c in deleted.cells if nbgrader_meta(c).get("grade_id") != first_check]
    duplicated = copy.deepcopy(first_only)
    for index, cell in reversed(list(enumerate(duplicated.cells))):
        if nbgrader_meta(cell).get("grade_id") in (first_answer, first_check):
            twin = copy.deepcopy(cell)
            twin.id = f"{cell.id}-copy"
            duplicated.cells.insert(index + 1, twin)

    packs = [
        Student(
            pack_id,
            fill_answers(release, solution, {w.grade_id: w.source for w in pack}),
            {**full, **{f"{w.grade_id}_test": 0.0 for w in pack}},
            mistakes=tuple(pack),
        )
        for pack_id, pack in pack_wrong_answers(wrong).items()
    ]
    return [
        Student("perfect", fill_answers(release, solution), full),
        Student("blank", release, zero),
        Student("partial", partial, partial_expected),
        *packs,
        Student("loops-forever", insert_after_setup(first_only, LOOP_FOREVER), first_earned),
        Student("calls-os-exit", insert_after_setup(first_only, OS_EXIT), first_earned),
        Student("raises-systemexit", insert_after_setup(first_only, SYSTEM_EXIT), first_earned),
        Student("prints-megabytes", insert_after_setup(first_only, PRINT_MEGABYTES), first_earned),
        Student("edits-a-check-cell", edited, zero),
        Student("deletes-a-check-cell", deleted, zero, (first_check,)),
        Student("duplicates-cells", duplicated, first_earned),
        Student("patches-a-grader", insert_after_setup(unanswered, PATCH_GRADER), zero),
        Student("patches-builtins", insert_after_setup(unanswered, PATCH_BUILTINS), zero),
        Student("answers-anything", answering_anything(release), zero),
        Student(
            "reads-solutions",
            insert_after_setup(unanswered, READ_SOLUTIONS.format(module=module_id)),
            zero,
        ),
    ]


def answering_anything(release: NotebookNode) -> NotebookNode:
    """A blank release whose every answer cell binds the module's answer names to objects
    that say yes to everything, after switching the learner-side helpers to them too."""
    names = sorted(answer_names(release))
    attack = ANSWERS_ANYTHING.format(names=names)
    answered = fill_answers(release, release, dict.fromkeys(answer_cells(release), attack))
    first_check = f"{next(iter(answer_cells(release)))}_test"
    return keep_only_graded_cells_after(answered, first_check)


# -- the class, taken through the instructor's path --------------------------------------------

# Students who go through nbgrader's filesystem exchange (fetch, then submit), as on a
# JupyterHub; every other student uploads to a learning platform and is imported with
# zip_collect. One is enough to prove the exchange path, and each is two CLI starts.
VIA_EXCHANGE = ("perfect",)
# Two workers per class, as an instructor on a 2-core laptop would run: CI grades two
# classes at once, so the cores stay busy while one check waits (a retry back-off, a
# stand-in engine's health poll, the looping student's cell limit).
GRADING_WORKERS = 2


def grading_order(students: dict[str, Student]) -> list[str]:
    """Whole solutions and the student who waits out the cell limit first, the short
    hostile notebooks last, so the workers finish together."""

    def weight(student: Student) -> int:
        if student.student_id == "loops-forever":
            return 0
        return 1 if len(student.notebook.cells) == len(students["blank"].notebook.cells) else 2

    return [s.student_id for s in sorted(students.values(), key=weight)]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _nbgrader_cli(command: list[str], cwd: Path) -> None:
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    done = subprocess.run(
        [nbgrader, *command], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


@dataclass
class GradedClass:
    """A module's class after release, collection, grading, feedback and export."""

    module: catalog.Module
    release: NotebookNode
    solution: NotebookNode
    students: dict[str, Student]
    wrong_answers: list[WrongAnswer]
    limits: Limits
    results: dict[str, StudentResult] = field(default_factory=dict)
    submitted_before: dict[str, str] = field(default_factory=dict)
    submitted_after: dict[str, str] = field(default_factory=dict)
    feedback: list[Path] = field(default_factory=list)
    exported: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def points(self) -> dict[str, float]:
        return points_of(self.release)

    def total(self, student: str) -> float:
        return sum(score or 0 for score in self.results[student].cells.values())

    def pack_of(self, wrong: WrongAnswer) -> Student:
        return next(s for s in self.students.values() if wrong in s.mistakes)

    def score_lines(self) -> list[str]:
        """Totals per student, then each recorded mistake in its own cell."""
        full = sum(self.points.values())
        lines = [
            f"{self.module.id}: solution {self.total('perfect'):g}/{full:g}, "
            f"blank {self.total('blank'):g}/{full:g} (class of {len(self.students)} graded "
            f"in {self.seconds.get('grade', 0):.0f} s)"
        ]
        for student in self.students.values():
            if not student.mistakes:
                continue
            lines.append(
                f"  {student.student_id}: {self.total(student.student_id):g}/{full:g} "
                f"with {len(student.mistakes)} mistakes"
            )
            cells = self.results[student.student_id].cells
            for wrong in student.mistakes:
                score = cells.get(f"{wrong.grade_id}_test")
                shown = "no check cell" if score is None else f"{score:g}"
                full_cell = self.points.get(f"{wrong.grade_id}_test", 0)
                lines.append(f"    {wrong.path.name}: {shown}/{full_cell:g}")
        return lines


def run_class(module: catalog.Module, tmp: Path) -> GradedClass:
    """Build the module's class and take it through the whole instructor workflow."""
    seconds: dict[str, float] = {}

    def phase(name: str, start: float) -> float:
        now = time.perf_counter()
        seconds[name] = now - start
        return now

    start = time.perf_counter()
    scratch = ScratchCourse(REPO)
    try:
        root = scratch.root
        release = nbformat.read(scratch.generate(module) / module.notebook, as_version=4)
        solution = nbformat.read(module.solution_path(REPO), as_version=4)
        wrong = load_wrong_answers(module.id)
        students = {s.student_id: s for s in build_students(module.id, release, solution, wrong)}
        exchange_root = tmp / "exchange"
        exchange.release(root, module.id, exchange_root)
        start = phase("release", start)

        uploads = tmp / "lms-download"
        for student_id, student in sorted(students.items()):
            if student_id in VIA_EXCHANGE:
                home = tmp / "homes" / student_id
                home.mkdir(parents=True)
                flags = [
                    f"--Exchange.root={exchange_root}",
                    f"--Exchange.cache={tmp / 'caches' / student_id}",
                    "--CourseDirectory.course_id=mlops-roadmap",
                    f"--student={student_id}",
                ]
                _nbgrader_cli(["fetch_assignment", module.id, *flags], home)
                nbformat.write(student.notebook, home / module.id / module.notebook)
                _nbgrader_cli(["submit", module.id, *flags], home)
            else:  # uploaded to a learning platform, downloaded by the instructor
                work = tmp / "binder" / student_id / module.notebook
                work.parent.mkdir(parents=True)
                nbformat.write(student.notebook, work)
                exchange.submit(root, module.id, student=student_id, notebook=work, out_dir=uploads)
        start = phase("submit", start)
        exchange.collect(root, module.id, exchange_root)
        exchange.collect_uploads(root, module.id, [uploads])
        start = phase("collect", start)

        graded = GradedClass(module, release, solution, students, wrong, limits(module.id))
        graded.submitted_before = _digest(root / "submitted")
        graded.results = {
            r.student: r
            for r in grade(
                root,
                module.id,
                grading_order(students),
                workers=GRADING_WORKERS,
                cell_timeout=graded.limits.cell,
                notebook_timeout=graded.limits.notebook,
                progress=False,
            )
        }
        start = phase("grade", start)
        graded.submitted_after = _digest(root / "submitted")
        feedback = results.generate_feedback(root, module.id)
        kept = tmp / "feedback"
        for page in feedback:  # the scratch course goes; keep the pages for the assertions
            target = kept / page.relative_to(root / "feedback")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(page.read_bytes())
            graded.feedback.append(target)
        start = phase("feedback", start)
        graded.exported = results.export(root, tmp / "grades")
        phase("export", start)
        graded.seconds = seconds
        return graded
    finally:
        scratch.close()


# -- the plugin --------------------------------------------------------------------------------

GRADED: dict[str, GradedClass | Exception] = {}


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """``graded_class(module)``: that module's class, graded once per session (per xdist
    worker: the scheduler in tests/conftest.py keeps a module's tests in one worker).
    A class that cannot be built fails every test that reads it with the same error, at
    once, instead of being built again for each."""

    def get(module: catalog.Module) -> GradedClass:
        if module.id not in GRADED:
            try:
                built = run_class(module, tmp_path_factory.mktemp(module.id))
            except Exception as exc:
                GRADED[module.id] = exc
                raise
            GRADED[module.id] = built
            _record(built)
        graded = GRADED[module.id]
        if isinstance(graded, Exception):
            raise RuntimeError(f"the graded class of {module.id} could not be built") from graded
        return graded

    return get


def _record(graded: GradedClass) -> None:
    """Write the class's scores and phase times where the controller (and CI) read them."""
    folder = ARTEFACTS / "classes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{graded.module.id}.txt").write_text("\n".join(graded.score_lines()) + "\n")
    (folder / f"{graded.module.id}.json").write_text(
        json.dumps(
            {
                "module": graded.module.id,
                "students": len(graded.students),
                "seconds": graded.seconds,
                "limits": {"cell": graded.limits.cell, "notebook": graded.limits.notebook},
                "results": {
                    s: {"status": r.status, "score": r.score, "seconds": round(r.seconds, 1)}
                    for s, r in graded.results.items()
                },
            },
            indent=2,
        )
    )


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        for stale in (ARTEFACTS / "classes").glob("*"):
            stale.unlink()


def pytest_terminal_summary(terminalreporter):
    files = sorted((ARTEFACTS / "classes").glob("*.txt"))
    if not files:
        return
    terminalreporter.section(f"nbgrader scores of each module's class ({files[0].parent})")
    for path in files:
        for line in path.read_text().splitlines():
            if not line.startswith("    "):
                terminalreporter.write_line(line)
