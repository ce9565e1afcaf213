"""The trusted checker: runs a notebook's check cells outside the learner's kernel.

One checker process serves the grading of one notebook (course/trusted.py starts it). It
runs the instructor's cells of the *source* notebook, in source order: the locked cells
(setup, given data, helpers) and the check cells, hidden tests included. The names the
answer cells define are not the checker's own: before each check it asks the learner's
kernel for them (graders.remote.agent) and binds what comes back, data as plain values and
everything else as proxies whose every use is a request to the learner's kernel. Files the
learner's answers wrote are copied into the checker's own folder by the grader before each
check (course/trusted.py); the support files there are the release's own.

So a check cell's outputs, and the points nbgrader reads from them, are decided here: the
learner's kernel never runs a check, never sees a hidden test, and sends only data.

The grader talks to the checker over its stdin and stdout, one JSON object per line:

    {"op": "start", "cells": [...], "answer_names": [...], "timeout": 60}
    {"op": "check", "grade_id": "...", "socket": "/proc/<pid>/root/run/kernel/agent"}
        -> {"outputs": [...nbformat outputs...]}
    {"op": "stop"}
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.remote import is_exposed
from graders.remote.codec import CodecError, is_data
from graders.remote.peer import (
    SAFE_BUILTIN_ERRORS,
    PeerClosed,
    PooledPeer,
    RemoteError,
)

CONNECT_SECONDS = 5.0  # the agent listens within milliseconds of being asked


class CheckerPeer(PooledPeer):
    """The trusted end: serves the learner's side only what a check handed it."""

    def __init__(self, sock: socket.socket, **kw: Any) -> None:
        super().__init__(sock, **kw)
        self.error_classes: dict[str, type] = {}
        self.mirror: Mirror | None = None
        self.namespace: dict = {}
        # the folder of the agent's socket, inside the learner's sandbox, as the checker sees
        # it: a Unix socket placed here can be reached from the kernel (graders/remote/tunnel.py)
        self.agent_folder = ""

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> Any:
        """Learner code sees the files as the check left them, and the check sees what
        learner code wrote (Mirror)."""
        if op not in ("call", "learner_side") or self.mirror is None:
            return super().request(op, timeout, **fields)
        self.mirror.push(self)
        try:
            return super().request(op, timeout, **fields)
        finally:
            self.mirror.pull()

    def check_attribute(self, target: Any, name: str) -> None:
        if name.startswith("_"):
            raise AttributeError(f"{name} is not available to the learner's code")

    def check_attribute_value(self, value: Any, name: str) -> None:
        if is_exposed(value):  # a class a check meant learner code to use (graders.remote)
            return
        if not is_data(value):
            raise AttributeError(f"{name} is not data")

    def replay_streams(self, reply: dict) -> None:
        for key, stream in (("out", sys.stdout), ("err", sys.stderr)):
            text = reply.get(key)
            if isinstance(text, str) and text:
                stream.write(text)

    def make_proxy(self, handle: int, data: dict) -> Any:
        if data.get("kind") == "error-class":
            return self.stand_in(str(data.get("name", "Error"))[:200], data.get("builtins"))
        return super().make_proxy(handle, data)

    def stand_in(self, name: str, bases: Any) -> type:
        """A local exception class for a learner's exception class, so that
        ``except ConfigError`` in a check catches what the learner's code raised."""
        cls = self.error_classes.get(name)
        if cls is None:
            builtin = [
                SAFE_BUILTIN_ERRORS[b]
                for b in (bases if isinstance(bases, list) else [])
                if isinstance(b, str) and b in SAFE_BUILTIN_ERRORS and b != "Exception"
            ][:1]
            cls = type(name, (RemoteError, *builtin), {"remote_type": name})
            self.error_classes[name] = cls
        return cls

    def import_error(self, error: Any) -> BaseException:
        """A learner's exception class arrives as its stand-in; an exception class the
        instructor's cells define (``ConfigError`` in a locked cell) as that class, so the
        check's ``except`` clauses catch what they would in one kernel."""
        if isinstance(error, dict):
            name, message = str(error.get("type")), str(error.get("message", ""))
            if name in self.error_classes:
                return self.error_classes[name](message)
            own = self.namespace.get(name)
            if (
                isinstance(own, type)
                and issubclass(own, Exception)
                and own.__module__ == "__main__"
            ):
                with contextlib.suppress(Exception):
                    return own(message)
        return super().import_error(error)


# -- copies of the files the answers wrote -----------------------------------------------------

WORK_SUFFIX = "_work"  # answers write their files into <topic>_work/ folders
MAX_SYNC_BYTES = 256 * 2**20
MAX_SYNC_FILES = 5_000


def is_work_folder(name: str) -> bool:
    return name.endswith(WORK_SUFFIX) and not name.startswith(".")


def is_work_path(relative: str) -> bool:
    parts = Path(relative).parts
    return (
        len(parts) >= 2
        and is_work_folder(parts[0])
        and ".." not in parts
        and not Path(relative).is_absolute()
    )


# The checker children's address-space limit in bytes, from the grader (course/trusted.py)
# to the zygote.
ADDRESS_SPACE_VARIABLE = "MLOPS_CHECKER_ADDRESS_SPACE"


@dataclass
class Mirror:
    """The learner's ``*_work/`` folders, kept in step with the checker's own copy.

    :meth:`pull` copies the learner's files into the checker's folder (regular files only,
    opened without following a link at any step, within size limits), at the start of a
    check and after every call of learner code; :meth:`push` sends what the check itself
    changed there (a file it wrote or removed) back before every call, so learner code and
    check see the same files, as they would in one kernel. The checker only ever reads its
    own copies, so a link the learner planted cannot point it anywhere.
    """

    target: Path
    workdir: str = ""
    remote: dict[str, tuple[int, int]] = field(default_factory=dict)  # learner's stamps
    local: dict[str, tuple[int, int]] = field(default_factory=dict)  # our copies' stamps
    skipped: list[str] = field(default_factory=list)

    def pull(self) -> None:
        seen: dict[str, tuple[int, int]] = {}
        budget = [MAX_SYNC_BYTES]
        try:
            # not through a link: the learner may replace its working folder by one, whose
            # absolute target the checker would resolve on the host
            top = os.open(self.workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            self._skip(f"the kernel's folder cannot be read ({exc.strerror})")
            return
        try:
            for name in sorted(os.listdir(top)):
                if not is_work_folder(name):
                    continue
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
                except OSError:
                    self._skip(f"{name} (not a folder)")
                    continue
                try:
                    for folder, _dirs, files, folder_fd in os.fwalk(
                        ".", dir_fd=fd, follow_symlinks=False
                    ):
                        for file in sorted(files):
                            relative = os.path.normpath(os.path.join(name, folder, file))
                            if len(seen) >= MAX_SYNC_FILES:
                                self._skip(f"{relative} (over {MAX_SYNC_FILES} files)")
                                continue
                            self._copy(folder_fd, file, relative, seen, budget)
                finally:
                    os.close(fd)
        finally:
            os.close(top)
        for relative in set(self.remote) - set(seen):
            (self.target / relative).unlink(missing_ok=True)
            self.local.pop(relative, None)
        self.remote = seen
        self.local = dict(self._scan_local())

    def _copy(self, folder_fd: int, file: str, relative: str, seen: dict, budget: list) -> None:
        try:
            fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder_fd)
        except OSError:
            self._skip(f"{relative} (a link or unreadable)")
            return
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                self._skip(f"{relative} (not a regular file)")
                return
            if info.st_size > budget[0]:
                self._skip(f"{relative} (over the {MAX_SYNC_BYTES // 2**20} MB copied)")
                return
            budget[0] -= info.st_size
            stamp = (info.st_size, info.st_mtime_ns)
            seen[relative] = stamp
            target = self.target / relative
            if self.remote.get(relative) == stamp and target.is_file():
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as out:
                left = info.st_size
                while left > 0 and (chunk := os.read(fd, min(left, 2**20))):
                    out.write(chunk)
                    left -= len(chunk)
        finally:
            os.close(fd)

    def _scan_local(self):
        """(relative path, (size, mtime)) of every regular file in our ``*_work/`` copies,
        links not followed (scandir: it runs before and after every call of learner code)."""
        pending = [
            (entry.path, entry.name)
            for entry in os.scandir(self.target)
            if is_work_folder(entry.name) and entry.is_dir(follow_symlinks=False)
        ]
        while pending:
            folder, relative = pending.pop()
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                for entry in entries:
                    path = f"{relative}/{entry.name}"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, path))
                    elif entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        yield path, (info.st_size, info.st_mtime_ns)

    def changes(self) -> dict:
        """What the check changed in its copy since the last pull: to write, to remove."""
        now = dict(self._scan_local())
        write = {
            relative: (self.target / relative).read_bytes()
            for relative, stamp in now.items()
            if self.local.get(relative) != stamp
        }
        remove = sorted(set(self.local) - set(now))
        return {"write": write, "remove": remove} if write or remove else {}

    def push(self, peer: CheckerPeer) -> None:
        changes = self.changes()
        if changes:
            peer.request("files", changes=peer.encode(changes))
            self.local = dict(self._scan_local())

    def _skip(self, what: str) -> None:
        if what not in self.skipped:
            self.skipped.append(what)


# -- running cells -----------------------------------------------------------------------


class Checker:
    def __init__(self, cells: list[dict], answer_names: list[str], timeout: float) -> None:
        self.shell = checker_shell()
        self.shell.showtraceback = lambda *a, **k: None
        self.shell.showsyntaxerror = lambda *a, **k: None
        self.cells = cells
        self.answer_names = answer_names
        self.timeout = timeout
        self.next_cell = 0
        self.outputs: dict[str, list[dict]] = {}
        self.mirror = Mirror(Path.cwd())

    def check(self, grade_id: str, socket_path: str, workdir: str) -> list[dict]:
        """Run the instructor's cells up to this check (against the learner's kernel at
        ``socket_path``) and return the check's outputs."""
        if grade_id not in self.outputs:
            position = next(
                (i for i, cell in enumerate(self.cells) if cell.get("grade_id") == grade_id),
                None,
            )
            if position is None:
                return [_error("UnknownCheck", f"{grade_id} is not a check of this notebook")]
            if position >= self.next_cell:
                self.mirror.workdir = workdir
                self._run_through(position, socket_path)
        return self.outputs.get(grade_id) or [
            _error("CheckNotRun", "the checker could not run this check")
        ]

    def _run_through(self, position: int, socket_path: str) -> None:
        peer = None
        try:
            peer = connect(socket_path, self.timeout)
            self.mirror.skipped.clear()
            self.mirror.pull()
            peer.mirror = self.mirror
            peer.namespace = self.shell.user_ns
            self._bind_answers(peer)
        except (OSError, PeerClosed, CodecError, TimeoutError) as exc:
            if peer is not None:  # the kernel's side then returns to the grader
                peer.close()
            self._unbind_answers()
            failure = f"the notebook's kernel did not answer the checker ({exc})"
            for cell in self.cells[self.next_cell : position + 1]:
                if cell["kind"] == "check":
                    self.outputs[cell["grade_id"]] = [_error("KernelUnreachable", failure)]
            self.next_cell = position + 1
            return
        try:
            while self.next_cell <= position:
                cell = self.cells[self.next_cell]
                self.next_cell += 1
                outputs = self._run_cell(cell["source"], silent=cell["kind"] != "check")
                if cell["kind"] == "check":
                    self.outputs[cell["grade_id"]] = self._with_skipped(outputs)
        finally:
            with contextlib.suppress(Exception):
                peer.request("bye", timeout=5)
            peer.close()

    def _with_skipped(self, outputs: list[dict]) -> list[dict]:
        if not self.mirror.skipped:
            return outputs
        note = "files the checker did not copy: " + "; ".join(self.mirror.skipped[:20]) + "\n"
        return [{"output_type": "stream", "name": "stderr", "text": note}, *outputs]

    def _bind_answers(self, peer: CheckerPeer) -> None:
        self._unbind_answers()
        values = peer.request("names", names=self.answer_names)
        if not isinstance(values, dict):
            return
        for name, value in values.items():
            if name in self.answer_names:
                self.shell.user_ns[name] = value

    def _unbind_answers(self) -> None:
        for name in self.answer_names:
            self.shell.user_ns.pop(name, None)

    def _run_cell(self, source: str, silent: bool = False) -> list[dict]:
        """Run one cell; a ``silent`` one (a locked cell, whose outputs nobody sees here)
        does not have its last value formatted for display (a DataFrame's HTML costs
        0.1 s)."""
        from IPython.utils.capture import capture_output

        with capture_output() as captured:
            result = self.shell.run_cell(source, store_history=False, silent=silent)
        outputs: list[dict] = []
        for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr)):
            if text:
                outputs.append({"output_type": "stream", "name": name, "text": text})
        for rich in captured.outputs:
            outputs.append(
                {
                    "output_type": "display_data",
                    "data": _jsonable(rich.data),
                    "metadata": _jsonable(rich.metadata or {}),
                }
            )
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            outputs.append(_error_output(error))
        return outputs


def checker_shell():
    """The IPython shell check cells run in: one per process, made in the zygote before it
    forks (making one costs 0.15 s of CPU, per notebook otherwise)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if not InteractiveShell.initialized():
        config = Config()
        config.HistoryManager.enabled = False
        InteractiveShell.instance(config=config)
    return InteractiveShell.instance()


def _error_output(exc: BaseException) -> dict:
    ename = getattr(exc, "remote_type", None) or type(exc).__name__
    render = getattr(type(exc), "_render_traceback_", None)
    if render is not None and type(exc).__module__.startswith("graders."):
        traceback = list(exc._render_traceback_())  # type: ignore[attr-defined]
    else:
        traceback = [f"{ename}: {exc}"]
    return {"output_type": "error", "ename": ename, "evalue": str(exc), "traceback": traceback}


def _error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"]}  # fmt: skip


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def connect_unix_nofollow(sock: socket.socket, path: str) -> None:
    """Connect to the Unix socket ``path`` only if it is one, not a link to another: a
    learner could put a link in its sandbox whose absolute target the checker, reaching the
    sandbox through /proc/<pid>/root, would resolve on the host (the Docker socket)."""
    fd = os.open(path, os.O_PATH | os.O_NOFOLLOW)
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise ConnectionRefusedError(f"{path} is not a socket")
        sock.connect(f"/proc/self/fd/{fd}")  # the very socket the descriptor names
    finally:
        os.close(fd)


def connect(path: str, timeout: float) -> CheckerPeer:
    """Connect to the learner's agent, which the grader has just asked to listen."""
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connect_unix_nofollow(sock, path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listened within {CONNECT_SECONDS:.0f} s") from None
            time.sleep(0.02)
    peer = CheckerPeer(sock, call_timeout=timeout)
    peer.agent_folder = os.path.dirname(path)
    return peer.start()


def sandbox_learner_programs() -> None:
    """Every learner program a check starts gets a sandbox of its own (graders/isolation.py);
    without bubblewrap the grader runs unsandboxed anyway (--unsafe-no-sandbox)."""
    from course.sandbox import Sandbox, program_command, unavailable_reason
    from graders import isolation

    settings = Sandbox()
    if settings.enabled and unavailable_reason(settings.bwrap) is None:
        isolation.install(
            lambda command, folder, cwd, env: program_command(
                settings, folder, command, cwd=cwd, env=env
            )
        )


def serve(reader, writer) -> None:
    """Answer the grader's commands, one JSON object per line (module docstring)."""
    checker: Checker | None = None
    for line in reader:
        command = json.loads(line)
        op = command.get("op")
        if op == "start":
            checker = Checker(command["cells"], command["answer_names"], command["timeout"])
            reply: dict = {"ok": True}
        elif op == "check" and checker is not None:
            reply = {
                "outputs": checker.check(
                    command["grade_id"], command["socket"], command.get("workdir", "")
                )
            }
        elif op == "stop":
            break
        else:
            reply = {"error": f"unknown command {op!r}"}
        writer.write(json.dumps(reply) + "\n")
        writer.flush()


def zygote(listen_path: str, preload: list[str]) -> None:
    """Import what the checks need once, then fork one checker per graded notebook.

    A grading worker grades many notebooks of one module; a fresh interpreter per notebook
    would import IPython, pandas and the module's libraries again each time (seconds).
    Each connection to ``listen_path`` gets a child of this process: it says its pid,
    reads its folder, and serves that notebook's commands over the connection.
    """
    import gc
    import importlib
    import signal

    from IPython.utils.capture import capture_output  # noqa: F401 - preloaded

    for name in preload:
        with contextlib.suppress(Exception):  # a check that needs it will say so itself
            importlib.import_module(name)
    checker_shell()
    sandbox_learner_programs()
    # what the zygote holds now is shared with every child until written to: out of the
    # garbage collector's sight, a child's collections do not touch (and so copy) its pages
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(listen_path)
    listener.listen(16)
    listener.settimeout(1.0)
    parent = os.getppid()
    print("ready", flush=True)
    while os.getppid() == parent:  # a grader killed at its notebook limit takes us along
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        connection.settimeout(None)
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _child(connection)
            finally:
                os._exit(0)
        connection.close()


def _child(connection: socket.socket) -> None:
    stream = connection.makefile("rw", buffering=1, encoding="utf-8")
    stream.write(json.dumps({"pid": os.getpid()}) + "\n")
    stream.flush()
    folder = json.loads(stream.readline())["folder"]
    _limit_address_space()
    os.chdir(folder)
    # The module's support code (06's rides.py) is imported from here, after every installed
    # package so that it shadows none: the folder holds the release's files at its top, and
    # the learner's copied files only inside its *_work/ folders.
    sys.path.append(folder)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # stray prints must not reach the zygote's pipes
        os.dup2(devnull, fd)
    serve(stream, stream)


def _limit_address_space() -> None:
    """A checker reads whatever learner code sends it; outside every sandbox, it must not
    be able to take the grading machine's memory (course/trusted.py sets the limit)."""
    import resource

    limit = int(os.environ.get(ADDRESS_SPACE_VARIABLE, "0") or 0)
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> int:
    """``python -I -m course.checker --zygote SOCKET [MODULE ...]``: the checker server
    (:func:`zygote`); without arguments, one checker on stdin and stdout."""
    if sys.argv[1:2] == ["--zygote"]:
        zygote(sys.argv[2], sys.argv[3:])
        return 0
    sandbox_learner_programs()
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # stray prints must not corrupt the protocol
    serve(sys.stdin, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
