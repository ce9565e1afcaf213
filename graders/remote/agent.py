"""The learner's side of a graded check: answers the trusted checker's requests.

While a notebook is graded, each check cell runs in the trusted checker (course/checker.py),
not in the learner's kernel. For the duration of one check the grader asks the learner's
kernel to run :func:`serve`, which listens on a Unix socket inside the learner's sandbox and
answers, on the kernel's main thread: the values of the names the answer cells defined,
calls of the learner's functions with the inputs the check built, attributes, items and
iteration of the learner's objects, and the files the check wrote into ``*_work/``.

Nothing here is trusted: a learner can replace this module in their own kernel. Doing so can
only change the data the checker receives, which is then judged as the learner's answer.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
from pathlib import Path
from typing import Any

from graders.remote.peer import (
    MAX_TEXT,
    MUTABLE_DATA,
    QueuedPeer,
    describe_error,
    where_raised,
)


class Agent(QueuedPeer):
    def __init__(self, sock: socket.socket, namespace: dict) -> None:
        super().__init__(sock)
        self.namespace = namespace
        self._changed: dict[int, list] = {}

    def serve(self, message: dict) -> None:
        out, err = io.StringIO(), io.StringIO()
        # what the learner's code prints is sent with the answer (streams_of runs inside)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            super().serve(message)

    def handle(self, message: dict) -> Any:
        op = message["op"]
        if op == "call":
            return self._call(message)
        if op == "learner_side":
            return self._learner_side(message)
        if op == "names":
            names = message.get("names")
            if not isinstance(names, list):
                return {}
            return {
                name: self.namespace[name]
                for name in names
                if isinstance(name, str) and name in self.namespace
            }
        if op == "files":
            return apply_changes(self.decode(message.get("changes")))
        return super().handle(message)

    def describe_error(self, exc: BaseException) -> dict:
        return {**describe_error(exc), "where": where_raised(exc)}

    def _call(self, message: dict) -> Any:
        """Call one of the learner's objects; note which data arguments it changed."""
        target = self.import_handle({"$yours": message.get("target")})
        sent_args, sent_kwargs = message.get("args", []), message.get("kwargs", {"$dict": []})
        args, kwargs = self.decode(sent_args), self.decode(sent_kwargs)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise TypeError("call arguments must be a list and a dict")
        try:
            return target(*args, **kwargs)
        finally:
            self._changed[message["id"]] = self._changes(args, sent_args, kwargs, sent_kwargs)

    def _changes(self, args, sent_args, kwargs, sent_kwargs) -> list:
        sent_named = dict(
            pair for pair in sent_kwargs.get("$dict", []) if isinstance(pair, list)
            and len(pair) == 2 and isinstance(pair[0], str)
        ) if isinstance(sent_kwargs, dict) else {}  # fmt: skip
        given = list(enumerate(zip(args, sent_args, strict=False)))
        given += [(name, (value, sent_named.get(name))) for name, value in kwargs.items()]
        changed = []
        for key, (value, sent) in given:
            if type(value).__name__ in MUTABLE_DATA:
                try:
                    now = self.encode(value)
                except Exception:
                    continue
                if now != sent:
                    changed.append([key, now])
        return changed

    def _learner_side(self, message: dict) -> Any:
        """A graders function that must run beside the learner's objects (see
        graders.remote.learner_side); it returns data."""
        from graders.remote import learner_function

        function = learner_function(str(message.get("function")))
        args = self.decode(message.get("args", []))
        kwargs = self.decode(message.get("kwargs", {"$dict": []}))
        return function(*args, **kwargs)

    def extras_of(self, ident: int) -> dict:
        out = _current_stream("stdout")
        err = _current_stream("stderr")
        extras: dict[str, Any] = {k: v[:MAX_TEXT] for k, v in (("out", out), ("err", err)) if v}
        changed = self._changed.pop(ident, None)
        if changed:
            extras["mutated"] = changed
        return extras


def _current_stream(name: str) -> str:
    import sys

    stream = getattr(sys, name)
    return stream.getvalue() if isinstance(stream, io.StringIO) else ""


def apply_changes(changes: Any) -> None:
    """Files the check wrote or removed in its copy of the ``*_work/`` folders."""
    if not isinstance(changes, dict):
        return
    for relative, data in (changes.get("write") or {}).items():
        target = _work_path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for relative in changes.get("remove") or []:
        _work_path(relative).unlink(missing_ok=True)


def _work_path(relative: Any) -> Path:
    path = Path(str(relative))
    if path.is_absolute() or ".." in path.parts or not path.parts[0].endswith("_work"):
        raise ValueError(f"not a file of a *_work folder: {relative}")
    return Path.cwd() / path


_socket_folder = ""


def socket_folder() -> str:
    """The folder of the agent's socket, where the checker places sockets the learner's side
    may connect to (graders/remote/tunnel.py)."""
    return _socket_folder


def serve(path: str, namespace: dict | None = None, accept_timeout: float = 30.0) -> None:
    """Answer one checker connection on the Unix socket ``path`` until it says goodbye."""
    global _socket_folder
    _socket_folder = os.path.dirname(os.path.abspath(path))
    if namespace is None:
        from IPython import get_ipython

        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else {}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener.bind(path + ".tmp")
    listener.listen(1)
    os.rename(path + ".tmp", path)  # the checker connects only once it is listening
    listener.settimeout(accept_timeout)
    try:
        connection, _ = listener.accept()
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    connection.settimeout(None)
    agent = Agent(connection, namespace).start()
    try:
        agent.serve_until_bye()
    finally:
        agent.close()
