"""Running a learner's script in a fresh folder, under limits, with its leftovers found:
processes it left running, temporary files, changes outside its folder."""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from graders.bash.runs import (
    CLEAN_PATH,
    DEFAULT_TIMEOUT,
    FILE_LIMIT_KB,
    MAX_FILE_BYTES,
    MEMORY_LIMIT_KB,
    SENTINEL_TEXT,
    Fixture,
    FixtureValue,
    Interrupt,
    ScriptRun,
    ShellScript,
)
from graders.isolation import learner_process, sandboxed
from graders.tools import tool_path


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
