"""A port in the learner's kernel for a server the trusted checker runs.

A check sometimes hands learner code a server to talk to over HTTP: the stand-in Docker
engine of 03-docker starts the release's model service as a "container" and the learner's
smoke test must reach it on ``127.0.0.1:<published port>``. When the check runs in the
trusted checker, the server is the checker's (in a sandbox of its own, listening on a Unix
socket) while the learner's code runs in another network namespace, whose loopback nothing
outside can reach. A :class:`Tunnel` joins the two:

    learner's code -> 127.0.0.1:port in the kernel (:func:`open_relay`, learner side)
        -> a Unix socket in the agent's folder, inside the learner's sandbox
        -> the checker (:class:`Tunnel`, a relay thread) -> the server's Unix socket

Only bytes cross. The relay on the kernel's side is the learner's to change, as everything
there is: a kernel that answers for the server can only forge the answers its own code is
graded on. The checker's side accepts at most :data:`MAX_CONNECTIONS` connections at once.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import threading
from pathlib import Path
from typing import Any

from graders.remote import learner_side

MAX_CONNECTIONS = 32
CHUNK = 65536


def relay(first: socket.socket, second: socket.socket) -> None:
    """Copy bytes both ways until both directions are done; then close both sockets."""

    def pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(CHUNK):
                target.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    other = threading.Thread(target=pump, args=(second, first), daemon=True)
    other.start()
    pump(first, second)
    other.join()
    first.close()
    second.close()


def _accept_forever(listener: socket.socket, connect: Any, slots: threading.Semaphore) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return  # the listener was closed
        if not slots.acquire(blocking=False):
            client.close()
            continue
        try:
            server = connect()
        except OSError:
            client.close()
            slots.release()
            continue

        def serve(client: socket.socket = client, server: socket.socket = server) -> None:
            try:
                relay(client, server)
            finally:
                slots.release()

        threading.Thread(target=serve, daemon=True).start()


def _close_listener(listener: socket.socket) -> None:
    """Close a listening socket; ``shutdown`` first wakes the thread blocked in accept."""
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


def _relay_from(listener: socket.socket, target: str) -> None:
    """Relay every connection ``listener`` accepts to the Unix socket ``target``, on a
    thread of its own, until the listener is closed."""
    threading.Thread(
        target=_accept_forever,
        args=(listener, _unix_connector(target), threading.Semaphore(MAX_CONNECTIONS)),
        daemon=True,
    ).start()


def _unix_connector(path: str) -> Any:
    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock

    return connect


# -- the learner's side ------------------------------------------------------------------------

_RELAYS: dict[int, socket.socket] = {}


@learner_side
def open_relay(anchor: Any, name: str, port: int) -> int:
    """In the learner's kernel: listen on 127.0.0.1:``port`` (0: a free one) and relay each
    connection to the checker's socket ``name`` in the agent's folder; returns the port.
    ``anchor`` is any object of the learner's (it tells where to run this)."""
    from graders.remote import agent

    if not isinstance(name, str) or "/" in name or not name:
        raise ValueError(f"not a socket name: {name!r}")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(port)))
        listener.listen(16)
    except OSError:
        listener.close()
        raise
    bound = listener.getsockname()[1]
    _RELAYS[bound] = listener
    _relay_from(listener, os.path.join(agent.socket_folder(), name))
    return bound


@learner_side
def close_relay(anchor: Any, port: int) -> None:
    """In the learner's kernel: stop listening on ``port``."""
    listener = _RELAYS.pop(int(port), None)
    if listener is not None:
        _close_listener(listener)


# -- the checker's side ------------------------------------------------------------------------


class Tunnel:
    """Publishes servers of the checker's in the learner's kernel (module docstring)."""

    _names = itertools.count(1)

    def __init__(self, anchor: Any) -> None:
        """``anchor``: a proxy of one of the learner's objects (the function under test)."""
        self.anchor = anchor
        self.folder = Path(anchor._peer.agent_folder)
        self.listeners: dict[int, tuple[socket.socket, Path]] = {}

    def publish(self, server_socket: Path, port: int = 0) -> int:
        """Make the server listening on the Unix socket ``server_socket`` reachable on the
        kernel's 127.0.0.1:``port`` (0: a free port); returns the port. Raises OSError when
        the kernel cannot listen there (the port is taken)."""
        name = f"t{os.getpid()}-{next(self._names)}"
        path = self.folder / name
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            listener.listen(16)
        except OSError:
            listener.close()
            raise
        _relay_from(listener, str(server_socket))
        try:
            bound = open_relay(self.anchor, name, port)
            if not isinstance(bound, int) or isinstance(bound, bool):
                raise OSError(f"the kernel did not say which port it opened: {bound!r}")
        except BaseException:
            self._remove(listener, path)
            raise
        self.listeners[bound] = (listener, path)
        return bound

    def close(self, port: int) -> None:
        """Stop publishing ``port`` (on both sides; the kernel may be gone already)."""
        listener, path = self.listeners.pop(port, (None, None))
        if listener is None or path is None:
            return
        self._remove(listener, path)
        with contextlib.suppress(Exception):
            close_relay(self.anchor, port)

    def close_all(self) -> None:
        for port in list(self.listeners):
            self.close(port)

    @staticmethod
    def _remove(listener: socket.socket, path: Path) -> None:
        _close_listener(listener)
        with contextlib.suppress(OSError):
            path.unlink()


def tunnel_for(learner_object: Any) -> Tunnel | None:
    """A tunnel when ``learner_object`` lives in a learner's kernel the checker reaches
    (a proxy); None when it is a local object (the learner's own kernel, plain Python)."""
    from graders.remote.peer import Remote

    if isinstance(learner_object, Remote) and getattr(learner_object._peer, "agent_folder", None):
        return Tunnel(learner_object)
    return None
