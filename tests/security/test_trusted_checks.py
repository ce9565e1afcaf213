"""Verdicts the learner's kernel cannot touch (docs/security.md, issue 17).

One class of 04-kubernetes, whose checks run in the trusted checker (course/checker.py), is
graded with two workers: an honest and a blank control, and one student per way a
submission could reach a verdict, each written by an attacker who has read
course/checker.py, course/trusted.py and graders/remote/. Attacks sit in a blank release
after the setup cell (so they can only *gain* points); the games with cells and metadata
sit in the honest notebook (so they can only lose points that grading, not the answers,
took away). Asserted: exact scores for everyone; no hidden test and no solution in any
graded notebook; nothing the attacks planted ran outside the sandbox.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import nbformat
import pytest

from course import catalog
from course.autograde import grade
from course.sandbox import unavailable_reason
from course.scratch import ScratchCourse
from course.submissions import nbgrader_meta
from tests.classroom import (
    REPO,
    fill_answers,
    insert_after_setup,
    keep_only_graded_cells_after,
    limits,
    points_of,
)
from tests.security.test_sandbox import SOLUTION_CANARY, plant_canaries

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]

MODULE = catalog.get("04-kubernetes")
MARKER = "mlops-verdict-attack-9c2e"

# Switches off every grader the kernel can reach, and keeps them off from a thread.
PATCHES_THE_GRADERS = """\
import builtins, sys, threading, time, types
import graders, graders.report as report_module, graders.kubernetes as k8s_module

def patch():
    report_module.Report.finish = lambda self: self
    report_module.Report.fail = lambda self, *a, **k: None
    report_module.Report.ok = property(lambda self: True)
    for name in dir(k8s_module):
        if not name.startswith("_") and callable(getattr(k8s_module, name)):
            setattr(k8s_module, name, lambda *a, **k: [])
    builtins.AssertionError = type("NeverRaised", (Exception,), {})
    sys.modules["graders.kubernetes"] = k8s_module

def keep_patching():
    while True:
        patch()
        time.sleep(0.01)

patch()
threading.Thread(target=keep_patching, daemon=True).start()
"""

# Rebinds every name the checks read, as the notebook's own variables.
REBINDS_INSTRUCTOR_NAMES = """\
import types
class AnyQuiz:
    def check(self, answers, report):
        return report
    def show(self):
        pass
QUIZ = AnyQuiz()
WORK = Path("/")
IMAGE = "anything"
class Anything:
    def __getattr__(self, name):
        return lambda *a, **k: Anything()
    def __iter__(self):
        return iter([])
    def __bool__(self):
        return True
k8s = Anything()
Report = lambda *a, **k: Anything()
given_deployments = []
quiz_answers = {"selector": "anything"}
"""

# Replaces the agent with one that answers every request with forged data and sends the
# checker requests of its own: every handle it might hold, dunders, calls, an early "bye".
FORGES_THE_AGENT = """\
import json, os, socket, struct
import graders.remote.agent as agent_module

def forged_serve(path, namespace=None, accept_timeout=30.0):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    connection, _ = listener.accept()
    def send(message):
        data = json.dumps(message).encode()
        connection.sendall(struct.pack(">I", len(data)) + data)
    def receive():
        size = struct.unpack(">I", connection.recv(4, socket.MSG_WAITALL))[0]
        return json.loads(connection.recv(size, socket.MSG_WAITALL))
    for handle in range(0, 12):
        send({"id": 1000 + handle, "op": "getattr", "target": handle, "name": "__globals__"})
        send({"id": 2000 + handle, "op": "call", "target": handle,
              "args": [], "kwargs": {"$dict": []}})
    forged = {
        "names": {"$dict": [["quiz_answers", {"$data": "builtins.dict", "fields": {}}],
                            ["build_manifests", {"$handle": 1, "kind": "error-class",
                                                 "name": "GradingError", "builtins": []}]]},
    }
    while True:
        try:
            message = receive()
        except Exception:
            break
        if "op" not in message:
            continue
        if message["op"] == "bye":
            send({"re": message["id"], "value": None})
            break
        send({"re": message["id"], "value": forged.get(message["op"], True),
              "out": "Exercise 1 · the Deployment: all checks passed ✓\\n" * 3})
    connection.close()
    listener.close()
    os.unlink(path)

agent_module.serve = forged_serve
"""

# Links, special files and code planted where a checker that followed them or imported
# from its folder would run or read them.
PLANTS_LINKS_AND_CODE = """\
import os, pathlib
work = pathlib.Path("kubernetes_work")
work.mkdir(exist_ok=True)
os.symlink("{solution}", work / "deployment.yaml")
os.mkfifo(work / "service.yaml")
os.symlink("{course}", work / "course-link")
(work / "nested").mkdir()
os.symlink("/", work / "nested" / "root")
with open(work / "sparse.yaml", "wb") as big:
    big.truncate(400 * 2**20)
plant = "open('/tmp/{marker}-planted.txt', 'w').write('ran in the checker')\\n"
for name in ("yaml.py", "sitecustomize.py", "graders.py", "kubernetes_work/yaml.py",
             "kubernetes_work/__init__.py", "kubernetes_work/conftest.py"):
    pathlib.Path(name).write_text(plant)
pathlib.Path("matplotlibrc").write_text("backend: module://yaml\\n")
"""

# Hangs the checker's first call into the kernel, ignoring interrupts.
HANGS_THE_CHECKER = """\
import signal, time
def build_manifests(*args, **kwargs):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        time.sleep(0.1)
"""

# After a check ran, searches everything it can reach for the hidden tests: files, its own
# memory, its history. It looks for two adjacent lines of hidden test source (as they sit in
# the source, or in a notebook's JSON), each given to it apart, so its own code never holds
# the pair; a pair from the setup cell, which the kernel did run, shows the search works.
SEARCHES_FOR_HIDDEN_TESTS = """\
import json, os, sys, time

def adjacent(data, first, second):
    a, b = first.encode(), second.encode()
    a_json, b_json = json.dumps(first)[1:-1].encode(), json.dumps(second)[1:-1].encode()
    for head, glue, tail in ((a, b"\\n", b), (a_json, b"\\\\n", b_json)):
        at = data.find(head)
        while at != -1:
            rest = data[at + len(head): at + len(head) + 400]
            if rest.startswith(glue):
                rest = rest[len(glue):]
                if rest.startswith(tail) or rest.lstrip(b'", \\n').startswith(tail.lstrip()):
                    return True
            at = data.find(head, at + 1)
    return False

def search(first, second):
    found = []
    skip = {"/proc", "/sys", "/dev", "/usr", sys.prefix, os.path.realpath(sys.base_prefix)}
    deadline = time.monotonic() + 6
    for folder, dirs, files in os.walk("/"):
        if time.monotonic() > deadline:
            found.append("(the search ran out of time at " + folder + ")")
            break
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip]
        for name in files:
            try:
                data = open(os.path.join(folder, name), "rb").read(2**22)
            except OSError:
                continue
            if adjacent(data, first, second):
                found.append(os.path.join(folder, name))
    for line in open("/proc/self/maps"):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if "r" not in line.split()[1] or end - start > 2**28:
            continue
        try:
            with open("/proc/self/mem", "rb") as memory:
                memory.seek(start)
                if adjacent(memory.read(end - start), first, second):
                    found.append("memory")
                    break
        except (OSError, ValueError, OverflowError):
            pass
    return found

hidden = search({hidden_first!r}, {hidden_second!r})
control = search({setup_first!r}, {setup_second!r})
print("hidden-found " + json.dumps(hidden))
print("control-found " + json.dumps(bool(control)))
"""


def adjacent_lines(source: str) -> tuple[str, str]:
    """Two adjacent, long enough lines of ``source``."""
    lines = source.splitlines()
    for first, second in itertools.pairwise(lines):
        if len(first.strip()) > 20 and len(second.strip()) > 10:
            return first, second
    raise LookupError("no two adjacent lines long enough")


def hidden_pair() -> tuple[str, str]:
    solution = nbformat.read(MODULE.solution_path(REPO), as_version=4)
    for cell in solution.cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            return adjacent_lines(cell.source.split("### BEGIN HIDDEN TESTS", 1)[1])
    raise LookupError(f"{MODULE.id} has no hidden tests")


def setup_pair() -> tuple[str, str]:
    solution = nbformat.read(MODULE.solution_path(REPO), as_version=4)
    setup = next(c for c in solution.cells if nbgrader_meta(c).get("grade_id") == "setup")
    return adjacent_lines(setup.source)


def search_attack() -> str:
    (hidden_first, hidden_second), (setup_first, setup_second) = hidden_pair(), setup_pair()
    return (
        SEARCHES_FOR_HIDDEN_TESTS.replace("{hidden_first!r}", repr(hidden_first))
        .replace("{hidden_second!r}", repr(hidden_second))
        .replace("{setup_first!r}", repr(setup_first))
        .replace("{setup_second!r}", repr(setup_second))
    )


def insert_after(notebook, grade_id: str, source: str):
    notebook = copy.deepcopy(notebook)
    index = next(
        i for i, c in enumerate(notebook.cells) if nbgrader_meta(c).get("grade_id") == grade_id
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "student-added-later"
    notebook.cells.insert(index + 1, cell)
    return notebook


def with_cells(notebook, change):
    notebook = copy.deepcopy(notebook)
    change(notebook.cells)
    return notebook


def retype_and_duplicate(cells):
    """The first check cell becomes markdown; the second is duplicated; the third loses
    its nbgrader metadata."""
    checks = [c for c in cells if nbgrader_meta(c).get("grade")]
    checks[0].cell_type = "markdown"
    checks[0].pop("outputs", None)
    checks[0].pop("execution_count", None)
    twin = copy.deepcopy(checks[1])
    twin.id = f"{checks[1].id}-twin"
    cells.insert(cells.index(checks[1]) + 1, twin)
    del checks[2].metadata["nbgrader"]


def delete_an_exercise(cells):
    """The Service exercise, answer and check, is gone."""
    cells[:] = [
        c for c in cells if nbgrader_meta(c).get("grade_id") not in ("service", "service_test")
    ]


def forge_metadata(cells):
    """The first answer cell claims to be the first check, worth 100 points, and passes."""
    answer = next(c for c in cells if nbgrader_meta(c).get("solution"))
    answer.metadata["nbgrader"].update(
        grade=True, solution=False, locked=True, points=100, grade_id="deployment_test"
    )
    answer.source = "print('all checks passed')"


def reorder_cells(cells):
    """Check cells first, in reverse, then everything else: a learner may move cells."""
    checks = [c for c in cells if nbgrader_meta(c).get("grade")]
    rest = [c for c in cells if c not in checks]
    setup = [c for c in rest if nbgrader_meta(c).get("grade_id") == "setup"]
    cells[:] = setup + [c for c in rest if c not in setup] + list(reversed(checks))


@pytest.fixture(scope="module")
def verdict_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verdicts")
    for stale in Path("/tmp").glob(f"{MARKER}*"):
        stale.unlink()
    with ScratchCourse(REPO) as scratch:
        release = nbformat.read(scratch.generate(MODULE) / MODULE.notebook, as_version=4)
        solution = nbformat.read(MODULE.solution_path(REPO), as_version=4)
        points = points_of(release)
        first_check = next(iter(points))
        blank = keep_only_graded_cells_after(release, first_check)
        honest = fill_answers(release, solution)
        solution_path = scratch.root / "solutions" / MODULE.id / MODULE.notebook
        attacks = {
            "patches-the-graders": insert_after_setup(blank, PATCHES_THE_GRADERS),
            "rebinds-instructor-names": insert_after_setup(blank, REBINDS_INSTRUCTOR_NAMES),
            "forges-the-agent": insert_after_setup(blank, FORGES_THE_AGENT),
            "plants-links-and-code": insert_after_setup(
                blank,
                PLANTS_LINKS_AND_CODE.replace("{solution}", str(solution_path))
                .replace("{course}", str(scratch.root))
                .replace("{marker}", MARKER),
            ),
            "hangs-the-checker": insert_after_setup(blank, HANGS_THE_CHECKER),
            "searches-for-hidden-tests": insert_after(blank, first_check, search_attack()),
            "forges-metadata": with_cells(release, forge_metadata),
        }
        full, zero = dict(points), dict.fromkeys(points, 0.0)
        expected = {"honest": full, "blank": zero} | dict.fromkeys(attacks, zero)
        games = {
            "retypes-and-duplicates": with_cells(honest, retype_and_duplicate),
            "deletes-an-exercise": with_cells(honest, delete_an_exercise),
            "reorders-cells": with_cells(honest, reorder_cells),
        }
        expected |= dict.fromkeys(games, full)
        expected["deletes-an-exercise"] = {**full, "service_test": 0.0}
        students = {"honest": honest, "blank": release, **attacks, **games}
        for student, notebook in students.items():
            path = tmp / f"{student}.ipynb"
            nbformat.write(notebook, path)
            scratch.submit(MODULE, student, path)
        plant_canaries(solution_path)
        results = {
            r.student: r
            for r in grade(
                scratch.root,
                MODULE.id,
                ["hangs-the-checker", *[s for s in students if s != "hangs-the-checker"]],
                workers=2,
                cell_timeout=limits(MODULE.id).cell,
                notebook_timeout=limits(MODULE.id).notebook + 60,
                progress=False,
            )
        }
        graded = {
            s: scratch.root / "autograded" / s / MODULE.id / MODULE.notebook for s in students
        }
        yield {
            "expected": expected,
            "results": results,
            "scores": {s: scratch.scores(MODULE, s) for s in students if graded[s].is_file()},
            "graded": graded,
            "planted": sorted(str(p) for p in Path("/tmp").glob(f"{MARKER}*")),
        }
    for stale in Path("/tmp").glob(f"{MARKER}*"):
        stale.unlink()


def test_every_student_scores_exactly_what_its_answers_earn(verdict_class):
    wrong = {}
    for student, earned in verdict_class["expected"].items():
        result = verdict_class["results"][student]
        if result.status != "graded":
            wrong[student] = f"{result.status}: {result.error}"
            continue
        got = {cell: s.score for cell, s in verdict_class["scores"][student].items()}
        if got != earned:
            wrong[student] = f"got {got}, earned {earned}"
    assert not wrong, "\n".join(f"{s}: {w}" for s, w in sorted(wrong.items()))


def _everything_in(notebook: Path) -> str:
    return json.dumps(json.loads(notebook.read_text())["cells"])


def _printed(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return json.dumps([c.get("outputs", []) for c in cells])


def test_hidden_tests_never_reach_the_kernel_or_its_notebook(verdict_class):
    """Not in anything the kernel could read (files, memory, history: the search attack
    finds nothing), and not in any output of any graded notebook."""
    graded = verdict_class["graded"]["searches-for-hidden-tests"]
    lines = [
        line
        for cell in nbformat.read(graded, as_version=4).cells
        for output in cell.get("outputs", [])
        for line in str(output.get("text", "")).splitlines()
    ]
    assert "control-found true" in lines, lines  # the search finds what the kernel did run
    assert "hidden-found []" in lines, lines
    hidden = hidden_pair()[0].strip()
    leaked = [s for s, path in verdict_class["graded"].items() if hidden in _printed(path)]
    assert not leaked


def test_the_checker_never_follows_a_planted_link_or_runs_planted_code(verdict_class):
    assert verdict_class["planted"] == []
    leaked = [
        s
        for s, path in verdict_class["graded"].items()
        if path.is_file() and SOLUTION_CANARY in _everything_in(path)
    ]
    assert not leaked
    outputs = _printed(verdict_class["graded"]["plants-links-and-code"])
    assert "files the checker did not copy" in outputs  # said, not silently dropped


def test_forged_agent_output_does_not_become_the_verdict(verdict_class):
    """What a forged agent prints may appear in the check's output, as text; the cell
    still failed (its score is asserted above), with the checker's own error."""
    notebook = nbformat.read(verdict_class["graded"]["forges-the-agent"], as_version=4)
    check = next(c for c in notebook.cells if nbgrader_meta(c).get("grade_id") == "deployment_test")
    assert any(o.get("output_type") == "error" for o in check.outputs)
