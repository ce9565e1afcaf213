"""Calls between the trusted checker and a learner's kernel, over one socket, as data.

Both sides run a :class:`Peer`. Each message is a 4-byte length and a JSON object; values
inside are encoded by :mod:`graders.remote.codec`, so what crosses is data, or a *handle*
for an object that is not data (a function, a fitted model, a class). A handle received
becomes a :class:`Remote` proxy: calling it, reading an attribute or an item, iterating or
comparing it sends a request to the side that owns the object and waits for the answer.

The two sides are not equal:

* the **learner's side** (:mod:`graders.remote.agent`) serves every request about its own
  objects: it is the learner's code anyway, and it runs in the learner's sandbox;
* the **trusted side** (:mod:`course.checker`) serves only calls of the objects a check
  passed to learner code (a fake model that counts its calls, a callback) and attributes
  that are public and data. It decodes whatever comes back as data and never runs code the
  learner sent; an exception from learner code arrives as its type's name and message.

Requests are multiplexed by id, so learner threads may call back into the trusted side
while the trusted side waits on a call (a thread pool serves them there).
"""

from __future__ import annotations

import builtins
import contextlib
import itertools
import json
import queue
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Self

from graders.remote.codec import CodecError, decode, encode

MAX_MESSAGE = 256 * 2**20
HEADER = struct.Struct(">I")
MAX_TEXT = 20_000  # characters of an exception message or a captured stream kept


class PeerClosed(ConnectionError):
    """The other side went away (its kernel died, or it closed the connection)."""


class RemoteError(Exception):
    """An exception raised on the other side whose type is not a built-in one."""

    remote_type = "Exception"

    def __init__(self, message: str = "", remote_type: str | None = None) -> None:
        super().__init__(message)
        if remote_type is not None:
            self.remote_type = remote_type

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


# Built-in exception types an exception may arrive as; anything else (a learner's own
# class, SystemExit, KeyboardInterrupt) arrives as RemoteError or its stand-in class.
SAFE_BUILTIN_ERRORS = {
    name: value
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception)
}


def send_message(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        raise CodecError(f"a message of {len(data):,} bytes is over the limit")
    sock.sendall(HEADER.pack(len(data)) + data)


def receive_message(sock: socket.socket) -> dict:
    header = _receive_exactly(sock, HEADER.size)
    (length,) = HEADER.unpack(header)
    if length > MAX_MESSAGE:
        raise CodecError(f"a message of {length:,} bytes is over the limit")
    try:
        message = json.loads(_receive_exactly(sock, length))
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"not a message: {exc}") from None
    if not isinstance(message, dict):
        raise CodecError("a message must be a JSON object")
    return message


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, missing = [], size
    while missing:
        chunk = sock.recv(min(missing, 2**20))
        if not chunk:
            raise PeerClosed("the other side closed the connection")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


class Peer:
    """One end of a connection: sends requests, serves the other side's requests."""

    def __init__(self, sock: socket.socket, *, call_timeout: float | None = None) -> None:
        self.sock = sock
        self.call_timeout = call_timeout
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, Future] = {}
        self._exports: dict[int, Any] = {}
        self._export_ids: dict[int, int] = {}  # id(obj) -> handle
        self._proxies: dict[int, Any] = {}  # the other side's handle -> our proxy
        self._closed: BaseException | None = None
        self._reader = threading.Thread(target=self._read_forever, daemon=True)

    def start(self) -> Self:
        self._reader.start()
        return self

    # -- sending ---------------------------------------------------------------------------

    def request(
        self,
        op: str,
        timeout: float | None = None,
        *,
        on_reply: Callable[[dict], None] | None = None,
        **fields: Any,
    ) -> Any:
        """Send one request and wait for its answer, decoded; raises what the other side
        raised (as a built-in exception or :class:`RemoteError`)."""
        if self._closed is not None:
            raise PeerClosed(str(self._closed))
        ident = next(self._ids)
        future: Future = Future()
        self._pending[ident] = future
        try:
            self._send({"id": ident, "op": op, **fields})
            reply = self._wait(future, timeout if timeout is not None else self.call_timeout)
        finally:
            self._pending.pop(ident, None)
        self.replay_streams(reply)
        if on_reply is not None:
            on_reply(reply)
        if "error" in reply:
            raise self.import_error(reply["error"])
        return self.decode(reply.get("value"))

    def _wait(self, future: Future, timeout: float | None) -> dict:
        try:
            return future.result(timeout)
        except TimeoutError:
            raise TimeoutError(f"no answer from the other side within {timeout:.0f} s") from None

    def replay_streams(self, reply: dict) -> None:
        """What the other side printed while answering (only the learner's side sends it)."""

    def _send(self, message: dict) -> None:
        with self._send_lock:
            try:
                send_message(self.sock, message)
            except OSError as exc:
                self._close(exc)
                raise PeerClosed(f"cannot reach the other side: {exc}") from None

    def encode(self, value: Any) -> Any:
        return encode(value, self.export)

    def decode(self, data: Any) -> Any:
        return decode(data, self.import_handle)

    # -- handles ---------------------------------------------------------------------------

    def export(self, value: Any) -> dict:
        """A handle for one of our objects; the other side sends ``$yours`` back."""
        if isinstance(value, Remote) and value._peer is self:
            return {"$yours": value._handle}
        key = id(value)
        handle = self._export_ids.get(key)
        if handle is None or self._exports.get(handle) is not value:
            handle = len(self._exports) + 1
            self._exports[handle] = value
            self._export_ids[key] = handle
        return {"$handle": handle, **describe(value)}

    def import_handle(self, data: dict) -> Any:
        if "$yours" in data:
            handle = data["$yours"]
            if not isinstance(handle, int) or handle not in self._exports:
                raise CodecError(f"no object of ours has the handle {handle!r}")
            return self._exports[handle]
        handle = data["$handle"]
        if not isinstance(handle, int):
            raise CodecError(f"a handle must be a number, found {handle!r}")
        proxy = self._proxies.get(handle)
        if proxy is None:
            proxy = self.make_proxy(handle, data)
            self._proxies[handle] = proxy
        return proxy

    def make_proxy(self, handle: int, data: dict) -> Any:
        return Remote(
            self, handle, str(data.get("repr", ""))[:200], str(data.get("type", ""))[:100]
        )

    def import_error(self, error: Any) -> BaseException:
        if not isinstance(error, dict):
            return RemoteError("an error the other side could not describe")
        name = str(error.get("type", "Exception"))[:200]
        message = str(error.get("message", ""))[:MAX_TEXT]
        cls = SAFE_BUILTIN_ERRORS.get(name)
        exc: BaseException = RemoteError(message, name)
        if cls is not None:
            # a built-in whose constructor wants more (UnicodeDecodeError) stays RemoteError
            with contextlib.suppress(TypeError):
                exc = cls(message)
        where = error.get("where")
        if isinstance(where, str) and where:
            exc.remote_where = where[:500]  # type: ignore[attr-defined]
        return exc

    # -- serving ---------------------------------------------------------------------------

    def _read_forever(self) -> None:
        try:
            while True:
                message = receive_message(self.sock)
                if "re" in message:
                    future = self._pending.get(message["re"])
                    if future is not None and not future.done():
                        future.set_result(message)
                elif "id" in message and "op" in message:
                    self.dispatch(message)
                else:
                    raise CodecError("a message that is neither a request nor an answer")
        except BaseException as exc:
            self._close(exc)

    def dispatch(self, message: dict) -> None:
        """Serve a request (subclasses choose the thread)."""
        self.serve(message)

    def serve(self, message: dict) -> None:
        ident = message["id"]
        try:
            value = self.handle(message)
            reply = {"re": ident, "value": self.encode(value)}
        except PeerClosed:
            return
        except BaseException as exc:
            reply = {"re": ident, "error": self.describe_error(exc)}
        reply.update(self.extras_of(ident))
        with contextlib.suppress(PeerClosed, CodecError):
            self._send(reply)

    def extras_of(self, ident: int) -> dict:
        """More fields for the answer to request ``ident`` (the learner's side sends what
        its code printed, and the arguments it changed)."""
        return {}

    def apply_changes(self, reply: dict, args: list, kwargs: dict) -> None:
        """Learner code that changed an argument it was given (a list it appended to, a
        frame it modified) changed the check's own object, as in one process: the check can
        then find out, as it would in the learner's kernel."""
        changes = reply.get("mutated")
        if not isinstance(changes, list):
            return
        for change in changes[:64]:
            if not (isinstance(change, list) and len(change) == 2):
                continue
            key, data = change
            if isinstance(key, int) and 0 <= key < len(args):
                original = args[key]
            elif isinstance(key, str) and key in kwargs:
                original = kwargs[key]
            else:
                continue
            try:
                update_in_place(original, self.decode(data))
            except (CodecError, TypeError, ValueError):
                continue

    def handle(self, message: dict) -> Any:
        op = message["op"]
        if op == "bye":
            self.on_bye()
            return None
        target = self.import_handle({"$yours": message.get("target")})
        if op == "call":
            args = self.decode(message.get("args", []))
            kwargs = self.decode(message.get("kwargs", {"$dict": []}))
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise CodecError("call arguments must be a list and a dict")
            if not all(isinstance(key, str) for key in kwargs):
                raise CodecError("keyword names must be text")
            return target(*args, **kwargs)
        if op == "getattr":
            name = message.get("name")
            if not isinstance(name, str):
                raise CodecError("an attribute name must be text")
            self.check_attribute(target, name)
            value = getattr(target, name)
            self.check_attribute_value(value, name)
            return value
        if op in ("repr", "str"):
            return (repr if op == "repr" else str)(target)[:MAX_TEXT]
        if op == "getitem":
            return target[self.decode(message.get("key"))]
        if op == "len":
            return len(target)
        if op == "bool":
            return bool(target)
        if op == "iter":
            return Iteration(iter(target))
        if op == "next":
            try:
                return {"item": next(target)}
            except StopIteration:
                return {"done": True}
        raise CodecError(f"unknown request {op!r}")

    def describe_error(self, exc: BaseException) -> dict:
        return describe_error(exc)

    def check_attribute(self, target: Any, name: str) -> None:
        pass

    def check_attribute_value(self, value: Any, name: str) -> None:
        pass

    def on_bye(self) -> None:
        pass

    def _close(self, exc: BaseException) -> None:
        if self._closed is None:
            self._closed = exc
        for future in list(self._pending.values()):
            if not future.done():
                future.set_exception(PeerClosed(f"the other side went away ({exc})"))
        self.on_closed()

    def on_closed(self) -> None:
        pass

    def close(self) -> None:
        self._close(PeerClosed("closed"))
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


MUTABLE_DATA = ("list", "dict", "set", "DataFrame", "Series", "ndarray")


def update_in_place(original: Any, new: Any) -> None:
    """Make ``original`` equal to ``new`` without replacing the object."""
    kind = type(original).__name__
    if kind != type(new).__name__ or kind not in MUTABLE_DATA:
        return
    if isinstance(original, list):
        original[:] = new
    elif isinstance(original, (dict, set)):
        original.clear()
        original.update(new)
    elif kind in ("DataFrame", "Series"):
        original._update_inplace(new)  # pandas' own way to swap an object's data
    elif kind == "ndarray" and original.shape == new.shape and original.flags.writeable:
        original[...] = new


class Iteration:
    """An iterator of ours, exported as a handle (iterators are not data)."""

    def __init__(self, iterator: Any) -> None:
        self.iterator = iterator

    def __next__(self) -> Any:
        return next(self.iterator)


def describe(value: Any) -> dict:
    """What a handle says about its object: enough for error messages, never its code."""
    kind = "callable" if callable(value) else "object"
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    info: dict[str, Any] = {"kind": kind, "repr": text[:200], "type": type(value).__name__[:100]}
    if isinstance(value, type) and issubclass(value, BaseException):
        info["kind"] = "error-class"
        info["name"] = value.__name__[:200]
        info["builtins"] = [
            base.__name__
            for base in value.__mro__
            if base.__name__ in SAFE_BUILTIN_ERRORS and SAFE_BUILTIN_ERRORS[base.__name__] is base
        ]
    return info


def describe_error(exc: BaseException) -> dict:
    return {"type": type(exc).__name__[:200], "message": _safe_str(exc)[:MAX_TEXT]}


def where_raised(exc: BaseException) -> str:
    """The learner's own line that raised ``exc`` (never sent by the trusted side, whose
    frames are the check's code)."""
    import traceback

    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if "/graders/remote/" not in f.filename
    ]
    if not frames:
        return ""
    frame = frames[-1]
    where = f"line {frame.lineno}" if frame.filename.startswith("<") else (
        f"{frame.filename}:{frame.lineno}")  # fmt: skip
    code = f" (`{frame.line.strip()}`)" if frame.line else ""
    return f"It was raised at {where}{code} in `{frame.name}`."


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<{type(exc).__name__} whose message cannot be shown>"


class Remote:
    """An object that lives on the other side; every use is a request."""

    __slots__ = ("_handle", "_peer", "_repr", "_type")

    def __init__(self, peer: Peer, handle: int, text: str, type_name: str = "") -> None:
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_repr", text)
        # its object's type name as the other side gave it: for messages only (a learner's
        # kernel says what it likes here), never for a decision
        object.__setattr__(self, "_type", type_name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        given, named = list(args), dict(kwargs)
        return self._peer.request(
            "call",
            target=self._handle,
            args=self._peer.encode(given),
            kwargs=self._peer.encode(named),
            on_reply=lambda reply: self._peer.apply_changes(reply, given, named),
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # numpy, pandas and copy probe dunders: never remote
            raise AttributeError(name)
        return self._peer.request("getattr", target=self._handle, name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("objects of the other side are read-only here")

    def __getitem__(self, key: Any) -> Any:
        return self._peer.request("getitem", target=self._handle, key=self._peer.encode(key))

    # Equality and membership are decided here, never asked of the other side: an object
    # whose __eq__ (or __contains__) says yes to everything would otherwise pass every
    # comparison a check makes with an expected value it never had to compute.
    def __contains__(self, key: Any) -> bool:
        return any(item is key or item == key for item in self)

    def __len__(self) -> int:
        length = self._peer.request("len", target=self._handle)
        if type(length) is not int or length < 0:
            raise TypeError(f"len() of the other side's object was {length!r}")
        return length

    def __bool__(self) -> bool:
        return self._peer.request("bool", target=self._handle) is True

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Remote)
            and other._peer is self._peer
            and other._handle == self._handle
        )

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __iter__(self) -> Any:
        iterator = self._peer.request("iter", target=self._handle)
        while True:
            step = iterator.next_step() if isinstance(iterator, Remote) else None
            if not isinstance(step, dict) or step.get("done") is True or "item" not in step:
                return
            yield step["item"]

    def next_step(self) -> Any:
        return self._peer.request("next", target=self._handle)

    def __repr__(self) -> str:
        try:
            return str(self._peer.request("repr", target=self._handle))[:MAX_TEXT]
        except Exception:
            return self._repr or "<an object of the other side>"

    def __str__(self) -> str:
        try:
            return str(self._peer.request("str", target=self._handle))[:MAX_TEXT]
        except Exception:
            return self._repr


class QueuedPeer(Peer):
    """Serves requests on one chosen thread (the learner's kernel's main thread), pumping
    them also while that thread waits for an answer of its own."""

    def __init__(self, sock: socket.socket, **kw: Any) -> None:
        super().__init__(sock, **kw)
        self.inbox: queue.Queue = queue.Queue()
        self.main_thread = threading.current_thread()
        self.finished = threading.Event()

    def dispatch(self, message: dict) -> None:
        self.inbox.put(message)

    def on_bye(self) -> None:
        self.finished.set()

    def on_closed(self) -> None:
        self.finished.set()
        self.inbox.put(None)

    def serve_until_bye(self) -> None:
        while not self.finished.is_set():
            message = self.inbox.get()
            if message is None:
                return
            self.serve(message)

    def _wait(self, future: Future, timeout: float | None) -> dict:
        if threading.current_thread() is not self.main_thread:
            return super()._wait(future, timeout)
        while not future.done():  # the main thread keeps serving while it waits
            try:
                message = self.inbox.get(timeout=0.05)
            except queue.Empty:
                continue
            if message is None:
                break
            self.serve(message)
        return future.result(0)


class PooledPeer(Peer):
    """Serves requests on a small thread pool (the trusted side)."""

    def __init__(self, sock: socket.socket, workers: int = 16, **kw: Any) -> None:
        super().__init__(sock, **kw)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="peer")

    def dispatch(self, message: dict) -> None:
        self.pool.submit(self.serve, message)

    def close(self) -> None:
        super().close()
        self.pool.shutdown(wait=False, cancel_futures=True)
